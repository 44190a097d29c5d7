"""Query text -> AST: searchlib's query language, as it has always read.

:func:`parse_query` is what a search does with its text: top-level ``actor:``,
``location:``, ``person:`` and ``date:`` clauses become :class:`Filters` (like the options
``--actor``, ``--from``...), the rest the AST that scores. :func:`parse` keeps every clause's
boolean meaning. The syntax (see README, "Query syntax") is read by the passes of
:mod:`searchlib.query._syntax`; this module adds what searchlib adds around them (the
preparation of the text, the lifting of filters) and builds the AST.

Errors are :class:`~searchlib.errors.QueryError` with a one-line message, never another
exception: an unknown lower-case ``field:``, a text over 10,000 characters, a ``date:`` value
that is not ``YYYY[-MM[-DD]]``, and the few shapes the syntax cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import QueryError
from . import _syntax as sx
from .ast import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    Require,
    Term,
    Wildcard,
)
from .dates import range_bounds, span_bounds

__all__ = [
    "FIELD_ALIASES",
    "FIELD_BOOSTS",
    "FILTER_FIELDS",
    "INDEX_FIELDS",
    "KNOWN_FIELDS",
    "SEARCH_FIELDS",
    "Filters",
    "ParsedQuery",
    "parse",
    "parse_query",
    "prepare",
]

#: Fields a bare word searches, and the weight of a match in each.
SEARCH_FIELDS = ("title", "body")
FIELD_BOOSTS: dict[str, float] = {"title": 0.7, "body": 1.0}
#: The fields of an index (a ``name:`` naming another is read as part of the word).
INDEX_FIELDS = frozenset({"id", "path", "title", "body", "date", "mentioned", "actor",
                          "location", "person", "info"})
#: Other names a field answers to.
FIELD_ALIASES: dict[str, list[str]] = {
    "actor": ["actors"], "location": ["locations", "place"], "person": ["people", "persons"],
    "date": ["published"]}
#: Field names a query may use (a lower-case ``name:`` outside this list is refused).
KNOWN_FIELDS = frozenset({"title", "body", "actor", "location", "person", "date", "mentioned",
                          "actors", "locations", "people", "persons", "place", "published",
                          "id", "path"})
#: Fields whose top-level clauses filter (as the options do) instead of scoring.
FILTER_FIELDS = ("actor", "location", "person", "date")
_FACETS = ("actor", "location", "person")
_MAX_LENGTH = 10_000
#: The refusal of a query nested deeper than Python's recursion allows (Whoosh's words).
TOO_DEEP = "cannot parse query: maximum recursion depth exceeded"

# "word:" directly followed by a value: a field reference (a colon then a space is prose).
_FIELD_REF = re.compile(r"(?:^|(?<=[\s(+\-]))([A-Za-z_]+):(?=[^\s:/])")
_QUESTION_MARK = re.compile(r"(?<=\w)\?+(?=[\s\")]|$)")


@dataclass(frozen=True)
class Filters:
    """The filters stated by top-level clauses of a query."""

    values: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {kind: () for kind in _FACETS})
    """Facet kind -> values named exactly (``actor:IRGC``): OR-ed with the option's values
    (aliases and case resolved against the index, parents rolled up)."""
    clauses: Mapping[str, tuple[Node, ...]] = field(
        default_factory=lambda: {kind: () for kind in _FACETS})
    """Facet kind -> other clauses on that facet (``actor:Hez*``), each AND-ed in."""
    dates: tuple[Node, ...] = ()
    """``date:`` clauses, each AND-ed with the options' range: a :class:`DateRange`, or
    (``date:*``, ``date:"..."``) any other node, which keeps every dated article."""

    def __bool__(self) -> bool:
        return bool(self.dates) or any(self.values.values()) or any(self.clauses.values())


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what scores and what filters."""

    query: Node | None
    """The clauses that match and score; None: every document."""
    filters: Filters
    """The top-level facet and date clauses."""


