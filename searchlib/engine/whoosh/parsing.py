"""Query text into Whoosh queries: the filter clauses lifted out of a query's top level
(``actor:IRGC``), the every-document query, and the errors a parsed query carries.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import query as wq  # noqa: E402
from whoosh.qparser import syntax  # noqa: E402

from ...errors import QueryError  # noqa: E402
from ...ingest.dates import parse_date_bound  # noqa: E402
from ...models import QueryFilter  # noqa: E402
from ...query.parser import FIELD_ALIASES, FILTER_FIELDS  # noqa: E402
from .schema import SEARCH_FIELDS, span_edge  # noqa: E402

#: Each name of a filter field, aliases included -> the field.
_FIELD_NAMES = {name: kind for kind in FILTER_FIELDS
                for name in (kind, *FIELD_ALIASES.get(kind, ()))}
#: A field clause in query text: "+field:" and a quoted, bracketed or plain value.
_CLAUSE = re.compile(r"(?:^|(?<=[\s(]))\+?(?P<field>[A-Za-z_]+):"
                     r"(?P<value>\"[^\"]*\"|[\[{][^\]}]*[\]}]|[^\s()]+)")


@dataclass
class QueryFilters:
    """The filters stated by top-level clauses of a query (see ``Index._parse_filters``)."""

    values: dict[str, list[str]] = field(
        default_factory=lambda: {"actor": [], "location": [], "person": []})
    """Facet kind -> values named exactly (``actor:IRGC``): OR-ed with the option's values."""
    clauses: dict[str, list[Any]] = field(
        default_factory=lambda: {"actor": [], "location": [], "person": []})
    """Facet kind -> other clauses on that facet (``actor:Hez*``), each AND-ed in."""
    dates: list[Any] = field(default_factory=list)
    """``date:`` clauses (Whoosh ``DateRange`` or ``Every``), each AND-ed with the range."""
    warnings: list[str] = field(default_factory=list)
    """What the user should know about the query itself (a cut expansion)."""
    text: str = ""
    """The query text the parser read."""
    offset: int = 0
    """Where :attr:`text` starts in the query as given (after its leading spaces)."""
    typed: list[tuple[QueryFilter, bool]] = field(default_factory=list)
    """Each filter as typed, and whether it names a facet value exactly."""

    def take(self, node: Any, parser: Any) -> bool:
        """Record ``node`` if it is a filter clause; whether it was."""
        name = getattr(node, "fieldname", None)
        if isinstance(node, syntax.GroupNode) or name not in FILTER_FIELDS:
            return False
        # A value named exactly ("IRGC", "Deir ez-Zor") goes the options' way, with aliases.
        exact = type(node) is syntax.WordNode or type(node).__name__ == "PhraseNode"
        self._note(name, node, exact and name != "date")
        if exact and name != "date":
            self.values[name].append(str(node.text))
            return True
        q = node.query(parser)
        error = find_error(q)
        if error:
            raise QueryError(error)
        (self.dates if name == "date" else self.clauses[name]).append(q)
        return True

    def _note(self, name: str, node: Any, exact: bool) -> None:
        """Find ``node``'s clause in the text and add it to :attr:`typed`.

        Whoosh's character spans of a node cover (part of) its value only, and of some nodes
        (ranges, prefixes) not exactly: the clause is the one of this field whose value holds
        the node's start, else the nearest, never one already taken.
        """
        taken = {f.start for f, _ in self.typed}
        found = [m for m in _CLAUSE.finditer(self.text)
                 if _FIELD_NAMES.get(m.group("field").lower()) == name
                 and m.start() not in taken]
        if not found:
            return
        at = node.startchar if isinstance(node.startchar, int) else 0
        match = min(found, key=lambda m: (not m.start("value") <= at < m.end("value"),
                                          abs(m.start("value") - at)))
        value = match.group("value")
        if value.startswith('"') and value.endswith('"') and len(value) > 1:
            value = value[1:-1]
        self.typed.append((QueryFilter(kind=name, value=value,  # type: ignore[arg-type]
                                       clause=match.group(),
                                       start=self.offset + match.start()), exact))


class _EveryNode(syntax.SyntaxNode):  # type: ignore[misc]
    """Stands for a part of a query left empty once its filters were lifted out."""

    # Whoosh copies a group's span from its first node onto the group's query.
    startchar = endchar = None

    def query(self, parser: Any) -> Any:
        return wq.Every()


def lift_filters(node: Any, filters: QueryFilters, parser: Any) -> Any:
    """Move the top-level filter clauses of the syntax tree ``node`` into ``filters``.

    Returns the tree that remains, or None when nothing does. Top level: the children of
    the query's implicit group, of a chain of ANDs making up the whole query, and of the
    required, optional and positive parts Whoosh makes for ``+word`` and ``-word``. An
    explicit OR or parentheses make a group of their own, which is left as it is.
    """
    if isinstance(node, syntax.AndNotGroup):
        positive = lift_filters(node[0], filters, parser)
        node[0] = positive if positive is not None else _EveryNode()
        return node
    if isinstance(node, syntax.AndMaybeGroup):
        required = lift_filters(node[0], filters, parser)
        optional = lift_filters(node[1], filters, parser)
        if required is None or optional is None:
            return required if optional is None else optional
        node[0], node[1] = required, optional
        return node
    if not isinstance(node, (syntax.OrGroup, syntax.AndGroup)):
        return node
    if (isinstance(node, syntax.OrGroup) and len(node) == 1
            and isinstance(node[0], syntax.AndGroup)):
        inner = lift_filters(node[0], filters, parser)
        if inner is None:
            return None
        node[0] = inner
        return node
    node.nodes = [child for child in node.nodes if not filters.take(child, parser)]
    return node if node.nodes else None


def every_document(q: Any) -> Any:
    """``q`` with ``title:*`` and ``body:*`` (a bare ``*`` among other words) meaning every
    document: Whoosh would read the posting list of every term of the field for them."""
    if isinstance(q, wq.Every):
        return wq.Every(boost=q.boost) if q.fieldname in SEARCH_FIELDS else q
    if q.is_leaf():
        return q
    return q.apply(every_document)


def pattern_text(q: Any) -> str:
    """A fuzzy, wildcard or prefix query as the user would type it (analysed text), cut
    to a length fit for a one-line message."""
    if isinstance(q, wq.FuzzyTerm):
        text = f"{q.text}~{q.maxdist:g}" if q.maxdist != 1 else f"{q.text}~"
    elif isinstance(q, wq.Prefix):
        text = f"{q.text}*"
    elif isinstance(q, wq.TermRange):
        text = (f"{'{' if q.startexcl else '['}{q.start or ''} TO {q.end or ''}"
                f"{'}' if q.endexcl else ']'}")
    else:
        text = str(q.text)
    return text if len(text) <= 40 else text[:39] + "…"


def find_error(q: Any) -> str | None:
    """The first error a parsed query carries (Whoosh marks bad syntax inside the tree)."""
    error = getattr(q, "error", None)
    if error:
        return str(error)
    if not q.is_leaf():
        for child in q.children():
            found = find_error(child)
            if found:
                return found
    return None


def as_bound(value: str | dt.date | None, *, end: bool) -> dt.datetime | None:
    """A date filter's bound as the first (or, with ``end``, last) instant of its span;
    :class:`QueryError` for a bound that is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return span_edge(value, end=end)
    try:
        return span_edge(parse_date_bound(value, end=end), end=end)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
