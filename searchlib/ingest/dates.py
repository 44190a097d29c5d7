"""Dates: publication date and event dates of an article, and date bounds for filters.

Text is scanned with compiled regular expressions whose month names come from the standard
library's English names (:data:`calendar.month_name` and :data:`calendar.month_abbr`): fast
anchors (a month name; a ``-`` or ``/`` before a digit) locate candidates and short anchored
patterns read the day and year around them, about 0.25 ms per scan of a 5 kB article, where a
general-purpose natural-language date search would cost far more on a 100k-article build.
Candidates are validated by building a :class:`datetime.date` (which rejects February 30).
Free-form metadata values (RFC 2822 strings, unusual layouts) go through
:func:`dateutil.parser.parse`.

Recognised in text:

- month first: ``June 7, 2017``, ``Sunday June 18th``, ``Jan. 3``, ``Sept 9 2001``, ``DEC . 28``;
- day first: ``7 June 2017``, ``21st June``, ``the 18th of June``;
- numeric with a four-digit year: ``2017-06-21`` (ISO, optionally with a time) and ``06/21/2017``
  (US order; read day-first when the first number cannot be a month).

Month names must be capitalised (``June``) or upper case (``JUNE``) and, for month-first forms,
followed by a day number, so "Theresa May said" or "they may 5" yields nothing. Bare years
("in 2013") and month-year phrases ("June 2017") are not dates.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "find_mentioned",
    "find_published",
    "parse_date_bound",
    "parse_date_value",
    "path_date",
]

MIN_YEAR = 1800
"""Earliest year accepted as a real date; older years in news text are usually not dates."""
MAX_YEAR = 2199
"""Latest year accepted; beyond it a four-digit number is a count, not a year."""

METADATA_KEYS: tuple[str, ...] = ("published", "date", "published_at", "pubdate", "datePublished")
"""Metadata keys that hold the publication date, in order of preference."""

HEADER_LINES = 6
"""How many non-empty lines at the top of the body may hold the article's own dateline."""
HEADER_LINE_MAX_CHARS = 80
"""A dateline is a short line; a longer one is a sentence whose date is an event date."""
FUTURE_MARGIN = dt.timedelta(days=14)
"""How far after publication a year-less date may fall (an announced event) before it is read
as last year's."""


def _month_lookup() -> dict[str, int]:
    """Map every accepted month spelling (lower case) to its number."""
    lookup: dict[str, int] = {}
    for number in range(1, 13):
        lookup[calendar.month_name[number].lower()] = number
        lookup[calendar.month_abbr[number].lower()] = number
    # "Sept." is the one common abbreviation that is not the stdlib's three letters.
    lookup[calendar.month_name[9][:4].lower()] = 9
    return lookup


_Tree = dict[str, "_Tree"]


def _prefix_tree_pattern(words: list[str]) -> str:
    """A regular expression matching exactly ``words``, factored by common prefixes, longest
    first: ``Jun(?:e)?`` rather than ``June|Jun``.

    A flat alternation of 50 month spellings makes the regex engine try each one at every
    candidate position (in all-capital archive text, at most word starts); the factored form
    reads each character once. It matches the same spans: at one position the alternatives
    are tried longest first either way, and a nested group is tried before its end.
    """
    tree: _Tree = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: _Tree) -> str:
        branches = [re.escape(char) + pattern(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]  # one way on: no group needed
        group = "(?:" + "|".join(branches) + ")"
        # A word ending here makes the longer continuations optional (greedy: longest first).
        return group + "?" if "" in node else group

    return pattern(tree)


_MONTHS = _month_lookup()
_MONTH_FORMS = sorted({form for word in _MONTHS for form in (word.capitalize(), word.upper())})
_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])(?!\d)(?:st|nd|rd|th|ST|ND|RD|TH)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4})(?!\d))?"

