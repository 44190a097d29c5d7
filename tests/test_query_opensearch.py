"""The query AST as OpenSearch query DSL (no server: the request bodies themselves).

The real node's answers are compared with searchlib's in tests/opensearch/
test_opensearch_parity.py; these tests pin the translation rules docs/opensearch.md states.
"""

from __future__ import annotations

from typing import Any

import pytest
from whoosh.lang.porter import stem

from searchlib._query_opensearch import EXPANSION_CAP, OpenSearchTranslator
from searchlib.query import parse, parse_query


def _porter(texts: Any) -> list[str]:
    # The cluster stems with Lucene's Porter stemmer; the published algorithm is close enough
    # to check that pattern text goes through the stemmer at all.
    return [stem(t.lower()) for t in texts]


T = OpenSearchTranslator(stem_patterns=_porter, resolve=lambda facet, v: v.upper())


def q(text: str) -> dict[str, Any]:
    return T.query(parse(text))


def _word(text: str, boost: float = 1.0) -> dict[str, Any]:
    return {"bool": {"should": [{"match": {"headline": {"query": text, "boost": 0.7}}},
                                {"match": {"body": {"query": text, "boost": 1.0}}}],
                     "minimum_should_match": 1, **({"boost": boost} if boost != 1 else {})}}


def _top(*kids: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"should": list(kids), "minimum_should_match": 1}}


def test_a_word_searches_the_headline_and_the_body() -> None:
    assert q("missile") == _top(_word("missile"))
    assert q("missile^2") == _top(_word("missile", 2.0))


def test_stop_words_leave_their_group_as_searchlib_does() -> None:
    assert q("the missile") == _top(_word("missile"))
    assert q("the") == {"match_none": {}}
    # A fielded stop word is no clause at all; an unfielded one is an empty group.
    assert q("missile REQUIRE title:the") == _top(_word("missile"))
    assert q("missile REQUIRE the") == {"match_none": {}}
    assert q("-missile") == {"match_none": {}}


def test_every_document() -> None:
    assert parse("*") is None and T.query(None) == {"match_all": {}}
    assert q("*:*") == {"match_all": {}}
    assert q("missile *:*") == {"match_all": {}}  # an unfielded *:* absorbs its group
    assert q("date:*") == _top({"exists": {"field": "published"}})


def test_phrases_patterns_and_ranges() -> None:
    phrase = q('title:"missile attack"~3')["bool"]["should"][0]
    assert phrase == {"match_phrase": {"headline": {"query": "missile attack", "slop": 2,
                                                    "boost": 1.0}}}
    prefix = q("body:Missiles*")["bool"]["should"][0]
    assert prefix == {"prefix": {"body": {"value": "missil", "boost": 1.0,
                                          "rewrite": f"top_terms_{EXPANSION_CAP}"}}}
    fuzzy = q("body:goverment~2/3")["bool"]["should"][0]["fuzzy"]["body"]
    assert (fuzzy["value"], fuzzy["fuzziness"], fuzzy["prefix_length"]) == ("gover", 2, 3)
    assert q("body:[a TO c}")["bool"]["should"][0] == {
        "range": {"body": {"boost": 1.0, "gte": "a", "lt": "c"}}}
    assert q("body:*") == {"match_all": {}}


def test_booleans() -> None:
    a, b = _word("missile"), _word("attack")
    assert q("missile AND attack") == _top({"bool": {"must": [a, b]}})
    assert q("missile ANDNOT attack") == _top({"bool": {"must": [a], "must_not": [b]}})
    # ANDMAYBE of words is coordinated, as searchlib's (see the next test).
    assert q("missile ANDMAYBE attack")["bool"]["must"] == [
        _top({"bool": {"must": [a], "should": [b]}})]
    assert q("missile REQUIRE attack") == _top({"bool": {"must": [a], "filter": [b]}})
    assert q("NOT missile") == _top({"bool": {"must": [{"match_all": {}}], "must_not": [a]}})