def prepare(text: str) -> str | None:
    """The text the syntax passes read (None: every document), or raise QueryError."""
    stripped = text.strip()
    if not stripped or stripped == "*":
        return None
    if len(stripped) > _MAX_LENGTH:
        raise QueryError("query is too long (over 10,000 characters)")
    # A query typed entirely in capitals (a pasted headline, an old test collection)
    # means its AND/OR/NOT as words, not operators.
    words = stripped.split()
    if len(words) >= 4 and stripped.upper() == stripped and any(c.isalpha() for c in stripped):
        stripped = stripped.lower()
    # "?" ending a word is punctuation of a question, not a one-letter wildcard.
    stripped = _QUESTION_MARK.sub("", stripped)
    for m in _FIELD_REF.finditer(stripped):
        name = m.group(1)
        if name.lower() not in KNOWN_FIELDS and name.islower():
            raise QueryError(
                f"unknown field '{name}:' at position {m.start(1) + 1}; fields are "
                "title, body, actor, location, person, date")
    return stripped


def _process(stripped: str) -> sx.GroupNode:
    try:
        return sx.process(stripped, schema=INDEX_FIELDS, fields=SEARCH_FIELDS,
                          boosts=FIELD_BOOSTS, aliases=FIELD_ALIASES)
    except (IndexError, AssertionError) as exc:
        # The shapes the syntax passes cannot read (a ">" opening a group) fail there.
        raise QueryError(f"cannot parse query: {exc}") from None


class _Builder:
    """Turns syntax nodes into AST nodes; a bad ``date:`` value is reported after the rest
    was read, as the parser always did (a marker it cannot read is reported at once)."""

    def __init__(self) -> None:
        self.date_error: str | None = None

    def finish(self, node: Node | None) -> Node | None:
        if self.date_error:
            raise QueryError(self.date_error)
        return node

    def build(self, node: sx.SyntaxNode) -> Node | None:
        """The AST of ``node`` (None for a date clause that failed to read)."""
        if isinstance(node, sx.GroupNode):
            return self._group(node)
        if isinstance(node, sx.EveryNode):
            return Every()
        if isinstance(node, sx.Marker):
            # A "+" or "-" inside a group, where the plus/minus pass never looks.
            raise QueryError(f"cannot parse query: {type(node).__name__}")
        span = (node.startchar, node.endchar) \
            if node.startchar is not None and node.endchar is not None else None
        name, boost = node.fieldname, node.boost
        if name == "date" and not isinstance(node, sx.PhraseNode):
            return self._date(node, boost, span)
        if isinstance(node, sx.RangeNode):
            assert name is not None  # ranges are fielded: "field:[a TO b]" or multi-field
            return Range(name, node.start, node.end, node.startexcl, node.endexcl, boost, span)
        if isinstance(node, sx.PhraseNode):
            assert name is not None  # the multi-field pass gives every phrase a field
            return Phrase(name, node.text, node.slop, boost,
                          (node.textstartchar, node.textstartchar + len(node.text)))
        if isinstance(node, sx.FuzzyTermNode):
            assert name is not None
            return Fuzzy(name, node.text, node.maxdist, node.prefixlength, boost, span)
        if isinstance(node, sx.PrefixNode):
            assert name is not None
            return Prefix(name, node.text, boost, span)
        if isinstance(node, sx.WildcardNode):
            assert name is not None
            return Wildcard(name, node.text, boost, span)
        if isinstance(node, sx.WordNode):
            # A "^2" the boost pass found nothing to apply to has no field at all.
            return Term(name, node.text, boost, span)
        raise QueryError(f"cannot parse query: {type(node).__name__}")

    def _group(self, node: sx.GroupNode) -> Node | None:
        if isinstance(node, sx.BinaryGroup):
            if len(node) != 2:
                # An operator that was an operand of another one ("a REQUIRE ANDNOT b") is
                # deleted, leaving its group one-sided: Whoosh's parser fails an assertion.
                raise QueryError("cannot parse query: ")
            a, b = self.build(node.nodes[0]), self.build(node.nodes[1])
            if a is None or b is None:
                return a if b is None else b
            if isinstance(node, sx.AndNotGroup):
                return AndNot(a, b)
            if isinstance(node, sx.AndMaybeGroup):
                return AndMaybe(a, b)
            return Require(a, b)
        if isinstance(node, sx.NotGroup):
            if not node.nodes:  # "NOT" whose operand was another operator
                raise QueryError("cannot parse query: list index out of range")
            child = self.build(node.nodes[0])
            return Not(child) if child is not None else None
        kids = tuple(k for k in (self.build(n) for n in node.nodes) if k is not None)
        if isinstance(node, sx.AndGroup):
            return And(kids, node.boost)
        return Or(kids, node.boost)

    def _date(self, node: sx.SyntaxNode, boost: float, span: tuple[int, int] | None
              ) -> Node | None:
        try:
            if isinstance(node, sx.RangeNode):
                lo, hi = range_bounds(node.start, node.end, node.startexcl, node.endexcl)
                return DateRange(lo, hi, boost, span)
            if node.text.strip() == "*":
                return Every("date", boost)
            lo, hi = span_bounds(node.text)
            return DateRange(lo, hi, boost, span)
        except QueryError as exc:
            if self.date_error is None:
                self.date_error = str(exc)
            return None


