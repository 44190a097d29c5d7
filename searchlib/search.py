"""Searching an index: query parsing, ranking, filters, disjunctive facet counts, snippets.

:class:`Index` keeps one Whoosh searcher open and reuses it (refreshing it when a writer has
committed), and keeps, per searcher, the documents of every facet value as Python ints used
as bitsets (:mod:`searchlib.facetstore`: loaded from the index folder, or computed when the
stored copy is missing or stale). Facet counts are then ANDs and popcounts of those bitsets
(or, on large indexes, numpy gathers and popcounts: :meth:`facetstore.FacetData.counts`)
rather than Whoosh's ``groupedby``, which re-reads every matching document's values on each
query. The matching documents and their scores come from :mod:`searchlib.evaluate` (Whoosh's
own search only for the queries it does not handle), the page from a top-N of those scores
or a walk of the cached date order.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import highlight, qparser, spelling  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.searching import Hit as WhooshHit  # noqa: E402
from whoosh.util.times import datetime_to_long  # noqa: E402

from . import evaluate, facetstore, neargroups, ranking  # noqa: E402
from .dates import parse_date_bound  # noqa: E402
from .errors import IndexCorruptError, QueryError  # noqa: E402
from .layout import index_paths, load_aliases, load_manifest, read_meta  # noqa: E402
from .models import Article, EntityMention, Hit, IndexStats, SearchResults  # noqa: E402
from .schema import FACET_FIELDS, SEARCH_FIELDS, span_edge  # noqa: E402

if TYPE_CHECKING:
    from .gazetteer import Gazetteer

__all__ = ["FACET_KINDS", "Index", "SortOrder", "open_index"]

SortOrder = Literal["relevance", "date", "newest", "oldest"]

#: Facet kinds reported in ``SearchResults.facets``: entities, the publication-date histogram
#: (per year and per month) and the months of event dates the articles mention.
FACET_KINDS = ("actor", "location", "person", "year", "month", "mentioned")
_DATE_KINDS = ("year", "month", "mentioned")

_KNOWN_FIELDS = {"title", "body", "actor", "location", "person", "date", "mentioned",
                 "actors", "locations", "people", "persons", "place", "published", "id", "path"}
_FIELD_ALIASES = {"actor": ["actors"], "location": ["locations", "place"],
                  "person": ["people", "persons"], "date": ["published"]}
# "word:" directly followed by a value: a field reference (a colon then a space is prose).
_FIELD_REF = re.compile(r"(?:^|(?<=[\s(+\-]))([A-Za-z_]+):(?=[^\s:/])")
_QUESTION_MARK = re.compile(r"(?<=\w)\?+(?=[\s\")]|$)")
_SENTINEL_START, _SENTINEL_END = "\x02", "\x03"
_ELLIPSIS = " … "
#: Stored records kept per searcher (least recently used dropped first).
_STORED_CACHE = 512
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]?\s+")


def open_index(path: str | os.PathLike[str] | None = None, *,
               gazetteer: Sequence[str | os.PathLike[str]] = ()) -> Index:
    """Open the index at ``path`` (default: ``$SEARCH_INDEX`` or ``index/``).

    Raises :class:`~searchlib.errors.IndexNotFoundError` when there is none and
    :class:`~searchlib.errors.IndexCorruptError` when it cannot be read.
    """
    from .config import resolve_index_dir

    return Index(resolve_index_dir(path), gazetteer=gazetteer)


_bits = facetstore.bits_of
_iter_bits = facetstore.iter_bits


class _SnippetFormatter(highlight.Formatter):  # type: ignore[misc]
    """Marks matches with sentinel characters; :func:`_split_marks` turns them into offsets.

    Cleaned text never contains control characters, so the sentinels cannot collide.
    """

    between = _ELLIPSIS

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return _SENTINEL_START + str(highlight.get_text(text, token, replace)) + _SENTINEL_END


class _SentenceSnapFragmenter(highlight.PinpointFragmenter):  # type: ignore[misc]
    """Pinpoint fragments (built from stored character offsets, no re-analysis) whose edges
    are moved to the nearest sentence boundary when one is close, else to a word boundary."""

    def __init__(self) -> None:
        super().__init__(maxchars=170, surround=50, autotrim=False)

    def fragment_matches(self, text: str, tokens: Any) -> Iterator[Any]:
        for frag in super().fragment_matches(text, tokens):
            first = min(t.startchar for t in frag.matches)
            last = max(t.endchar for t in frag.matches)
            start = _snap_start(text, frag.startchar, first)
            end = _snap_end(text, frag.endchar, last)
            yield highlight.Fragment(text, frag.matches, start, end)


def _snap_start(text: str, start: int, first_match: int) -> int:
    window = text[max(0, start - 60):first_match]
    offset = max(0, start - 60)
    best = None
    for m in _SENTENCE_END.finditer(window):
        best = offset + m.end()
    if "\n" in window:
        best = max(best or 0, offset + window.rindex("\n") + 1)
    if best is not None and best <= first_match:
        return best
    if start <= 0:
        return 0
    space = text.find(" ", start, first_match)
    return space + 1 if space != -1 else start


def _snap_end(text: str, end: int, last_match: int) -> int:
    window = text[last_match:min(len(text), end + 60)]
    newline = window.find("\n")
    if newline != -1:
        # A fragment never runs on into the next paragraph.
        window = window[:newline]
        end = min(end, last_match + newline)
    m = _SENTENCE_END.search(window)
    if m:
        # Keep the punctuation and a closing quote, drop the whitespace after them.
        return last_match + m.start() + len(m.group().rstrip())
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", last_match, end)
    return space if space != -1 else end


def _split_marks(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    start = None
    for ch in marked:
        if ch == _SENTINEL_START:
            start = pos
        elif ch == _SENTINEL_END:
            if start is not None and pos > start:
                spans.append((start, pos))
            start = None
        elif ch == "\n" or (ch == " " and out and out[-1] == " "):
            # Paragraph breaks inside a fragment read as one space on a result line.
            if out and out[-1] != " ":
                out.append(" ")
                pos += 1
        else:
            out.append(ch)
            pos += 1
    return "".join(out), tuple(spans)


def _mark_cuts(snippet: str, spans: tuple[tuple[int, int], ...]
               ) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Show with an ellipsis where the snippet starts or stops inside a sentence."""
    if snippet[-1:] not in ".!?\"”’)]:" and not snippet.endswith("…"):
        snippet += " …"
    if snippet[:1].islower():
        snippet = "… " + snippet
        spans = tuple((a + 2, b + 2) for a, b in spans)
    return snippet, spans


