"""Property-based tests: random text and bytes through the cleaner, dates, gazetteer and queries.

Each stage must accept anything without an unexpected exception; the cleaner's normalisation
is idempotent and leaves no control characters; mention offsets always point at their surface
text; a query gives results or a :class:`QueryError`, nothing else.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import open_index
from searchlib.errors import QueryError
from searchlib.ingest.clean import clean_document, clean_text, normalize_text
from searchlib.ingest.dates import (
    find_mentioned,
    find_published,
    parse_date_bound,
    parse_date_value,
)
from searchlib.ingest.extract import extract
from searchlib.ingest.gazetteer import default_gazetteer
from searchlib.ingest.read import decode_bytes, read_file
from searchlib.models import SourceDocument
from searchlib.search import Index

# SEARCHLIB_PROPERTY_SCALE=10 runs ten times the examples (a longer hunt than CI's).
_SCALE = float(os.environ.get("SEARCHLIB_PROPERTY_SCALE", "1"))
FAST = settings(max_examples=int(120 * _SCALE), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=int(40 * _SCALE), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Text that looks like news: words, names the gazetteer knows, dates, punctuation, odd spacing
# and the characters that break naive code (controls, bidi, combining marks, astral planes).
_PIECES = ["the", "convoy", "reached", "said", "officials", "Iran", "ISIS", "Daesh",
           "Islamic State", "Syria", "Deir ez-Zor", "Tehran", "Iraq", "Hezbollah", "IRGC",
           "Donald Trump", "Mr.", "President", "June 21, 2017", "2017-06-21", "21/06/2017",
           "on Monday", "in March", "1999", "By Jane Doe", "Reuters", "(AP)", "—", "-", ".",
           ",", "\n", "\n\n", "  ", "\t", "\r\n", "\x1b[2J", "\u202e", "\u0301", "e\u0301",
           "\ufeff", "\u00a0", "\u200b", "🚀", "\udcff", "&amp;", "<p>", "</p>", "http://x.y/z",
           "ﬁ", "İ", "ß", "\u2028", "Al-Qaeda", "al-Nusra", "Kurdish", "Mosul", "Aleppo"]
news_text = st.lists(st.sampled_from(_PIECES), max_size=60).map(" ".join)
any_text = st.one_of(st.text(max_size=400), news_text)


@pytest.fixture(scope="module")
def gazetteer() -> object:
    return default_gazetteer()


# --- cleaner --------------------------------------------------------------------------------

@FAST
@given(any_text)
def test_normalize_text_is_idempotent_and_strips_controls(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert UNSAFE.search(once) is None
    assert once == once.strip("\n")


@FAST
@given(any_text, st.one_of(st.none(), news_text))
def test_clean_text_accepts_anything(text: str, hint: str | None) -> None:
    article = clean_text(text, title_hint=hint)
    for part in (article.title, article.body, article.subtitle or "", article.dateline or "",
                 *article.authors):
        assert UNSAFE.search(part) is None, part


@FAST
@given(st.binary(max_size=600))
def test_random_bytes_decode_and_clean(data: bytes) -> None:
    text = decode_bytes(data)
    assert isinstance(text, str)
    clean_text(text)


_HTML_PIECES = ["<html>", "<body>", "<div>", "</div>", "<p>", "</p>", "<script>", "</script>",
                "<style>", "<article>", "<h1>", "</h1>", "<!--", "-->", "<br/>", "<a href='x'>",
                "</a>", "&nbsp;", "&#27;", "&#x202e;", "&#0;", "&bogus;", "<![CDATA[", "]]>",
                "<meta name='date' content='2017-06-21'>", "<title>", "</title>", "<", ">",
                "'", '"', "Iran", "convoy reached Aleppo", " ", "\n"]


@SLOW
@given(st.lists(st.sampled_from(_HTML_PIECES), max_size=80).map("".join))
def test_clean_document_accepts_any_html(markup: str) -> None:
    doc = SourceDocument(path="/x.html", key="/x.html", format="html", text=markup)
    article = clean_document(doc)
    assert UNSAFE.search(article.title + article.body) is None


@SLOW
@given(st.binary(max_size=400), st.sampled_from(["a.txt", "a.md", "a.html", "a.json",
                                                  "a.jsonl", "a.txt.gz"]))
def test_read_file_never_raises(tmp_path_factory: pytest.TempPathFactory, data: bytes,
                                name: str) -> None:
    path = tmp_path_factory.mktemp("bytes") / name
    path.write_bytes(data)
    result = read_file(str(path))
    assert len(result.documents) + len(result.skipped) >= 1 or not data.strip()


# --- dates ----------------------------------------------------------------------------------

@FAST
@given(st.one_of(any_text, st.integers(), st.floats(), st.none(), st.dates(), st.datetimes()))
def test_parse_date_value_returns_a_date_or_none(value: object) -> None:
    result = parse_date_value(value)
    assert result is None or isinstance(result, dt.date)


@FAST
@given(any_text, st.booleans())
def test_parse_date_bound_raises_only_value_error(text: str, end: bool) -> None:
    try:
        result = parse_date_bound(text, end=end)
    except ValueError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, dt.date)


@FAST
@given(any_text, any_text, st.one_of(st.none(), any_text),
       st.dictionaries(st.sampled_from(["date", "published", "pubdate", "x"]), any_text,
                       max_size=3))
def test_find_published_and_mentioned_accept_anything(title: str, body: str,
                                                      dateline: str | None,
                                                      metadata: dict[str, str]) -> None:
    published, source = find_published(title, body, dateline=dateline, metadata=metadata)
    assert (published is None) == (source is None)
    for day in find_mentioned(title + "\n\n" + body, published):
        assert isinstance(day, dt.date)


# --- gazetteer and extraction ---------------------------------------------------------------

@SLOW
@given(news_text, news_text)
def test_extract_mentions_point_at_their_surface(gazetteer: object, title: str,
                                                 body: str) -> None:
    info = extract(title, body, gazetteer=gazetteer)  # type: ignore[arg-type]
    text = f"{title}\n\n{body}"
    for m in info.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.surface
    # Without metadata every facet value comes from a mention in the text.
    for facet, names in (("actor", info.actors), ("location", info.locations),
                         ("person", info.people)):
        assert set(names) <= {m.name for m in info.mentions if m.facet == facet}


@FAST
@given(any_text)
def test_gazetteer_find_offsets_are_within_bounds(gazetteer: object, text: str) -> None:
    for _first, _end, mentions in gazetteer.find(text):  # type: ignore[attr-defined]
        for m in mentions:
            assert 0 <= m.start < m.end <= len(text)
            assert text[m.start:m.end] == m.surface


# --- queries --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    from searchlib import build_index

    target = tmp_path_factory.mktemp("prop-ix")
    build_index([Path(__file__).resolve().parents[1] / "seeds"], target, procs=1)
    with open_index(target) as ix:
        yield ix


_QUERY_PIECES = ["Iran", "ISIS", "attack", "AND", "OR", "NOT", "(", ")", "\"", "'", "*", "?",
                 "~", "~2", "^2", "-", "+", ":", "title:", "body:", "actor:", "location:",
                 "person:", "date:", "date:[2017 TO 2018]", "date:>2016", "[", "]", "{", "}",
                 "TO", "\\", "/", "\x00", "\x1b", " ", "Syria", "border", "2017", "zzz:"]
query_text = st.one_of(st.text(max_size=80),
                       st.lists(st.sampled_from(_QUERY_PIECES), max_size=14).map("".join),
                       st.lists(st.sampled_from(_QUERY_PIECES), max_size=14).map(" ".join))


@FAST
@given(query_text)
def test_any_query_gives_results_or_query_error(seed_searcher: Index, text: str) -> None:
    try:
        results = seed_searcher.search(text, limit=3)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert results.total >= len(results.hits)
        for hit in results.hits:
            for start, end in hit.highlights:
                assert 0 <= start < end <= len(hit.snippet)


@SLOW
@given(query_text, st.lists(st.sampled_from(["Iran", "ISIS", "", "x", "\x00", "Syria"]),
                            max_size=2),
       st.one_of(st.none(), st.sampled_from(["2017", "2017-06", "2017-13", "x", "", "0000"])))
def test_any_filter_gives_results_or_query_error(seed_searcher: Index, text: str,
                                                 actors: list[str], date_from: str | None
                                                 ) -> None:
    try:
        results = seed_searcher.search(text, actors=actors, locations=actors,
                                       date_from=date_from, limit=2, sort="newest")
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert len(results.hits) <= 2