# Scanning runs in two stages because a single regex with month names, day numbers and numeric
# forms as alternatives scans at about 2 MB/s, while each anchor alone (a set of literal
# month prefixes; a separator followed by a digit, found by :func:`_separators`) is found far
# faster. The anchors locate candidates; small anchored patterns then read the day and year
# around them.
_MONTH_RE = re.compile(rf"{_prefix_tree_pattern(_MONTH_FORMS)}(?![A-Za-z])")
_NUMERIC_RE = re.compile(r"\d[\d/-]{5,}\d")
_AFTER_MONTH_RE = re.compile(rf"(?:\s?\.)?\s+{_DAY}(?![A-Za-z0-9]){_YEAR}")
_YEAR_AFTER_MONTH_RE = re.compile(rf"(?:\s?\.)?{_YEAR}")
_BEFORE_MONTH_RE = re.compile(rf"(?:(?<![\w.])the\s+)?(?<![\w.]){_DAY}\s+(?:of\s+)?$")
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_BOUND_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_HEADER_CHARS = 4000
"""How much of the body the header lines are looked for in (they are near the top)."""
_LOOKBACK = 16
"""Characters before a month name that can hold "the 18th of "."""


@dataclass(frozen=True)
class _Found:
    """One date expression found in text: year may be missing, day and month never are."""

    year: int | None
    month: int
    day: int
    start: int
    end: int


