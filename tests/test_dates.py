"""Tests for searchlib.ingest.dates: metadata values, publication dates, event dates, filter
bounds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.ingest.dates import (
    MAX_YEAR,
    MIN_YEAR,
    find_mentioned,
    find_published,
    parse_date_bound,
    parse_date_value,
    path_date,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
D = dt.date


def _seed(prefix: str) -> tuple[str, str]:
    """Title (first non-empty line) and body of a seed article."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    text = path.read_text(encoding="utf-8").strip()
    title, _, body = text.partition("\n")
    return title.strip(), body


# --- parse_date_value -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D(2017, 6, 21), D(2017, 6, 21)),
        (dt.datetime(2017, 6, 21, 23, 59), D(2017, 6, 21)),
        ("2017-06-21", D(2017, 6, 21)),
        ("2017-06-21T10:00:00Z", D(2017, 6, 21)),
        ("2017-06-21T23:30:00-05:00", D(2017, 6, 21)),
        ("2017-06-21T01:30:00.123+09:30", D(2017, 6, 21)),
        ("June 21, 2017", D(2017, 6, 21)),
        ("21 June 2017", D(2017, 6, 21)),
        ("Jun. 21st, 2017", D(2017, 6, 21)),
        ("06/21/2017", D(2017, 6, 21)),
        ("21/06/2017", D(2017, 6, 21)),
        ("Wed, 21 Jun 2017 10:00:00 +0000", D(2017, 6, 21)),
        ("  Global Research, June 21, 2017 ", D(2017, 6, 21)),
        ("2024-02-29", D(2024, 2, 29)),
    ],
)
def test_parse_date_value_reads_dates(value: object, expected: dt.date) -> None:
    assert parse_date_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "June 2017",
        "2017",
        "5",
        17,
        True,
        2017.5,
        ["2017-06-21"],
        "February 30, 2017",
        "2023-02-29",
        "13/13/2017",
        "0001-01-01",
        "9999-12-31",
        "June 21, 3017",
        "x" * 500,
    ],
)
def test_parse_date_value_rejects_non_dates(value: object) -> None:
    assert parse_date_value(value) is None


# --- find_published ---------------------------------------------------------------------------


def test_metadata_wins_over_dateline_and_text() -> None:
    body = "Global Research, June 21, 2017\n\nOn June 7, 2017 something happened."
    published = find_published(
        "T", body, dateline="Global Research, June 21, 2017", metadata={"date": "2017-06-22"}
    )
    assert published == (D(2017, 6, 22), "metadata")


@pytest.mark.parametrize("key", ["published", "date", "published_at", "pubdate", "datePublished"])
def test_every_metadata_key_is_read(key: str) -> None:
    assert find_published("T", "", dateline=None, metadata={key: "2020-01-02T03:04:05Z"}) == (
        D(2020, 1, 2),
        "metadata",
    )


@pytest.mark.parametrize("key", ["pubDate", "Published", "DATE", "datepublished"])
def test_metadata_keys_are_case_insensitive(key: str) -> None:
    assert find_published("T", "", dateline=None, metadata={key: "2020-01-02"}) == (
        D(2020, 1, 2),
        "metadata",
    )


def test_unrelated_metadata_is_ignored() -> None:
    metadata = {"modified": "2020-01-02", "title": "June 7, 2017", 3: "x"}
    assert find_published("T", "", dateline=None, metadata=metadata) == (None, None)


def test_unparseable_metadata_falls_through() -> None:
    published = find_published(
        "T", "Body.", dateline="Global Research, June 21, 2017", metadata={"date": "soon"}
    )
    assert published == (D(2017, 6, 21), "dateline")


@pytest.mark.parametrize(
    "header",
    ["21 June 2017", "2017-06-21", "06/21/2017:", "Posted on Wednesday, June 21st, 2017 by admin"],
)
def test_dateline_in_first_lines_of_body(header: str) -> None:
    body = f"By Someone\n\n{header}\n\nThe attack on June 7, 2017 was one of many.\n"
    assert find_published("Title", body, dateline=None, metadata={}) == (
        D(2017, 6, 21),
        "dateline",
    )