def test_short_keyword_queries_rank_by_matched_words_first() -> None:
    two = q("missile attack")
    assert two["bool"]["must"] == [_top(_word("missile"), _word("attack"))]
    assert [c["constant_score"]["filter"] for c in two["bool"]["should"]] == [
        _word("missile"), _word("attack")]
    five = q("missile attack rocket strike base")
    assert "must" not in five["bool"]


def test_filters_become_post_filter_and_disjunctive_aggregations() -> None:
    body = T.request(parse_query("missile actor:irgc actor:Hez* place:syria date:2017"),
                     actors=["Hamas"], sort="oldest")
    post = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"actor": ["HAMAS", "IRGC"]}} in post
    assert {"prefix": {"actor": {"value": "Hez", "boost": 1.0}}} in post
    assert {"terms": {"location": ["SYRIA"]}} in post
    assert {"range": {"published": {"gte": "2017-01-01", "lte": "2017-12-31"}}} in post
    actor_counts = body["aggs"]["actor"]["filter"]["bool"]["filter"]
    assert {"terms": {"actor": ["HAMAS", "IRGC"]}} not in actor_counts
    assert {"terms": {"location": ["SYRIA"]}} in actor_counts
    assert all("range" not in f for f in body["aggs"]["year"]["filter"]["bool"]["filter"])
    assert body["aggs"]["actor"]["aggs"]["values"]["terms"]["size"] > 60_000
    assert body["sort"][0] == {"published": {"order": "asc", "missing": "_last"}}
    assert body["track_total_hits"] is True
    assert body["query"] == _top(_word("missile"))


def test_match_all_sorts_newest_first() -> None:
    body = T.request(parse_query("actor:IRGC"))
    assert body["query"] == {"match_all": {}}
    assert body["sort"][0]["published"]["order"] == "desc"
    with pytest.raises(Exception, match="unknown sort"):
        T.request(parse_query("x"), sort="size")


def test_many_patterns_share_searchlib_s_expansion_budget() -> None:
    from searchlib.query.limits import EXPANSION_BUDGET

    # 20 prefixes, each in the title and the body: 40 clauses share 1,024 terms.
    text = " ".join(f"w{i}x*" for i in range(20))
    clauses = [c for c in q(text)["bool"]["should"] for c in c["bool"]["should"]]
    assert {c["prefix"][f]["rewrite"] for c in clauses for f in c["prefix"]} == {
        f"top_terms_{EXPANSION_BUDGET // 40}"}
    # The cap is per query: the next one gets the whole cap again.
    assert q("body:w*")["bool"]["should"][0]["prefix"]["body"]["rewrite"] == \
        f"top_terms_{EXPANSION_CAP}"


@pytest.mark.parametrize(("text", "message"), [
    (" ".join(f"w{i}x~2" for i in range(33)), "too many fuzzy or wildcard terms (33: "),
    ("economy~5", "'economi~5' allows too many edits (at most 2)"),
    ("a*" * 9, "too many wildcards in 'a*a*a*a*a*a*a*a*a*' (at most 8)"),
])
def test_patterns_asking_too_much_are_refused_with_searchlib_s_messages(
        text: str, message: str) -> None:
    from searchlib.errors import QueryError

    with pytest.raises(QueryError) as caught:
        q(text)
    assert str(caught.value).startswith(message)


def test_a_pasted_page_of_words_is_a_bounded_query() -> None:
    from searchlib._query_opensearch import LONG_QUERY_WORDS

    words = [f"word{i}" for i in range(LONG_QUERY_WORDS + 1)]
    body = q(" ".join(words))
    matched = body["bool"]["filter"][0]["bool"]["should"]
    assert matched == [{"terms": {"headline": sorted(_porter(words))}},
                       {"terms": {"body": sorted(_porter(words))}}]
    assert body["bool"]["should"][0]["more_like_this"]["like"] == " ".join(words)
    # One word fewer is translated word by word.
    assert len(q(" ".join(words[:-1]))["bool"]["should"]) == LONG_QUERY_WORDS
