"""Hostile archive: index crafted bad files one case at a time and measure each run.

Each case is a folder holding three good articles and the case's file(s); ``search index`` runs
on it in a subprocess. A case passes when the run exits 0, indexes the three good articles (and
the case's file when it is fine to index), and lists every bad file with its reason. For each
run the wall time, the CPU time (user + system, of the indexer and its workers: unlike wall
time, not inflated by other jobs on the machine) and the peak resident memory of the largest
process are recorded; the worst of each is what docs/reliability.md reports.

    python bench/hostile.py                  # every case; a table, bench/results/hostile.json
    python bench/hostile.py --only run-on    # cases whose name contains "run-on"
"""

from __future__ import annotations

# Run as ``python bench/hostile.py``, bench/ is first on sys.path instead of the repository:
# swap them so ``bench.*`` imports from the checkout.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import gzip
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import childrss

ROOT = Path(__file__).resolve().parents[1]
GOOD = "Field report {n}\n\nThe convoy reached Homs after the talks, officials said ({n}).\n"
SENTENCE = ("the army said on monday that troops in Aleppo had reached the border while "
            "officials in Tehran and Baghdad met to discuss the ceasefire")
WORDS = SENTENCE.split()


@dataclass(frozen=True)
class Case:
    """One crafted input: how to make it and what a correct run does with it."""

    name: str
    make: Callable[[Path], None]
    indexed: int
    """Documents expected besides the three good ones."""
    skipped: tuple[str, ...] = ()
    """Words each expected skip reason contains, one entry per skipped file or record."""


def _text(size: int) -> str:
    out, n, i = [], 0, 0
    while n < size:
        para = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(80)).capitalize() + "."
        out.append(para)
        n += len(para) + 2
        i += 1
    return "Big title\n\n" + "\n\n".join(out)


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text(text, encoding="utf-8")


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)


def _with_sidecar(name: str, sidecar: str | None, kind: str = "file") -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / name).write_text(GOOD.format(n="side"))
        side = d / f"{name}.yaml"
        if kind == "fifo":
            os.mkfifo(side)
        elif kind == "dir":
            side.mkdir()
        else:
            side.write_text(sidecar or "")
    return make


def _tiny_paragraphs(count: int) -> Callable[[Path], None]:
    html = ("<html><body><h1>Many paragraphs</h1>" + "<p>and then</p>" * 20_000
            + "</body></html>")

    def make(d: Path) -> None:
        for i in range(count):
            (d / f"tiny{i}.html").write_text(html)
    return make


def _gzip_bomb(d: Path) -> None:
    with gzip.open(d / "bomb.txt.gz", "wb", compresslevel=9) as fh:
        block = b"A" * (1024 * 1024)
        for _ in range(1024):
            fh.write(block)


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\n---\nBody about Homs.\n"


def _symlink_out(d: Path) -> None:
    os.symlink("/etc/passwd", d / "passwd.txt")


def _fifo(d: Path) -> None:
    os.mkfifo(d / "pipe.txt")


def _terminal(d: Path) -> None:
    sneaky = "\x1b]0;pwned\x07\u202e\u061c\u200b\U000e0041"
    (d / f"n{sneaky}.txt").write_text(f"Title {sneaky}\n\nThe convoy reached Homs. {sneaky}\n")


CASES = [
    Case("jsonl line nested 1,000 deep", _write("deep.jsonl", "[" * 1000 + "]" * 1000 + "\n"),
         0, ("nested too deeply",)),
    Case("front matter nested 500 deep",
         _write("deep.md", "---\ntitle: " + "[" * 500 + "x" + "]" * 500 + "\n---\nBody.\n"),
         0, ("nested too deeply",)),
    Case("sidecar nested 300 deep",
         _with_sidecar("side.txt", "meta: " + "{a: " * 300 + "x" + "}" * 300 + "\n"),
         0, ("nested more than",)),
    Case("directory named like a sidecar", _with_sidecar("side.txt", None, "dir"), 0,
         ("is a directory",)),
    Case("named-pipe sidecar", _with_sidecar("side.txt", None, "fifo"), 0,
         ("named pipe", "named pipe")),
    Case("named pipe", _fifo, 0, ("named pipe",)),
    Case("symlink to /etc/passwd", _symlink_out, 0, ("outside the folder",)),
    Case("UTF-16 with BOM", _bytes("u16.txt", "UTF-16 report\n\nTalks in Qamishli.\n"
                                                 .encode("utf-16")), 1),
    Case("UTF-32 with BOM", _bytes("u32.txt", "UTF-32 report\n\nTalks in Manbij.\n"
                                                 .encode("utf-32")), 1),
    Case("lone surrogates in JSON",
         _write("s.jsonl", '{"title": "Bad \\udc00", "text": "\\ud800 Report from Kobani."}\n'),
         1),
    Case("impossible date in a sidecar", _with_sidecar("side.txt", "date: 2019-13-45\n"), 0,
         ("field 'date': invalid date",)),
    Case("256 KB run-on text",
         _write("runon.txt", "Title\n\n" + "and then more words follow here\n" * 8000), 1),
    Case("HTML of 20,000 tiny paragraphs", _tiny_paragraphs(1), 1),
    Case("11 files of 20,000 tiny paragraphs", _tiny_paragraphs(11), 11),
    Case("9.3 MB JSONL line", lambda d: (d / "line.jsonl").write_text(
        json.dumps({"title": "T", "text": _text(9_300_000).replace("\n\n", " ")}) + "\n"), 1),
    Case("10 MB text of ordinary paragraphs", _write("ten.txt", _text(9_900_000)), 1),
    Case("60 MB text (over the size limit)", _write("huge.txt", "word " * 12_000_000), 0,
         ("larger than the size limit",)),
    Case("gzip bomb (1 GiB in 1 MB)", _gzip_bomb, 0, ("larger than the size limit",)),
    Case("JSON nested 100,000 deep", _write("deep.json", "[" * 100_000 + "]" * 100_000), 0,
         ("nested too deeply",)),
    Case("HTML nested 100,000 deep",
         _write("deep.html", "<div>" * 100_000 + "Text about Homs" + "</div>" * 100_000), 0,
         ("no text found",)),
    Case("YAML alias bomb", _write("bomb.md", _alias_bomb()), 0, ("aliases",)),
    Case("!!python tag", _write("tag.md", "---\nx: !!python/object/apply:os.system "
                                          "['touch /tmp/pwned']\n---\nBody.\n"), 0,
         ("refused unsafe",)),
    Case("binary file", _bytes("bin.txt", bytes(range(256)) * 40), 0, ("binary file",)),
    Case("escape, bidi, format characters", _terminal, 1),
]


