"""An Index used from two threads at once (as the TUI does) answers as it does from one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from searchlib import open_index


def test_concurrent_searches_and_reads_agree_with_sequential_ones(seed_index: Path) -> None:
    queries = ["missile attack", '"suicide bombing"', "Iran -ISIS", "border", "*"]
    with open_index(seed_index) as ix:
        expected = {q: ix.search(q) for q in queries}
        ids = [h.id for h in expected["*"].hits]
        articles = {i: ix.get(i) for i in ids}
    failures: list[str] = []

    with open_index(seed_index) as ix:
        def searcher() -> None:
            for _ in range(15):
                for q in queries:
                    got = ix.search(q)
                    if (got.total, got.hits, got.facets) != (
                            expected[q].total, expected[q].hits, expected[q].facets):
                        failures.append(f"search {q!r}")

        def reader() -> None:
            for _ in range(15):
                for i in ids:
                    if ix.get(i) != articles[i]:
                        failures.append(f"get {i}")
                ix.facet_values("actor")

        def guarded(work: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    work()
                except Exception as exc:  # a race shows as an exception as often as not
                    failures.append(f"{type(exc).__name__}: {exc}")
            return run

        threads = [threading.Thread(target=guarded(searcher)),
                   threading.Thread(target=guarded(reader)),
                   threading.Thread(target=guarded(searcher))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:5]
