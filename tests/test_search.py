"""Searching the seed index: ranking, query language, filters, facets, snippets."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchlib import Hit, QueryError, open_index
from searchlib.engine import Reader, SearchRequest
from searchlib.search import Index


@pytest.fixture()
def ix(seed_index: Path) -> Index:
    index = open_index(seed_index)
    yield index  # type: ignore[misc]
    index.close()


def _names(results: object) -> list[str]:
    return [Path(h.path).name[:3] for h in results.hits]  # type: ignore[attr-defined]


def test_the_whoosh_reader_serves_the_facade_as_the_engine_protocol_says(ix: Index) -> None:
    engine = ix._engine
    assert isinstance(engine, Reader)
    direct = engine.search(SearchRequest("iran", limit=2, page=2))
    through = ix.search("iran", limit=2, page=2)
    assert direct.total == through.total == 5 and direct.facets == through.facets
    assert [(h.id, h.score) for h in direct.hits] == [(h.id, h.score) for h in through.hits]
    assert {type(h) for h in direct.hits} == {Hit}  # searchlib's models, no Whoosh objects


def test_match_all_and_total(ix: Index) -> None:
    results = ix.search("*", limit=10)
    assert results.total == 5 and len(results.hits) == 5
    assert all(h.snippet for h in results.hits)


@pytest.mark.parametrize(("query", "first"), [
    ("Qasre Shirin border clash", "000"),
    ("Khomeini mausoleum parliament attack", "001"),
    ("Iranian air force airstrikes Iraq", "002"),
    ("missiles Deir Az Zor Revolutionary Guard", "003"),
    ("Kerman suicide bombing Soleimani anniversary", "004"),
])
def test_ranked_queries_put_the_right_article_first(ix: Index, query: str, first: str) -> None:
    assert _names(ix.search(query))[0] == first


def test_sentence_query_does_not_return_nothing(ix: Index) -> None:
    results = ix.search("why did the islamic state attack the iranian parliament in tehran?")
    assert results.total >= 3
    assert "001" in _names(results)[:3]


def test_all_terms_first_for_short_queries(ix: Index) -> None:
    results = ix.search("Kerman Houthis")
    assert _names(results)[0] == "004"  # the only article with both words


def test_phrase_not_and_fields(ix: Index) -> None:
    assert _names(ix.search('"suicide bombing"')) and all(
        "suicide bombing" in ix.get(h.id).text.lower() for h in ix.search('"suicide bombing"').hits)
    assert "000" not in _names(ix.search("ISIS -Pourdastan", limit=10))
    assert _names(ix.search("title:Kerman")) == []  # only in 004's body
    assert _names(ix.search("title:Qasre")) == ["000"]  # the standfirst counts as title
    assert _names(ix.search("title:ballistic")) == ["004"]


def test_fuzzy_and_wildcard(ix: Index) -> None:
    assert "003" in _names(ix.search("Henningsn~"))
    assert "004" in _names(ix.search("Solei*"))


def test_date_field_and_filters(ix: Index) -> None:
    dated = ix.search("date:2017")
    # 003 states its date; 001 only quotes posts dated 2017 and stays undated.
    assert set(_names(dated)) == {"003"}
    assert ix.search("*", date_from="2017-06-21", date_to="2017-06-21").total == 1
    assert ix.search("*", date_from="2018").total == ix.search("date:>2017").total


def test_bad_queries_raise_one_line_errors(ix: Index) -> None:
    with pytest.raises(QueryError, match="unknown field 'foo:'"):
        ix.search("foo:bar")
    with pytest.raises(QueryError, match="invalid date"):
        ix.search("date:garbage")
    with pytest.raises(QueryError, match="YYYY"):
        ix.search("*", date_from="June")


def test_snippet_highlights_are_offsets_of_matches(ix: Index) -> None:
    results = ix.search("missile")
    hit = results.hits[0]
    assert hit.highlights
    for start, end in hit.highlights:
        assert hit.snippet[start:end].lower().startswith("missile")
    assert len(hit.snippet) < 900


def test_location_rollup_and_disjunctive_counts(ix: Index) -> None:
    syria = ix.search("*", locations=["Syria"])
    assert "003" in _names(syria)
    irgc = ix.search("*", actors=["IRGC"])
    all_docs = ix.search("*")
    # The actor facet ignores the actor selection: IRGC's count is what it was unfiltered.
    assert irgc.facets["actor"]["IRGC"] == all_docs.facets["actor"]["IRGC"] == irgc.total
    assert irgc.facets["actor"]["ISIS"] == all_docs.facets["actor"]["ISIS"]
    # Other facets are narrowed by the IRGC selection.
    assert sum(irgc.facets["year"].values()) <= irgc.total


def test_alias_expansion_in_query(ix: Index) -> None:
    assert ix.search("actor:Daesh").total == ix.search("actor:ISIS").total > 0
    assert ix.search('actor:"islamic state"').total == ix.search("actor:isis").total


def test_suggestion_for_misspelling(ix: Index) -> None:
    assert ix.search("Khomeni").suggestion == "Khomeini"  # the user's capitals are kept
    assert ix.search("misile").suggestion == "missile"  # a real word, not the stem "missil"
    assert ix.search("Hezbolah fighters").suggestion == "Hezbollah fighters"
    assert ix.search("missile").suggestion is None


def test_get_and_similar(ix: Index) -> None:
    hit = ix.search("Qasre Shirin").hits[0]
    article = ix.get(hit.id)
    assert article.title and "Pourdastan" in article.text
    assert all(article.text[m.start - len(article.title) - 2:m.end - len(article.title) - 2]
               == m.surface for m in article.mentions if m.start >= len(article.title) + 2)
    similar = ix.similar(hit.id, limit=3)
    assert similar and hit.id not in {s.id for s in similar}
    with pytest.raises(KeyError):
        ix.get("no-such-id")


def test_pagination_and_date_sort(ix: Index) -> None:
    first = ix.search("Iran", limit=2, page=1)
    second = ix.search("Iran", limit=2, page=2)
    assert [h.rank for h in second.hits] == [3, 4]
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    newest = ix.search("*", sort="newest").hits
    dates = [h.published for h in newest if h.published]
    assert dates == sorted(dates, reverse=True)
    assert all(h.published is None for h in newest[len(dates):])


def test_date_sort_pages_are_consistent(ix: Index) -> None:
    for sort in ("newest", "oldest"):
        whole = ix.search("*", sort=sort, limit=10).hits  # type: ignore[arg-type]
        paged = [h for p in (1, 2, 3) for h in ix.search(
            "*", sort=sort, limit=2, page=p).hits]  # type: ignore[arg-type]
        assert [h.id for h in paged] == [h.id for h in whole]
        assert [h.rank for h in paged] == list(range(1, len(whole) + 1))
        dated = [h.published for h in whole if h.published]
        assert dated == sorted(dated, reverse=sort == "newest")
        assert all(h.published is None for h in whole[len(dated):])


def test_unknown_filter_value_warns_with_a_suggestion(ix: Index) -> None:
    results = ix.search("*", actors=["Hezbolah"])
    assert results.total == 0
    assert results.warnings and "Hezbollah" in results.warnings[0]
    assert ix.search("*", actors=["Hezbollah"]).warnings == ()