def test_long_first_sentence_is_not_a_dateline() -> None:
    body = (
        "On June 19, 2014 militants from the Islamic State attacked Iranian border guards near "
        "the city of Qasre Shirin, according to Iranian social media.\n"
        "Reported June 23, 2014\n"
    )
    # The short second line is the header; the long first line is an event sentence.
    assert find_published("T", body, dateline=None, metadata={}) == (D(2014, 6, 23), "dateline")


def test_short_sentence_at_the_top_is_not_a_dateline() -> None:
    body = "It began on 4 June 1989.\nNothing else."
    assert find_published("T", body, dateline=None, metadata={}) == (None, None)


def test_embedded_post_attribution_is_not_a_dateline() -> None:
    body = "BREAKING: attacks in Tehran.\n— The Associated Press (@AP) June 7, 2017\n"
    assert find_published("T", body, dateline=None, metadata={}) == (None, None)


def test_mentioned_dates_never_become_the_publication_date() -> None:
    # A profile states a birth date (several times, as profiles do) and other events: none of
    # them says when the profile was published, so it stays undated.
    body = (
        "The chancellor was born on 20 February 1951 in Giffnock, near Glasgow.\n\n"
        "Born on 20 February 1951, he entered university at 16. He was elected an MP on "
        "9 June 1983 and became chancellor after the election of 1 May 1997.\n\n"
        "Friends recall that 20 February 1951 was a cold day in Glasgow.\n"
    )
    assert find_published("Profile: the chancellor", body, dateline=None, metadata={}) == (
        None,
        None,
    )
    assert find_mentioned(body, None) == (D(1951, 2, 20), D(1983, 6, 9), D(1997, 5, 1))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/news/2017/06/21/kerman-attack.html", D(2017, 6, 21)),
        ("/news/2017-06-21-kerman-attack.md", D(2017, 6, 21)),
        ("/news/2017_6_7_story.txt", D(2017, 6, 7)),
        ("/archive/2001/export/2017/06/21/story.json#3", D(2017, 6, 21)),
    ],
)
def test_date_in_the_path(path: str, expected: dt.date) -> None:
    assert path_date(path) == expected
    assert find_published("T", "Body.", dateline=None, metadata={}, path=path) == (
        expected,
        "path",
    )


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "/news/story-2017.txt",
        "/news/2017/06/story.txt",
        "/data/v2017.1-6/story.txt",
        "/news/2017-13-01-story.txt",
        "/news/2017-02-30-story.txt",
        "/news/12017-06-21.txt",
        "/bbc/politics/017.txt",
    ],
)
def test_paths_without_a_date(path: str | None) -> None:
    assert path_date(path) is None


def test_url_date_after_dateline_before_path() -> None:
    meta = {"url": "https://example.com/2017/06/22/story"}
    assert find_published("T", "Body.", dateline=None, metadata=meta,
                          path="/x/2016-01-01.txt") == (D(2017, 6, 22), "url")
    assert find_published("T", "Body.", dateline="June 21, 2017", metadata=meta) == (
        D(2017, 6, 21), "dateline")
    assert find_published("T", "Body.", dateline=None, metadata={"date": "2017-06-23"},
                          path="/x/2016-01-01.txt") == (D(2017, 6, 23), "metadata")


def test_no_date_anywhere() -> None:
    assert find_published(
        "T", "In 2013 ISIS grew. On June 19 it attacked.", dateline=None, metadata={}
    ) == (None, None)


def test_seed_003_dateline() -> None:
    title, body = _seed("003")
    published = find_published(title, body, dateline="Global Research, June 21, 2017", metadata={})
    assert published == (D(2017, 6, 21), "dateline")
    # Without the cleaner's dateline the header lines of the raw body still give it.
    assert find_published(title, body, dateline=None, metadata={}) == (D(2017, 6, 21), "dateline")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "004"])
def test_seeds_without_a_stated_date(prefix: str) -> None:
    title, body = _seed(prefix)
    assert find_published(title, body, dateline=None, metadata={}) == (None, None)


# --- find_mentioned ---------------------------------------------------------------------------


