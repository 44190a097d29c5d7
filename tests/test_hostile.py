"""Hostile input: documents, files, YAML, queries and damaged indexes.

Whatever a file or a user throws at it, searchlib gives a clear one-line message or a per-file
reason in the summary, never a traceback; the run continues; nothing already indexed is lost;
and no text from a document reaches the terminal with raw control or bidi characters.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result

from searchlib import build_index, open_index
from searchlib.cli import cli
from searchlib.engine.whoosh.check import check_index
from searchlib.ingest.read import read_file

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"

# C0 controls but newline and tab, DEL, C1 controls, and the bidi embedding/override/isolate
# marks: none may reach a terminal from a document.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours the CLI itself prints with --color always

OSC_TITLE = "\x1b]0;pwned\x07"
EVIL = (f"\x1b[2J\x1b[H{OSC_TITLE}\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\ "
        "\x07bell back\x08\x08\x08space carriage\rreturn \u202eoverride\u202c \x9b31m c1 csi")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def unsafe_chars(text: str, *, colour: bool = False) -> list[str]:
    if colour:
        text = SGR.sub("", text)
    return sorted({repr(c) for c in UNSAFE.findall(text)})


def assert_one_line_error(result: Result) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("search: "), result.stderr


# --- terminal safety ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def evil_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    src = tmp_path_factory.mktemp("evil")
    (src / f"esc{OSC_TITLE}name.txt").write_text(
        f"Headline {EVIL}\n\nThe convoy reached Aleppo. {EVIL} Officials in Tehran said the "
        "ceasefire would hold.\n", encoding="utf-8")
    # YAML double-quoted strings spell ESC as \e and BEL as \a.
    (src / "front.md").write_text(
        "---\n"
        'title: "Red \\e[31mtitle\\e[0m \\e]0;pwned\\a"\n'
        'author: "Evil\\e]0;x\\a Writer"\n'
        'url: "http://example.com/\\e[2J"\n'
        'source: "\\u202eevil source"\n'
        "date: 2019-05-04\n"
        "---\n"
        "The convoy reached Mosul while officials in Baghdad met.\n", encoding="utf-8")
    (src / "article.json").write_text(json.dumps({
        "headline": f"JSON {EVIL}", "text": f"The convoy moved near Damascus. {EVIL}",
        "author": EVIL, "site": EVIL}), encoding="utf-8")
    (src / "page.html").write_text(
        "<html><head><title>HTML &#27;[2J&#27;]0;pwned&#7; title</title></head><body>"
        "<article><h1>HTML &#x1b;[31mheadline&#x202e;</h1><p>The convoy reached Homs and the "
        "ceasefire talks went on &#27;[2J with more words in this paragraph.</p>"
        "<p>A second paragraph &#155;31m about Idlib and the aid agencies.</p></article>"
        "</body></html>", encoding="utf-8")
    (src / f"bin{OSC_TITLE}.txt").write_bytes(b"\x00\x01\x02" * 100)
    index_dir = tmp_path_factory.mktemp("evil-ix") / "ix"
    result = invoke("index", str(src), "--index", str(index_dir), "--procs", "1")
    assert result.exit_code == 0, result.output
    assert unsafe_chars(result.output) == []  # the summary names the evil binary file
    assert "skipped" in result.stderr
    return src, index_dir


def _ids(index_dir: Path) -> list[str]:
    result = invoke("query", "*", "--index", str(index_dir), "--json", "-n", "100")
    return [hit["id"] for hit in json.loads(result.stdout)["hits"]]


@pytest.mark.parametrize("args", [
    ["query", "convoy"], ["query", "convoy", "--facets"], ["query", "*", "-n", "50"],
    ["query", "convoy", "--color", "always", "--facets"], ["stats"], ["facets"],
    ["gazetteer", "gaps", "--min-count", "1"],
])
def test_document_text_never_reaches_the_terminal_raw(evil_index: tuple[Path, Path],
                                                      args: list[str]) -> None:
    _, index_dir = evil_index
    result = invoke(*args, "--index", str(index_dir))
    assert result.exit_code in (0, 1), result.output
    assert unsafe_chars(result.output, colour="always" in args) == []


def test_show_and_similar_escape_every_field(evil_index: tuple[Path, Path]) -> None:
    _, index_dir = evil_index
    ids = _ids(index_dir)
    assert len(ids) == 4
    shown = ""
    for doc in ids:
        for args in (["show", doc], ["similar", doc]):
            result = invoke(*args, "--index", str(index_dir))
            assert result.exit_code in (0, 1), result.output
            assert unsafe_chars(result.output) == [], (args, result.output)
            shown += result.output
    # The escapes are shown, visibly, rather than dropped.
    assert "\\x1b" in shown and "\\u202e" in shown


def test_json_output_has_no_raw_c1_or_bidi(evil_index: tuple[Path, Path]) -> None:
    _, index_dir = evil_index
    for doc in _ids(index_dir):
        result = invoke("show", doc, "--json", "--index", str(index_dir))
        assert result.exit_code == 0
        json.loads(result.stdout)
        assert unsafe_chars(result.stdout) == [], result.stdout


def test_error_messages_are_escaped_and_one_line(evil_index: tuple[Path, Path]) -> None:
    _, index_dir = evil_index
    for args in (["query", f"zzz:{OSC_TITLE}", "--index", str(index_dir)],
                 ["query", "x", "--index", f"/nonexistent/{OSC_TITLE}\nfake line"],
                 ["index", f"/nonexistent/{OSC_TITLE}", "--index", str(index_dir)]):
        result = invoke(*args)
        assert_one_line_error(result)
        assert unsafe_chars(result.stderr) == [], result.stderr


# --- YAML -----------------------------------------------------------------------------------

def _python_tag(marker: Path) -> str:
    return f"!!python/object/apply:os.system [\"touch {marker}\"]"


def test_python_tags_in_front_matter_and_sidecars_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    src = tmp_path / "src"
    src.mkdir()
    (src / "front.md").write_text(f"---\ntitle: {_python_tag(marker)}\n---\nBody about Mosul.\n")
    (src / "side.txt").write_text("Sidecar story\n\nBody about Raqqa and the convoy.\n")
    (src / "side.txt.yaml").write_text(f"author: {_python_tag(marker)}\n")
    (src / "ok.txt").write_text("Fine story\n\nThe convoy reached Homs.\n")
    summary = build_index([src], tmp_path / "ix", procs=1)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert "front.md" in reasons["front.md"] and "python" in reasons["front.md"]
    assert "side.txt.yaml" in reasons["side.txt"]
    assert summary.added == 1 and not marker.exists()


@pytest.mark.parametrize("option", ["--gazetteer", "--rules", "config"])
def test_python_tags_in_user_yaml_are_refused_naming_the_file(tmp_path: Path, option: str
                                                              ) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    if option == "--gazetteer":
        evil.write_text(f"actor:\n  Evil Group: {_python_tag(marker)}\n")
    elif option == "--rules":
        evil.write_text(f"limits: {_python_tag(marker)}\n")
    else:
        evil.write_text(f"index: {_python_tag(marker)}\n")
    args = ["index", str(SEEDS), "--index", str(tmp_path / "ix")]
    env = None
    if option == "config":
        env = {"SEARCHLIB_CONFIG": str(evil)}
    else:
        args += [option, str(evil)]
    result = invoke(*args, env=env)
    assert_one_line_error(result)
    assert str(evil) in result.stderr
    assert not marker.exists()


def _alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_in_front_matter_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.md"
    bomb.write_text("---\n" + _alias_bomb(7) + "---\nBody text about the convoy in Mosul.\n")
    result = read_file(str(bomb))
    # Plain booleans: a failing assert must not make pytest print the 4.8M-item expansion.
    refused = not result.documents
    named = refused and "laughs.md" in result.skipped[0].reason
    assert refused and named


def test_self_referencing_yaml_skips_only_that_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "loop.md").write_text("---\ntags: &x [*x]\n---\nBody about Baghdad and the talks.\n")
    (src / "ok.txt").write_text("Fine story\n\nThe convoy reached Homs.\n")
    summary = build_index([src], tmp_path / "ix", procs=1)
    assert summary.added == 1
    assert [Path(s.path).name for s in summary.skipped] == ["loop.md"]


# --- files ----------------------------------------------------------------------------------

def _gzip_bomb(path: Path, megabytes: int) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"a" * (1 << 20)
    with open(path, "wb") as fh:
        for _ in range(megabytes):
            fh.write(packer.compress(block))
        fh.write(packer.flush())


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str],
                                                                      float]:
    src = tmp_path_factory.mktemp("hostile")
    good = "Field report\n\nThe convoy reached {} after the ceasefire talks in the capital.\n"
    (src / "good1.txt").write_text(good.format("Homs"))
    (src / "good2.txt").write_text(good.format("Aleppo"))
    (src / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (src / "empty.txt").write_bytes(b"")
    (src / "blank.txt").write_text("   \n\n\t\n")
    (src / "cp1252.txt").write_bytes(
        "Caf\xe9 report\n\nThe caf\xe9 near Idlib \u201creopened\u201d.".encode("cp1252"))
    (src / "invalid.txt").write_bytes(b"Broken \xff\xfe bytes\n\nText \xc3\x28 about Kirkuk.\n")
    (src / "malformed.html").write_text(
        "<html><p>Unclosed <b><i>report about Raqqa <table><tr><td>cell <p>and more words "
        "about the city</html></div></span>&bogus;&#99999999;")
    (src / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (src / "bad.json").write_text('{"title": "x", "text": ')
    (src / "lines.jsonl").write_text('{"title": "One", "text": "The convoy near Daraa."}\n'
                                     "not json\n"
                                     '{"title": "Two", "text": "Talks in Geneva went on."}\n')
    words = " ".join(f"word{i}" for i in range(5000)).encode()
    (src / "truncated.txt.gz").write_bytes(gzip.compress(words)[:2000])
    _gzip_bomb(src / "bomb.txt.gz", 200)  # 200 MiB of text in 200 kB
    (src / "big.txt").write_text("Big file\n\n" + "word " * (3 * 1024 * 1024 // 5 + 10))
    os.symlink("loop2.txt", src / "loop1.txt")
    os.symlink("loop1.txt", src / "loop2.txt")
    os.symlink("/nonexistent/target.txt", src / "dangling.txt")
    os.symlink("..", src / "parent-loop")
    os.symlink(".", src / "self-loop")
    os.mkfifo(src / "fifo.txt")  # reading it would block forever
    (src / "notes.pdf").write_bytes(b"%PDF-1.4")
    # Issue 20: each of these aborted the whole build, hung it, or was indexed wrongly.
    (src / "deep-line.jsonl").write_text("[" * 1000 + "]" * 1000 + "\n")
    (src / "deep-front.md").write_text(
        "---\ntitle: " + "[" * 500 + "x" + "]" * 500 + "\n---\nBody about Tartus.\n")
    (src / "deep-side.txt").write_text(good.format("Latakia"))
    (src / "deep-side.txt.yaml").write_text("meta: " + "{a: " * 300 + "x" + "}" * 300 + "\n")
    (src / "dir-side.txt").write_text(good.format("Hama"))
    (src / "dir-side.txt.yaml").mkdir()
    (src / "pipe-side.txt").write_text(good.format("Idlib"))
    os.mkfifo(src / "pipe-side.txt.yaml")  # opening it to read would wait for a writer
    os.symlink("/etc/passwd", src / "passwd.txt")  # leaves the archive: not followed
    (src / "inside-link.txt").symlink_to(src / "good1.txt")  # stays inside: followed
    (src / "utf16.txt").write_bytes("UTF-16 report\n\nTalks in Qamishli.\n".encode("utf-16"))
    (src / "utf32.txt").write_bytes("UTF-32 report\n\nTalks in Manbij.\n".encode("utf-32"))
    (src / "surrogate.jsonl").write_text(
        '{"title": "Lone \\udc00 surrogate", "text": "\\ud800 A report from Kobani."}\n')
    secret = src.parent / f"{src.name}-secret.yaml"
    secret.write_text("title: Secret from outside the archive\n")
    (src / "linked-side.txt").write_text(good.format("Raqqa"))
    (src / "linked-side.txt.yaml").symlink_to(secret)  # leaves the archive: refused
    (src / "bad-date.txt").write_text(good.format("Deraa"))
    (src / "bad-date.txt.yaml").write_text("title: Dated\ndate: 2019-13-45\n")
    index_dir = tmp_path_factory.mktemp("hostile-ix") / "ix"
    started = time.monotonic()
    summary = build_index([src], index_dir, procs=1, max_bytes=2 * 1024 * 1024)
    elapsed = time.monotonic() - started
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    return src, index_dir, reasons, elapsed


@pytest.mark.parametrize(("name", "reason"), [
    ("binary.txt", "binary file"), ("empty.txt", "empty file"), ("blank.txt", "empty file"),
    ("deep.json", "nested too deeply"), ("bad.json", "invalid JSON"),
    ("lines.jsonl#2", "invalid JSON"), ("truncated.txt.gz", "cannot read"),
    ("bomb.txt.gz", "larger than the size limit (2 MiB)"),
    ("big.txt", "larger than the size limit (2 MiB)"),
    ("loop1.txt", "Too many levels of symbolic links"),
    ("dangling.txt", "not found"), ("notes.pdf", "unknown extension .pdf"),
    ("fifo.txt", "named pipe, not a regular file (never opened)"),
    ("deep-line.jsonl#1", "invalid JSON: nested too deeply"),
    ("deep-front.md", "deep-front.md: invalid YAML: nested too deeply"),
    ("deep-side.txt", "deep-side.txt.yaml: nested more than 64 levels deep"),
    ("dir-side.txt", "sidecar {src}/dir-side.txt.yaml is a directory, not a regular file"),
    ("pipe-side.txt", "sidecar {src}/pipe-side.txt.yaml is a named pipe"),
    ("pipe-side.txt.yaml", "sidecar is a named pipe, not a regular file (never opened)"),
    ("passwd.txt", "symbolic link to a file outside the folder being indexed (pass "
                   "--follow-symlinks"),
    ("linked-side.txt", "sidecar {src}/linked-side.txt.yaml is a symbolic link to a file "
                        "outside its folder (pass --follow-symlinks"),
    ("bad-date.txt", "bad-date.txt.yaml:2: field 'date': invalid date '2019-13-45' (month "
                     "must be in 1..12)"),
])
def test_each_bad_file_is_reported_with_its_reason(
        hostile_build: tuple[Path, Path, dict[str, str], float], name: str, reason: str) -> None:
    src, _, reasons, _ = hostile_build
    assert reason.format(src=src) in reasons[name]


def test_the_run_continues_and_indexes_every_good_file(
        hostile_build: tuple[Path, Path, dict[str, str], float]) -> None:
    _, index_dir, _, elapsed = hostile_build
    assert elapsed < 120  # the gzip bomb is not inflated, the FIFO not opened
    with open_index(index_dir) as ix:
        paths = sorted(Path(a.path).name for a in ix.articles())
        assert paths == ["cp1252.txt", "good1.txt", "good2.txt", "invalid.txt", "lines.jsonl#1",
                         "lines.jsonl#3", "malformed.html", "surrogate.jsonl#1", "utf16.txt",
                         "utf32.txt"]
        # inside-link.txt is good1.txt's twin: indexed once, kept as its duplicate.
        assert ix.get(ix.search("Homs").hits[0].id).duplicates[0].endswith("inside-link.txt")
        assert ix.search("Qamishli").total == ix.search("Manbij").total == 1
        # Lone surrogates became U+FFFD when read: printing and encoding them works.
        kobani = ix.get(ix.search("Kobani").hits[0].id)
        assert kobani.text.startswith("\ufffd") and kobani.title == "Lone \ufffd surrogate"
        kobani.text.encode("utf-8")
        assert ix.search("café").total == 1
        assert ix.search("Kirkuk").total == 1
        assert ix.search("Raqqa").total == 1
    assert check_index(index_dir).ok


def test_oversized_files_are_skipped_in_bounded_memory(tmp_path: Path,
                                                       childrss: ModuleType) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("Small\n\nThe convoy reached Homs.\n")
    with open(src / "huge.txt", "w") as fh:
        line = "the convoy moved along the road toward the border crossing at dawn. " * 16
        for _ in range(60 * 1024 * 1024 // len(line)):
            fh.write(line + "\n")
    _gzip_bomb(src / "bomb.txt.gz", 1024)  # 1 GiB inflated
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "searchlib", "index", str(src), "--index",
               str(tmp_path / "ix"), "--max-size", "50", "--procs", "1"]
    # Through bench/childrss.py: a child of this (large) pytest process would report the
    # parent's peak as its own.
    done = childrss.run(command, env=env)
    status, peak = done.returncode, done.maxrss_kb // 1024
    assert status == 0, done.stderr.decode()[-500:]
    with open_index(tmp_path / "ix") as ix:
        assert ix.doc_count == 1
        skipped = {Path(s.path).name: s.reason for s in ix.skipped}
    assert skipped["huge.txt"].startswith("larger than the size limit")
    assert skipped["bomb.txt.gz"].startswith("larger than the size limit")
    print(f"\npeak RSS while skipping a 60 MB file and a 1 GiB gzip bomb: {peak} MiB")
    assert peak < 800


def test_files_vanishing_mid_run_are_reported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"doc{i}.txt").write_text(f"Report {i}\n\nThe convoy number {i} reached Homs.\n")

    def vanish(done: int, total: int) -> None:
        if done == 2:
            (src / "doc4.txt").unlink()
            shutil.rmtree(src / "sub")

    (src / "sub").mkdir()
    (src / "sub" / "inner.txt").write_text("Inner\n\nThe talks in Geneva.\n")
    summary = build_index([src], tmp_path / "ix", procs=1, progress=vanish)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons == {"doc4.txt": "file vanished while indexing",
                       "inner.txt": "file vanished while indexing"}
    assert summary.added == 5
    again = build_index([src], tmp_path / "ix", procs=1)
    assert again.skipped == () and again.unchanged == 5


def test_unreadable_files_are_reported_for_a_non_root_user(tmp_path: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root to drop to the nobody user with setpriv")
    work = Path(tempfile.mkdtemp(prefix="searchlib-perm-"))
    try:
        os.chmod(work, 0o777)
        src = work / "src"
        src.mkdir()
        (src / "ok.txt").write_text("Readable\n\nThe convoy reached Homs.\n")
        (src / "secret.txt").write_text("Secret\n\nNobody may read this.\n")
        (src / "locked").mkdir()
        (src / "locked" / "inner.txt").write_text("Inner\n\nHidden text.\n")
        os.chmod(src / "secret.txt", 0o000)
        os.chmod(src / "locked", 0o000)
        os.chmod(src, 0o755)
        env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(work), XDG_CACHE_HOME=str(work),
                   XDG_CONFIG_HOME=str(work))
        env.pop("SEARCHLIB_CONFIG", None)  # the test config path is in a root-only folder
        result = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
             "searchlib", "index", str(src), "--index", str(work / "ix"), "--json"],
            capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        reasons = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
        assert summary["added"] == 1
        assert "permission denied" in reasons["secret.txt"].lower()
        assert "permission denied" in reasons["locked"].lower()
    finally:
        for root, dirs, _files in os.walk(work):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(work, ignore_errors=True)


def test_undecodable_file_name_does_not_stop_the_run(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("Fine\n\nThe convoy reached Homs.\n")
    with open(os.path.join(os.fsencode(src), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"Odd name\n\nThe talks in Geneva went on.\n")
    summary = build_index([src], tmp_path / "ix", procs=1)
    assert summary.added + len(summary.skipped) == 2
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("Homs").total == 1


def test_deeply_nested_html_is_indexed_or_reported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "deep.html").write_text("<html><body>" + "<div>" * 20_000 + "<p>Deep report about "
                                   "Kirkuk and Erbil with enough words.</p>" + "</div>" * 20_000
                                   + "</body></html>")
    summary = build_index([src], tmp_path / "ix", procs=1)
    with open_index(tmp_path / "ix") as ix:
        found = ix.search("Kirkuk").total
    assert found == 1 or [Path(s.path).name for s in summary.skipped] == ["deep.html"]


# --- queries --------------------------------------------------------------------------------

NASTY_QUERIES = [
    "", " ", "*", "**", "?", "a" * 20_000, "Iran " * 3000, "\x00", "\x1b[2J", OSC_TITLE, "\r\n",
    "\u202e", "\udcff", "🚀💥", "((((((", "))))", "\"unbalanced", "'", "title:", "title:\"",
    ":", "::", "a:b:c", "-", "+", "NOT", "AND OR NOT", "NOT NOT NOT", "x~", "x~99", "x^",
    "x^1e308", "[", "[a TO", "{a TO b]", "date:", "date:[", "date:[x TO y]", "date:>", "date:99999",
    "date:[2017 TO 2016]", "date:0000-00-00", "actor:", "actor:\"\"", "person:*", "*a*b*c*",
    "a*" * 50, "\\", "\\\\\\", "/", "<>", "%s%n", "${IFS}", "body:(a OR (b AND (c OR d)))",
    "(" * 500 + "x" + ")" * 500, "\"" + "a " * 500 + "\"~5", "Iran~2 ISIS~2 Syria~2",
]


@pytest.mark.parametrize("text", NASTY_QUERIES, ids=range(len(NASTY_QUERIES)))
def test_any_query_gives_results_or_one_line_error(text: str) -> None:
    index_dir = _seed_cli_index()
    result = invoke("query", text, "--index", str(index_dir), "--facets")
    if result.exit_code == 2:
        assert_one_line_error(result)
    else:
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert unsafe_chars(result.stdout) == []


@pytest.mark.parametrize("args", [
    ["--from", "\x1b[2J"], ["--from", "2020-13-45"], ["--from", "2020", "--to", "2019"],
    ["--actor", "\x00"], ["--location", "Syria" * 1000], ["--person", ""], ["--page", "99999"],
    ["--limit", "10000"], ["--sort", "oldest", "--from", "1900", "--to", "2100"],
])
def test_any_filter_gives_results_or_one_line_error(args: list[str]) -> None:
    result = invoke("query", "convoy", "--index", str(_seed_cli_index()), *args)
    if result.exit_code == 2:
        assert_one_line_error(result)
    else:
        assert result.exit_code in (0, 1), result.output


_SEED_INDEX: list[Path] = []


def _seed_cli_index() -> Path:
    """One seed index shared by the query tests (built on first use)."""
    if not _SEED_INDEX:
        target = Path(tempfile.mkdtemp(prefix="searchlib-hostile-")) / "ix"
        build_index([SEEDS], target, procs=1)
        _SEED_INDEX.append(target)
    return _SEED_INDEX[0]


@pytest.fixture(scope="module", autouse=True)
def _drop_seed_index() -> Iterator[None]:
    yield
    for path in _SEED_INDEX:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_an_index_with_no_documents_answers_queries(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "binary.txt").write_bytes(b"\x00\x01" * 10)
    build_index([src], tmp_path / "ix", procs=1)
    result = invoke("query", "convoy", "--index", str(tmp_path / "ix"))
    assert result.exit_code == 1 and result.stdout.startswith("0 results"), result.output
    assert invoke("stats", "--index", str(tmp_path / "ix")).exit_code == 0


# --- damaged indexes ------------------------------------------------------------------------

def _segment(index_dir: Path) -> Path:
    return Path(glob.glob(str(index_dir / "whoosh" / "*.seg"))[0])


def _toc(index_dir: Path) -> Path:
    return Path(glob.glob(str(index_dir / "whoosh" / "_MAIN_*.toc"))[0])


def _scramble(index_dir: Path) -> None:
    path = _segment(index_dir)
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 2000):
        data[i] = (data[i] * 7 + 13) % 256
    path.write_bytes(bytes(data))


def _set_schema_version(index_dir: Path) -> None:
    meta = json.loads((index_dir / "meta.json").read_text())
    meta["schema_version"] = 0
    (index_dir / "meta.json").write_text(json.dumps(meta))


DAMAGE: dict[str, Callable[[Path], object]] = {
    "scrambled segment": _scramble,
    "truncated segment": lambda d: os.truncate(_segment(d), _segment(d).stat().st_size // 2),
    "empty segment": lambda d: _segment(d).write_bytes(b""),
    "missing segment": lambda d: _segment(d).unlink(),
    "missing table of contents": lambda d: _toc(d).unlink(),
    "garbage table of contents": lambda d: _toc(d).write_bytes(b"garbage" * 10),
    "missing meta.json": lambda d: (d / "meta.json").unlink(),
    "older schema version": _set_schema_version,
    "garbage manifest": lambda d: (d / "manifest.json").write_text("{not json"),
}
@pytest.fixture()
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    name: str = request.param
    index_dir = tmp_path / "ix"
    shutil.copytree(_seed_cli_index(), index_dir)
    DAMAGE[name](index_dir)
    return name, index_dir


@pytest.mark.parametrize("damaged", list(DAMAGE), indirect=True)
def test_damage_is_found_by_check_and_fixed_by_rebuild(damaged: tuple[str, Path]) -> None:
    name, index_dir = damaged
    report = check_index(index_dir)
    assert not report.ok and report.problems
    assert all("search index --rebuild" in p for p in report.problems), report.problems
    if name not in ("scrambled segment", "garbage manifest"):
        # Damage a query meets is a one-line message naming the fix.
        result = invoke("query", "Iran", "--index", str(index_dir))
        assert_one_line_error(result)
        assert "search index --rebuild" in result.stderr
    result = invoke("index", str(SEEDS), "--index", str(index_dir), "--rebuild")
    assert result.exit_code == 0, result.output
    assert invoke("query", "Iran", "--index", str(index_dir)).exit_code == 0
    assert check_index(index_dir).ok


@pytest.mark.parametrize("damaged", [
    name for name in DAMAGE if name not in ("scrambled segment", "garbage manifest")],
    indirect=True)
def test_plain_update_of_a_damaged_index_names_the_fix(damaged: tuple[str, Path]) -> None:
    _, index_dir = damaged
    result = invoke("index", str(SEEDS), "--index", str(index_dir))
    assert_one_line_error(result)
    assert "search index --rebuild" in result.stderr


def test_rebuild_without_paths_uses_the_recorded_sources(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "corpus"
    shutil.copytree(SEEDS, src)
    index_dir = tmp_path / "ix"
    assert invoke("index", str(src), "--index", str(index_dir)).exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = invoke("index", "--rebuild", "--index", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 5


def test_check_compares_the_index_with_the_files_on_disk(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    shutil.copytree(SEEDS, src)
    index_dir = tmp_path / "ix"
    build_index([src], index_dir, procs=1)
    report = check_index(index_dir)
    assert report.ok and report.up_to_date
    assert (report.documents, report.manifest_documents, report.segments) == (5, 5, 1)
    assert report.sources == (str(src),)
    names = sorted(p.name for p in src.iterdir())
    (src / names[0]).unlink()
    changed = src / names[1]
    changed.write_text(changed.read_text() + "\nOne more line.\n")
    (src / "new.txt").write_text("New\n\nThe convoy reached Homs.\n")
    report = check_index(index_dir)
    assert report.ok and not report.up_to_date  # stale, not damaged
    assert report.missing_sources == (str(src / names[0]),)
    assert report.changed_sources == (str(changed),)
    assert report.unindexed_sources == (str(src / "new.txt"),)
    assert any("run `search index` to update" in n for n in report.notes)
    # Only the folders asked about are compared.
    assert check_index(index_dir, sources=[src / "new.txt"]).missing_sources == ()
    build_index([src], index_dir, procs=1)
    assert check_index(index_dir).up_to_date


def test_check_of_a_missing_index_is_a_report_not_an_exception(tmp_path: Path) -> None:
    report = check_index(tmp_path / "nothing")
    assert not report.ok and report.documents == 0
    assert report.problems == (f"no index at {tmp_path / 'nothing'}; build one with "
                               f"`search index PATH --index {tmp_path / 'nothing'}`",)


def test_check_names_a_running_writer(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([SEEDS], index_dir, procs=1)
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (index_dir / "write.lock").write_text(f"process {helper.pid} since 2030-01-01T00:00:00")
        notes = check_index(index_dir).notes
        assert any(f"being updated by process {helper.pid}" in n for n in notes)
    finally:
        helper.kill()
        helper.wait()
    # A dead writer's leftover text is not reported.
    assert not any("being updated" in n for n in check_index(index_dir).notes)


def test_user_errors_are_not_reported_as_internal_errors(tmp_path: Path) -> None:
    for args in (["index", str(tmp_path / "missing"), "--index", str(tmp_path / "ix")],
                 ["show", "0123456789abcdef", "--index", str(_seed_cli_index())]):
        result = invoke(*args)
        assert_one_line_error(result)