def parse(text: str) -> Node | None:
    """The AST of ``text`` with every clause kept in place (None: every document)."""
    stripped = prepare(text)
    if stripped is None:
        return None
    builder = _Builder()
    try:
        return builder.finish(builder.build(_process(stripped)))
    except RecursionError:  # parentheses nested hundreds deep, as Whoosh says it
        raise QueryError(TOO_DEEP) from None


def parse_query(text: str) -> ParsedQuery:
    """Split ``text`` into the AST that scores and the filters its top-level clauses state.

    A top-level ``actor:``, ``location:``, ``person:`` or ``date:`` clause (one beside the
    others, in a chain of ANDs, or required with ``+``) filters like the options; inside an
    explicit OR or parentheses it keeps its boolean meaning.
    """
    stripped = prepare(text)
    if stripped is None:
        return ParsedQuery(None, Filters())
    try:
        return _split(stripped)
    except RecursionError:  # parentheses nested hundreds deep, as Whoosh says it
        raise QueryError(TOO_DEEP) from None


def _split(stripped: str) -> ParsedQuery:
    """:func:`parse_query` of text that :func:`prepare` accepted."""
    nodes = _process(stripped)
    lifted = _Lifted()
    # Parentheses around the whole query are unwrapped by the syntax; they still mean a group.
    rest = nodes if parenthesized(stripped) else _lift(nodes, lifted)
    builder = _Builder()
    query = None if rest is None else builder.finish(builder.build(rest))
    filters = Filters(values={k: tuple(v) for k, v in lifted.values.items()},
                      clauses={k: tuple(v) for k, v in lifted.clauses.items()},
                      dates=tuple(lifted.dates))
    return ParsedQuery(query, filters)


class _Lifted:
    """The filters found so far."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {kind: [] for kind in _FACETS}
        self.clauses: dict[str, list[Node]] = {kind: [] for kind in _FACETS}
        self.dates: list[Node] = []

    def take(self, node: sx.SyntaxNode) -> bool:
        """Record ``node`` if it is a filter clause; whether it was."""
        name = node.fieldname if node.has_fieldname else None
        if isinstance(node, sx.GroupNode) or name not in FILTER_FIELDS:
            return False
        exact = type(node) in (sx.WordNode, sx.PhraseNode)
        if exact and name != "date":
            self.values[name].append(node.text)
            return True
        builder = _Builder()
        clause = builder.finish(builder.build(node))
        assert clause is not None  # finish() raised for a date that failed to read
        (self.dates if name == "date" else self.clauses[name]).append(clause)
        return True


def _lift(node: sx.SyntaxNode, lifted: _Lifted) -> sx.SyntaxNode | None:
    """Move the top-level filter clauses of ``node`` into ``lifted``; the rest, or None.

    Top level: the children of the query's implicit group, of a chain of ANDs making up the
    whole query, and of the required, optional and positive parts of ``+word``/``-word``.
    """
    if isinstance(node, sx.AndNotGroup):
        positive = _lift(node.nodes[0], lifted)
        node.nodes[0] = positive if positive is not None else sx.EveryNode()
        return node
    if isinstance(node, sx.AndMaybeGroup):
        required = _lift(node.nodes[0], lifted)
        optional = _lift(node.nodes[1], lifted)
        if required is None or optional is None:
            return required if optional is None else optional
        node.nodes[0], node.nodes[1] = required, optional
        return node
    if not isinstance(node, (sx.OrGroup, sx.AndGroup)):
        return node
    if isinstance(node, sx.OrGroup) and len(node) == 1 and isinstance(node[0], sx.AndGroup):
        inner = _lift(node[0], lifted)
        if inner is None:
            return None
        node.nodes[0] = inner
        return node
    node.nodes = [child for child in node.nodes if not lifted.take(child)]
    return node if node.nodes else None


def parenthesized(text: str) -> bool:
    """Whether one pair of parentheses encloses the whole of ``text`` (quotes respected)."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False
