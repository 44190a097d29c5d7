"""Searching an index: query parsing, ranking, filters, disjunctive facet counts, snippets.

:class:`Index` keeps one Whoosh searcher open and reuses it (refreshing it when a writer has
committed), and keeps, per searcher, the documents of every facet value as Python ints used
as bitsets (:mod:`searchlib.engine.whoosh.facetstore`: loaded from the index folder, or computed
when the
stored copy is missing or stale). Facet counts are then ANDs and popcounts of those bitsets
(or, on large indexes, numpy gathers and popcounts: :meth:`facetstore.FacetData.counts`)
rather than Whoosh's ``groupedby``, which re-reads every matching document's values on each
query. The matching documents and their scores come from :mod:`searchlib.engine.whoosh.evaluate`
(Whoosh's
own search only for the queries it does not handle), the page from a top-N of those scores
or a walk of the cached date order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .engine.whoosh._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import highlight, qparser, spelling  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.qparser import syntax  # noqa: E402
from whoosh.searching import Hit as WhooshHit  # noqa: E402
from whoosh.util.times import datetime_to_long  # noqa: E402

from . import neargroups  # noqa: E402
from .engine.whoosh import evaluate, facetstore, ranking  # noqa: E402
from .engine.whoosh.schema import FACET_FIELDS, SEARCH_FIELDS, span_edge  # noqa: E402
from .errors import IndexClosedError, IndexCorruptError, QueryError, SearchCancelled  # noqa: E402
from .ingest.dates import parse_date_bound  # noqa: E402
from .layout import index_paths, load_aliases, load_manifest, read_meta  # noqa: E402
from .models import Article, EntityMention, Hit, IndexStats, SearchResults  # noqa: E402

if TYPE_CHECKING:
    from .ingest.gazetteer import Gazetteer

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
#: Index terms one fuzzy, wildcard or prefix term may stand for in one field: the closest,
#: then the most frequent, are kept, and the results carry a warning saying so.
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
#: large index, mostly: their pseudo-relevance feedback runs in Whoosh's own matchers).
QUERY_TIME_BUDGET = 4.0
#: Matched terms a snippet marks per field of a hit.
_HIGHLIGHT_TERMS = 24
#: Did-you-mean is offered for queries of at most this many words...
_SUGGESTION_WORDS = 12
#: ...from at most this many index terms per word (the closest, then most frequent).
_SUGGESTION_CANDIDATES = 50
#: Largest edit distance of a fuzzy term (``word~2``).
MAX_EDITS = 2
_PATTERN_QUERIES = (wq.FuzzyTerm, wq.Prefix, wq.Wildcard, wq.TermRange)
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


#: Query fields whose top-level clauses filter (as the options do) instead of scoring.
_FILTER_FIELDS = ("actor", "location", "person", "date")


@dataclass
class _QueryFilters:
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

    def take(self, node: Any, parser: Any) -> bool:
        """Record ``node`` if it is a filter clause; whether it was."""
        name = getattr(node, "fieldname", None)
        if isinstance(node, syntax.GroupNode) or name not in _FILTER_FIELDS:
            return False
        # A value named exactly ("IRGC", "Deir ez-Zor") goes the options' way, with aliases.
        exact = type(node) is syntax.WordNode or type(node).__name__ == "PhraseNode"
        if exact and name != "date":
            self.values[name].append(str(node.text))
            return True
        q = node.query(parser)
        error = _find_error(q)
        if error:
            raise QueryError(error)
        (self.dates if name == "date" else self.clauses[name]).append(q)
        return True


class _EveryNode(syntax.SyntaxNode):  # type: ignore[misc]
    """Stands for a part of a query left empty once its filters were lifted out."""

    # Whoosh copies a group's span from its first node onto the group's query.
    startchar = endchar = None

    def query(self, parser: Any) -> Any:
        return wq.Every()


def _parenthesized(text: str) -> bool:
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


def _lift_filters(node: Any, filters: _QueryFilters, parser: Any) -> Any:
    """Move the top-level filter clauses of the syntax tree ``node`` into ``filters``.

    Returns the tree that remains, or None when nothing does. Top level: the children of
    the query's implicit group, of a chain of ANDs making up the whole query, and of the
    required, optional and positive parts Whoosh makes for ``+word`` and ``-word``. An
    explicit OR or parentheses make a group of their own, which is left as it is.
    """
    if isinstance(node, syntax.AndNotGroup):
        positive = _lift_filters(node[0], filters, parser)
        node[0] = positive if positive is not None else _EveryNode()
        return node
    if isinstance(node, syntax.AndMaybeGroup):
        required = _lift_filters(node[0], filters, parser)
        optional = _lift_filters(node[1], filters, parser)
        if required is None or optional is None:
            return required if optional is None else optional
        node[0], node[1] = required, optional
        return node
    if not isinstance(node, (syntax.OrGroup, syntax.AndGroup)):
        return node
    if (isinstance(node, syntax.OrGroup) and len(node) == 1
            and isinstance(node[0], syntax.AndGroup)):
        inner = _lift_filters(node[0], filters, parser)
        if inner is None:
            return None
        node[0] = inner
        return node
    node.nodes = [child for child in node.nodes if not filters.take(child, parser)]
    return node if node.nodes else None


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

    def __init__(self, reader: Any, fieldname: str, terms: Any) -> None:
        self.reader = reader
        self.fieldname = fieldname
        self.analyzer = reader.schema[fieldname].analyzer
        # The field's sorted terms (lexicon.FieldTerms): candidates in milliseconds, where
        # Whoosh's terms_within walks an automaton over the term files for seconds.
        self.terms = terms

    def _suggestions(self, text: str, maxdist: int, prefix: int) -> Iterator[tuple[float, str]]:
        ranking.check_budget()
        for stem in self.terms.fuzzy(text, maxdist, prefix, _SUGGESTION_CANDIDATES).terms:
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
            self._check_open()
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class Index:
    """An open searchlib index. Use :func:`open_index` to get one; close it when done.

    Its methods may be called from several threads; they run one at a time.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 gazetteer: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.path = Path(path)
        self._closed = False
        self._lock = threading.RLock()
        self._meta = read_meta(self.path)
        self._whoosh_dir, _, _ = index_paths(self.path)
        self._ix, self._searcher, self._whoosh_id = self._open_whoosh()
        self._gazetteer_files = [Path(p) for p in gazetteer]
        self._gazetteer_obj: Gazetteer | None = None
        self._aliases: dict[str, dict[str, str]] | None = None
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
        self._parser = self._make_parser()
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

    def __enter__(self) -> Index:
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
        self._aliases = None
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
        parser.add_plugin(qparser.FieldAliasPlugin(_FIELD_ALIASES))
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
    def _parse_filters(self, text: str) -> tuple[Any, _QueryFilters]:
        """Split query text into the Whoosh query that scores and the filters it states.

        A top-level ``actor:``, ``location:``, ``person:`` or ``date:`` clause (one beside
        the others, in a chain of ANDs, or required with ``+``) filters like the options
        ``--actor``, ``--location``, ``--person``, ``--from``/``--to``; inside an explicit
        OR or parentheses it keeps its boolean meaning. The query of a text made only of
        filters is :class:`whoosh.query.Every`.
        """
        stripped = self._prepare(text)
        if stripped is None:
            return wq.Every(), _QueryFilters()
        nodes = self._process(stripped)
        filters = _QueryFilters()
        # Whoosh unwraps parentheses around a whole query; they still mean a group.
        rest = nodes if _parenthesized(stripped) else _lift_filters(nodes, filters, self._parser)
        return (wq.Every() if rest is None else self._to_query(rest, filters.warnings)), filters

    @staticmethod
    def _prepare(text: str) -> str | None:
        """The text the parser reads (None: every document), or raise QueryError."""
        stripped = text.strip()
        if not stripped or stripped == "*":
            return None
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
        return stripped

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
        error = _find_error(q)
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
        q = _every_document(q)

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
        words = list(dict.fromkeys(_pattern_text(p) for p in patterns))
        if len(words) > MAX_PATTERNS:
            shown = ", ".join(words[:3])
            raise QueryError(f"too many fuzzy or wildcard terms ({len(words)}: {shown}, ...); "
                             f"a query may hold {MAX_PATTERNS}")
        for node in patterns:
            if isinstance(node, wq.FuzzyTerm) and node.maxdist > MAX_EDITS:
                raise QueryError(f"'{_pattern_text(node)}' allows too many edits "
                                 f"(at most {MAX_EDITS})")
            if isinstance(node, wq.Wildcard) and \
                    sum(node.text.count(c) for c in "*?") > MAX_WILDCARDS:
                raise QueryError(f"too many wildcards in '{_pattern_text(node)}' "
                                 f"(at most {MAX_WILDCARDS})")
        cap = max(1, min(EXPANSION_CAP, EXPANSION_BUDGET // len(patterns)))
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
                self._broadest.append((_pattern_text(node), len(found.terms)))
                ranking.check_budget()
                if found.cut:
                    shown = _pattern_text(node)
                    cut[shown] = (max(found.found, cut.get(shown, (0, fuzzy))[0]), fuzzy)
                expanded = ranking.Expanded(
                    [wq.Term(node.fieldname, t, boost=node.boost) for t in found.terms],
                    word=(type(node).__name__, _pattern_text(node)))
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
        """The sorted terms of the searchable fields (:mod:`searchlib.engine.whoosh.lexicon`):
        stored at
        commit; built and stored here when missing or stale."""
        if self._terms is None:
            from .engine.whoosh import (
                lexicon,  # imports rapidfuzz: only queries with patterns pay it
            )

            # The current searcher: the list saved below must describe the committed state.
            reader = self._searcher.reader()  # refreshed by the search (see _facet_cache)
            key = facetstore.index_key(reader)
            found = lexicon.load(self.path, key)
            if found is None:
                found = lexicon.build(reader, SEARCH_FIELDS, key)
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
            self._evaluation = evaluate.Evaluator(searcher, dense=dense)
        return self._evaluation

    @_serialized
    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` with its document count over the whole index."""
        if kind not in FACET_KINDS:
            raise QueryError(f"unknown facet kind {kind!r}; choose from {', '.join(FACET_KINDS)}")
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
        filter like these options. A search that runs past :data:`QUERY_TIME_BUDGET` seconds
        raises :class:`QueryError` saying so; setting ``cancel`` (from another thread) stops
        it with :class:`SearchCancelled`.
        """
        self._broadest = []
        try:
            with ranking.budget(QUERY_TIME_BUDGET, cancel):
                return self._search(query, limit=limit, page=page, sort=sort, actors=actors,
                                    locations=locations, people=people,
                                    date_from=date_from, date_to=date_to,
                                    snippets=snippets, facets=facets, ids=ids,
                                    collapse=collapse)
        except ranking.OverBudget as over:
            if over.cancelled:
                raise SearchCancelled("search cancelled") from None
            words = len(query.split())
            what = f"{words:,} word{'s' if words != 1 else ''}"
            if self._broadest:
                # Name the patterns that stood for the most index terms (all fields).
                per_pattern: dict[str, int] = {}
                for pattern, count in self._broadest:
                    per_pattern[pattern] = per_pattern.get(pattern, 0) + count
                top = sorted(per_pattern.items(), key=lambda b: -b[1])[:3]
                what += "; broadest: " + ", ".join(f"'{t}' ({n:,} terms)" for t, n in top)
            raise QueryError(f"query too broad to answer within {QUERY_TIME_BUDGET:g} s "
                             f"({what}); use fewer or rarer words") from None

    def _search(self, query: str, *, limit: int, page: int, sort: SortOrder,
                actors: Sequence[str], locations: Sequence[str], people: Sequence[str],
                date_from: str | dt.date | None, date_to: str | dt.date | None,
                snippets: bool, facets: bool, ids: Collection[str] | None,
                collapse: bool) -> SearchResults:
        started = time.perf_counter()
        if not isinstance(query, str):
            raise QueryError(f"query must be a string, not {type(query).__name__}")
        for name, value in (("limit", limit), ("page", page)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise QueryError(f"{name} must be a whole number, not {type(value).__name__}")
        if limit < 1 or page < 1:
            raise QueryError("limit and page must be positive")
        actors = _names(actors, "actors")
        locations = _names(locations, "locations")
        people = _names(people, "people")
        if sort not in ("relevance", "date", "newest", "oldest"):
            raise QueryError(f"unknown sort {sort!r}; choose relevance, newest or oldest")
        # The one refresh of this search: everything below reads this generation.
        searcher = self._fresh()
        q, lifted = self._parse_filters(query)
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
        selections = {kind: self._selection_bits(kind, [*given[kind], *lifted.values[kind]],
                                                 warnings, lifted.clauses[kind])
                      for kind in ("actor", "location", "person")}
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
            results = ranking.search_within_budget(searcher, q, limit=wanted, filter=docset,
                                                   terms=True)
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
                terms = {d: _highlighted(evaluation.terms_of(d)) for _, d in ranked}
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
            snippet=snippet, highlights=spans, rank=rank,
            published_source=info.get("published_source"))

    def _suggest(self, text: str, q: Any, total: int) -> str | None:
        """A better-spelled query built from the index vocabulary, if it finds more."""
        if len(text.split()) > _SUGGESTION_WORDS:
            return None  # nobody retypes a pasted page from a spelling suggestion
        searcher = self._searcher  # the search's own generation (see _facet_cache)
        reader = searcher.reader()
        terms = self._lexicon()
        correctors = {name: _StemCorrector(reader, name, terms.field(name))
                      for name in SEARCH_FIELDS}
        try:
            corrected = searcher.correct_query(q, text, correctors=correctors, maxdist=2,
                                               prefix=1)
        except ranking.OverBudget:
            raise
        except Exception:  # suggestions are a nicety; never fail a search over one
            return None
        if corrected.string == text or not corrected.query:
            return None
        better = _keep_case(text, corrected.string)
        try:
            found = len(set(searcher.docs_for_query(self._parse_filters(better)[0])))
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
            published_source=info.get("published_source"),
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
    def skipped(self) -> list[dict[str, str]]:
        """Files skipped by the last build, as ``{"path", "reason"}`` records."""
        return [s for s in _as_list(self._meta.get("skipped"))
                if isinstance(s, dict) and isinstance(s.get("path"), str)
                and isinstance(s.get("reason"), str)]

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer used to resolve facet aliases for this index (loaded on first use)."""
        if self._gazetteer_obj is None:
            from .ingest.gazetteer import Gazetteer, default_gazetteer

            self._gazetteer_obj = (Gazetteer.load(self._gazetteer_files)
                                   if self._gazetteer_files else default_gazetteer())
        return self._gazetteer_obj

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


def _names(value: Any, name: str) -> tuple[str, ...]:
    """A filter's values as a tuple of names: a single string is one name (``actors="IRGC"``
    is IRGC, not I, R, G, C); anything else must be an iterable of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise QueryError(f"{name} must be a name or a list of names, not "
                         f"{type(value).__name__}") from None
    for item in items:
        if not isinstance(item, str):
            raise QueryError(f"{name} must be names (strings); got {type(item).__name__} "
                             f"{item!r}")
    return items


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


def _highlighted(terms: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The matched terms of a hit its snippet marks: at most :data:`_HIGHLIGHT_TERMS` per
    field, in query order (``a*`` matches dozens of terms in each article; loading the
    positions of all of them took most of such a search)."""
    kept: list[tuple[str, bytes]] = []
    per_field: dict[str, int] = {}
    for term in terms:
        count = per_field.get(term[0], 0)
        if count < _HIGHLIGHT_TERMS:
            per_field[term[0]] = count + 1
            kept.append(term)
    return kept


def _every_document(q: Any) -> Any:
    """``q`` with ``title:*`` and ``body:*`` (a bare ``*`` among other words) meaning every
    document: Whoosh would read the posting list of every term of the field for them."""
    if isinstance(q, wq.Every):
        return wq.Every(boost=q.boost) if q.fieldname in SEARCH_FIELDS else q
    if q.is_leaf():
        return q
    return q.apply(_every_document)


def _budgeted(docnums: Iterable[int]) -> Iterator[int]:
    """``docnums``, checking the search's time budget every few thousand."""
    for count, docnum in enumerate(docnums):
        if not count & 4095:
            ranking.check_budget()
        yield docnum


def _pattern_text(q: Any) -> str:
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
