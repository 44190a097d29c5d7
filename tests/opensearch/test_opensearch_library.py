"""searchlib.opensearch against a real node: load a searchlib index, search it, compare."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oscluster import BuildInfo, Cluster, ExportedCorpus

from searchlib import open_index
from searchlib.search import Index

pytest.importorskip("opensearchpy")

from searchlib.opensearch import ConnectionSettings, OpenSearchIndex

pytestmark = pytest.mark.opensearch

KEYWORD = {"actor": "actors", "location": "locations", "person": "people"}


@pytest.fixture(scope="module")
def both(news_corpus: ExportedCorpus, opensearch_node: Cluster
         ) -> Iterator[tuple[Index, OpenSearchIndex]]:
    """The Whoosh index and the same articles loaded through searchlib.opensearch."""
    whoosh = open_index(news_corpus.index_dir)
    remote = OpenSearchIndex(ConnectionSettings.from_env(opensearch_node.url, env={}),
                             index="library")
    remote.create(replace=True)
    summary = remote.load_index(whoosh, batch_docs=64)
    assert summary.indexed == whoosh.doc_count == 200 and summary.failed == ()
    try:
        yield whoosh, remote
    finally:
        remote._client.indices.delete(index="library")
        remote.close()
        whoosh.close()


CASES: list[tuple[str, dict[str, Any]]] = [
    ("*", {}),
    ("missile", {}),
    ("attack", {"locations": ["Iran"]}),
    ("oil prices", {"actors": ["United States"], "date_from": "2010", "date_to": "2020-06"}),
    ("*", {"people": ["Nikita Khrushchev"]}),
    ("*", {"date_to": "2015-03"}),
]


@pytest.mark.parametrize(("text", "options"), CASES)
def test_search_answers_as_searchlib(both: tuple[Index, OpenSearchIndex], text: str,
                                     options: dict[str, Any]) -> None:
    whoosh, remote = both
    ours = whoosh.search(text, limit=200, snippets=False, **options)
    theirs = remote.search(text, limit=200, snippets=False, **options)
    assert theirs.total == ours.total > 0
    assert {h.id for h in theirs.hits} == {h.id for h in ours.hits}
    for kind in ("actor", "location", "person", "year", "month", "mentioned"):
        assert dict(theirs.facets[kind]) == dict(ours.facets[kind]), kind


def test_pages_are_slices_of_one_ranking(both: tuple[Index, OpenSearchIndex]) -> None:
    _whoosh, remote = both
    everything = [h.id for h in remote.search("attack", limit=30, snippets=False).hits]
    second = remote.search("attack", limit=10, page=2, snippets=False)
    assert [h.id for h in second.hits] == everything[10:20]
    assert [h.rank for h in second.hits] == list(range(11, 21))


def test_snippet_highlights_mark_query_words(both: tuple[Index, OpenSearchIndex]) -> None:
    _whoosh, remote = both
    results = remote.search("missiles", limit=5)
    marked = [h.snippet[a:b].lower() for h in results.hits for a, b in h.highlights]
    assert marked and all(re.fullmatch(r"missile[sd]?", word) for word in marked), marked
    assert all("<em>" not in h.snippet for h in results.hits)


def test_a_document_the_mapping_refuses_is_reported_not_lost(
        both: tuple[Index, OpenSearchIndex]) -> None:
    _whoosh, remote = both
    records = [{"id": "good-1", "title": "Fine"}, {"id": "bad-1", "published": "last Tuesday"},
               {"id": "good-2", "title": "Also fine"}]
    summary = remote.load(records)
    assert summary.indexed == 2
    assert [doc_id for doc_id, _reason in summary.failed] == ["bad-1"]
    assert "published" in summary.failed[0][1]
    assert remote.count() == 202
    remote._client.delete(index="library", id="good-1", refresh=True)
    remote._client.delete(index="library", id="good-2", refresh=True)


def test_rejected_batches_are_retried_until_every_document_is_in(
        opensearch_build: BuildInfo, exported_corpus: ExportedCorpus, tmp_path: Path) -> None:
    # A node with one write thread and a queue of one: a bulk request over eight shards makes
    # eight shard-level requests at once, and the node rejects most of them (429). The load
    # must send the rejected documents again, with back-off, until all are in.
    cluster = Cluster(classpath=opensearch_build.classpath, root=tmp_path / "busy", size=1,
                      extra_settings={"thread_pool.write.size": "1",
                                      "thread_pool.write.queue_size": "1"})
    try:
        cluster.start()
        remote = OpenSearchIndex(ConnectionSettings(url=cluster.url), index="busy")
        remote.create(shards=8)
        rejected: list[int] = []
        original = remote._client.bulk

        def counting_bulk(*args: Any, **kwargs: Any) -> Any:
            answer = original(*args, **kwargs)
            rejected.append(sum(1 for item in answer["items"]
                                if item["index"].get("status") == 429))
            return answer

        remote._client.bulk = counting_bulk  # type: ignore[method-assign]
        with open_index(exported_corpus.index_dir) as whoosh:
            summary = remote.load_index(whoosh, batch_docs=100, retries=8)
        print(f"bulk requests: {len(rejected)}, documents rejected with 429 per request: "
              f"{rejected}, load {summary.seconds:.1f} s")
        assert sum(rejected) > 0, "the node never pushed back: the test proves nothing"
        assert summary.failed == () and summary.indexed == 200
        assert remote.count() == 200
        remote.close()
    finally:
        cluster.stop()


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_sorts_order_as_searchlib(both: tuple[Index, OpenSearchIndex], sort: str) -> None:
    whoosh, remote = both
    ours = whoosh.search("attack", limit=200, sort=sort, snippets=False, facets=False)
    theirs = remote.search("attack", limit=200, sort=sort, snippets=False)
    assert [h.published for h in theirs.hits] == [h.published for h in ours.hits]
    assert any(h.published is None for h in ours.hits)  # undated ones are placed too


@pytest.mark.parametrize(("typo", "meant"), [("goverment", "government"),
                                             ("Presidnt", "President"),
                                             ("misile atack", "missile attack")])
def test_did_you_mean_offers_the_words_meant(both: tuple[Index, OpenSearchIndex], typo: str,
                                             meant: str) -> None:
    _whoosh, remote = both
    results = remote.search(typo, snippets=False)
    assert results.total == 0 and results.suggestion == meant
    assert remote.search("government", snippets=False).suggestion is None


def test_similar_overlaps_searchlibs_and_knows_unknown_ids(
        both: tuple[Index, OpenSearchIndex]) -> None:
    whoosh, remote = both
    ids = [h.id for h in whoosh.search("*", limit=20, snippets=False, facets=False).hits]
    overlaps = []
    for doc_id in ids:
        theirs = remote.similar(doc_id)
        assert len(theirs) == 10 and doc_id not in {h.id for h in theirs}
        assert [h.rank for h in theirs] == list(range(1, 11))
        ours = {h.id for h in whoosh.similar(doc_id)}
        overlaps.append(len(ours & {h.id for h in theirs}) / 10)
    assert sum(overlaps) / len(overlaps) >= 0.35  # see test_more_like_this_overlaps_...
    with pytest.raises(KeyError):
        remote.similar("no-such-article")