def _run(case: Case, work: Path) -> dict[str, object]:
    src, index = work / "src", work / "index"
    src.mkdir()
    for n in range(3):
        (src / f"good{n}.txt").write_text(GOOD.format(n=n))
    case.make(src)
    started = time.monotonic()
    problems: list[str] = []
    skipped: list[dict[str, str]] = []
    # Through bench/childrss.py: this process built the case's input in memory, and a child
    # started from it directly would report this process's peak as its own.
    try:
        done = childrss.run([sys.executable, "-m", "searchlib", "index", str(src), "--index",
                             str(index), "--json"], timeout=600, cwd=ROOT, env=_env())
    except subprocess.TimeoutExpired:
        return {"case": case.name, "passed": False, "seconds": None, "cpu_seconds": None,
                "peak_rss_mb": None, "problems": ["killed after 600 s"], "skipped": []}
    elapsed = time.monotonic() - started
    peak_kb, cpu = done.maxrss_kb, done.cpu_s
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        problems.append(f"exit {done.returncode}: {err.strip()[:200]}")
    else:
        summary = json.loads(out)
        skipped = summary["skipped"]
        if summary["added"] != 3 + case.indexed:
            problems.append(f"{summary['added']} added, expected {3 + case.indexed}")
        reasons = [s["reason"] for s in skipped]
        if len(reasons) != len(case.skipped) or not all(
                any(word in r for r in reasons) for word in case.skipped):
            problems.append(f"skipped {reasons}, expected {list(case.skipped)}")
        if "Traceback" in err or "internal error" in err:
            problems.append("traceback or internal error on stderr")
    return {"case": case.name, "passed": not problems, "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
            "problems": problems,
            "skipped": [f"{Path(s['path']).name}: {s['reason']}" for s in skipped]}


CACHE = ROOT / "bench" / "results" / "hostile-cache"


def _env() -> dict[str, str]:
    # A cache of our own, warmed before the cases: the shared one may be evicted by other
    # checkouts' runs, and compiling the gazetteer (5 s, 170 MB) is not the case's cost.
    return {**os.environ, "SEARCHLIB_CACHE_DIR": str(CACHE)}


def _warm_up() -> None:
    with tempfile.TemporaryDirectory(prefix="hostile-warm-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        (src / "good.txt").write_text(GOOD.format(n=0))
        subprocess.run([sys.executable, "-m", "searchlib", "index", str(src), "--index",
                        str(Path(tmp) / "index")], capture_output=True, cwd=ROOT, env=_env(),
                       check=True)


def main() -> None:
    """Run the cases (each in its own process, for exact peak memory) and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
            print(json.dumps(_run(CASES[args.one], Path(tmp))))
        return
    _warm_up()
    results = []
    for i, case in enumerate(CASES):
        if args.only.lower() not in case.name.lower():
            continue
        done = subprocess.run([sys.executable, __file__, "--one", str(i)], capture_output=True,
                              text=True, cwd=ROOT, check=False)
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            result = {"case": case.name, "passed": False, "seconds": None,
                      "cpu_seconds": None, "peak_rss_mb": None,
                      "problems": [done.stderr.strip()[-300:]], "skipped": []}
        results.append(result)
        mark = "ok  " if result["passed"] else "FAIL"
        print(f"{mark} {result['seconds']:>7} s {result.get('cpu_seconds')!s:>7} s CPU "
              f"{result['peak_rss_mb']:>7} MB  {case.name}"
              + ("" if result["passed"] else f"  {result['problems']}"), flush=True)
    passed = sum(1 for r in results if r["passed"])
    timed = [r for r in results if r["seconds"] is not None]
    worst_time = max(timed, key=lambda r: r["seconds"])
    worst_cpu = max(timed, key=lambda r: r["cpu_seconds"])
    worst_rss = max(timed, key=lambda r: r["peak_rss_mb"])
    print(f"\n{passed} of {len(results)} cases passed; slowest {worst_time['seconds']} s "
          f"({worst_time['case']}); most CPU {worst_cpu['cpu_seconds']} s "
          f"({worst_cpu['case']}); most memory {worst_rss['peak_rss_mb']} MB "
          f"({worst_rss['case']})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hostile.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
