"""Hostile archives and hard conditions (issue 20).

Every case is generated at test time. Where the point is complexity, sizes are small and the
assertion is a ratio (4x the input may take at most ~8x the time), never an exact timing.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.writing import SegmentWriter

from searchlib import IndexClosedError, IndexLockedError, SearchlibError, build_index, open_index
from searchlib import build as index_mod
from searchlib.budget import FileBudget
from searchlib.cli import cli
from searchlib.engine.whoosh.check import check_index
from searchlib.engine.whoosh.documents import index_fields
from searchlib.engine.whoosh.segments import SegmentBuilder
from searchlib.ingest import prepare as prepare_mod
from searchlib.ingest.clean import CleaningRules, clean_document
from searchlib.models import SourceDocument
from searchlib.textsafe import json_terminal_safe, terminal_safe

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
REPO = SEEDS.parent


def _best_time(func: Callable[[], object], repeat: int = 5) -> float:
    """The least CPU time of ``repeat`` runs.

    CPU time, not wall time: on a busy machine a longer run is preempted more often, which
    made a linear function look quadratic. The garbage collector is paused while timing: in
    a long test session its full collections walk every object the session holds, a cost of
    the session, not the input.
    """
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.process_time()
            func()
            best = min(best, time.process_time() - started)
    finally:
        gc.enable()
    return best


def _growth(make: Callable[[int], SourceDocument], n: int) -> float:
    """Time to clean a document of 4n units divided by the time for n units."""
    rules = CleaningRules.load([])
    small, large = make(n), make(4 * n)
    clean_document(small, rules=rules)  # warm caches (rules, regexes, imports)
    return _best_time(lambda: clean_document(large, rules=rules)) / max(
        _best_time(lambda: clean_document(small, rules=rules)), 1e-4)


def _run_on_lines(n: int) -> SourceDocument:
    # Every line runs on into the next one: one paragraph of n lines.
    return SourceDocument("r.txt", "r.txt", "text",
                          "Title\n\n" + "and then more words follow here\n" * n, {})


def _tiny_paragraphs(n: int) -> SourceDocument:
    html = "<html><body><h1>T</h1>" + "<p>and then</p>" * n + "</body></html>"
    return SourceDocument("p.html", "p.html", "html", html, {})


def _hyphenated_lines(n: int) -> SourceDocument:
    return SourceDocument("h.txt", "h.txt", "text",
                          "Title\n\n" + "The line goes on with a hyphen-\nated word\n" * n, {})


@pytest.mark.parametrize(("make", "n"), [(_run_on_lines, 4000), (_tiny_paragraphs, 1000),
                                         (_hyphenated_lines, 4000)],
                         ids=["run-on-lines", "tiny-html-paragraphs", "hyphenated-lines"])
def test_cleaning_is_linear_in_the_input(make: Callable[[int], SourceDocument], n: int) -> None:
    # Before the fix the run-on case grew 16x for 4x the lines (8,000 lines: 45 s).
    assert _growth(make, n) < 8


def test_the_256_kb_run_on_file_cleans_in_well_under_a_second() -> None:
    doc = _run_on_lines(8000)  # the 256 KB file
    rules = CleaningRules.load([])
    article = clean_document(doc, rules=rules)
    assert article.body.count("and then more words follow here") == 8000
    # Generous (the fixed cleaner takes ~0.1 s on a loaded 2-core machine; before, 45 s).
    assert _best_time(lambda: clean_document(doc, rules=rules), 1) < 3


# --- per-file isolation and budgets ---------------------------------------------------------

GOOD = "Field report {n}\n\nThe convoy reached Homs after the talks, officials said ({n}).\n"


def _good_files(folder: Path, count: int) -> None:
    for n in range(count):
        (folder / f"good{n:03d}.txt").write_text(GOOD.format(n=n))


@pytest.mark.parametrize("procs", [1, 2], ids=["in-process", "workers"])
def test_a_bug_in_one_file_skips_that_file_only(tmp_path: Path, procs: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug (any exception) or a RecursionError while cleaning one file: that file is
    # skipped with a reason naming the error, the other 60 are indexed. Workers are forked
    # after the patch, so they run it too.
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 60)
    (src / "boom.txt").write_text("Boom\n\nThis one trips the cleaner.\n")
    (src / "deep.txt").write_text("Deep\n\nThis one recurses forever.\n")
    real = prepare_mod.clean_document

    def flaky(doc: SourceDocument, **kwargs: object) -> object:
        if doc.path.endswith("boom.txt"):
            raise KeyError("no such rule")
        if doc.path.endswith("deep.txt"):
            def down(n: int) -> int:
                return down(n + 1)
            down(0)
        return real(doc, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare_mod, "clean_document", flaky)
    summary = build_index([src], tmp_path / "ix", procs=procs)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"boom.txt": "could not be processed (KeyError: 'no such rule')",
                       "deep.txt": "nested too deeply to process (RecursionError)"}
    assert summary.added == 60


def test_a_file_over_its_cpu_budget_is_skipped_with_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 3)
    # 600,000 capitalised words: about three seconds to clean and extract, far more than the
    # 0.5 s of CPU time allowed here. (At 0.05 s, the first ordinary file, which pays for
    # loading the word lists and compiling the gazetteer's patterns, went over it too on a
    # loaded machine.)
    (src / "slow.txt").write_text("Slow\n\n" + " ".join(f"Word{n} said" for n in range(600_000)))
    summary = build_index([src], tmp_path / "ix", procs=1, max_seconds=0.5)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"slow.txt": "took more than 0.5 s of CPU time to process (the per-file "
                                   "budget); skipped"}
    assert summary.added == 3


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_file_over_its_memory_budget_is_skipped_with_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 3)
    (src / "huge.txt").write_text("Huge\n\n" + "and then more words follow here\n" * 100_000)
    # In a fresh interpreter, as `search index` runs: the budget limits the address space to
    # what the process has mapped plus 8 MiB, and a pytest process that earlier tests left
    # with hundreds of MB mapped but free would process the file inside that slack.
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from searchlib import build_index\n"
        "summary = build_index([Path(sys.argv[1])], Path(sys.argv[2]), procs=1,\n"
        "                      max_memory=8 * 2**20)\n"
        "big = bytearray(64 * 2**20)  # the limit is lifted afterwards\n"
        "print(json.dumps({'added': summary.added, 'after': len(big), 'skipped':\n"
        "    {Path(s.path).name: s.reason for s in summary.skipped}}))\n")
    done = subprocess.run([sys.executable, "-c", script, str(src), str(tmp_path / "ix")],
                          capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["skipped"] == {"huge.txt": "needed more than the memory budget (8 MiB) to "
                                             "process; skipped"}
    assert result["added"] == 3 and result["after"] == 64 * 2**20


# --- clean errors -----------------------------------------------------------------------------

def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("search: "), result.stderr
    return lines[0]


def test_a_full_disk_in_a_worker_is_one_line_naming_the_cause_and_a_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whoosh writing a segment in a worker meets ENOSPC, and so does the clean-up after it
    # (the case printed 98 lines of traceback ending "worker process died").
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(SegmentWriter, "add_document", full)
    monkeypatch.setattr(SegmentBuilder, "cancel", full)
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 45)  # enough for the worker processes to be used
    line = _one_line_error(_invoke("index", str(src), "--index", str(tmp_path / "ix"),
                                   "--procs", "2"))
    assert line.startswith("search: an indexing worker failed: No space left on device; "
                           "nothing of this batch was committed (details in ")
    log = Path(line.rsplit("details in ", 1)[1].rstrip(")"))
    assert "OSError: [Errno 28]" in log.read_text()


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed") / "ix"
    build_index(str(SEEDS), index_dir)  # one path as a str: not one path per character
    return index_dir


def test_one_path_as_a_string_is_one_path(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        assert ix.doc_count == len(list(SEEDS.iterdir()))
    with pytest.raises(SearchlibError, match="paths must be paths"):
        build_index([3], seed_index)  # type: ignore[list-item]


def test_a_single_filter_value_is_one_name(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        one = ix.search("*", actors="IRGC")
        assert one.total == ix.search("*", actors=["IRGC"]).total > 0
        assert not one.warnings  # not "no actor 'I'", "no actor 'R'"...
        with pytest.raises(SearchlibError, match="actors must be names"):
            ix.search("*", actors=[1])  # type: ignore[list-item]


def test_a_closed_index_says_so(seed_index: Path) -> None:
    ix = open_index(seed_index)
    ix.close()
    ix.close()  # twice is harmless
    for use in (lambda: ix.search("iran"), lambda: ix.get("x"), lambda: ix.doc_count,
                lambda: list(ix.articles()), ix.stats):
        with pytest.raises(IndexClosedError, match="has been closed; open it again"):
            use()


@pytest.mark.parametrize("sort", ["newest", "oldest", "relevance"])
def test_a_page_past_the_end_is_empty_not_an_error(seed_index: Path, sort: str) -> None:
    huge = str(10**20)  # past sys.maxsize: itertools.islice refused it
    result = _invoke("query", "ISIS", "--index", str(seed_index), "--sort", sort,
                     "--page", huge, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hits"] == []


def test_lone_surrogates_never_break_printing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "s.jsonl").write_text('{"title": "Bad \\udc00 title", "text": "\\ud800 Report '
                                 'from Kobani about the siege.", "author": "\\udfff"}\n')
    index = str(tmp_path / "ix")
    assert _invoke("index", str(src), "--index", index).exit_code == 0
    for args in (["query", "Kobani"], ["query", "Kobani", "--json"], ["query", "*"]):
        result = _invoke(*args, "--index", index)
        assert result.exit_code == 0 and "\ufffd" in result.stdout, result.output
    doc_id = json.loads(_invoke("query", "Kobani", "--json", "--index", index).stdout
                        )["hits"][0]["id"]
    assert _invoke("show", doc_id, "--index", index).exit_code == 0
    out = tmp_path / "out.jsonl"
    assert _invoke("export", "--format", "jsonl", str(out), "--index", index).exit_code == 0
    assert "\ufffd" in out.read_text(encoding="utf-8")


# Format characters (Unicode category Cf) but the two joiners scripts and emoji need.
_FORMAT_CHARS = [c for c in map(chr, range(0x110000))
                 if unicodedata.category(c) == "Cf" and c not in "\u200c\u200d"]


def test_every_format_character_is_escaped_for_the_terminal() -> None:
    text = "a" + "".join(_FORMAT_CHARS) + "\u2028\u2029b"
    shown = terminal_safe(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cf", "Zl", "Zp")
                and c not in "\u200c\u200d"]
    assert "\\u061c" in shown and "\\u200b" in shown and "\\U000e0041" in shown
    as_json = json.dumps(text, ensure_ascii=False)
    assert json.loads(json_terminal_safe(as_json)) == text  # the same JSON value
    assert not [c for c in json_terminal_safe(as_json) if c in _FORMAT_CHARS]


def test_arabic_marks_zero_width_and_tags_do_not_reach_the_terminal(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    sneaky = "Pay\u061c\u200b\u2060\U000e0041\U000e007f here"
    (src / f"n{sneaky}.txt").write_text(f"Title {sneaky}\n\nThe convoy reached Homs. {sneaky}\n")
    index = str(tmp_path / "ix")
    assert _invoke("index", str(src), "--index", index).exit_code == 0
    for args in (["query", "convoy"], ["query", "convoy", "--json"], ["stats"]):
        result = _invoke(*args, "--index", index)
        assert not [c for c in result.output if c in _FORMAT_CHARS], (args, result.output)


# --- rebuilds and damaged metadata ------------------------------------------------------------

def _small_source(tmp_path: Path) -> Path:
    src = tmp_path / "articles"
    src.mkdir()
    _good_files(src, 4)
    return src


def test_a_damaged_meta_is_fixed_by_the_rebuild_its_message_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _small_source(tmp_path)
    index = tmp_path / "ix"
    build_index([src], index)
    (index / "meta.json").write_text("{garbage")
    # A ./seeds folder in the working directory must not be what gets indexed instead.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "wrong.txt").write_text("Wrong\n\nNot from the archive.\n")
    message = _one_line_error(_invoke("query", "convoy", "--index", str(index)))
    assert "run `search index --rebuild`" in message
    result = _invoke("index", "--rebuild", "--index", str(index))
    assert result.exit_code == 0, result.output
    with open_index(index) as ix:
        assert sorted(Path(a.path).parent for a in ix.articles()) == [src] * 4


def test_with_meta_and_manifest_damaged_the_fix_names_the_folders(tmp_path: Path) -> None:
    src = _small_source(tmp_path)
    index = tmp_path / "ix"
    build_index([src], index)
    (index / "meta.json").write_text("[]")
    (index / "manifest.json").write_text('{"files": 3}')
    message = _one_line_error(_invoke("index", "--rebuild", "--index", str(index)))
    assert message == (f"search: the index at {index} no longer records which folders it was "
                       f"built from (meta.json and manifest.json are damaged); name them: "
                       f"`search index PATH --index {index} --rebuild`")
    result = _invoke("index", str(src), "--rebuild", "--index", str(index))
    assert result.exit_code == 0, result.output
    assert check_index(index).ok


def test_a_failed_rebuild_leaves_the_old_index_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _small_source(tmp_path)
    index = tmp_path / "ix"
    build_index([src], index)
    (src / "more.txt").write_text("More\n\nAnother convoy.\n")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(SegmentWriter, "add_document", broken)
    with pytest.raises(OSError, match="No space left on device"):
        build_index([src], index, rebuild=True, procs=1)
    monkeypatch.undo()
    with open_index(index) as ix:
        assert ix.doc_count == 4
    assert check_index(index).ok
    assert build_index([src], index).added == 1  # the next run cleans up and goes on
    assert not (index / "rebuild.tmp").exists()


# --- integrity ----------------------------------------------------------------------------------

def _facet_index(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    for n in range(6):
        place = "London" if n < 2 else "Paris"
        (src / f"a{n}.txt").write_text(f"Report {n}\n\nOfficials in {place} met on Monday.\n")
    index = tmp_path / "ix"
    build_index([src], index, procs=1)
    return src, index


def test_swapped_facet_entries_are_caught_and_never_used(tmp_path: Path) -> None:
    _, index = _facet_index(tmp_path)
    with open_index(index) as ix:
        want = ix.search("*", locations=["United Kingdom"]).total
    assert want == 2
    facets = index / "facets.bin"
    blob = facets.read_bytes().decode("latin-1")
    uk = blob.index('["United Kingdom"')
    fr = blob.index('["France"')
    one = blob[uk:blob.index("]", uk) + 1]
    other = blob[fr:blob.index("]", fr) + 1]
    # Same offsets format; swap the names' spans so each name points at the other's bits.
    swapped = blob.replace(one, "\0").replace(other, one.replace("United Kingdom", "France"))
    swapped = swapped.replace("\0", other.replace("France", "United Kingdom"))
    assert swapped != blob
    facets.write_bytes(swapped.encode("latin-1"))
    report = check_index(index)
    assert not report.ok and any("facets.bin fails its checksum" in p for p in report.problems)
    with open_index(index) as ix:  # the damaged file is not used: counts are computed
        assert ix.search("*", locations=["United Kingdom"]).total == want
    build_index([index.parent / "src"], index)  # nothing changed, but the file is rewritten
    assert check_index(index).ok


@pytest.mark.parametrize("name", ["manifest.json", "meta.json"])
def test_a_changed_digit_in_manifest_or_meta_fails_the_checksum(tmp_path: Path,
                                                                 name: str) -> None:
    src, index = _facet_index(tmp_path)
    path = index / name
    text = path.read_text()
    at = text.index('"size": ') + 8 if name == "manifest.json" else text.index('"documents": ') + 13
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1:])
    report = check_index(index)
    assert not report.ok and any("checksum" in p and "search index --rebuild" in p
                                 for p in report.problems), report.problems
    result = _invoke("index", "--rebuild", "--index", str(index))  # the fix named works
    assert result.exit_code == 0, result.output
    assert check_index(index, [src]).ok


@pytest.mark.parametrize("damage", [
    {"meta.json": {"schema_version": None, "sources": 3, "skipped": 7, "last_update": 5}},
    {"manifest.json": {"files": {"/x": {"records": 3, "indexed": 4, "mtime_ns": "a"}}}},
    {"manifest.json": {"files": {"/x": {"records": {"k": 1}, "indexed": "abc"}}}},
], ids=["meta-types", "manifest-types", "manifest-values"])
def test_entries_of_the_wrong_type_never_crash_check_stats_or_show(
        tmp_path: Path, damage: dict[str, dict[str, object]]) -> None:
    _, index = _facet_index(tmp_path)
    with open_index(index) as ix:
        doc_id = ix.search("*").hits[0].id
    for name, data in damage.items():
        (index / name).write_text(json.dumps(data))
    report = check_index(index)  # never raises
    assert all("check itself failed" not in p for p in report.problems)
    for args in (["check"], ["stats"], ["show", doc_id], ["query", "officials"]):
        result = _invoke(*args, "--index", str(index))
        assert "internal error" not in result.output and "Traceback" not in result.output, (
            args, result.output)
        assert result.exit_code in (0, 1, 2), (args, result.output)


def test_deleting_write_lock_does_not_let_a_second_writer_in(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    with index_mod._WriteLock(index, wait=False):
        (index / "write.lock").unlink()
        with pytest.raises(IndexLockedError):
            build_index([SEEDS], index)
        shutil.rmtree(index / "write.lock", ignore_errors=True)
        (index / "write.lock").mkdir()  # a directory where the note goes: still locked
        with pytest.raises(IndexLockedError):
            build_index([SEEDS], index)
    (index / "write.lock").rmdir()
    (index / "write.lock").mkdir()
    # Unlocked, a directory named write.lock does not stop a build either.
    assert build_index([SEEDS], index).added == 5


# --- fuzzing the readers ------------------------------------------------------------------------

_FUZZ = settings(max_examples=int(60 * float(os.environ.get("SEARCHLIB_PROPERTY_SCALE", "1"))),
                 deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                       HealthCheck.too_slow])

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["text", "title", "body", "date", "url", "x"]) | st.text(max_size=8),
        inner, max_size=4),
    max_leaves=30)


def _nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "dict":
        return '{"a": ' * depth + "1" + "}" * depth
    return '{"text": "Report from Homs", "meta": ' + "[" * depth + "]" * depth + "}"


@pytest.fixture(scope="module")
def worker() -> index_mod._FileWork:
    from searchlib.ingest.gazetteer import default_gazetteer

    return index_mod._FileWork(default_gazetteer(), CleaningRules.load([]), 2**20,
                               FileBudget(seconds=20, memory_bytes=None))


def _process_never_raises(work: index_mod._FileWork, path: Path) -> None:
    docs, skipped = work(str(path))
    for doc in docs:
        fields = index_fields(doc.prepared, doc.minhash)  # what the engine would store
        assert doc.key.startswith(str(path)) and isinstance(fields["body"], str)
        fields["info"].encode("utf-8")  # no lone surrogate survives reading
    for item in skipped:
        assert item.reason and "\n" not in item.reason


@_FUZZ
@given(value=_JSON_VALUES, depth=st.integers(0, 3000),
       kind=st.sampled_from(["list", "dict", "field"]), lines=st.booleans())
def test_json_readers_skip_or_index_never_raise(tmp_path_factory: pytest.TempPathFactory,
                                                worker: index_mod._FileWork, value: object,
                                                depth: int, kind: str, lines: bool) -> None:
    folder = tmp_path_factory.mktemp("fuzz-json")
    nested = _nested(depth, kind) or "[]"
    text = (json.dumps(value) + "\n" + nested + "\n" if lines
            else "[" + json.dumps(value) + ", " + nested + "]")
    path = folder / ("f.jsonl" if lines else "f.json")
    path.write_text(text)
    _process_never_raises(worker, path)


@_FUZZ
@given(front=st.text(max_size=300), depth=st.integers(0, 1200),
       style=st.sampled_from(["flow", "block", "anchors"]), sidecar=st.booleans())
def test_yaml_readers_skip_or_index_never_raise(tmp_path_factory: pytest.TempPathFactory,
                                                worker: index_mod._FileWork, front: str, depth: int,
                                                style: str, sidecar: bool) -> None:
    folder = tmp_path_factory.mktemp("fuzz-yaml")
    if style == "flow":
        nested = "x: " + "[" * depth + "1" + "]" * depth
    elif style == "block":
        nested = "".join("  " * i + "k:\n" for i in range(min(depth, 300))) + "  " * 300 + "v"
    else:
        nested = "a: &a [1]\nb: " + "[*a, " * min(depth, 200) + "1" + "]" * min(depth, 200)
    yaml_text = front + "\n" + nested + "\n"
    if sidecar:
        path = folder / "s.txt"
        path.write_text("Report\n\nThe convoy reached Homs.\n")
        (folder / "s.txt.yaml").write_text(yaml_text)
    else:
        path = folder / "f.md"
        path.write_text(f"---\n{yaml_text}---\nThe convoy reached Homs.\n")
    _process_never_raises(worker, path)


@_FUZZ
@given(soup=st.lists(st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<b>", "<script>",
                                      "</script>", "<table><tr><td>", "&amp;", "&#0;", "<!--",
                                      "-->", "<h1>", "</h1>", "\ud800", "word ", "Homs. "]),
                     max_size=200),
       depth=st.integers(0, 5000), tiny=st.integers(0, 3000))
def test_html_reader_skips_or_indexes_never_raises(tmp_path_factory: pytest.TempPathFactory,
                                                   worker: index_mod._FileWork, soup: list[str],
                                                   depth: int, tiny: int) -> None:
    folder = tmp_path_factory.mktemp("fuzz-html")
    html = ("<html><body>" + "<div>" * depth + "".join(soup) + "<p>and then</p>" * tiny
            + "</div>" * depth + "</body></html>")
    path = folder / "f.html"
    path.write_text(html, encoding="utf-8", errors="surrogatepass")
    _process_never_raises(worker, path)


@pytest.mark.parametrize("fix", [["index"], ["index", "--rebuild"]])
def test_a_file_where_the_whoosh_folder_belongs_names_a_fix_that_works(
        tmp_path: Path, fix: list[str]) -> None:
    src, index = _facet_index(tmp_path)
    shutil.rmtree(index / "whoosh")
    (index / "whoosh").write_text("not a folder")
    message = _one_line_error(_invoke("query", "officials", "--index", str(index)))
    assert message == (f"search: index at {index} is damaged (whoosh is not a folder); run "
                       "`search index --rebuild`")
    result = _invoke(*fix, "--index", str(index))
    assert result.exit_code == 0, result.output
    assert check_index(index, [src]).ok
