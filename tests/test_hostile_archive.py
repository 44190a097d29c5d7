"""Hostile archives and hard conditions (issue 20).

Every case is generated at test time. Where the point is complexity, sizes are small and the
assertion is a ratio (4x the input may take at most ~8x the time), never an exact timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from searchlib import build_index
from searchlib import index as index_mod
from searchlib.clean import CleaningRules, clean_document
from searchlib.models import SourceDocument


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
