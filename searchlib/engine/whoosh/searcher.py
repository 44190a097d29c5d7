"""The Whoosh engine's reader: query parsing, ranking, filters, disjunctive facet counts,
snippets, spelling suggestions and stored documents, answered as searchlib's models.

:class:`WhooshReader` implements :class:`searchlib.engine.Reader` (the facade
:class:`searchlib.search.Index` checks the caller's arguments first). It keeps one Whoosh
searcher open and reuses it (refreshing it when a writer has committed), and keeps, per
searcher, the documents of every facet value as Python ints used as bitsets
(:mod:`.facetstore`: loaded from the index folder, or computed when the stored copy is missing
or stale). Facet counts are then ANDs and popcounts of those bitsets (or, on large indexes,
numpy gathers and popcounts: :meth:`facetstore.FacetData.counts`) rather than Whoosh's
``groupedby``, which re-reads every matching document's values on each query. The matching
documents and their scores come from :mod:`.evaluate` (Whoosh's own search only for the
queries it does not handle), the page from a top-N of those scores or a walk of the cached
date order (:mod:`.pages`). The query text's parsing helpers are in :mod:`.parsing`, snippets
in :mod:`.snippets`, did-you-mean in :mod:`.suggestions`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import qparser  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.util.times import datetime_to_long  # noqa: E402

from ... import neargroups  # noqa: E402
from ...errors import IndexClosedError, IndexCorruptError, QueryError, SearchCancelled  # noqa: E402
from ...layout import index_paths, load_manifest, read_meta  # noqa: E402
from ...models import (  # noqa: E402
    DATE_FACETS,
    ENTITY_FACETS,
    FACET_KINDS,
    Article,
    EntityMention,
    Hit,
    IndexStats,
    QueryFilter,
    SearchResults,
    SkippedFile,
    SortOrder,
)
from ...query.limits import (  # noqa: E402 (the bounds shared with the OpenSearch engine)
    EXPANSION_BUDGET,
    EXPANSION_CAP,
    QUERY_TIME_BUDGET,
    check_patterns,
    pattern_cap,
    too_broad,
)
from ...query.parser import FIELD_ALIASES, parenthesized, prepare  # noqa: E402
from .. import SearchRequest  # noqa: E402
from ..facetnames import FacetNames  # noqa: E402
from . import evaluate, facetstore, ranking  # noqa: E402
from .analysis import TokenTable  # noqa: E402
from .pages import select_page  # noqa: E402
from .parsing import (  # noqa: E402
    QueryFilters,
    as_bound,
    every_document,
    find_error,
    lift_filters,
    pattern_text,
)
from .schema import FACET_FIELDS, SEARCH_FIELDS  # noqa: E402
from .snippets import SnippetHighlighter, snippet_of  # noqa: E402
from .suggestions import suggest  # noqa: E402

if TYPE_CHECKING:
    from ...ingest.gazetteer import Gazetteer

__all__ = ["WhooshReader"]
_PATTERN_QUERIES = (wq.FuzzyTerm, wq.Prefix, wq.Wildcard, wq.TermRange)
#: Stored records kept per searcher (least recently used dropped first).
_STORED_CACHE = 512
#: Token tables of shown bodies kept per searcher (about 8 KB each for a 600-word article;
#: as many as the stored records): a query showing articles shown recently finds its
#: snippet words without analysing the bodies again.
_TABLE_CACHE = 512


_T = TypeVar("_T")


def _remembered(cache: dict[int, _T], docnum: int, limit: int, make: Callable[[int], _T]) -> _T:
    """``cache[docnum]``, made by ``make`` when missing; ``cache`` keeps the ``limit`` most
    recently used entries (a dict keeps insertion order: the oldest is dropped first)."""
    found = cache.pop(docnum, None)
    if found is None:
        found = make(docnum)
        if len(cache) >= limit:
            del cache[next(iter(cache))]
    cache[docnum] = found
    return found


_bits = facetstore.bits_of
_iter_bits = facetstore.iter_bits


_F = TypeVar("_F", bound=Callable[..., Any])


def _serialized(method: _F) -> _F:
    """Run ``method`` holding the index's lock.

    Segment files are read with seek-then-read on file objects shared by every reader of the
    searcher, and the per-searcher caches are plain dicts: one call at a time (the TUI reads
    an article on its main thread while a search runs in a worker).
    """

    @functools.wraps(method)
    def locked(self: WhooshReader, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._check_open()
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


#: Set once numpy is imported by :func:`load_numpy_in_background` (see ``WhooshReader._dense``).
_NUMPY_READY = threading.Event()
_numpy_loader: threading.Thread | None = None
_numpy_loader_lock = threading.Lock()


def load_numpy_in_background() -> None:
    """Import numpy in a thread of its own, once per process, and set :data:`_NUMPY_READY`.

    Importing numpy costs 0.08-0.15 s of CPU. A session (the TUI, a script) pays it while
    it opens the index rather than inside one of its searches; the thread is not a daemon,
    so an interpreter that exits during the import waits for it instead of tearing down a
    half-imported extension module.
    """
    global _numpy_loader
    with _numpy_loader_lock:
        if _numpy_loader is None:
            _numpy_loader = threading.Thread(target=_load_numpy, name="searchlib-numpy")
            _numpy_loader.start()


def _load_numpy() -> None:
    import numpy  # noqa: F401  (the import is the work)

    _NUMPY_READY.set()


class WhooshReader:
    """An open searchlib index. Use :func:`open_index` to get one; close it when done.

    Its methods may be called from several threads; they run one at a time. ``warm`` loads
    numpy in the background (see :func:`load_numpy_in_background`) so that a session's
    searches are evaluated on arrays from its first one, without waiting for the import.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 gazetteer: Sequence[str | os.PathLike[str]] = (), warm: bool = True) -> None:
        self.path = Path(path)
        self._closed = False
        self._lock = threading.RLock()
        self._meta = read_meta(self.path)
        self._whoosh_dir, _, _ = index_paths(self.path)
        self._ix, self._searcher, self._whoosh_id = self._open_whoosh()
        self._names = FacetNames(self.path, gazetteer)
        self._facets: facetstore.FacetData | None = None
        self._evaluation: evaluate.Evaluator | None = None
        self._terms: Any = None  # searchlib.engine.whoosh.lexicon.Lexicon, loaded on first use
        # (pattern, index terms kept) of the search running: named if it runs out of time.
        self._broadest: list[tuple[str, int]] = []
        # Set once a search has completed: from then on queries are evaluated and facets
        # counted on numpy arrays whatever the index's size (see _dense).
        self._searched = False
        # True or False pins one form for every search (the tests compare the two).
        self._dense_pinned: bool | None = None
        self._stored_docs: dict[int, dict[str, Any]] = {}
        self._tables: dict[int, TokenTable] = {}
        self._parser = self._make_parser()
        self._warm = warm
        # Whether the background import had finished when the last search started: read
        # once per search, so that its facet counts and its evaluation take the same form.
        self._numpy_loaded = False
        if warm:  # after the index opened: a folder that is no index starts nothing
            load_numpy_in_background()
        self._manifest: dict[str, Any] | None = None
        # Record key -> content hash, and content hash -> record keys (for duplicates).
        self._records: tuple[dict[str, str], dict[str, list[str]]] | None = None
        # Near-duplicate groups as docnums and ids (see _near_groups).
        self._groups: list[tuple[list[int], list[str]]] | None = None
        self._group_of: dict[str, list[str]] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the searcher and its open files. Closing twice is harmless; any other use
        of a closed index raises :class:`~searchlib.errors.IndexClosedError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._searcher.close()
            self._ix.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"index at {self.path} has been closed; open it again "
                                   "with open_index()")

    def __enter__(self) -> WhooshReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_whoosh(self) -> tuple[Any, Any, tuple[int, int]]:
        """Open the Whoosh index and a searcher; also return the folder's identity."""
        try:
            folder = os.stat(self._whoosh_dir)
            # Without mmap: Whoosh copies every memory-mapped segment file it opens into a
            # BytesIO (hundreds of MB at 10,000 articles, ~0.2 s before the first query);
            # plain file reads serve the few blocks a search touches as fast.
            ix = FileStorage(str(self._whoosh_dir), supports_mmap=False).open_index()
            searcher = ix.searcher(weighting=ranking.weighting())
        except Exception as exc:  # Whoosh raises many types for damaged files
            raise IndexCorruptError(
                f"index at {self.path} is damaged ({type(exc).__name__}: {exc}); "
                "run `search index --rebuild`") from None
        return ix, searcher, (folder.st_dev, folder.st_ino)

    def _rebuilt(self) -> bool:
        """True when the Whoosh folder was replaced (a rebuild swapped a new index in)."""
        try:
            folder = os.stat(self._whoosh_dir)
        except OSError:
            return False  # mid-swap on a system without atomic exchange: keep the old one
        return (folder.st_dev, folder.st_ino) != self._whoosh_id

    def _forget(self) -> None:
        """Drop everything cached from the previous generation of the index."""
        self._facets = None
        self._evaluation = None
        self._terms = None
        self._stored_docs = {}
        self._tables = {}
        self._names.forget()
        self._manifest = None
        self._records = None
        self._groups = None
        self._group_of = None

    def _fresh(self) -> Any:
        """The searcher, reopened if a writer committed since it was opened.

        A commit adds a generation to the same Whoosh folder, and Whoosh's refresh reuses
        the segments both generations share. A rebuild swaps in a different folder whose
        segments and generation numbers have nothing to do with the old ones: refreshing
        across it mixed the two (every document counted twice), so the index is reopened
        whole instead, with its metadata.
        """
        if self._rebuilt():
            ix, searcher, whoosh_id = self._open_whoosh()
            try:
                meta = read_meta(self.path)
            except IndexCorruptError:
                meta = self._meta  # only statistics come from it; the index itself opened
            old_ix, old_searcher = self._ix, self._searcher
            self._ix, self._searcher, self._whoosh_id, self._meta = ix, searcher, whoosh_id, meta
            old_searcher.close()
            old_ix.close()
            self._forget()
            return self._searcher
        if not self._searcher.up_to_date():
            try:
                self._searcher = self._searcher.refresh()
            except TypeError:
                # Whoosh cannot refresh a searcher opened on an index without segments.
                stale = self._searcher
                self._searcher = self._ix.searcher(weighting=ranking.weighting())
                stale.close()
            self._forget()
        return self._searcher

    # --- parsing ---------------------------------------------------------------------------

    def _make_parser(self) -> Any:
        parser = qparser.MultifieldParser(
            list(SEARCH_FIELDS), self._ix.schema, fieldboosts=ranking.FIELD_BOOSTS,
            group=ranking.query_group())
        parser.add_plugin(qparser.FuzzyTermPlugin())
        parser.add_plugin(qparser.GtLtPlugin())
        # Whoosh's default "-" marker fires inside words ("2017-06", "US-led"); only a "-"
        # or "+" that starts a word is an operator.
        parser.replace_plugin(qparser.PlusMinusPlugin(
            plusexpr=r"(?:^|(?<=[\s(]))\+(?=\S)", minusexpr=r"(?:^|(?<=[\s(]))-(?=\S)"))
        parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        return parser

    @_serialized
    def parse(self, text: str) -> Any:
        """Parse query text into a Whoosh query, or raise :class:`QueryError` (one line).

        Every clause keeps its boolean meaning here, ``actor:`` and ``date:`` included;
        :meth:`search` lifts the top-level facet and date clauses out as filters first
        (:meth:`_parse_filters`).
        """
        stripped = self._prepare(text)
        if stripped is None:
            return wq.Every()
        self._fresh()  # facet values resolve against the current index
        return self._to_query(self._process(stripped))

    @_serialized
    def _parse_filters(self, text: str) -> tuple[Any, QueryFilters]:
        """Split query text into the Whoosh query that scores and the filters it states.

        A top-level ``actor:``, ``location:``, ``person:`` or ``date:`` clause (one beside
        the others, in a chain of ANDs, or required with ``+``) filters like the options
        ``--actor``, ``--location``, ``--person``, ``--from``/``--to``; inside an explicit
        OR or parentheses it keeps its boolean meaning. The query of a text made only of
        filters is :class:`whoosh.query.Every`.
        """
        stripped = self._prepare(text)
        if stripped is None:
            return wq.Every(), QueryFilters()
        nodes = self._process(stripped)
        filters = QueryFilters(text=stripped, offset=len(text) - len(text.lstrip()))
        # Whoosh unwraps parentheses around a whole query; they still mean a group.
        rest = nodes if parenthesized(stripped) else lift_filters(nodes, filters, self._parser)
        return (wq.Every() if rest is None else self._to_query(rest, filters.warnings)), filters

    @staticmethod
    def _prepare(text: str) -> str | None:
        """The text the parser reads (None: every document), or raise QueryError."""
        return prepare(text)

    def _process(self, stripped: str) -> Any:
        """The parser's syntax tree of ``stripped``."""
        try:
            return self._parser.process(stripped)
        except QueryError:
            raise
        except Exception as exc:  # Whoosh's parser raises assorted types on odd input
            raise QueryError(f"cannot parse query: {exc}") from None

    def _to_query(self, nodes: Any, warnings: list[str] | None = None) -> Any:
        """The normalised, coordinated query of a syntax tree (as ``QueryParser.parse``),
        with its fuzzy, wildcard and prefix terms expanded (``warnings`` hears of cuts)."""
        try:
            q = nodes.query(self._parser) or wq.NullQuery
            q = q.normalize()
        except QueryError:
            raise
        except Exception as exc:  # Whoosh's parser raises assorted types on odd input
            raise QueryError(f"cannot parse query: {exc}") from None
        error = find_error(q)
        if error:
            raise QueryError(error)
        q = self._expand_patterns(self._resolve_facet_terms(q),
                                  warnings if warnings is not None else [])
        return ranking.coordinate(q)

    def _expand_patterns(self, q: Any, warnings: list[str]) -> Any:
        """Replace each fuzzy, wildcard and prefix term on ``title``/``body`` with the index
        terms it stands for (:class:`ranking.Expanded`), within the query's budget.

        Too many such terms, too many wildcards in one, or too large an edit distance is
        refused with a :class:`QueryError` naming the part; an expansion over its cap keeps
        its closest, then most frequent, terms and adds a warning.
        """
        patterns: list[Any] = []
        q = every_document(q)

        def collect(node: Any) -> None:
            if isinstance(node, _PATTERN_QUERIES):
                if node.fieldname in SEARCH_FIELDS:
                    patterns.append(node)
            elif not node.is_leaf():
                for child in node.children():
                    collect(child)

        collect(q)
        if not patterns:
            return q
        check_patterns(
            [pattern_text(p) for p in patterns],
            [(pattern_text(n), int(n.maxdist)) for n in patterns if isinstance(n, wq.FuzzyTerm)],
            [(pattern_text(n), n.text) for n in patterns if isinstance(n, wq.Wildcard)])
        cap = pattern_cap(len(patterns), EXPANSION_CAP, EXPANSION_BUDGET)
        terms = self._lexicon()
        cut: dict[str, tuple[int, bool]] = {}

        def expand(node: Any) -> Any:
            if isinstance(node, _PATTERN_QUERIES) and node.fieldname in SEARCH_FIELDS:
                field_terms = terms.field(node.fieldname)
                fuzzy = isinstance(node, wq.FuzzyTerm)
                if fuzzy:
                    found = field_terms.fuzzy(node.text, int(node.maxdist), node.prefixlength,
                                              cap)
                elif isinstance(node, wq.Prefix):
                    found = field_terms.prefix(node.text, cap)
                elif isinstance(node, wq.TermRange):
                    found = field_terms.between(node.start, node.end, node.startexcl,
                                                node.endexcl, cap)
                else:
                    found = field_terms.wildcard(node.text, cap)
                self._broadest.append((pattern_text(node), len(found.terms)))
                ranking.check_budget()
                if found.cut:
                    shown = pattern_text(node)
                    cut[shown] = (max(found.found, cut.get(shown, (0, fuzzy))[0]), fuzzy)
                expanded = ranking.Expanded(
                    [wq.Term(node.fieldname, t, boost=node.boost) for t in found.terms],
                    word=(type(node).__name__, pattern_text(node)))
                expanded.startchar = getattr(node, "startchar", None)
                expanded.endchar = getattr(node, "endchar", None)
                return expanded
            if node.is_leaf():
                return node
            return node.apply(expand)

        q = expand(q)
        for shown, (found_count, fuzzy) in cut.items():
            which = "closest, then most frequent" if fuzzy else "most frequent"
            warnings.append(f"'{shown}' matches {found_count:,} terms; searched the {cap:,} "
                            f"{which}")
        return q

    def _lexicon(self) -> Any:
        """The sorted terms of the searchable fields (:mod:`.lexicon`): stored at commit;
        built and stored here when missing or stale."""
        if self._terms is None:
            from . import lexicon  # imports rapidfuzz: only queries with patterns pay it

            # The current searcher: the list saved below must describe the committed state.
            reader = self._searcher.reader()  # refreshed by the search (see _facet_cache)
            key = facetstore.index_key(reader)
            found = lexicon.load(self.path, key)
            if found is None:
                # Another process committed since: the segments it did not add have their
                # terms stored, the new ones are read (and stored) here.
                found = lexicon.build(reader, SEARCH_FIELDS, key,
                                      whoosh_dir=index_paths(self.path)[0], store=True)
                # A read-only index: each process builds the list in memory.
                with contextlib.suppress(OSError):
                    lexicon.save(self.path, found)
            self._terms = found
        return self._terms

    def _resolve_facet_terms(self, q: Any) -> Any:
        """Map facet values to the names indexed: aliases (``actor:Daesh`` -> ISIS) and case."""
        if isinstance(q, wq.Term) and q.fieldname in FACET_FIELDS.values():
            return wq.Term(q.fieldname, self._facet_value(q.fieldname, str(q.text)),
                           boost=q.boost)
        if isinstance(q, wq.Phrase) and q.fieldname in FACET_FIELDS.values():
            return wq.Term(q.fieldname, self._facet_value(q.fieldname, " ".join(q.words)))
        if q.is_leaf():
            return q
        return q.apply(self._resolve_facet_terms)

    def _facet_value(self, facet: str, value: str) -> str:
        return self._names.resolve(facet, value, lambda f: self._facet_cache().lower(f))

    # --- facets ----------------------------------------------------------------------------

    def _dense(self) -> bool | None:
        """True once numpy is loaded or this index has answered a search; None: let the
        index's size decide.

        numpy evaluates a query 1.2-1.7x faster than dicts and sets even on 1,000 to 10,000
        articles (p95 13 ms against 23 ms at 10,000), but importing it costs ~0.15 s, more
        than a whole query there. A one-shot ``search query`` (``warm=False``) makes one
        search and never pays it. A session loads numpy in the background as it opens and
        uses arrays as soon as the import is done; one opened with ``warm=False`` that makes
        a second search pays the import in that search.
        """
        if self._dense_pinned is not None:
            return self._dense_pinned
        return True if self._searched or self._numpy_loaded else None

    def _facet_cache(self) -> facetstore.FacetData:
        # Never refreshes: a search refreshes once, at its start, and everything it reads
        # must come from that one generation (a second refresh in the middle of a search,
        # across another process's rebuild, closed the reader the search was using).
        searcher = self._searcher
        if self._facets is None:
            # Stored by the indexer after its commit; computed here when missing or stale.
            reader = searcher.reader()
            self._facets = facetstore.load(self.path, reader) or facetstore.build(reader)
        dense = self._dense()
        if dense is not None:
            self._facets.dense = dense
        return self._facets

    def _evaluator(self) -> evaluate.Evaluator:
        # Callers refreshed the searcher already (each _fresh() lists the index folder).
        searcher = self._searcher
        dense = self._dense()
        if self._evaluation is None or (dense is not None and self._evaluation.dense != dense):
            self._evaluation = evaluate.Evaluator(searcher, dense=dense,
                                                   folder=self._whoosh_dir)
        return self._evaluation

    @_serialized
    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` (one of :data:`~searchlib.models.FACET_KINDS`) with
        its document count over the whole index."""
        self._fresh()
        cache = self._facet_cache()
        counts = {v: b.bit_count() for v, b in cache.values(kind).items()}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def _selection_bits(self, facet: str, selected: Sequence[str], warnings: list[str],
                        clauses: Sequence[Any] = ()) -> int | None:
        """The documents a facet's filter keeps: any of the ``selected`` values (rolled
        up), and every one of ``clauses`` (queries such as ``actor:Hez*``); None: no filter.
        """
        if not selected and not clauses:
            return None
        cache = self._facet_cache()
        bits = 0 if selected else cache.live
        for value in selected:
            name = self._facet_value(facet, value)
            found = cache.values(facet).get(name)
            if found is None:
                warnings.append(self._unknown_value(facet, value))
                continue
            bits |= found
        for clause in clauses:
            bits &= _bits(self._searcher.docs_for_query(clause), cache.size)
        return bits

    @staticmethod
    def _date_clause_bits(cache: facetstore.FacetData, clause: Any) -> int:
        """The dated documents a ``date:`` clause keeps (``date:*``: every dated one)."""
        if isinstance(clause, wq.DateRange):
            lo, hi = clause.startdate, clause.enddate
            return cache.dated_between(datetime_to_long(lo) if lo else None,
                                       datetime_to_long(hi) if hi else None)
        return cache.dated_between(None, None)

    def _unknown_value(self, facet: str, value: str) -> str:
        """Explain a filter value the index does not hold, suggesting near names."""
        key = value.strip().lower()
        names = list(self._facet_cache().values(facet))
        close = [n for n in names if n.lower().startswith(key + " ") or key in n.lower()]
        close += difflib.get_close_matches(value, names, n=3, cutoff=0.75)
        hint = f"; did you mean {' or '.join(repr(n) for n in dict.fromkeys(close[:3]))}?" \
            if close else ""
        return f"no {facet} {value!r} in this index{hint}"

    # --- search ----------------------------------------------------------------------------

    @_serialized
    def search(self, request: SearchRequest) -> SearchResults:
        """Run ``request`` (its arguments checked by :meth:`searchlib.search.Index.search`,
        which documents them) and return one page of hits with facet counts.

        A search that runs past :data:`QUERY_TIME_BUDGET` seconds raises :class:`QueryError`
        saying so; setting ``request.cancel`` (from another thread) stops it with
        :class:`SearchCancelled`.
        """
        self._broadest = []
        query = request.query
        try:
            with ranking.budget(QUERY_TIME_BUDGET, request.cancel):
                return self._search(query, limit=request.limit, page=request.page,
                                    sort=request.sort, actors=request.actors,
                                    locations=request.locations, people=request.people,
                                    date_from=request.date_from, date_to=request.date_to,
                                    snippets=request.snippets, facets=request.facets,
                                    ids=request.ids, collapse=request.collapse)
        except ranking.OverBudget as over:
            if over.cancelled:
                raise SearchCancelled("search cancelled") from None
            broadest = ""
            if self._broadest:
                # Name the patterns that stood for the most index terms (all fields).
                per_pattern: dict[str, int] = {}
                for pattern, count in self._broadest:
                    per_pattern[pattern] = per_pattern.get(pattern, 0) + count
                top = sorted(per_pattern.items(), key=lambda b: -b[1])[:3]
                broadest = ", ".join(f"'{t}' ({n:,} terms)" for t, n in top)
            raise QueryError(too_broad(query, QUERY_TIME_BUDGET, broadest)) from None

    def _search(self, query: str, *, limit: int, page: int, sort: SortOrder,
                actors: Sequence[str], locations: Sequence[str], people: Sequence[str],
                date_from: str | dt.date | None, date_to: str | dt.date | None,
                snippets: bool, facets: bool, ids: Collection[str] | None,
                collapse: bool) -> SearchResults:
        started = time.perf_counter()
        if self._warm and not self._numpy_loaded:
            self._numpy_loaded = _NUMPY_READY.is_set()
        # The one refresh of this search: everything below reads this generation.
        searcher = self._fresh()
        q, lifted = self._parse_filters(query)
        cache = self._facet_cache()
        lo = as_bound(date_from, end=False)
        hi = as_bound(date_to, end=True)
        if lo and hi and lo > hi:
            raise QueryError("--from is after --to")
        evaluation = None
        if isinstance(q, wq.Every):
            matched = cache.live
        else:
            evaluation = self._evaluator().evaluate(q)
            matched = (evaluation.bits(cache.size) if evaluation is not None
                       else _bits(_budgeted(searcher.docs_for_query(q)), cache.size)
                       ) & cache.live
        if ids is not None:
            matched &= self._id_bits(ids)
        date_bits = None
        if lo or hi:
            # The stored date of each document, compared as Whoosh's DateRange compares the
            # indexed values (inclusive bounds, undated documents never match).
            date_bits = cache.dated_between(datetime_to_long(lo) if lo else None,
                                            datetime_to_long(hi) if hi else None)
        for clause in lifted.dates:
            kept = self._date_clause_bits(cache, clause)
            date_bits = kept if date_bits is None else date_bits & kept
        warnings: list[str] = list(lifted.warnings)
        given = {"actor": actors, "location": locations, "person": people}
        selections: dict[str, int | None] = {
            kind: self._selection_bits(kind, [*given[kind], *lifted.values[kind]],
                                       warnings, lifted.clauses[kind])
            for kind in ENTITY_FACETS}
        typed = tuple(replace(typed_filter, name=self._indexed_name(cache, typed_filter))
                      if exact else typed_filter for typed_filter, exact in lifted.typed)
        final = matched if date_bits is None else matched & date_bits
        for bits in selections.values():
            if bits is not None:
                final &= bits
        counts = self._count_facets(cache, matched, date_bits, selections) if facets else {}
        copies: dict[int, tuple[str, ...]] = {}
        if collapse:
            final, copies = self._collapse(final)
        total = final.bit_count()
        hits: list[Hit] = []
        suggestion = None
        if total > (page - 1) * limit:  # a page past the last one is empty
            # Every document scores the same for a match-all query: newest first is the
            # useful order there (and a stable one, unlike the order of segments).
            order = "newest" if sort == "relevance" and isinstance(q, wq.Every) else sort
            # Without filters Whoosh can score top-N with its block-quality shortcuts
            # instead of visiting every match through a filter set.
            filtered = final != matched
            hits = self._page(q, final, limit=limit, page=page, sort=order, snippets=snippets,
                              filtered=filtered, evaluation=evaluation)
            if copies:
                hits = [replace(h, copies=copies[n]) if n in copies else h
                        for h, n in zip(hits, self._docnums(hits), strict=True)]
        if total < 3 and not isinstance(q, wq.Every):
            suggestion = self._suggest(query, q, total)
        self._searched = True
        return SearchResults(query=query, total=total, hits=tuple(hits), facets=counts,
                             suggestion=suggestion, page=page, limit=limit,
                             elapsed=time.perf_counter() - started, warnings=tuple(warnings),
                             filters=typed)

    def _indexed_name(self, cache: facetstore.FacetData, typed: QueryFilter) -> str | None:
        """The facet value a filter typed in the query selects, if the index holds it."""
        name = self._facet_value(typed.kind, typed.value)
        return name if name in cache.values(typed.kind) else None

    def _near_groups(self) -> list[tuple[list[int], list[str]]]:
        """The near-duplicate groups as (docnums, ids), representative first, for this
        searcher (loaded on first use; ids no longer in the index are left out)."""
        if self._groups is None:
            searcher = self._searcher
            groups = []
            for g in neargroups.load_groups(self.path):
                members = [(searcher.document_number(id=i), i) for i in g.ids]
                present = [(n, i) for n, i in members if n is not None]
                if len(present) > 1:
                    groups.append(([n for n, _ in present], [i for _, i in present]))
            self._groups = groups
        return self._groups

    def _collapse(self, final: int) -> tuple[int, dict[int, tuple[str, ...]]]:
        """``final`` with only the first matching member of each near-duplicate group, and
        for each kept member the ids of the others that matched."""
        copies: dict[int, tuple[str, ...]] = {}
        groups = self._near_groups()
        if not groups:
            return final, copies
        # Membership read from the bitset's bytes, and the copies cleared with one mask:
        # shifting a 100,000-bit int per member would cost more than the search.
        members = final.to_bytes((max(final.bit_length(), 1) + 7) // 8, "little")
        dropped = 0
        for docnums, ids in groups:
            matching = [(n, i) for n, i in zip(docnums, ids, strict=True)
                        if n >> 3 < len(members) and facetstore.has_bit(members, n)]
            if len(matching) < 2:
                continue
            for n, _ in matching[1:]:
                dropped |= 1 << n
            copies[matching[0][0]] = tuple(i for _, i in matching[1:])
        return final & ~dropped, copies

    def _docnums(self, hits: Sequence[Hit]) -> list[int | None]:
        searcher = self._searcher
        return [searcher.document_number(id=h.id) for h in hits]

    def near_duplicate_groups(self) -> list[tuple[str, ...]]:
        """Every near-duplicate group of the index as document ids, representative first."""
        with self._lock:
            self._fresh()
            return [tuple(ids) for _, ids in self._near_groups()]

    def _id_bits(self, ids: Collection[str]) -> int:
        """The documents with these ids, as a bitset (ids not in the index are ignored)."""
        searcher = self._searcher  # refreshed by search()
        bits = 0
        for value in ids:
            docnum = searcher.document_number(id=value)
            if docnum is not None:
                bits |= 1 << docnum
        return bits

    def _count_facets(self, cache: facetstore.FacetData, matched: int, date_bits: int | None,
                      selections: Mapping[str, int | None]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind in FACET_KINDS:
            # A facet's counts ignore its own selection (post_filter semantics); the date
            # histogram likewise ignores the date range so a timeline shows what is outside.
            ctx = matched
            if date_bits is not None and kind not in ("year", "month"):
                ctx &= date_bits
            for other, bits in selections.items():
                if other != kind and bits is not None:
                    ctx &= bits
            counts = cache.counts(kind, ctx)
            if kind in DATE_FACETS:
                out[kind] = dict(sorted(counts.items()))
            else:
                out[kind] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _page(self, q: Any, final: int, *, limit: int, page: int, sort: str,
              snippets: bool, filtered: bool = True,
              evaluation: evaluate.Evaluation | None = None) -> list[Hit]:
        start = (page - 1) * limit
        results, page_hits = select_page(
            self._searcher, q, final, start=start, wanted=page * limit, sort=sort,
            filtered=filtered, evaluation=evaluation, facet_cache=self._facet_cache)
        results.highlighter = SnippetHighlighter()
        if snippets and page_hits:
            evaluate.preload_chars(results, "body",
                                   self._evaluation if evaluation is not None else None,
                                   tables=self._token_table,
                                   docnums=[hit.docnum for hit in page_hits])
        return [self._make_hit(hit, rank, snippets)
                for rank, hit in enumerate(page_hits, start + 1)]

    def _stored(self, docnum: int) -> dict[str, Any]:
        """Stored fields of a document, from a small per-searcher cache (each read unpickles
        a compressed record; the hits of a query are often shown again). Callers refresh
        the searcher first."""
        return _remembered(self._stored_docs, docnum, _STORED_CACHE,
                           self._searcher.stored_fields)

    def _token_table(self, docnum: int) -> TokenTable:
        """The token table of a document's body (:func:`.evaluate.token_table`), from a
        small per-searcher cache. Callers refresh the searcher first."""
        return _remembered(self._tables, docnum, _TABLE_CACHE, lambda d: evaluate.token_table(
            self._searcher.schema["body"], self._stored(d).get("body", "")))

    def _make_hit(self, hit: Any, rank: int, snippets: bool) -> Hit:
        stored = self._stored(hit.docnum)
        info = json.loads(stored.get("info") or "{}")
        body = stored.get("body", "")
        snippet, spans = snippet_of(hit, body) if snippets else ("", ())
        return Hit(
            id=stored["id"], path=stored["path"], title=stored.get("title", ""),
            published=_parse_iso(info.get("published")),
            actors=tuple(info.get("actors", ())), locations=tuple(info.get("locations", ())),
            people=tuple(info.get("people", ())),
            # With a sort order Whoosh puts the sort key in .score; only report real scores.
            score=float(hit.score) if isinstance(hit.score, (int, float)) else 0.0,
            snippet=snippet, highlights=spans, rank=rank,
            published_source=info.get("published_source"))

    def _suggest(self, text: str, q: Any, total: int) -> str | None:
        """A better-spelled query built from the index vocabulary, if it finds more."""
        # The search's own generation (see _facet_cache).
        return suggest(self._searcher, self._lexicon, lambda better: self._parse_filters(better)[0],
                       text, q, total)

    # --- documents -------------------------------------------------------------------------

    @_serialized
    def get(self, doc_id: str) -> Article:
        """Return the article with id ``doc_id`` (or raise ``KeyError``)."""
        searcher = self._fresh()
        stored = searcher.document(id=doc_id)
        if stored is None:
            raise KeyError(doc_id)
        return self._article(stored)

    def _article(self, stored: Mapping[str, Any]) -> Article:
        info = json.loads(stored.get("info") or "{}")
        mentions = tuple(EntityMention(facet=m[0], name=m[1], surface=m[2], start=m[3],
                                       end=m[4]) for m in info.get("mentions", ()))
        return Article(
            id=stored["id"], path=stored["path"], title=stored.get("title", ""),
            text=stored.get("body", ""), published=_parse_iso(info.get("published")),
            actors=tuple(info.get("actors", ())), locations=tuple(info.get("locations", ())),
            people=tuple(info.get("people", ())), subtitle=info.get("subtitle"),
            authors=tuple(info.get("authors", ())), url=info.get("url"),
            source=info.get("source"),
            mentioned_dates=tuple(d for d in (_parse_iso(x) for x in info.get("mentioned", ()))
                                  if d),
            mentions=mentions, duplicates=self._duplicates_of(stored["path"]),
            metadata=info.get("metadata") or {},
            published_source=info.get("published_source"),
            near_duplicates=self._near_duplicates_of(stored["id"]),
            title_derived=bool(info.get("title_derived")))

    def _near_duplicates_of(self, doc: str) -> tuple[str, ...]:
        if self._group_of is None:
            self._group_of = {i: ids for _, ids in self._near_groups() for i in ids}
        return tuple(i for i in self._group_of.get(doc, ()) if i != doc)

    def _duplicates_of(self, key: str) -> tuple[str, ...]:
        if self._records is None:
            # Indexed once per Index: scanning the manifest per article made iterating a
            # 100,000-article index (export, analysis) take hours.
            if self._manifest is None:
                self._manifest = load_manifest(self.path)
            hash_of: dict[str, str] = {}
            keys_of: dict[str, list[str]] = {}
            for entry in self._manifest.get("files", {}).values():
                records = entry.get("records") if isinstance(entry, dict) else None
                for record, content in (records if isinstance(records, dict) else {}).items():
                    if isinstance(content, str):  # a damaged entry is no duplicate of anything
                        hash_of[record] = content
                        keys_of.setdefault(content, []).append(record)
            self._records = (hash_of, keys_of)
        hash_of, keys_of = self._records
        own = hash_of.get(key)
        if own is None:
            return ()
        return tuple(sorted(k for k in keys_of[own] if k != key))

    def articles(self) -> Iterator[Article]:
        """Iterate over every article in the index (for export and analysis)."""
        with self._lock:
            self._check_open()
            searcher = self._fresh()
            reader = searcher.reader()
            docnums = list(reader.all_doc_ids())
        for docnum in docnums:
            with self._lock:
                self._check_open()
                stored = reader.stored_fields(docnum)
            yield self._article(stored)

    @_serialized
    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` by its key terms, excluding itself and exact copies."""
        searcher = self._fresh()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            raise KeyError(doc_id)
        body = searcher.stored_fields(docnum).get("body", "")
        results = searcher.more_like(docnum, "body", text=body, top=limit + 5,
                                     numterms=25, normalize=True)
        own_body = body.strip()
        hits: list[Hit] = []
        for hit in results:
            if hit.fields().get("body", "").strip() == own_body:
                continue
            hits.append(self._make_hit(hit, len(hits) + 1, snippets=False))
            if len(hits) >= limit:
                break
        return hits

    @_serialized
    def stats(self) -> IndexStats:
        """Document count, size on disk, last update and skipped files of this index."""
        documents = self._fresh().doc_count()  # first: a rebuild may bring new metadata
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return IndexStats(
            path=str(self.path), documents=documents, size_bytes=size,
            last_update=_parse_time(self._meta.get("last_update")),
            skipped=len(self.skipped), sources=tuple(
                s for s in _as_list(self._meta.get("sources")) if isinstance(s, str)))

    @property
    def skipped(self) -> tuple[SkippedFile, ...]:
        """Files skipped by the last build (a malformed record of the metadata is left
        out)."""
        return tuple(SkippedFile(s["path"], s["reason"])
                     for s in _as_list(self._meta.get("skipped"))
                     if isinstance(s, dict) and isinstance(s.get("path"), str)
                     and isinstance(s.get("reason"), str))

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer used to resolve facet aliases for this index (loaded on first use)."""
        return self._names.gazetteer

    @property
    def doc_count(self) -> int:
        """Number of documents."""
        with self._lock:
            self._check_open()
            return int(self._fresh().doc_count())


def _as_list(value: Any) -> list[Any]:
    """``value`` if it is a list (metadata read from a file may hold anything), else []."""
    return value if isinstance(value, list) else []


def _parse_time(value: Any) -> dt.datetime | None:
    """An ISO timestamp from metadata, or None if it is missing or malformed."""
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _budgeted(docnums: Iterable[int]) -> Iterator[int]:
    """``docnums``, checking the search's time budget every few thousand."""
    for count, docnum in enumerate(docnums):
        if not count & 4095:
            ranking.check_budget()
        yield docnum


def _parse_iso(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
