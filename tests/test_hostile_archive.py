"""Hostile archives and hard conditions (issue 20).

Every case is generated at test time. Where the point is complexity, sizes are small and the
assertion is a ratio (4x the input may take at most ~8x the time), never an exact timing.
"""

from __future__ import annotations

import errno
import json
import os
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from whoosh.writing import SegmentWriter

from searchlib import IndexClosedError, SearchlibError, build_index, open_index
from searchlib import index as index_mod
from searchlib.clean import CleaningRules, clean_document
from searchlib.cli import cli
from searchlib.models import SourceDocument
from searchlib.segments import SegmentBuilder
from searchlib.textsafe import json_terminal_safe, terminal_safe

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _best_time(func: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs: the least disturbed by other jobs on the machine."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
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


@pytest.mark.parametrize("make", [_run_on_lines, _tiny_paragraphs, _hyphenated_lines],
                         ids=["run-on-lines", "tiny-html-paragraphs", "hyphenated-lines"])
def test_cleaning_is_linear_in_the_input(make: Callable[[int], SourceDocument]) -> None:
    # Before the fix the run-on case grew 16x for 4x the lines (8,000 lines: 45 s).
    assert _growth(make, 1000) < 8


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
    real = index_mod.clean_document

    def flaky(doc: SourceDocument, **kwargs: object) -> object:
        if doc.path.endswith("boom.txt"):
            raise KeyError("no such rule")
        if doc.path.endswith("deep.txt"):
            def down(n: int) -> int:
                return down(n + 1)
            down(0)
        return real(doc, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index_mod, "clean_document", flaky)
    summary = build_index([src], tmp_path / "ix", procs=procs)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"boom.txt": "could not be processed (KeyError: 'no such rule')",
                       "deep.txt": "nested too deeply to process (RecursionError)"}
    assert summary.added == 60


def test_a_file_over_its_cpu_budget_is_skipped_with_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 3)
    # 200,000 capitalised words: about a second to clean and extract, far more than the
    # 0.05 s of CPU time allowed here.
    (src / "slow.txt").write_text("Slow\n\n" + " ".join(f"Word{n} said" for n in range(200_000)))
    summary = build_index([src], tmp_path / "ix", procs=1, max_seconds=0.05)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"slow.txt": "took more than 0.05 s of CPU time to process (the per-file "
                                   "budget); skipped"}
    assert summary.added == 3


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_file_over_its_memory_budget_is_skipped_with_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _good_files(src, 3)
    (src / "huge.txt").write_text("Huge\n\n" + "and then more words follow here\n" * 100_000)
    summary = build_index([src], tmp_path / "ix", procs=1, max_memory=8 * 2**20)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"huge.txt": "needed more than the memory budget (8 MiB) to process; "
                                   "skipped"}
    assert summary.added == 3
    # The limit is lifted afterwards: this process can allocate again.
    assert len(bytearray(64 * 2**20)) == 64 * 2**20


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