def _year_or_none(text: str | None) -> int | None:
    """The year of a matched year group, or None when absent or implausible."""
    if text is None:
        return None
    year = int(text)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _valid(year: int, month: int, day: int) -> dt.date | None:
    """The date, or None if it does not exist or its year is implausible."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _word_start(text: str, index: int) -> bool:
    """Whether ``index`` starts a word: not preceded by a letter, digit or a dot."""
    if index == 0:
        return True
    before = text[index - 1]
    return not (before.isalnum() or before in "._")


def _scan_months(text: str) -> Iterator[_Found]:
    """Dates written with a month name, left to right."""
    consumed = 0
    for match in _MONTH_RE.finditer(text):
        start, end = match.span()
        if start < consumed or not _word_start(text, start):
            continue
        month = _MONTHS[match.group().lower()]
        before = _BEFORE_MONTH_RE.search(text, max(consumed, start - _LOOKBACK), start)
        if before is not None:
            after = _YEAR_AFTER_MONTH_RE.match(text, end)
            year_text = after.group("year") if after is not None else None
            stop = after.end() if after is not None else end
            consumed = stop
            yield _Found(
                _year_or_none(year_text), month, int(before.group("day")), before.start(), stop
            )
            continue
        after = _AFTER_MONTH_RE.match(text, end)
        if after is not None:
            consumed = after.end()
            yield _Found(
                _year_or_none(after.group("year")),
                month,
                int(after.group("day")),
                start,
                after.end(),
            )


def _separators(text: str) -> list[int]:
    """Offsets of every ``-`` or ``/`` followed by a digit, in order: the matches of
    ``[/-]\\d``, located with str.find (several times faster than that regex's scan on prose,
    where these characters are rare)."""
    positions: list[int] = []
    last = len(text) - 1
    for char in "-/":
        find = text.find
        i = find(char)
        while 0 <= i < last:
            if text[i + 1].isdecimal():  # what ``\d`` matches in a str pattern
                positions.append(i)
            i = find(char, i + 1)
    positions.sort()
    return positions


def _scan_numeric(text: str) -> Iterator[_Found]:
    """Dates written as ``2017-06-21`` or ``06/21/2017``, left to right."""
    consumed = 0
    for position in _separators(text):
        if position < consumed:
            continue
        start = position
        while start > 0 and position - start < 4 and text[start - 1].isdigit():
            start -= 1
        if start == position or not _word_start(text, start):
            continue
        match = _NUMERIC_RE.match(text, start)
        if match is None:
            continue
        end = match.end()
        consumed = end
        if end < len(text) and text[end] in "-/":
            continue
        token = match.group()
        iso = _ISO_RE.fullmatch(token)
        if iso is not None:
            year = _year_or_none(iso.group(1))
            if year is not None:
                yield _Found(year, int(iso.group(2)), int(iso.group(3)), start, end)
            continue
        us = _US_RE.fullmatch(token)
        if us is not None:
            year = _year_or_none(us.group(3))
            first, second = int(us.group(1)), int(us.group(2))
            if year is not None:
                # US order unless the first number cannot be a month (21/06/2017).
                month, day = (first, second) if first <= 12 else (second, first)
                yield _Found(year, month, day, start, end)


def _scan(text: str) -> list[_Found]:
    """Every syntactically plausible date expression in ``text``, in order of appearance."""
    found = [*_scan_months(text), *_scan_numeric(text)]
    found.sort(key=lambda item: item.start)
    return found


def _full_dates(text: str) -> list[dt.date]:
    """Every fully specified (with year) valid date in ``text``, in order of appearance."""
    dates: list[dt.date] = []
    for found in _scan(text):
        if found.year is not None:
            date = _valid(found.year, found.month, found.day)
            if date is not None:
                dates.append(date)
    return dates


def _parse_with_dateutil(text: str) -> dt.date | None:
    """Parse a free-form date string, or None if a part of the date is missing or invalid.

    ``dateutil`` fills missing fields from its ``default``; parsing against two defaults that
    differ in year, month and day reveals whether the string itself gave all three.
    """
    # Imported here: dateutil's parser takes ~40 ms to import, a tenth of a one-shot
    # ``search query``, which reaches this module (through the schema) but never parses.
    from dateutil import parser as dateutil_parser

    try:
        first = dateutil_parser.parse(text, default=dt.datetime(1904, 1, 1))
        second = dateutil_parser.parse(text, default=dt.datetime(1905, 2, 2))
    except (ValueError, OverflowError, TypeError):
        return None
    if first.date() != second.date():
        return None
    return _valid(first.year, first.month, first.day)


def parse_date_value(value: Any) -> dt.date | None:
    """Read a metadata value as a calendar date; None for anything that is not one.

    Accepts :class:`datetime.date` / :class:`datetime.datetime` objects (a datetime keeps the
    date of its own time zone, so ``2017-06-21T23:30:00-05:00`` is June 21) and strings: ISO
    dates and timestamps (``2017-06-21``, ``2017-06-21T10:00:00Z``), ``June 21, 2017``,
    ``21 June 2017``, US slashes ``06/21/2017``, RFC 2822 (``Wed, 21 Jun 2017 10:00:00 +0000``).
    A string must give year, month and day. Years outside :data:`MIN_YEAR`..:data:`MAX_YEAR`,
    impossible dates, numbers and other types give None. Never raises.
    """
    if isinstance(value, dt.datetime):
        return _valid(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _valid(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return _valid(parsed.year, parsed.month, parsed.day)
    found = _full_dates(text)
    if found:
        return found[0]
    if not any(char.isdigit() for char in text):
        return None
    return _parse_with_dateutil(text)


def _looks_like_header(line: str) -> bool:
    """Whether a top line can be the article's own date line.

    A short line that ends like a sentence is body text ("It began on 4 June 1989."), and a line
    opening with a dash attributes a quoted or embedded post ("— AP (@AP) June 7, 2017").
    """
    return (
        len(line) <= HEADER_LINE_MAX_CHARS
        and not line.endswith((".", "!", "?"))
        and not line.startswith(("—", "–", "-"))
    )


def _dateline_date(body: str, dateline: str | None) -> dt.date | None:
    """The date of the article's own header: the cleaner's dateline, else a short top line.

    The headline is not consulted: a date in it is an event date ("Remembering June 4, 1989").
    """
    if dateline:
        found = _full_dates(dateline)
        if found:
            return found[0]
    lines = (line.strip() for line in body[:_HEADER_CHARS].splitlines())
    header = list(itertools.islice((line for line in lines if line), HEADER_LINES))
    for line in header:
        if _looks_like_header(line):
            found = _full_dates(line)
            if found:
                return found[0]
    return None


_PATH_DATE_RE = re.compile(
    r"(?<![0-9])((?:19|20)[0-9]{2})([/_.-])(0?[1-9]|1[0-2])\2(0?[1-9]|[12][0-9]|3[01])(?![0-9])"
)
"""A date in a path or URL: ``2017/06/21/``, ``2017-06-21-slug``, ``2017_6_21``; the same
separator between the three parts, so version numbers like ``2017.1-6`` do not match."""


def path_date(path: str | None) -> dt.date | None:
    """The date a file's path or a URL states (``news/2017/06/21/story.html``,
    ``2017-06-21-kerman-attack.md``), or None.

    The last date in the string wins: it is the one nearest the file name, and folder names
    above it are more often archive or download dates. A record key's ``#N`` suffix is ignored.
    """
    if not path:
        return None
    text = path.split("#", 1)[0]
    found = None
    for match in _PATH_DATE_RE.finditer(text):
        date = _valid(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        if date is not None:
            found = date
    return found


def find_published(
    title: str,
    body: str,
    *,
    dateline: str | None,
    metadata: Mapping[str, Any],
    path: str | None = None,
    manifest: dt.date | None = None,
) -> tuple[dt.date | None, str | None]:
    """Find the publication date of an article and say where it came from.

    In order:

    1. ``metadata``: the first of the keys ``published``, ``date``, ``published_at``,
       ``pubdate``, ``datePublished`` (compared case-insensitively) whose value
       :func:`parse_date_value` reads -> ``(date, "metadata")``;
    2. ``manifest``: the date a manifest of the folder gives the file
       (:mod:`searchlib.ingest.date_manifest`) -> ``(date, "manifest")``;
    3. the article's own header: the first full date in ``dateline`` (the cleaner's date line,
       "Global Research, June 21, 2017"), else in one of the first :data:`HEADER_LINES`
       non-empty body lines that looks like a header rather than a sentence (at most
       :data:`HEADER_LINE_MAX_CHARS` characters, not ending in ``.``, ``!`` or ``?``, not an
       embedded post's "— Name (@handle) June 7, 2017" attribution): "21 June 2017",
       "2017-06-21", "06/21/2017:" -> ``(date, "dateline")``;
    4. the article's URL (metadata ``url`` or ``link``) when it holds a date
       (``https://example.com/2017/06/21/story``) -> ``(date, "url")``;
    5. the file's path or name (``2017/06/21/story.txt``, ``2017-06-21-story.md``), see
       :func:`path_date` -> ``(date, "path")``;
    6. otherwise ``(None, None)``. Dates the text merely mentions are never used (a profile's
       birth date, an anniversary, a quoted post are not the publication date; a wrong date is
       worse than none), and neither are file times: they say when a file was saved, not when
       the article was published.
    """
    # Front matter and JSON spell keys freely ("pubDate", "Published"): compare case-folded.
    by_key = {str(key).casefold(): value for key, value in metadata.items()}
    for key in METADATA_KEYS:
        folded = key.casefold()
        if folded in by_key:
            date = parse_date_value(by_key[folded])
            if date is not None:
                return date, "metadata"
    if manifest is not None:
        return manifest, "manifest"
    date = _dateline_date(body, dateline)
    if date is not None:
        return date, "dateline"
    for key in ("url", "link"):
        value = by_key.get(key)
        date = path_date(value) if isinstance(value, str) else None
        if date is not None:
            return date, "url"
    date = path_date(path)
    if date is not None:
        return date, "path"
    return None, None


def _infer_year(month: int, day: int, published: dt.date) -> dt.date | None:
    """The most recent valid ``month``/``day`` not after ``published`` + :data:`FUTURE_MARGIN`."""
    latest = published + FUTURE_MARGIN
    for year in (published.year + 1, published.year, published.year - 1):
        date = _valid(year, month, day)
        if date is not None and date <= latest:
            return date
    return None


def find_mentioned(text: str, published: dt.date | None) -> tuple[dt.date, ...]:
    """Event dates mentioned in ``text``, deduplicated and sorted.

    Dates with a year are taken as written. A date without a year ("On June 19", "Sunday June
    18th", "Jan. 3") gets the year that makes it the most recent such day not more than
    :data:`FUTURE_MARGIN` after ``published`` (published 2024-01-05: "December 28" is
    2023-12-28); without ``published`` it is skipped. Bare years, month-year phrases and
    impossible days (February 30) are ignored.
    """
    dates: set[dt.date] = set()
    for found in _scan(text):
        if found.year is not None:
            date = _valid(found.year, found.month, found.day)
        elif published is not None:
            date = _infer_year(found.month, found.day, published)
        else:
            date = None
        if date is not None:
            dates.add(date)
    return tuple(sorted(dates))


def parse_date_bound(text: str, *, end: bool) -> dt.date:
    """Read a ``--from``/``--to`` bound: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    Returns the first day of the span when ``end`` is false and its last day when ``end`` is
    true ("2017-02" gives 2017-02-01 or 2017-02-28). Raises :class:`ValueError` with a one-line
    message for anything else.
    """
    cleaned = text.strip()
    match = _BOUND_RE.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"invalid date {text!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match.group(1))
    month_text, day_text = match.group(2), match.group(3)
    if year < dt.MINYEAR:
        raise ValueError(f"invalid date {text!r}: year out of range")
    try:
        if month_text is None:
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        month = int(month_text)
        if day_text is None:
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            return dt.date(year, month, last if end else 1)
        return dt.date(year, month, int(day_text))
    except ValueError as error:
        raise ValueError(f"invalid date {text!r}: {error}") from None
