"""What the rest of searchlib needs from a search engine: a reader.

The engines live in subpackages (:mod:`searchlib.engine.whoosh` today); nothing outside them
imports an engine library (``tests/test_layers.py`` enforces it). What crosses this boundary is
engine-neutral: query text (or, later, a parsed query), plain filter values, and searchlib's
own models (:mod:`searchlib.models`). No engine object and no engine document number leaves an
engine: documents are named by their ids.

The protocols are small on purpose, so that a second engine (OpenSearch) can implement them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..models import Article, Hit, IndexStats, SearchResults, SkippedFile, SortOrder

__all__ = ["Reader", "SearchRequest"]


@dataclass(frozen=True)
class SearchRequest:
    """One search, its arguments already checked (by :class:`searchlib.search.Index`)."""

    query: str
    """The user's query text. An engine parses it itself today (Whoosh with Whoosh's query
    parser); once the engine-neutral query package lands, this may also carry its parsed
    query, which each engine translates to its own."""
    limit: int = 10
    """Hits per page (1 or more)."""
    page: int = 1
    """The page wanted, from 1."""
    sort: SortOrder = "relevance"
    """Order of the hits."""
    actors: tuple[str, ...] = ()
    """Filter: any of these actors (or a child of one); AND with the other facets."""
    locations: tuple[str, ...] = ()
    """Filter: any of these locations (or a child of one)."""
    people: tuple[str, ...] = ()
    """Filter: any of these people."""
    date_from: str | dt.date | None = None
    """Filter: published on or after (a date, or ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``)."""
    date_to: str | dt.date | None = None
    """Filter: published on or before (same forms, inclusive)."""
    snippets: bool = True
    """Whether hits carry snippets."""
    facets: bool = True
    """Whether the results carry (disjunctive) facet counts."""
    ids: Collection[str] | None = None
    """Restrict the search, its total and its counts to these document ids."""
    collapse: bool = True
    """Fold near-duplicate articles into one hit (the others in ``Hit.copies``)."""
    cancel: threading.Event | None = None
    """Set from another thread to stop the search."""


@runtime_checkable
class Reader(Protocol):
    """An open index, read-only: searches, facet values, stored documents.

    Methods may be called from several threads. Errors are searchlib's own
    (:class:`~searchlib.errors.QueryError` for a query the engine cannot run, ``KeyError``
    for an unknown document id).
    """

    def search(self, request: SearchRequest) -> SearchResults:
        """Evaluate the request's query with its filters: one page of ranked hits (with
        their matched terms as snippet marks), the total, facet counts and, when few match,
        a spelling suggestion built from the index's term statistics."""

    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` with its document count over the whole index."""

    def get(self, doc_id: str) -> Article:
        """The stored article with id ``doc_id``."""

    def articles(self) -> Iterator[Article]:
        """Every article of the index."""

    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` by its key terms, excluding itself and exact
        copies."""

    def near_duplicate_groups(self) -> list[tuple[str, ...]]:
        """Every near-duplicate group as document ids, representative first."""

    def stats(self) -> IndexStats:
        """Document count, size, last update and skipped files."""

    @property
    def skipped(self) -> tuple[SkippedFile, ...]:
        """Files skipped by the last build."""

    @property
    def doc_count(self) -> int:
        """Number of documents."""

    def close(self) -> None:
        """Release the engine's resources (closing twice is harmless)."""