def _lead_snippet(body: str, limit: int = 240) -> str:
    """The article's opening, cut at a word boundary, for hits without a body match."""
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


class _StemCorrector(spelling.Corrector):  # type: ignore[misc]
    """Spelling suggestions from the stemmed lexicon of a field, returned as real words.

    The index keeps no separate unstemmed word list (it would double indexing work), so a
    misspelt term is matched against the stems within the edit distance, the most frequent
    win, and each stem is turned back into the word form a document actually uses.
    """

    def __init__(self, reader: Any, fieldname: str) -> None:
        self.reader = reader
        self.fieldname = fieldname
        self.analyzer = reader.schema[fieldname].analyzer

    def _suggestions(self, text: str, maxdist: int, prefix: int) -> Iterator[tuple[float, str]]:
        for stem in self.reader.terms_within(self.fieldname, text, maxdist, prefix=prefix):
            if stem == text:
                continue
            word = self._surface(stem)
            if word:
                distance = _edit_distance(text, stem)
                frequency = self.reader.doc_frequency(self.fieldname, stem)
                yield (-distance + frequency / (frequency + 1.0), word)

    def _surface(self, stem: str) -> str | None:
        """The word form of ``stem`` as it appears in the first document that has it."""
        postings = self.reader.postings(self.fieldname, stem)
        if not postings.is_active():
            return None
        stored = self.reader.stored_fields(postings.id())
        source = stored.get(self.fieldname) or ""
        forms: dict[str, int] = {}
        for token in self.analyzer(source, chars=True, mode="index"):
            if token.text == stem:
                form = str(source[token.startchar:token.endchar]).lower()
                forms[form] = forms.get(form, 0) + 1
        # The commonest form, and of equally common ones the shortest ("attack", not
        # "attacked"), is the likeliest word the user meant.
        return min(forms, key=lambda f: (-forms[f], len(f), f)) if forms else None


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_F = TypeVar("_F", bound=Callable[..., Any])


