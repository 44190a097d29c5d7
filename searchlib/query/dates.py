"""What a ``date:`` clause means: the moments it keeps (whole spans, inclusive).

``date:2017-06`` is all of June 2017, ``date:[2017-06 TO 2017-07]`` June and July,
``date:>2020`` from 2021 on, ``date:<2019`` before 2019. Both engines read dates this way
(the Whoosh schema's ``DateField`` calls these functions).
"""

from __future__ import annotations

import datetime as dt

from ..errors import QueryError
from ..ingest.dates import parse_date_bound

__all__ = ["range_bounds", "span_bounds", "span_edge"]

_TICK = dt.timedelta(microseconds=1)


def span_edge(day: dt.date, *, end: bool) -> dt.datetime:
    """The first moment of ``day``, or with ``end`` its last (date ranges are inclusive)."""
    if end:
        return dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999999)
    return dt.datetime(day.year, day.month, day.day)


def _bound(text: str, *, end: bool) -> dt.datetime:
    try:
        day = parse_date_bound(text.strip(), end=end)
    except ValueError as exc:
        raise QueryError(f"{exc} (in a date: query)") from None
    return span_edge(day, end=end)


def span_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The first and last moments of the span ``text`` names (``YYYY[-MM[-DD]]``), or raise
    :class:`QueryError` (one line)."""
    return _bound(text, end=False), _bound(text, end=True)


def range_bounds(start: str | None, end: str | None, start_excl: bool, end_excl: bool
                 ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The inclusive moments of ``[start TO end]`` (``{``/``}``: the span itself left out)."""
    lo = hi = None
    if start:
        # "> 2020" excludes all of 2020, so it starts after the span's last moment.
        lo = _bound(start, end=start_excl)
        if start_excl:
            lo += _TICK
    if end:
        hi = _bound(end, end=not end_excl)
        if end_excl:
            hi -= _TICK
    return lo, hi
