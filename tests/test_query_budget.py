"""Bounded work for any query: answered or refused in one line, within seconds.

Generated hostile queries (deep nesting, hundreds of fuzzy terms, huge wildcards, long pasted
text, random operator soup) run against a small generated index; each must return results
or raise a one-line :class:`QueryError` within a generous time limit, and the process must
not grow by hundreds of megabytes. The time budget itself is tested with a tiny budget.
"""

from __future__ import annotations

import random
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from searchlib import QueryError, SearchCancelled, build_index, open_index, search
from searchlib.cli import cli
from searchlib.engine.whoosh import ranking

REPO = Path(__file__).resolve().parents[1]
#: Seconds one query may take here: the budget (4 s) plus parsing and snippets, on a
#: machine shared with other work.
LIMIT = 5.0


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory,
          gen_corpus: ModuleType) -> Iterator[Path]:
    """An index of 120 generated articles."""
    base = tmp_path_factory.mktemp("budget")
    gen_corpus.generate(120, 7, base / "corpus")
    build_index([base / "corpus" / "docs"], base / "index", procs=1)
    yield base / "index"


def _hostile_queries(words: list[str], rng: random.Random) -> list[str]:
    """Queries of every hostile family, generated from the index's own words."""
    def word() -> str:
        return rng.choice(words)

    out: list[str] = []
    for depth in (10, 100, 500, 2000):
        out.append("(" * depth + word() + ")" * depth)
        out.append(" AND ".join(f"({word()} OR {word()}~" for _ in range(depth // 10))
                   + ")" * (depth // 10))
    for count in (5, 20, 32, 33, 100, 300):
        out.append(" ".join(f"{word()}~2" for _ in range(count)))
        out.append(" ".join(f"{word()[:2]}*" for _ in range(count)))
    out += ["*", "**", "*a*", "?" * 30, "*" + "?" * 8, "a*" * 4, "a*" * 9, "*e*e*e*e*",
            "title:*", "body:*a*", "*" * 500]
    for count in (50, 200, 800, 1500):
        out.append(" ".join(word() for _ in range(count))[:9_999])
    out.append("x " * 6000)  # over the length limit
    tokens = ["AND", "OR", "NOT", "(", ")", "-", "+", '"', "~", "*", "?", "^2", "title:",
              "actor:", "date:", "date:>2019", "[", "TO", "]", "{", "}"]
    for _ in range(1000):
        parts = [rng.choice(tokens) if rng.random() < 0.4 else
                 rng.choice([word(), word() + "*", word() + "~", word()[:3] + "?"])
                 for _ in range(rng.randint(1, 40))]
        out.append(" ".join(parts) if rng.random() < 0.5 else "".join(parts))
    return out


def test_every_hostile_query_is_answered_or_refused_in_time(small: Path) -> None:
    rng = random.Random(14)
    with open_index(small) as ix:
        words = [t for t in ix._lexicon().field("body").terms if t.isalpha()]
        queries = _hostile_queries(words, rng)
        assert len(queries) > 1000
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        refused = answered = 0
        for text in queries:
            started = time.perf_counter()
            try:
                results = ix.search(text, limit=5)
            except QueryError as exc:
                refused += 1
                message = str(exc)
                assert message and "\n" not in message and len(message) < 400, text[:80]
            else:
                answered += 1
                assert results.total >= 0
            elapsed = time.perf_counter() - started
            assert elapsed < LIMIT, (text[:80], elapsed)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert grown_mb < 500
        assert answered > 300 and refused > 10


def test_cli_refuses_too_broad_queries_with_exit_2(small: Path) -> None:
    for text in (" ".join(f"w{i}x~2" for i in range(40)), "a*" * 9, "economy~5"):
        result = CliRunner().invoke(cli, ["query", text, "--index", str(small)])
        assert result.exit_code == 2, text
        assert result.stderr.startswith("search: ") and result.stderr.count("\n") == 1


def test_out_of_time_is_refused_naming_the_broad_part(small: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "QUERY_TIME_BUDGET", 0.0)
    with open_index(small) as ix:
        words = [t for t in ix._lexicon().field("body").terms if t.isalpha()]
        with pytest.raises(QueryError, match=r"query too broad to answer within 0 s "
                                             r"\(1 word; broadest: 'a\*' \([\d,]+ terms\)\)"):
            ix.search("a*")
        with pytest.raises(QueryError, match=r"\(300 words\); use fewer or rarer words"):
            ix.search(" ".join(words[:300]))
    monkeypatch.setattr(search, "QUERY_TIME_BUDGET", 60.0)
    with open_index(small) as ix:
        assert ix.search(" ".join(words[:300])).total > 0  # the same query, given time


def test_a_cancelled_search_stops(small: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with open_index(small) as ix, pytest.raises(SearchCancelled):
        ix.search("some words of a query", cancel=cancel)
    with open_index(small) as ix:
        assert ix.search("some words of a query", cancel=threading.Event()).total >= 0


def test_budget_checks_only_inside_a_search() -> None:
    ranking.check_budget()  # no budget in force: never raises
    with ranking.budget(0.0), pytest.raises(ranking.OverBudget):
        ranking.check_budget()
    ranking.check_budget()
