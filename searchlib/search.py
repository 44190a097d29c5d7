"""Searching an index: :func:`open_index` and :class:`Index`, the library's door to an index.

:class:`Index` is a thin facade: it checks the caller's arguments (types, ranges, the sort
order, facet names), then asks the engine's reader (:class:`searchlib.engine.Reader`; today
:class:`searchlib.engine.whoosh.searcher.WhooshReader`) and hands back its answers, which are
searchlib's own models: no engine object or document number reaches the caller.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import Reader, SearchRequest
from .errors import QueryError
from .models import (
    FACET_KINDS,
    SORT_ORDERS,
    Article,
    Hit,
    IndexStats,
    SearchResults,
    SkippedFile,
    SortOrder,
)

if TYPE_CHECKING:
    from .ingest.gazetteer import Gazetteer

__all__ = ["FACET_KINDS", "Index", "SortOrder", "open_index"]


def open_index(path: str | os.PathLike[str] | None = None, *,
               gazetteer: Sequence[str | os.PathLike[str]] = (), warm: bool = True) -> Index:
    """Open the index at ``path`` (default: ``$SEARCH_INDEX`` or ``index/``).

    ``warm`` (the default) prepares for a session of searches: the embedded engine loads
    numpy in the background, and its searches use it as soon as it is loaded. A program
    that makes one search and exits passes False (``search query`` does): on an index under
    50,000 articles that search is then answered without importing numpy at all.

    Raises :class:`~searchlib.errors.IndexNotFoundError` when there is none and
    :class:`~searchlib.errors.IndexCorruptError` when it cannot be read. A folder built with
    ``search index --engine opensearch`` (its ``engine.json``) is searched in its cluster.
    """
    from .config import resolve_index_dir

    directory = resolve_index_dir(path)
    # --- engine choice: a folder with an engine record is read by that engine (issue 17).
    from .engine.opensearch.record import read_engine_record

    record = read_engine_record(directory)
    if record is not None:
        from .engine.opensearch import open_reader

        return Index(directory, gazetteer=gazetteer,
                     reader=open_reader(directory, record, gazetteer=gazetteer))
    return Index(directory, gazetteer=gazetteer, warm=warm)


class Index:
    """An open searchlib index. Use :func:`open_index` to get one; close it when done.

    Its methods may be called from several threads; they run one at a time.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 gazetteer: Sequence[str | os.PathLike[str]] = (),
                 reader: Reader | None = None, warm: bool = True) -> None:
        self.path = Path(path)
        if reader is None:  # the embedded default: the folder is a Whoosh index
            from .engine.whoosh.searcher import WhooshReader

            reader = WhooshReader(self.path, gazetteer=gazetteer, warm=warm)
        self._reader: Reader = reader
        self._engine = reader  # the name tests and tools used before the Reader protocol

    def close(self) -> None:
        """Release the engine's searcher and open files. Closing twice is harmless; any other
        use of a closed index raises :class:`~searchlib.errors.IndexClosedError`."""
        self._reader.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: SortOrder = "relevance",
        actors: str | Sequence[str] = (),
        locations: str | Sequence[str] = (),
        people: str | Sequence[str] = (),
        date_from: str | dt.date | None = None,
        date_to: str | dt.date | None = None,
        snippets: bool = True,
        facets: bool = True,
        ids: Collection[str] | None = None,
        collapse: bool = True,
        cancel: threading.Event | None = None,
    ) -> SearchResults:
        """Run ``query`` and return one page of hits with facet counts.

        Filters: ``actors``, ``locations`` and ``people`` (a name or a list of names; OR
        within a facet, AND across facets; a parent value includes its children),
        ``date_from``/``date_to`` (a date or ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``;
        inclusive). Facet counts are disjunctive: the
        counts of a facet ignore that facet's own selection. ``snippets=False`` and
        ``facets=False`` skip work a caller does not need (``facets`` is then empty).
        ``ids`` restricts the search, its total and its counts to those document ids (the
        articles new since a date, one article whose match is wanted).
        ``collapse`` folds near-duplicate articles into one hit, the first of its group
        (the earliest published) that matches, listing the others in ``Hit.copies``;
        ``total`` then counts the hits, facet counts still count every article.

        Top-level ``actor:``, ``location:``, ``person:`` and ``date:`` clauses of the query
        filter like these options. A search that runs past
        :data:`searchlib.engine.whoosh.searcher.QUERY_TIME_BUDGET` seconds raises
        :class:`QueryError` saying so; setting ``cancel`` (from another thread) stops it with
        :class:`SearchCancelled`.
        """
        if not isinstance(query, str):
            raise QueryError(f"query must be a string, not {type(query).__name__}")
        for name, value in (("limit", limit), ("page", page)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise QueryError(f"{name} must be a whole number, not {type(value).__name__}")
        if limit < 1 or page < 1:
            raise QueryError("limit and page must be positive")
        if sort not in SORT_ORDERS:
            raise QueryError(f"unknown sort {sort!r}; choose relevance, newest or oldest")
        request = SearchRequest(
            query=query, limit=limit, page=page, sort=sort,
            actors=_names(actors, "actors"), locations=_names(locations, "locations"),
            people=_names(people, "people"), date_from=date_from, date_to=date_to,
            snippets=snippets, facets=facets, ids=ids, collapse=collapse, cancel=cancel)
        return self._reader.search(request)

    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` with its document count over the whole index."""
        if kind not in FACET_KINDS:
            raise QueryError(f"unknown facet kind {kind!r}; choose from {', '.join(FACET_KINDS)}")
        return self._reader.facet_values(kind)

    def near_duplicate_groups(self) -> list[tuple[str, ...]]:
        """Every near-duplicate group of the index as document ids, representative first."""
        return self._reader.near_duplicate_groups()

    def get(self, doc_id: str) -> Article:
        """Return the article with id ``doc_id`` (or raise ``KeyError``)."""
        return self._reader.get(doc_id)

    def articles(self) -> Iterator[Article]:
        """Iterate over every article in the index (for export and analysis)."""
        return self._reader.articles()

    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` by its key terms, excluding itself and exact copies."""
        return self._reader.similar(doc_id, limit=limit)

    def stats(self) -> IndexStats:
        """Document count, size on disk, last update and skipped files of this index."""
        return self._reader.stats()

    @property
    def skipped(self) -> tuple[SkippedFile, ...]:
        """Files skipped by the last build, with their reasons."""
        return self._reader.skipped

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer used to resolve facet aliases for this index (loaded on first use)."""
        # Every engine's reader loads one (not part of the Reader protocol yet).
        gazetteer: Gazetteer = getattr(self._reader, "gazetteer")  # noqa: B009
        return gazetteer

    @property
    def doc_count(self) -> int:
        """Number of documents."""
        return self._reader.doc_count


def _names(value: object, name: str) -> tuple[str, ...]:
    """A filter's values as a tuple of names: a single string is one name (``actors="IRGC"``
    is IRGC, not I, R, G, C); anything else must be an iterable of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise QueryError(f"{name} must be a name or a list of names, not "
                         f"{type(value).__name__}")
    try:
        items = tuple(value)
    except TypeError:  # an iterable whose __iter__ refuses
        raise QueryError(f"{name} must be a name or a list of names, not "
                         f"{type(value).__name__}") from None
    for item in items:
        if not isinstance(item, str):
            raise QueryError(f"{name} must be names (strings); got {type(item).__name__} "
                             f"{item!r}")
    return items