def test_mentioned_forms_and_ordinals() -> None:
    text = (
        "On June 19, attacks; Sunday June 18th a strike; June 6th; on 7 June 2017; "
        "the 2nd of June; Jan. 3 and Sept 1st; JUNE 3; DEC . 28; 21st June."
    )
    assert find_mentioned(text, D(2017, 6, 21)) == (
        D(2016, 9, 1),
        D(2016, 12, 28),
        D(2017, 1, 3),
        D(2017, 6, 2),
        D(2017, 6, 3),
        D(2017, 6, 6),
        D(2017, 6, 7),
        D(2017, 6, 18),
        D(2017, 6, 19),
        D(2017, 6, 21),
    )


def test_year_inferred_across_year_boundary() -> None:
    published = D(2024, 1, 5)
    assert find_mentioned("On December 28 the talks began.", published) == (D(2023, 12, 28),)
    assert find_mentioned("January 3 and January 12", published) == (
        D(2024, 1, 3),
        D(2024, 1, 12),
    )
    # Soon after publication: an announced event.
    assert find_mentioned("Talks resume on Jan. 8.", D(2023, 12, 28)) == (D(2024, 1, 8),)


def test_without_year_or_published_nothing_is_inferred() -> None:
    assert find_mentioned("On June 19 and June 21 militants attacked.", None) == ()
    assert find_mentioned("On June 19, 2014 militants attacked.", None) == (D(2014, 6, 19),)


def test_numeric_dates_in_text() -> None:
    text = "Filed 2017-06-21T10:00:00+04:30; updated 06/22/2017 and 23/06/2017."
    assert find_mentioned(text, None) == (D(2017, 6, 21), D(2017, 6, 22), D(2017, 6, 23))


def test_deduplicated_and_sorted() -> None:
    text = "June 7, 2017. On 7 June 2017. 2017-06-07. June 1, 2017."
    assert find_mentioned(text, None) == (D(2017, 6, 1), D(2017, 6, 7))


@pytest.mark.parametrize(
    "text",
    [
        "In 2013 and 2017 the group grew.",
        "By June 2017 the group had grown.",
        "They may 5 times have tried. Theresa May said so. In May, ISIS retracted.",
        "may 5",
        "February 30, 2017 and February 30",
        "June 32, 2017 and 0 June",
        "12 miles south; 3 Marches; Junebug 5; 4 Mayday",
        "version 2017-13-45 and 99/99/2017",
        "the ratio 1/2/3 and 6/21",
    ],
)
def test_nonsense_yields_nothing(text: str) -> None:
    assert find_mentioned(text, None) == ()
    assert find_mentioned(text, D(2017, 6, 21)) == ()


def test_day_first_needs_a_word_boundary() -> None:
    published = D(2017, 6, 21)
    assert find_mentioned("breathe 18 June; x19 June; 1.5 June; 120 June", published) == (
        D(2017, 6, 18),
    )
    assert find_mentioned("June 21, 2017 [21st Century Wire] 20 June 2017", None) == (
        D(2017, 6, 20),
        D(2017, 6, 21),
    )


def test_may_followed_by_a_day_is_a_date() -> None:
    assert find_mentioned("On May 5 they met.", D(2017, 6, 21)) == (D(2017, 5, 5),)


def test_leap_years() -> None:
    assert find_mentioned("February 29, 2024", None) == (D(2024, 2, 29),)
    assert find_mentioned("February 29, 2023", None) == ()
    assert find_mentioned("On Feb. 29 talks", D(2024, 3, 10)) == (D(2024, 2, 29),)
    # 2023 and 2022 have no February 29: nothing rather than a guess years back.
    assert find_mentioned("On Feb. 29 talks", D(2023, 3, 10)) == ()


def test_years_out_of_range_are_not_years() -> None:
    assert find_mentioned(f"June 7, {MIN_YEAR - 1}", None) == ()
    assert find_mentioned(f"June 7, {MAX_YEAR + 1}", None) == ()
    # Read as a year-less "June 7" followed by a count.
    assert find_mentioned("On June 7, 3000 troops", D(2017, 6, 21)) == (D(2017, 6, 7),)


def test_seed_003_mentioned() -> None:
    title, body = _seed("003")
    mentioned = find_mentioned(f"{title}\n\n{body}", D(2017, 6, 21))
    assert D(2017, 6, 18) in mentioned
    assert D(2017, 6, 6) in mentioned
    assert all(date <= D(2017, 6, 21) for date in mentioned)


def test_seed_000_needs_a_year() -> None:
    title, body = _seed("000")
    assert find_mentioned(f"{title}\n\n{body}", None) == ()


