"""The query AST: what a searchlib query means, independent of any engine.

Every node is a frozen dataclass. Leaves keep the text the user typed (before analysis):
each engine analyses it with its own copy of searchlib's analyzer (``title``/``body``) or
keeps it as written (the facet fields). The tree is the one searchlib's query language has
always built (see :mod:`searchlib.query.parser`): a bare word is an :class:`Or` of the word in
``title`` (boost 0.7) and in ``body`` (boost 1), a list of words an :class:`Or` of those,
``+word`` an :class:`AndMaybe`, ``-word`` an :class:`AndNot`.

``span`` (the characters of the query text a leaf came from) never takes part in equality.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

__all__ = [
    "And", "AndMaybe", "AndNot", "DateRange", "Every", "Fuzzy", "Node", "Not", "Or", "Phrase",
    "Prefix", "Range", "Require", "Term", "Wildcard", "leaves",
]

Span = tuple[int, int] | None


@dataclass(frozen=True)
class Term:
    """One word (or a 'single-quoted' text) searched in ``field``."""

    field: str | None
    """Index field (``title``, ``body``, ``actor``, ``id``...); None only for a ``^2`` that
    had nothing to boost inside a group, read as a word of no field (it matches nothing)."""
    text: str
    """The word as typed; an engine analyses it (it may give no term: a stop word)."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class Phrase:
    """Words in order (``"Deir ez-Zor"``), at most ``slop`` - 1 positions apart."""

    field: str
    """Index field."""
    text: str
    """The text between the quotes, as typed."""
    slop: int = 1
    """``"..."~N``: how far apart the words may be (1: adjacent)."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text the quoted text came from."""


@dataclass(frozen=True)
class Prefix:
    """``word*``: any term starting with ``text``."""

    field: str
    """Index field."""
    text: str
    """The prefix, as typed (without the ``*``)."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class Wildcard:
    """``w?r*d``: ``?`` one character, ``*`` any run of characters."""

    field: str
    """Index field."""
    text: str
    """The pattern, as typed."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class Fuzzy:
    """``word~N/P``: terms within ``max_edits`` edits whose first ``prefix`` characters agree."""

    field: str
    """Index field."""
    text: str
    """The word, as typed."""
    max_edits: int = 1
    """Largest edit distance (``~`` alone: 1)."""
    prefix: int = 0
    """Leading characters that must match exactly (``~2/3``: 3)."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class Range:
    """``field:[a TO b]``, ``{a TO b}``, ``field:>a``: terms between two bounds (as typed)."""

    field: str
    """Index field (never ``date``: dates make a :class:`DateRange`)."""
    start: str | None
    """Lower bound as typed; None: open."""
    end: str | None
    """Upper bound as typed; None: open."""
    start_excl: bool = False
    """Whether the lower bound itself is left out."""
    end_excl: bool = False
    """Whether the upper bound itself is left out."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class DateRange:
    """A ``date:`` clause: articles published between two moments (inclusive)."""

    start: dt.datetime | None
    """First moment kept; None: open."""
    end: dt.datetime | None
    """Last moment kept; None: open."""
    boost: float = 1.0
    """Weight of this clause in the score."""
    span: Span = dataclasses.field(default=None, compare=False)
    """Characters of the query text this came from."""


@dataclass(frozen=True)
class Every:
    """Every document (``*:*``), or with ``field`` every document with a value there
    (``date:*``; a bare ``*`` among other words is ``title:*`` / ``body:*``)."""

    field: str | None = None
    """Index field, or None for every document of the index."""
    boost: float = 1.0
    """Weight of this clause in the score."""


@dataclass(frozen=True)
class And:
    """Every child must match (``a AND b``, a fielded group ``title:(a b)`` of an AND)."""

    children: tuple[Node, ...]
    """The clauses."""
    boost: float = 1.0
    """Weight of this group in the score."""


@dataclass(frozen=True)
class Or:
    """At least one child must match (a list of words, ``a OR b``)."""

    children: tuple[Node, ...]
    """The clauses."""
    boost: float = 1.0
    """Weight of this group in the score."""


@dataclass(frozen=True)
class Not:
    """``NOT a``: documents ``a`` does not match."""

    child: Node
    """The clause left out."""


@dataclass(frozen=True)
class AndNot:
    """``a ANDNOT b``, ``a -b``: what ``positive`` matches and ``negative`` does not."""

    positive: Node
    """What must match (and scores)."""
    negative: Node
    """What must not match."""


@dataclass(frozen=True)
class AndMaybe:
    """``a ANDMAYBE b``, ``+a b``: what ``required`` matches; ``optional`` adds to the score."""

    required: Node
    """What must match."""
    optional: Node
    """What may match, raising the score."""


@dataclass(frozen=True)
class Require:
    """``a REQUIRE b``: what both match, scored by ``scored`` alone."""

    scored: Node
    """What scores."""
    required: Node
    """What must also match, without scoring."""


Node = (Term | Phrase | Prefix | Wildcard | Fuzzy | Range | DateRange | Every
        | And | Or | Not | AndNot | AndMaybe | Require)
"""Any node of the query AST."""

_GROUPS = (And, Or)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-clauses of ``node`` (empty for a leaf)."""
    if isinstance(node, _GROUPS):
        return node.children
    if isinstance(node, Not):
        return (node.child,)
    if isinstance(node, AndNot):
        return (node.positive, node.negative)
    if isinstance(node, AndMaybe):
        return (node.required, node.optional)
    if isinstance(node, Require):
        return (node.scored, node.required)
    return ()


def leaves(node: Node) -> list[Node]:
    """The leaves of ``node``, left to right."""
    kids = children(node)
    if not kids:
        return [node]
    found: list[Node] = []
    for kid in kids:
        found.extend(leaves(kid))
    return found
