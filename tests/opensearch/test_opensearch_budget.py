"""Bounded work for any query on the OpenSearch engine, on a real node.

The same bounds as the Whoosh engine (``searchlib.query.limits``): patterns capped and
refused alike, a time budget the cluster is told (``timeout``) and an answer it cut at the
budget refused rather than shown as exact. The generated hostile queries of
``bench/hostile_queries.py`` run against an OpenSearch-engine folder and the Whoosh index of
the same articles: each engine answers or refuses each query the same way.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from oscluster import Cluster, ExportedCorpus

from searchlib import QueryError, open_index
from searchlib.cli import cli
from searchlib.query import limits

pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

#: Wall seconds one hostile query may take here: the 4 s budget, the request's slack and
#: a machine shared with other work.
LIMIT_S = 10.0
#: A query whose query phase (ten wildcard expansions, the aggregations) outlasts 1 ms.
BROAD = "*e* *a* *i* *o* *u* *r* *s* *t* *n* *l*"


@dataclass
class Folders:
    """The same articles in a Whoosh index and in an OpenSearch-engine folder."""

    whoosh: Path
    remote: Path


@pytest.fixture(scope="module")
def folders(exported_corpus: ExportedCorpus, opensearch_node: Cluster,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Folders]:
    docs = exported_corpus.index_dir.parent / "corpus" / "docs"
    remote = tmp_path_factory.mktemp("os-budget") / "ix"
    result = CliRunner().invoke(cli, [
        "index", str(docs), "--index", str(remote), "--procs", "1", "--engine", "opensearch",
        "--opensearch-url", opensearch_node.url, "--opensearch-index", "budget-test"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield Folders(whoosh=exported_corpus.index_dir, remote=remote)
    shutil.rmtree(remote.parent, ignore_errors=True)


def _words(whoosh: Path) -> list[str]:
    with open_index(whoosh) as ix:
        return [t for t in ix._engine._lexicon().field("body").terms if t.isalpha()]


def test_hostile_queries_are_answered_or_refused_as_on_whoosh(
        folders: Folders, hostile_queries: ModuleType) -> None:
    words = _words(folders.whoosh)
    ours = hostile_queries.run(folders.whoosh, seed=14, soup=300, limit_s=LIMIT_S, words=words)
    theirs = hostile_queries.run(folders.remote, seed=14, soup=300, limit_s=LIMIT_S,
                                 words=words)
    assert theirs["failures"] == [], theirs["failures"][:5]
    assert theirs["queries"] == ours["queries"] > 300
    assert theirs["answered"] > 200 and theirs["refused"] > 50
    # Python words the recursion error differently depending on where it stops.
    same = [(o or "").replace(" while calling a Python object", "")
            for o in ours["outcomes"]]
    other = [(o or "").replace(" while calling a Python object", "")
             for o in theirs["outcomes"]]
    differing = [i for i, (a, b) in enumerate(zip(same, other, strict=True)) if a != b]
    assert not differing, [(same[i], other[i]) for i in differing[:5]]


def test_patterns_are_capped_and_refused_as_on_whoosh(folders: Folders) -> None:
    with open_index(folders.remote) as ix:
        translator = ix._reader._remote._translator
        # "a*": one prefix in two fields, each capped at 64 terms (Lucene's best 64).
        prefix = translator.query(_parse("a*"))
        assert _rewrites(prefix) == {"top_terms_64"}
        assert ix.search("a*").total > 0
        # 32 fuzzy words (the most a query may hold) share 1,024 terms: 16 per field each.
        words = _words(folders.whoosh)[:32]
        many = " ".join(f"{w}~2" for w in words)
        translated = translator.query(_parse(many))
        assert _rewrites(translated) == {"top_terms_16"}
        assert {f["max_expansions"] for f in _find(translated, "fuzzy")} == {16}
        assert ix.search(many).total > 0  # within the cluster's clause limit
    hostile = " ".join(f"{w}~2" for w in _words(folders.whoosh)[:200])
    for text in (hostile, "a*" * 9, "economy~5"):
        answers = [CliRunner().invoke(cli, ["query", text, "--index", str(folder)])
                   for folder in (folders.whoosh, folders.remote)]
        assert [a.exit_code for a in answers] == [2, 2], text
        assert answers[0].stderr == answers[1].stderr, text
        assert answers[1].stderr.count("\n") == 1 and "search: " in answers[1].stderr


def test_a_pasted_page_of_words_stays_under_the_clause_limit(folders: Folders) -> None:
    """600 distinct words, 1,200 clauses word by word (Lucene allows 1,024): found as the
    articles holding any of them, as searchlib finds them."""
    words = _words(folders.whoosh)[:600]
    text = " ".join(words)
    with open_index(folders.whoosh) as ix:
        expected = {h.id for h in ix.search(text, limit=500, collapse=False).hits}
    with open_index(folders.remote) as ix:
        found = ix.search(text, limit=500)
    assert found.total == len(expected) > 0
    assert {h.id for h in found.hits} == expected


def test_an_answer_cut_at_the_budget_is_refused(folders: Folders,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 1 ms budget the node cuts some runs of a broad query (``timed_out``, or the
    shard fails while expanding the patterns): each of those is refused with the Whoosh
    engine's message; every other run gives the full answer, never a partial one."""
    with open_index(folders.remote) as ix:
        full = ix.search(BROAD, limit=5)
    monkeypatch.setattr(limits, "QUERY_TIME_BUDGET", 0.001)
    refused = 0
    with open_index(folders.remote) as ix:
        for _ in range(60):
            try:
                answer = ix.search(BROAD, limit=5)
            except QueryError as exc:
                assert str(exc) == ("query too broad to answer within 0.001 s (10 words); "
                                    "use fewer or rarer words")
                refused += 1
            else:
                assert answer.total == full.total
                assert answer.facets == full.facets
    assert refused > 0
    for _ in range(60):  # the CLI: one line on stderr, exit 2
        result = CliRunner().invoke(cli, ["query", BROAD, "--index", str(folders.remote)])
        if result.exit_code == 2:
            assert result.stderr == ("search: query too broad to answer within 0.001 s "
                                     "(10 words); use fewer or rarer words\n")
            break
        assert result.exit_code == 0, result.output
    else:
        pytest.fail("no run of the broad query was cut at 1 ms")


def _parse(text: str) -> object:
    from searchlib.query import parse

    return parse(text)


def _find(body: object, key: str) -> list[dict[str, object]]:
    """Every value under ``key`` anywhere in a request body."""
    out: list[dict[str, object]] = []
    if isinstance(body, dict):
        for k, v in body.items():
            if k == key and isinstance(v, dict):
                out.extend(v.values())
            out.extend(_find(v, key))
    elif isinstance(body, list):
        for v in body:
            out.extend(_find(v, key))
    return out


def _rewrites(body: object) -> set[object]:
    return {clause.get("rewrite") for kind in ("prefix", "wildcard", "fuzzy")
            for clause in _find(body, kind)}
