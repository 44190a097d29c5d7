"""What the user is searching for: the query, the facet selections, the date span and the sort.

The app keeps one immutable :class:`SearchState`; every interaction derives a new one and the
app runs the search it describes. Keeping it separate from the widgets lets "copy as command"
and the tests reason about the search without a running app.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["FILTER_KINDS", "FilterKind", "SearchState", "Sort", "query_terms"]

Sort = Literal["relevance", "newest", "oldest"]
FilterKind = Literal["actor", "location", "person"]

#: The facet kinds that filter by value, in sidebar order.
FILTER_KINDS: tuple[FilterKind, ...] = ("actor", "location", "person")

_OPTION = {"actor": "--actor", "location": "--location", "person": "--person"}
_SORTS: tuple[Sort, ...] = ("relevance", "newest", "oldest")


@dataclass(frozen=True)
class SearchState:
    """One search: query text plus filters, exactly what ``Index.search`` is called with."""

    query: str = ""
    """Query text in the searchlib query language (empty: every article)."""
    actors: tuple[str, ...] = ()
    """Selected actors (OR within the facet)."""
    locations: tuple[str, ...] = ()
    """Selected places."""
    people: tuple[str, ...] = ()
    """Selected people."""
    date_from: str | None = None
    """Inclusive lower date bound (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), or None."""
    date_to: str | None = None
    """Inclusive upper date bound, or None."""
    sort: Sort = "relevance"
    """Result order chosen by the user."""

    @property
    def effective_sort(self) -> Sort:
        """The order actually used: an empty query has no relevance, so it lists newest first."""
        if self.sort == "relevance" and not self.query.strip():
            return "newest"
        return self.sort

    def selected(self, kind: FilterKind) -> tuple[str, ...]:
        """The values selected in facet ``kind``."""
        return {"actor": self.actors, "location": self.locations, "person": self.people}[kind]

    def with_selected(self, kind: FilterKind, values: tuple[str, ...]) -> SearchState:
        """A copy whose selection in facet ``kind`` is ``values``."""
        if kind == "actor":
            return replace(self, actors=values)
        if kind == "location":
            return replace(self, locations=values)
        return replace(self, people=values)

    def toggled(self, kind: FilterKind, value: str) -> SearchState:
        """A copy with ``value`` added to, or removed from, facet ``kind``'s selection."""
        current = self.selected(kind)
        if value in current:
            return self.with_selected(kind, tuple(v for v in current if v != value))
        return self.with_selected(kind, (*current, value))

    def with_dates(self, date_from: str | None, date_to: str | None) -> SearchState:
        """A copy with the date span replaced (None clears a bound)."""
        return replace(self, date_from=date_from, date_to=date_to)

    def with_query(self, query: str) -> SearchState:
        """A copy with new query text, filters kept; a different query starts with the
        relevance order (a sort chosen with Ctrl+O belongs to the query it was chosen for)."""
        if query == self.query:
            return self
        return replace(self, query=query, sort="relevance")

    def without_clause(self, clause: str, start: int = 0) -> SearchState:
        """A copy whose query no longer holds ``clause`` (a filter typed in it, such as
        ``actor:IRGC``; the occurrence nearest ``start`` when it is there twice), the sort
        kept as for any other filter removed. An ``AND`` joining it to the rest goes too."""
        spots = [m.start() for m in re.finditer(re.escape(clause.lower()), self.query.lower())]
        if not clause or not spots:
            return self
        at = min(spots, key=lambda i: abs(i - start))
        before, after = self.query[:at].rstrip(), self.query[at + len(clause):].lstrip()
        if _TRAILING_AND.search(before):
            before = _TRAILING_AND.sub("", before)
        elif _LEADING_AND.search(after):
            after = _LEADING_AND.sub("", after)
        return replace(self, query=f"{before} {after}".strip())

    def next_sort(self) -> SearchState:
        """A copy with the next sort order (relevance -> newest -> oldest -> relevance)."""
        return replace(self, sort=_SORTS[(_SORTS.index(self.sort) + 1) % len(_SORTS)])

    def cleared(self) -> SearchState:
        """A copy with every filter removed and the relevance order, the query kept."""
        return SearchState(query=self.query)

    @property
    def has_filters(self) -> bool:
        """Whether any facet value or date bound is selected."""
        return bool(self.actors or self.locations or self.people or self.date_from
                    or self.date_to)

    def chips(self) -> list[tuple[str, str]]:
        """Every active filter as ``(kind, value)``; kind ``"date"`` for the date span."""
        out: list[tuple[str, str]] = [(k, v) for k in FILTER_KINDS for v in self.selected(k)]
        if self.date_from or self.date_to:
            out.append(("date", self.date_label()))
        return out

    def date_label(self) -> str:
        """The date span as shown to the user ("2017-01 – 2017-06", "from 2017", ...)."""
        if self.date_from and self.date_to:
            if self.date_from == self.date_to:
                return self.date_from
            return f"{self.date_from} – {self.date_to}"
        if self.date_from:
            return f"from {self.date_from}"
        if self.date_to:
            return f"until {self.date_to}"
        return ""

    def search_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``Index.search`` (besides the query, limit and page)."""
        return {"sort": self.effective_sort, "actors": self.actors,
                "locations": self.locations, "people": self.people,
                "date_from": self.date_from, "date_to": self.date_to}

    def command(self, index_dir: str | None = None) -> str:
        """The ``search query ...`` one-liner that runs this search, each argument quoted."""
        args = ["search", "query", self.query]
        for kind in FILTER_KINDS:
            for value in self.selected(kind):
                args += [_OPTION[kind], value]
        if self.date_from:
            args += ["--from", self.date_from]
        if self.date_to:
            args += ["--to", self.date_to]
        if self.effective_sort != "relevance":
            args += ["--sort", self.effective_sort]
        if index_dir:
            args += ["--index", index_dir]
        return shlex.join(args)


_TRAILING_AND = re.compile(r"(?:^|\s)AND$")
_LEADING_AND = re.compile(r"^AND(?:\s+|$)")

# Operators and syntax of the query language that are not words of the text.
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}
_TOKEN = re.compile(r"(?:(?P<field>[A-Za-z_]+):)?(?P<word>[\w'*?]+)")
_TEXT_FIELDS = {None, "title", "body"}


def query_terms(query: str, matched: Mapping[str, None] | None = None) -> list[str]:
    """The words of ``query`` worth highlighting in an article, lowercased, longest first.

    Field-qualified terms other than ``title:``/``body:`` filter on metadata, so they are left
    out, as are operators, negated words and numbers in date ranges. ``matched`` adds the surface
    forms the engine itself highlighted in snippets (stemmed variants such as "strikes").
    """
    terms: dict[str, None] = {}
    # Drop negated words and groups: they are exactly what the article does not contain.
    text = re.sub(r"(?:^|(?<=[\s(]))-(?:\"[^\"]*\"|\([^)]*\)|\S+)", " ", query)
    text = re.sub(r"\bNOT\s+(?:\"[^\"]*\"|\([^)]*\)|\S+)", " ", text)
    text = re.sub(r"[A-Za-z_]+:\s*[\[{][^\]}]*[\]}]", " ", text)
    for m in _TOKEN.finditer(text):
        field = m.group("field")
        word = m.group("word").strip("'")
        if field is not None and field.lower() not in _TEXT_FIELDS:
            continue
        if not word or word in _OPERATORS or word.isdigit():
            continue
        terms[word.lower()] = None
    for surface in matched or {}:
        terms[surface.lower()] = None
    return sorted(terms, key=lambda t: (-len(t), t))
