"""What the rest of searchlib needs from a search engine: a reader and a writer.

The engines live in subpackages (:mod:`searchlib.engine.whoosh` today); nothing outside them
imports an engine library (``tests/test_layers.py`` enforces it). What crosses this boundary is
engine-neutral: query text (or, later, a parsed query), plain filter values, and searchlib's
own models (:mod:`searchlib.models`). No engine object and no engine document number leaves an
engine: documents are named by their ids.

The builder (:mod:`searchlib.build`) hands a :class:`Writer` prepared documents
(:class:`IndexDocument`) and gets back, for each document written in a batch that is not yet
committed, a :class:`DocHandle` it can only give back (to leave that copy out of the commit).

The protocols are small on purpose, so that a second engine (OpenSearch) can implement them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..models import Article, Hit, IndexStats, SearchResults, SkippedFile, SortOrder

if TYPE_CHECKING:  # not at run time: searching needs no ingest modules loaded
    from ..ingest.prepare import PreparedDocument

__all__ = ["BatchWriter", "DocHandle", "FileProcessor", "FileResult", "IndexDocument", "Reader",
           "SearchRequest", "Writer"]


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


# --- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexDocument:
    """One prepared record, ready for any engine to index."""

    key: str
    """The record's key (its file's path, with ``#n`` for a record inside a file)."""
    content_hash: str
    """The hash of its cleaned text: equal texts are indexed once."""
    prepared: PreparedDocument
    """The cleaned article, its metadata and extraction."""
    minhash: str | None
    """Its text's MinHash signature, encoded (``None``: too short to have one)."""


#: Turns one file into ``(documents, skipped)``; runs wherever the engine writes (the
#: Whoosh engine: its worker processes).
FileProcessor = Callable[[str], tuple[list[IndexDocument], list[SkippedFile]]]


@dataclass(frozen=True)
class DocHandle:
    """Where a writer put one document of the batch it has not committed yet.

    Meaningful only to the writer that made it, and only until that batch's commit: the
    builder keeps it to name the copy to leave out (a duplicate of a text kept elsewhere).
    """

    part: int
    position: int


@dataclass(frozen=True)
class FileResult:
    """What a writer did with one file: ``records`` holds ``(key, content hash, handle)`` for
    each document written, ``skipped`` the records (or the whole file) left out, with why."""

    path: str
    records: tuple[tuple[str, str, DocHandle], ...]
    skipped: tuple[SkippedFile, ...]


@runtime_checkable
class BatchWriter(Protocol):
    """Writes files' documents in batches, each committed at once or not at all.

    A context manager: leaving it stops whatever worker processes it started. After an error
    or interrupt the uncommitted batch is gone (and the workers with it).
    """

    def __enter__(self) -> BatchWriter:
        """Itself."""

    def __exit__(self, *exc: object) -> None:
        """Stop the workers (see :meth:`close`)."""

    def write(self, paths: Sequence[str], on_file: Callable[[FileResult], None],
              procs: int | None = None) -> None:
        """Start a batch: process ``paths`` and write their documents, uncommitted.

        ``on_file`` is called in this process for each file as it is done. ``procs=1`` runs
        the batch in this process (waking workers costs more than a few files take).
        """

    def write_more(self, paths: Sequence[str], on_file: Callable[[FileResult], None]) -> None:
        """Add the documents of more ``paths`` to the batch, in this process."""

    def commit(self, drop: Iterable[DocHandle], delete_ids: Iterable[str]) -> None:
        """Make the batch part of the index in one step, leaving out the documents at
        ``drop``; the documents with ids ``delete_ids`` (replaced or removed) already in the
        index are deleted in the same step."""

    def close(self) -> None:
        """Let the workers finish and exit."""


@runtime_checkable
class Writer(Protocol):
    """An index open for writing; one at a time (the builder holds the index's lock)."""

    def batches(self, process: FileProcessor, procs: int) -> BatchWriter:
        """A batch writer whose ``procs`` workers turn files into documents with
        ``process``."""

    def doc_count(self) -> int:
        """Number of documents committed."""

    def facet_terms(self, kinds: Sequence[str]) -> dict[str, list[str]]:
        """Every value of each facet in ``kinds`` that some committed document has."""

    def stored_signatures(
            self) -> AbstractContextManager[Callable[[str], tuple[str | None, str | None]]]:
        """A function giving a committed document's ``(MinHash signature, publication
        date)`` by its id, valid inside the context (``(None, None)`` for an unknown id)."""

    def finish(self, refresh: bool) -> None:
        """Close the index and write what its readers load instead of reading the whole
        index (the Whoosh engine: facet data and term list), all again when ``refresh`` and
        otherwise only what is missing or damaged."""