# --- parse_date_bound -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2017", D(2017, 1, 1), D(2017, 12, 31)),
        ("2017-02", D(2017, 2, 1), D(2017, 2, 28)),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("2017-6", D(2017, 6, 1), D(2017, 6, 30)),
        ("2017-06-21", D(2017, 6, 21), D(2017, 6, 21)),
        (" 2017-12 ", D(2017, 12, 1), D(2017, 12, 31)),
    ],
)
def test_parse_date_bound(text: str, start: dt.date, end: dt.date) -> None:
    assert parse_date_bound(text, end=False) == start
    assert parse_date_bound(text, end=True) == end


@pytest.mark.parametrize(
    "text", ["", "17", "June 2017", "2017-13", "2017-02-30", "2017/06/21", "2017-06-21x", "0000"]
)
def test_parse_date_bound_rejects(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_date_bound(text, end=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("invalid date")


# --- properties -------------------------------------------------------------------------------

_date_words = st.sampled_from(
    [
        "June",
        "JUNE",
        "Jan.",
        "Sept",
        "May",
        "the",
        "of",
        "1st",
        "29",
        "31",
        "30",
        "2017",
        "0",
        "2024-02-29",
        "06/21/2017",
        ",",
        ".",
        " ",
        "\n",
        "February",
        "Sunday",
        "13/13/2017",
    ]
)
_texts = st.one_of(st.text(max_size=200), st.lists(_date_words, max_size=40).map(" ".join))


@settings(max_examples=300, deadline=None)
@given(text=_texts, published=st.one_of(st.none(), st.dates()))
def test_find_mentioned_never_raises_and_returns_valid_sorted_dates(
    text: str, published: dt.date | None
) -> None:
    mentioned = find_mentioned(text, published)
    assert all(isinstance(date, dt.date) for date in mentioned)
    assert list(mentioned) == sorted(set(mentioned))
    assert all(MIN_YEAR <= date.year <= MAX_YEAR for date in mentioned)


@settings(max_examples=300, deadline=None)
@given(text=_texts, dateline=st.one_of(st.none(), _texts))
def test_find_published_never_raises(text: str, dateline: str | None) -> None:
    date, source = find_published("", text, dateline=dateline, metadata={"date": text})
    assert (date is None) == (source is None)
    assert source in {None, "metadata", "dateline", "text"}
    if date is not None:
        assert MIN_YEAR <= date.year <= MAX_YEAR


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(_texts, st.integers(), st.none(), st.datetimes(), st.dates()))
def test_parse_date_value_never_raises(value: object) -> None:
    date = parse_date_value(value)
    assert date is None or MIN_YEAR <= date.year <= MAX_YEAR


@settings(max_examples=200, deadline=None)
@given(date=st.dates(min_value=D(MIN_YEAR, 1, 1), max_value=D(MAX_YEAR, 12, 31)))
def test_written_dates_round_trip(date: dt.date) -> None:
    month = date.strftime("%B")
    for text in (
        f"{month} {date.day}, {date.year}",
        f"{date.day} {month} {date.year}",
        date.isoformat(),
        f"{date.month:02d}/{date.day:02d}/{date.year}",
    ):
        assert parse_date_value(text) == date
        assert find_mentioned(f"It happened on {text}.", None) == (date,)


_MONTH_PIECES = ["Jun", "June", "JUNE", "JUN", "Sept", "SEPT", "Sep", "September", "May",
                 "MAYOR", "Mar", "March", "MARCHES", "e", "S", " ", ".", "1", "x", "Augustus"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_MONTH_PIECES), max_size=12))
def test_factored_month_pattern_matches_like_the_flat_alternation(pieces: list[str]) -> None:
    """The month anchor, factored by common prefixes for speed, finds exactly the spans the
    plain longest-first alternation of the month spellings finds."""
    import re

    from searchlib.ingest import dates

    flat = "|".join(sorted(dates._MONTH_FORMS, key=len, reverse=True))
    reference = re.compile(rf"(?:{flat})(?![A-Za-z])")
    text = "".join(pieces)
    assert [m.span() for m in dates._MONTH_RE.finditer(text)] == [
        m.span() for m in reference.finditer(text)
    ]
