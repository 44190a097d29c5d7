"""How much work one query may ask of an engine: the same bounds on every engine.

The Whoosh engine (:mod:`searchlib.engine.whoosh.searcher`) and the OpenSearch engine
(:mod:`searchlib._query_opensearch`, :mod:`searchlib.opensearch`) refuse the same queries with
the same one-line messages and cut the same pattern expansions, so a query that one engine
answers within its budget is not a denial of service on the other. Engine-neutral: no engine
is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import QueryError

__all__ = ["EXPANSION_BUDGET", "EXPANSION_CAP", "MAX_EDITS", "MAX_PATTERNS", "MAX_WILDCARDS",
           "QUERY_TIME_BUDGET", "check_patterns", "pattern_cap", "too_broad"]

#: Index terms one fuzzy, wildcard or prefix term may stand for in one field.
EXPANSION_CAP = 64
#: Index terms all the fuzzy, wildcard and prefix terms of one query may stand for together;
#: with many of them, each one's cap shrinks to share this.
EXPANSION_BUDGET = 1024
#: Fuzzy, wildcard and prefix words one query may hold (more is refused).
MAX_PATTERNS = 32
#: ``*`` and ``?`` in one wildcard word (more is refused: the pattern's matching time grows
#: with the power of their number).
MAX_WILDCARDS = 8
#: Seconds a search may run before it is refused as too broad (pasted pages of text on a
#: large index, mostly).
QUERY_TIME_BUDGET = 4.0
#: Largest edit distance of a fuzzy term (``word~2``).
MAX_EDITS = 2


def pattern_cap(patterns: int, cap: int = EXPANSION_CAP, budget: int = EXPANSION_BUDGET) -> int:
    """Index terms each of ``patterns`` pattern clauses may stand for: ``cap``, or less when
    the clauses together would pass ``budget``."""
    return max(1, min(cap, budget // max(patterns, 1)))


def check_patterns(patterns: Sequence[str], fuzzy: Sequence[tuple[str, int]] = (),
                   wildcards: Sequence[tuple[str, str]] = ()) -> None:
    """Refuse (:class:`QueryError`, one line) a query whose pattern clauses ask too much.

    ``patterns``: every fuzzy, wildcard, prefix and range clause on the text fields as shown
    to the user (a word searched in two fields counts once); ``fuzzy``: ``(shown, edits)`` of
    each fuzzy clause; ``wildcards``: ``(shown, pattern)`` of each wildcard clause.
    """
    words = list(dict.fromkeys(patterns))
    if len(words) > MAX_PATTERNS:
        shown = ", ".join(words[:3])
        raise QueryError(f"too many fuzzy or wildcard terms ({len(words)}: {shown}, ...); "
                         f"a query may hold {MAX_PATTERNS}")
    for shown, edits in fuzzy:
        if edits > MAX_EDITS:
            raise QueryError(f"'{shown}' allows too many edits (at most {MAX_EDITS})")
    for shown, pattern in wildcards:
        if sum(pattern.count(c) for c in "*?") > MAX_WILDCARDS:
            raise QueryError(f"too many wildcards in '{shown}' (at most {MAX_WILDCARDS})")


def too_broad(query: str, budget: float, broadest: str = "") -> str:
    """The one-line refusal of a search that ran past its ``budget`` seconds, counting the
    query's words and naming its ``broadest`` parts when the engine knows them."""
    words = len(query.split())
    what = f"{words:,} word{'s' if words != 1 else ''}"
    if broadest:
        what += f"; broadest: {broadest}"
    return f"query too broad to answer within {budget:g} s ({what}); use fewer or rarer words"