def _serialized(method: _F) -> _F:
    """Run ``method`` holding the index's lock.

    Segment files are read with seek-then-read on file objects shared by every reader of the
    searcher, and the per-searcher caches are plain dicts: one call at a time (the TUI reads
    an article on its main thread while a search runs in a worker).
    """

    @functools.wraps(method)
    def locked(self: Index, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class Index:
    """An open searchlib index. Use :func:`open_index` to get one; close it when done.

    Its methods may be called from several threads; they run one at a time.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 gazetteer: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._meta = read_meta(self.path)
        whoosh_dir, _, _ = index_paths(self.path)
        try:
            # Without mmap: Whoosh copies every memory-mapped segment file it opens into a
            # BytesIO (hundreds of MB at 10,000 articles, ~0.2 s before the first query);
            # plain file reads serve the few blocks a search touches as fast.
            self._ix = FileStorage(str(whoosh_dir), supports_mmap=False).open_index()
            self._searcher = self._ix.searcher(weighting=ranking.weighting())
        except Exception as exc:  # Whoosh raises many types for damaged files
            raise IndexCorruptError(
                f"index at {self.path} is damaged ({type(exc).__name__}: {exc}); "
                "run `search index --rebuild`") from None
        self._gazetteer_files = [Path(p) for p in gazetteer]
        self._gazetteer_obj: Gazetteer | None = None
        self._aliases: dict[str, dict[str, str]] | None = None
        self._facets: facetstore.FacetData | None = None
        self._evaluation: evaluate.Evaluator | None = None
        # Set once a search has completed: from then on queries are evaluated and facets
        # counted on numpy arrays whatever the index's size (see _dense).
        self._searched = False
        # True or False pins one form for every search (the tests compare the two).
        self._dense_pinned: bool | None = None
        self._stored_docs: dict[int, dict[str, Any]] = {}
        self._parser = self._make_parser()
        self._manifest: dict[str, Any] | None = None
        # Record key -> content hash, and content hash -> record keys (for duplicates).
        self._records: tuple[dict[str, str], dict[str, list[str]]] | None = None
        # Near-duplicate groups as docnums and ids (see _near_groups).
        self._groups: list[tuple[list[int], list[str]]] | None = None
        self._group_of: dict[str, list[str]] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @_serialized
    def close(self) -> None:
        """Release the searcher and its open files."""
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fresh(self) -> Any:
        """The searcher, reopened if a writer committed since it was opened."""
        if not self._searcher.up_to_date():
            try:
                self._searcher = self._searcher.refresh()
            except TypeError:
                # Whoosh cannot refresh a searcher opened on an index without segments.
                stale = self._searcher
                self._searcher = self._ix.searcher(weighting=ranking.weighting())
                stale.close()
            self._facets = None
            self._evaluation = None
            self._stored_docs = {}
            self._aliases = None
            self._manifest = None
            self._records = None
            self._groups = None
            self._group_of = None
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
        parser.add_plugin(qparser.FieldAliasPlugin(_FIELD_ALIASES))
        return parser

    @_serialized
    def parse(self, text: str) -> Any:
        """Parse query text into a Whoosh query, or raise :class:`QueryError` (one line)."""
        stripped = text.strip()
        if not stripped or stripped == "*":
            return wq.Every()
        if len(stripped) > 10_000:
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
            if name.lower() not in _KNOWN_FIELDS and name.islower():
                raise QueryError(
                    f"unknown field '{name}:' at position {m.start(1) + 1}; fields are "
                    "title, body, actor, location, person, date")
        try:
            q = self._parser.parse(stripped)
        except QueryError:
            raise
        except Exception as exc:  # Whoosh's parser raises assorted types on odd input
            raise QueryError(f"cannot parse query: {exc}") from None
        error = _find_error(q)
        if error:
            raise QueryError(error)
        return ranking.coordinate(self._resolve_facet_terms(q))

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
        key = value.strip().lower()
        if self._gazetteer_files:
            # A user gazetteer given at query time may know aliases the build did not.
            canonical = self.gazetteer.canonical(facet, value)  # type: ignore[arg-type]
            if canonical:
                return canonical
        if self._aliases is None:
            self._aliases = load_aliases(self.path)
        found = self._aliases.get(facet, {}).get(key)
        if found:
            return found
        return self._facet_cache().lower(facet).get(key, value)

    # --- facets ----------------------------------------------------------------------------

    def _dense(self) -> bool | None:
        """True once this index has answered a search; None: let the index's size decide.

        numpy evaluates a query 1.2-1.7x faster than dicts and sets even on 1,000 to 10,000
        articles (p95 13 ms against 23 ms at 10,000), but importing it costs ~0.15 s, more
        than a whole query there. A one-shot ``search query`` makes one search and never
        pays it; a session that makes a second one (the TUI, a script) pays it once.
        """
        if self._dense_pinned is not None:
            return self._dense_pinned
        return True if self._searched else None

    def _facet_cache(self) -> facetstore.FacetData:
        searcher = self._fresh()
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
            self._evaluation = evaluate.Evaluator(searcher, dense=dense)
        return self._evaluation

    @_serialized
    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` with its document count over the whole index."""
        if kind not in FACET_KINDS:
            raise QueryError(f"unknown facet kind {kind!r}; choose from {', '.join(FACET_KINDS)}")
        cache = self._facet_cache()
        counts = {v: b.bit_count() for v, b in cache.values(kind).items()}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def _selection_bits(self, facet: str, selected: Sequence[str], warnings: list[str]
                        ) -> int | None:
        if not selected:
            return None
        cache = self._facet_cache()
        bits = 0
        for value in selected:
            name = self._facet_value(facet, value)
            found = cache.values(facet).get(name)
            if found is None:
                warnings.append(self._unknown_value(facet, value))
                continue
            bits |= found
        return bits

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
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: SortOrder = "relevance",
        actors: Sequence[str] = (),
        locations: Sequence[str] = (),
        people: Sequence[str] = (),
        date_from: str | dt.date | None = None,
        date_to: str | dt.date | None = None,
        snippets: bool = True,
        facets: bool = True,
        ids: Collection[str] | None = None,
        collapse: bool = True,
    ) -> SearchResults:
        """Run ``query`` and return one page of hits with facet counts.

        Filters: ``actors``, ``locations`` and ``people`` (OR within a facet, AND across
        facets; a parent value includes its children), ``date_from``/``date_to`` (a date or
        ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``; inclusive). Facet counts are disjunctive: the
        counts of a facet ignore that facet's own selection. ``snippets=False`` and
        ``facets=False`` skip work a caller does not need (``facets`` is then empty).
        ``ids`` restricts the search, its total and its counts to those document ids (the
        articles new since a date, one article whose match is wanted).
        ``collapse`` folds near-duplicate articles into one hit, the first of its group
        (the earliest published) that matches, listing the others in ``Hit.copies``;
        ``total`` then counts the hits, facet counts still count every article.
        """
        started = time.perf_counter()
        if limit < 1 or page < 1:
            raise QueryError("limit and page must be positive")
        if sort not in ("relevance", "date", "newest", "oldest"):
            raise QueryError(f"unknown sort {sort!r}; choose relevance, newest or oldest")
        q = self.parse(query)
        searcher = self._fresh()
        cache = self._facet_cache()
        lo = _as_bound(date_from, end=False)
        hi = _as_bound(date_to, end=True)
        if lo and hi and lo > hi:
            raise QueryError("--from is after --to")
        evaluation = None
        if isinstance(q, wq.Every):
            matched = cache.live
        else:
            evaluation = self._evaluator().evaluate(q)
            matched = (evaluation.bits(cache.size) if evaluation is not None
                       else _bits(searcher.docs_for_query(q), cache.size)) & cache.live
        if ids is not None:
            matched &= self._id_bits(ids)
        date_bits = None
        if lo or hi:
            # The stored date of each document, compared as Whoosh's DateRange compares the
            # indexed values (inclusive bounds, undated documents never match).
            date_bits = cache.dated_between(datetime_to_long(lo) if lo else None,
                                            datetime_to_long(hi) if hi else None)
        warnings: list[str] = []
        selections = {"actor": self._selection_bits("actor", actors, warnings),
                      "location": self._selection_bits("location", locations, warnings),
                      "person": self._selection_bits("person", people, warnings)}
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
        if total:
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
                             elapsed=time.perf_counter() - started, warnings=tuple(warnings))

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
            if kind in _DATE_KINDS:
                out[kind] = dict(sorted(counts.items()))
            else:
                out[kind] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _page(self, q: Any, final: int, *, limit: int, page: int, sort: str,
              snippets: bool, filtered: bool = True,
              evaluation: evaluate.Evaluation | None = None) -> list[Hit]:
        searcher = self._searcher  # refreshed by search()
        wanted = page * limit
        start = (page - 1) * limit
        if sort == "relevance" and evaluation is None:
            docset = set(_iter_bits(final)) if filtered else None
            results = searcher.search(q, limit=wanted, filter=docset, terms=True)
            page_hits = list(results[start:wanted])
        else:
            terms: dict[int, list[tuple[str, bytes]]] = {}
            if sort == "relevance":
                assert evaluation is not None
                ranked = self._rank(evaluation, final, wanted, filtered)[start:wanted]
            else:
                # Ordered from the cached date column rather than Whoosh's sort, which files
                # undated documents among the dated ones; here they always come last.
                cache = self._facet_cache()
                order = cache.date_order(sort != "oldest")
                if final == cache.live:
                    chosen = order[start:wanted]
                else:
                    # Membership read from the bitset's bytes: the walk usually stops after
                    # a few dozen documents, long before a set of every match would be built.
                    members = final.to_bytes((cache.size + 7) // 8, "little")
                    chosen = list(itertools.islice(
                        (d for d in order if facetstore.has_bit(members, d)), start, wanted))
                if evaluation is not None:
                    ranked = [(evaluation.score(d), d) for d in chosen]
                else:
                    exact = evaluate.exact_scores(searcher, q, sorted(chosen))
                    ranked = [(exact[d][0], d) for d in chosen if d in exact]
                    terms = {d: found for d, (_, found) in exact.items()}
            if evaluation is not None:
                terms = {d: evaluation.terms_of(d) for _, d in ranked}
            # The scores and matched terms of just the hits shown, in a Results object like
            # the one a scored search with terms=True returns (highlighting reads it).
            results = evaluate.results_for(searcher, q, ranked, terms)
            page_hits = [WhooshHit(results, docnum, pos, score)
                         for pos, (score, docnum) in enumerate(ranked)]
        results.fragmenter = _SentenceSnapFragmenter()
        results.formatter = _SnippetFormatter()
        if snippets and page_hits:
            evaluate.preload_chars(results, "body",
                                   self._evaluation if evaluation is not None else None)
        return [self._make_hit(hit, rank, snippets)
                for rank, hit in enumerate(page_hits, start + 1)]

    @staticmethod
    def _rank(evaluation: evaluate.Evaluation, final: int, wanted: int, filtered: bool
              ) -> list[tuple[float, int]]:
        """The best ``wanted`` documents of ``final``: by score, then docnum (as Whoosh's
        top-N collector keeps them)."""
        whole = not filtered and evaluation.count == final.bit_count()
        return evaluation.best(wanted, None if whole else final)

    def _stored(self, docnum: int) -> dict[str, Any]:
        """Stored fields of a document, from a small per-searcher cache (each read unpickles
        a compressed record; the hits of a query are often shown again). Callers refresh
        the searcher first."""
        searcher = self._searcher
        cache = self._stored_docs
        found: dict[str, Any] | None = cache.pop(docnum, None)
        if found is None:
            found = searcher.stored_fields(docnum)
            if len(cache) >= _STORED_CACHE:
                del cache[next(iter(cache))]
        cache[docnum] = found
        return found

    def _make_hit(self, hit: Any, rank: int, snippets: bool) -> Hit:
        stored = self._stored(hit.docnum)
        info = json.loads(stored.get("info") or "{}")
        body = stored.get("body", "")
        snippet = ""
        spans: tuple[tuple[int, int], ...] = ()
        if snippets:
            marked = ""
            if hit.results.q and not isinstance(hit.results.q, wq.Every):
                try:
                    marked = hit.highlights("body", text=body, top=3)
                except Exception:  # a highlighter failure must not lose the hit
                    marked = ""
            if marked and _SENTINEL_START in marked:
                snippet, spans = _split_marks(marked)
                snippet, spans = _mark_cuts(snippet, spans)
            else:
                snippet = _lead_snippet(body)
        return Hit(
            id=stored["id"], path=stored["path"], title=stored.get("title", ""),
            published=_parse_iso(info.get("published")),
            actors=tuple(info.get("actors", ())), locations=tuple(info.get("locations", ())),
            people=tuple(info.get("people", ())),
            # With a sort order Whoosh puts the sort key in .score; only report real scores.
            score=float(hit.score) if isinstance(hit.score, (int, float)) else 0.0,
            snippet=snippet, highlights=spans, rank=rank)

    def _suggest(self, text: str, q: Any, total: int) -> str | None:
        """A better-spelled query built from the index vocabulary, if it finds more."""
        searcher = self._fresh()
        reader = searcher.reader()
        correctors = {name: _StemCorrector(reader, name) for name in SEARCH_FIELDS}
        try:
            corrected = searcher.correct_query(q, text, correctors=correctors, maxdist=2,
                                               prefix=1)
        except Exception:  # suggestions are a nicety; never fail a search over one
            return None
        if corrected.string == text or not corrected.query:
            return None
        better = _keep_case(text, corrected.string)
        try:
            found = len(set(searcher.docs_for_query(self.parse(better))))
        except QueryError:
            return None
        # Offered when it finds at least as much: a word that matched nothing now counts.
        return better if found >= max(total, 1) else None

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
            near_duplicates=self._near_duplicates_of(stored["id"]))

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
                for record, content in entry.get("records", {}).items():
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
            searcher = self._fresh()
            reader = searcher.reader()
            docnums = list(reader.all_doc_ids())
        for docnum in docnums:
            with self._lock:
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
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        last = self._meta.get("last_update")
        return IndexStats(
            path=str(self.path), documents=self._fresh().doc_count(), size_bytes=size,
            last_update=dt.datetime.fromisoformat(last) if last else None,
            skipped=len(self._meta.get("skipped", ())),
            sources=tuple(self._meta.get("sources", ())))

    @property
    def skipped(self) -> list[dict[str, str]]:
        """Files skipped by the last build, as ``{"path", "reason"}`` records."""
        return list(self._meta.get("skipped", ()))

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer used to resolve facet aliases for this index (loaded on first use)."""
        if self._gazetteer_obj is None:
            from .gazetteer import Gazetteer, default_gazetteer

            self._gazetteer_obj = (Gazetteer.load(self._gazetteer_files)
                                   if self._gazetteer_files else default_gazetteer())
        return self._gazetteer_obj

    @property
    def doc_count(self) -> int:
        """Number of documents."""
        with self._lock:
            return int(self._fresh().doc_count())


def _keep_case(original: str, corrected: str) -> str:
    """Corrections come from the lowercased vocabulary: restore the user's capitals."""
    before, after = original.split(), corrected.split()
    if len(before) != len(after):
        return corrected
    out = []
    for old, new in zip(before, after, strict=True):
        if old != new and old[:1].isupper() and new[:1].islower():
            new = new[:1].upper() + new[1:]
        out.append(new)
    return " ".join(out)


def _find_error(q: Any) -> str | None:
    error = getattr(q, "error", None)
    if error:
        return str(error)
    if not q.is_leaf():
        for child in q.children():
            found = _find_error(child)
            if found:
                return found
    return None


def _as_bound(value: str | dt.date | None, *, end: bool) -> dt.datetime | None:
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


def _parse_iso(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
