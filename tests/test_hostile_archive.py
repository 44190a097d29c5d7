"""Hostile archives and hard conditions (issue 20).

Every case is generated at test time. Where the point is complexity, sizes are small and the
assertion is a ratio (4x the input may take at most ~8x the time), never an exact timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

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
    return SourceDocument("h.txt", "h.txt", "text", "Title\n\n" + "a hyphen-\nated word\n" * n, {})


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
