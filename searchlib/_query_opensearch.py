"""The query AST (:mod:`searchlib.query`) as an OpenSearch search request.

:class:`OpenSearchTranslator` turns a parsed query, the options' filters, a sort and a page
into the body of one ``_search`` request: the query DSL of the scoring clauses, the filters
in ``post_filter``, the disjunctive facet counts as ``filter`` + ``terms`` aggregations, the
year/month histograms, highlighted snippets. The translation rules are in docs/opensearch.md
("The query language on OpenSearch"); in short:

* a word in ``title``/``body`` is a ``match`` (the field's ``searchlib_english`` analyzer
  splits and stems it as searchlib's analyzer does, but for the stemmer); a word that
  analyses to nothing (a stop word) is left out of its group, as in searchlib;
* a phrase is ``match_phrase`` (Whoosh's slop 1, adjacent words, is Lucene's slop 0);
* ``word*``, ``w?rd``, ``word~N/P``, ``[a TO b]`` on ``title``/``body`` are ``prefix``,
  ``wildcard``, ``fuzzy`` and ``range`` queries on the index terms; their text is lowercased
  and stemmed by the index's own stemmer first (``stem_patterns``), as searchlib analyses
  them before it expands them; each stands for at most ``EXPANSION_CAP`` terms, fewer when
  the query holds many (searchlib's shared budget, :mod:`searchlib.query.limits`), and a
  query with too many of them, too many wildcards in one or too many edits is refused with
  searchlib's own one-line :class:`QueryError`;
* facet values (``actor:IRGC``) are ``term`` queries on the rolled-up keyword fields, after
  the alias and case resolution searchlib does (``resolve``); ``date:`` clauses are ``range``
  queries on ``published``;
* AND / OR / NOT / ANDNOT / ANDMAYBE / REQUIRE and ``+``/``-`` are ``bool`` queries, with
  searchlib's rules for parts that are empty (a clause made only of stop words);
* a short keyword query (at most ``SHORT_QUERY_WORDS`` words) ranks documents matching more
  words first, as searchlib's coordination does, through one ``constant_score`` clause per
  word worth more than any BM25 score.

Moves to ``searchlib/engine/opensearch/`` with the rest of the OpenSearch engine.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .errors import QueryError
from .export import WHOOSH_STOP_WORDS, WORD_PATTERN
from .query import ast
from .query.dates import span_edge
from .query.limits import EXPANSION_CAP, check_patterns, pattern_cap
from .query.parser import SEARCH_FIELDS, ParsedQuery

__all__ = ["AGG_SIZE", "EXPANSION_CAP", "FACETS", "LONG_QUERY_WORDS", "SHORT_QUERY_WORDS",
           "SOURCE_FIELDS", "OpenSearchTranslator", "Resolver", "Stemmer", "date_range"]

#: Entity facets: the index field holding rolled-up values -> the search() argument.
FACETS = {"actor": "actors", "location": "locations", "person": "people"}
#: Queries of at most this many words rank strictly by how many of them match (searchlib's
#: ``ranking.SHORT_QUERY_WORDS``).
SHORT_QUERY_WORDS = 4
#: Distinct words past which a list of words is searched as a passage (``_long_list``): well
#: under Lucene's 1,024 clauses, at two (title and body) per word.
LONG_QUERY_WORDS = 256
#: The passage's most distinctive words that rank its hits.
LONG_QUERY_TERMS = 100
#: Score of one matched word in that coordination: above any BM25 score of a short query.
_WORD_TIER = 1000.0
#: More than any facet's number of distinct values: each shard returns every value, so the
#: counts are exact, not OpenSearch's approximate top-N default.
AGG_SIZE = 65_536
_KEYWORD_FIELDS = {"actor", "location", "person", "id", "path"}
#: The OpenSearch field holding what searchlib indexes as ``title`` (the headline and the
#: standfirst, without a title derived from the first sentence); ``title`` there is shown.
_TEXT_FIELDS = {"title": "headline", "body": "body"}
_WORDS = re.compile(WORD_PATTERN)
_STOP = frozenset(WHOOSH_STOP_WORDS)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The stored fields a hit needs.
SOURCE_FIELDS = ["id", "path", "title", "published", "actors", "locations", "people", "body"]

#: A clause that analysed to nothing: left out of its group (searchlib: the parser's None).
_ABSENT = None
#: A group left empty (searchlib: Whoosh's NullQuery): empties the AND/REQUIRE it is in.
_NULL: dict[str, Any] = {"match_none": {}}
_ALL: dict[str, Any] = {"match_all": {}}

Stemmer = Callable[[Sequence[str]], Sequence[str]]
Resolver = Callable[[str, str], str]


def _words(text: str) -> list[str]:
    """searchlib's analysis of ``text`` but for the stemming: the words a query keeps."""
    return [w for w in (m.group(0).lower() for m in _WORDS.finditer(text))
            if len(w) >= 2 and w not in _STOP]


def _lower_only(texts: Sequence[str]) -> Sequence[str]:
    return [t.lower() for t in texts]


def _day_text(moment: dt.datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


def date_range(lo: dt.datetime | None, hi: dt.datetime | None) -> dict[str, Any]:
    """The ``range`` query on ``published`` between two moments (inclusive; days)."""
    bounds: dict[str, str] = {}
    if lo is not None:
        bounds["gte"] = _day_text(lo) or ""
    if hi is not None:
        bounds["lte"] = _day_text(hi) or ""
    return {"range": {"published": bounds}}


class OpenSearchTranslator:
    """Translates parsed queries into OpenSearch search requests.

    ``stem_patterns`` lowercases and stems the text of fuzzy, wildcard, prefix and range
    terms as the index analyses its words (the OpenSearch engine asks the cluster's
    ``_analyze``); ``resolve(facet, value)`` maps a facet value to the name indexed (aliases,
    case), as searchlib does before it filters.
    """

    def __init__(self, *, stem_patterns: Stemmer = _lower_only,
                 resolve: Resolver | None = None) -> None:
        self._stem_patterns = stem_patterns
        self._resolve = resolve or (lambda facet, value: value)
        self._stems: dict[str, str] = {}
        # Index terms each pattern of the query being translated may stand for: per thread,
        # as one translator serves a reader's concurrent searches (the TUI's workers).
        self._local = threading.local()

    # --- the query ------------------------------------------------------------------------

    def query(self, node: ast.Node | None) -> dict[str, Any]:
        """The query DSL of ``node`` (None: every document), with searchlib's coordination."""
        if node is None:
            return dict(_ALL)
        self._prime(node)
        self._local.cap = self._check_patterns(node)
        long_list = self._long_list(node)
        if long_list is not None:
            return long_list
        q = self._query(node)
        if q is _ABSENT or q is _NULL:
            return dict(_NULL)
        return self._coordinated(node, q)

    def filter_query(self, node: ast.Node) -> dict[str, Any]:
        """The query DSL of a filter clause (``actor:Hez*``): what it matches, unscored."""
        self._prime(node)
        q = self._query(node)
        return dict(_NULL) if q is _ABSENT or q is _NULL else q

    def _prime(self, node: ast.Node) -> None:
        """Stem every pattern of ``node`` in one call (one ``_analyze`` request)."""
        texts = [self._pattern_source(leaf) for leaf in ast.leaves(node)
                 if isinstance(leaf, (ast.Prefix, ast.Wildcard, ast.Fuzzy, ast.Range))
                 and leaf.field in SEARCH_FIELDS]
        flat = [t for pair in texts for t in pair if t and t not in self._stems]
        if flat:
            unique = list(dict.fromkeys(flat))
            self._stems.update(zip(unique, self._stem_patterns(unique), strict=True))

    def _long_list(self, node: ast.Node) -> dict[str, Any] | None:
        """A list of more than ``LONG_QUERY_WORDS`` distinct words (a pasted passage) as a
        bounded query, else None.

        Word by word, such a query would pass the cluster's clause limit (Lucene's 1,024
        clauses over the whole query by default: a pasted page of 600 distinct words is
        1,200). The articles it finds are still exactly those holding any of its words (one
        ``terms`` query per field on the words' stems, which counts as one clause); they are
        ranked by ``more_like_this`` on the passage, which weighs its
        ``LONG_QUERY_TERMS`` most distinctive words, as searchlib ranks a pasted passage by
        feedback rather than word by word.
        """
        if not isinstance(node, ast.Or) or node.boost != 1.0:
            return None
        words = _word_clauses(node)
        if words is None or len(words) <= LONG_QUERY_WORDS:
            return None
        unique = list(dict.fromkeys(w for group in words for w in group))
        stems = sorted(set(self._stem_patterns(unique)))
        text = " ".join(unique)
        return {"bool": {
            "filter": [{"bool": {"should": [{"terms": {field: stems}}
                                            for field in _TEXT_FIELDS.values()],
                                 "minimum_should_match": 1}}],
            "should": [{"more_like_this": {
                "fields": list(_TEXT_FIELDS.values()), "like": text, "min_term_freq": 1,
                "min_doc_freq": 1, "max_query_terms": LONG_QUERY_TERMS,
                "minimum_should_match": "1"}}]}}

    @property
    def _expansions(self) -> int:
        """Index terms each pattern of the query being translated may stand for."""
        return int(getattr(self._local, "cap", EXPANSION_CAP))

    def _check_patterns(self, node: ast.Node) -> int:
        """Refuse ``node`` as searchlib does when its patterns ask too much (searchlib's
        limits and messages); else the index terms each of them may stand for."""
        leaves = [leaf for leaf in ast.leaves(node)
                  if isinstance(leaf, (ast.Prefix, ast.Wildcard, ast.Fuzzy, ast.Range))
                  and leaf.field in SEARCH_FIELDS]
        if not leaves:
            return EXPANSION_CAP
        check_patterns([self._shown(leaf) for leaf in leaves],
                       [(self._shown(leaf), leaf.max_edits) for leaf in leaves
                        if isinstance(leaf, ast.Fuzzy)],
                       [(self._shown(leaf), leaf.text) for leaf in leaves
                        if isinstance(leaf, ast.Wildcard)])
        return pattern_cap(len(leaves))

    def _shown(self, leaf: ast.Prefix | ast.Wildcard | ast.Fuzzy | ast.Range) -> str:
        """A pattern as searchlib names it in a message (analysed text, at most 40
        characters)."""
        if isinstance(leaf, ast.Fuzzy):
            text = self._stem(leaf.text)
            text = f"{text}~{leaf.max_edits:g}" if leaf.max_edits != 1 else f"{text}~"
        elif isinstance(leaf, ast.Prefix):
            text = f"{self._stem(leaf.text)}*"
        elif isinstance(leaf, ast.Range):
            start = self._stem(leaf.start) if leaf.start else ""
            end = self._stem(leaf.end) if leaf.end else ""
            text = (f"{'{' if leaf.start_excl else '['}{start} TO {end}"
                    f"{'}' if leaf.end_excl else ']'}")
        else:
            text = self._stem(leaf.text)
        return text if len(text) <= 40 else text[:39] + "…"

    @staticmethod
    def _pattern_source(leaf: ast.Node) -> tuple[str | None, ...]:
        if isinstance(leaf, ast.Range):
            return (leaf.start, leaf.end)
        return (getattr(leaf, "text", None),)

    def _stem(self, text: str) -> str:
        return self._stems.get(text) or text.lower()

    def _query(self, node: ast.Node) -> dict[str, Any] | None:
        if isinstance(node, (ast.And, ast.Or)):
            return self._group(node)
        if isinstance(node, ast.Not):
            child = self._query(node.child)
            if child is _ABSENT or child is _NULL:
                return _ABSENT
            return {"bool": {"must": [_ALL], "must_not": [child]}}
        if isinstance(node, (ast.AndNot, ast.AndMaybe, ast.Require)):
            return self._binary(node)
        return self._leaf(node)

    def _group(self, node: ast.And | ast.Or) -> dict[str, Any] | None:
        kids = [q for q in (self._query(c) for c in node.children) if q is not _ABSENT]
        kids = [q for q in kids if q is not _NULL]
        if not kids:
            return _NULL
        if any(q == _ALL for q in kids):
            return dict(_ALL)  # searchlib: an unfielded *:* makes its whole group every document
        key = "must" if isinstance(node, ast.And) else "should"
        body: dict[str, Any] = {key: kids}
        if key == "should":
            body["minimum_should_match"] = 1
        if node.boost != 1.0:
            body["boost"] = node.boost
        return {"bool": body}

    def _binary(self, node: ast.AndNot | ast.AndMaybe | ast.Require) -> dict[str, Any] | None:
        a, b = (self._query(c) for c in ast.children(node))
        # A side that analysed to nothing is no side at all (the parser keeps the other)...
        if a is _ABSENT and b is _ABSENT:
            return _NULL
        if a is _ABSENT or b is _ABSENT:
            return a if b is _ABSENT else b
        # ...while an empty group empties the query as searchlib's normalisation does.
        if isinstance(node, ast.Require):
            if a is _NULL or b is _NULL:
                return _NULL
            return {"bool": {"must": [a], "filter": [b]}}
        if a is _NULL:
            return _NULL
        if b is _NULL:
            return a
        if isinstance(node, ast.AndNot):
            return {"bool": {"must": [a], "must_not": [b]}}
        return {"bool": {"must": [a], "should": [b]}}

    def _leaf(self, node: ast.Node) -> dict[str, Any] | None:
        if isinstance(node, ast.Every):
            if node.field is None:
                return dict(_ALL)
            return {"exists": {"field": "published" if node.field == "date" else node.field}}
        if isinstance(node, ast.DateRange):
            return date_range(node.start, node.end)
        name = getattr(node, "field", None)
        boost = getattr(node, "boost", 1.0)
        if name in SEARCH_FIELDS:
            return self._text_leaf(node, _TEXT_FIELDS[name], boost)
        if name in _KEYWORD_FIELDS:
            return self._keyword_leaf(node, name, boost)
        if name == "mentioned" and isinstance(node, (ast.Term, ast.Phrase)):
            day = node.text.strip()
            return {"term": {"mentioned_dates": day}} if _DAY.fullmatch(day) else dict(_NULL)
        # A field OpenSearch does not index that way (a "^2" of no field, ``info``): nothing.
        return dict(_NULL)

    def _text_leaf(self, node: ast.Node, name: str, boost: float) -> dict[str, Any] | None:
        if isinstance(node, ast.Term):
            if not _words(node.text):
                return _ABSENT
            return {"match": {name: {"query": node.text, "boost": boost}}}
        if isinstance(node, ast.Phrase):
            if not _words(node.text):
                return _NULL
            return {"match_phrase": {name: {"query": node.text, "slop": max(node.slop - 1, 0),
                                            "boost": boost}}}
        if isinstance(node, ast.Prefix):
            return {"prefix": {name: {"value": self._stem(node.text), "boost": boost,
                                      "rewrite": f"top_terms_{self._expansions}"}}}
        if isinstance(node, ast.Wildcard):
            text = self._stem(node.text)
            if text == "*":
                return dict(_ALL)  # searchlib reads a lone "*" as every document
            return {"wildcard": {name: {"value": text, "boost": boost,
                                        "rewrite": f"top_terms_{self._expansions}"}}}
        if isinstance(node, ast.Fuzzy):
            return {"fuzzy": {name: {"value": self._stem(node.text),
                                     "fuzziness": node.max_edits,
                                     "prefix_length": node.prefix,
                                     "max_expansions": self._expansions,
                                     "transpositions": True, "boost": boost,
                                     "rewrite": f"top_terms_{self._expansions}"}}}
        assert isinstance(node, ast.Range)
        bounds: dict[str, Any] = {"boost": boost}
        if node.start:
            bounds["gt" if node.start_excl else "gte"] = self._stem(node.start)
        if node.end:
            bounds["lt" if node.end_excl else "lte"] = self._stem(node.end)
        return {"range": {name: bounds}}

    def _keyword_leaf(self, node: ast.Node, name: str, boost: float) -> dict[str, Any] | None:
        facet = name in FACETS
        if isinstance(node, (ast.Term, ast.Phrase)):
            # Keyword fields split a value at commas (searchlib's KEYWORD fields do).
            parts = [p.strip() for p in node.text.split(",") if p.strip()]
            if isinstance(node, ast.Phrase):
                parts = [" ".join(parts)] if parts else []
            if not parts:
                return _ABSENT if isinstance(node, ast.Term) else _NULL
            values = [self._resolve(name, p) if facet else p for p in parts]
            terms = [{"term": {name: {"value": v, "boost": boost}}} for v in values]
            return terms[0] if len(terms) == 1 else {
                "bool": {"should": terms, "minimum_should_match": 1}}
        if isinstance(node, ast.Prefix):
            return {"prefix": {name: {"value": node.text, "boost": boost}}}
        if isinstance(node, ast.Wildcard):
            return {"wildcard": {name: {"value": node.text, "boost": boost}}}
        if isinstance(node, ast.Fuzzy):
            return {"fuzzy": {name: {"value": node.text, "fuzziness": node.max_edits,
                                     "prefix_length": node.prefix, "boost": boost}}}
        assert isinstance(node, ast.Range)
        bounds: dict[str, Any] = {"boost": boost}
        if node.start:
            bounds["gt" if node.start_excl else "gte"] = node.start
        if node.end:
            bounds["lt" if node.end_excl else "lte"] = node.end
        return {"range": {name: bounds}}

    def _coordinated(self, node: ast.Node, q: dict[str, Any]) -> dict[str, Any]:
        """``q`` with a tier per matched word when ``node`` is a short list of words."""
        positive = node.positive if isinstance(node, ast.AndNot) else node
        if not isinstance(positive, (ast.Or, ast.AndMaybe)):
            return q
        words = _word_clauses(positive)
        if words is None or not 2 <= len(words) <= SHORT_QUERY_WORDS:
            return q
        tiers = [{"constant_score": {"filter": clause, "boost": _WORD_TIER}}
                 for clause in (self._query(w) for w in words.values())
                 if clause is not _ABSENT and clause is not _NULL]
        return {"bool": {"must": [q], "should": tiers}}

    # --- the request ----------------------------------------------------------------------

    def request(self, parsed: ParsedQuery, *, actors: Sequence[str] = (),
                locations: Sequence[str] = (), people: Sequence[str] = (),
                date_from: dt.date | None = None, date_to: dt.date | None = None,
                sort: str = "relevance", size: int = 10, offset: int = 0,
                snippets: bool = True) -> dict[str, Any]:
        """The ``_search`` body for one page of ``parsed`` with searchlib's disjunctive facets.

        The scoring query selects what every count sees. Each facet's selection (the
        options' values OR-ed with the query's ``actor:``... values, AND-ed with its other
        ``actor:`` clauses) narrows the hits through ``post_filter`` and the counts of the
        *other* facets, never its own. The date range (options and ``date:`` clauses) narrows
        the hits and the entity and mentioned counts; the year/month histograms ignore it.
        ``sort``: ``relevance`` (newest first when every document scores the same),
        ``newest``/``date`` or ``oldest``; undated articles come last either way.
        """
        if sort not in ("relevance", "date", "newest", "oldest"):
            raise QueryError(f"unknown sort {sort!r}; choose relevance, newest or oldest")
        filters = parsed.filters
        given = {"actor": actors, "location": locations, "person": people}
        selections: dict[str, list[dict[str, Any]]] = {}
        for facet in FACETS:
            values = [self._resolve(facet, v) for v in (*given[facet], *filters.values[facet])]
            parts: list[dict[str, Any]] = []
            if values:
                parts.append({"terms": {facet: list(dict.fromkeys(values))}})
            parts.extend(self.filter_query(clause) for clause in filters.clauses[facet])
            selections[facet] = parts
        date_filter: list[dict[str, Any]] = []
        if date_from or date_to:
            date_filter.append(date_range(
                span_edge(date_from, end=False) if date_from else None,
                span_edge(date_to, end=True) if date_to else None))
        for clause in filters.dates:
            if isinstance(clause, ast.DateRange):
                date_filter.append(date_range(clause.start, clause.end))
            else:  # date:* and date:"..." keep every dated article, as searchlib's
                date_filter.append({"exists": {"field": "published"}})

        def selected(except_facet: str | None) -> list[dict[str, Any]]:
            return [part for facet, parts in selections.items() if facet != except_facet
                    for part in parts]

        aggs: dict[str, Any] = {}
        for facet in FACETS:
            aggs[facet] = {"filter": {"bool": {"filter": selected(facet) + date_filter}},
                           "aggs": {"values": {"terms": {"field": facet, "size": AGG_SIZE}}}}
        for name, fieldname, interval, fmt, extra in (
                ("year", "published", "year", "yyyy", []),
                ("month", "published", "month", "yyyy-MM", []),
                # The dates an article mentions are counted within the date range.
                ("mentioned", "mentioned_dates", "month", "yyyy-MM", date_filter)):
            aggs[name] = {"filter": {"bool": {"filter": selected(None) + extra}},
                          "aggs": {"values": {"date_histogram": {
                              "field": fieldname, "calendar_interval": interval,
                              "format": fmt, "min_doc_count": 1}}}}
        query = self.query(parsed.query)
        body: dict[str, Any] = {
            "query": query,
            "post_filter": {"bool": {"filter": selected(None) + date_filter}},
            "aggs": aggs,
            "size": size,
            "from": offset,
            # Exact totals: OpenSearch stops counting at 10,000 otherwise.
            "track_total_hits": True,
            "_source": SOURCE_FIELDS,
        }
        if sort == "relevance" and query == _ALL:
            sort = "newest"  # every article scores the same: newest first, as searchlib
        if sort != "relevance":
            order = "asc" if sort == "oldest" else "desc"
            body["sort"] = [{"published": {"order": order, "missing": "_last"}},
                            {"id": "asc"}]
        if snippets:
            body["highlight"] = {"fields": {"body": {
                "type": "fvh", "fragment_size": 240, "number_of_fragments": 2,
                "no_match_size": 240}}}
        return body


def _word_clauses(node: ast.Node) -> dict[tuple[str, ...], ast.Node] | None:
    """The distinct words of a list of words (OR, or AND-MAYBE of such lists), by their
    analysed words; None when a part is not a plain word (a phrase, a pattern, a group)."""
    found: dict[tuple[str, ...], ast.Node] = {}
    stack: list[ast.Node] = [node]
    while stack:
        part = stack.pop()
        if isinstance(part, ast.AndMaybe):
            stack.extend((part.optional, part.required))  # popped left to right
            continue
        if isinstance(part, (ast.Or, ast.And)) and part.boost == 1.0 and not _is_word(part):
            if isinstance(part, ast.And) and len(part.children) != 1:
                return None
            stack.extend(reversed(part.children))
            continue
        if not _is_word(part):
            return None
        words = tuple(_words(ast.leaves(part)[0].text))  # type: ignore[union-attr]
        if words:
            found.setdefault(words, part)
    return found


def _is_word(node: ast.Node) -> bool:
    """Whether ``node`` is one word searched in the default fields (the parser's OR)."""
    return (isinstance(node, ast.Or) and len(node.children) == len(SEARCH_FIELDS)
            and all(isinstance(c, ast.Term) and c.field in SEARCH_FIELDS
                    for c in node.children)
            and len({c.text for c in node.children}) == 1)  # type: ignore[union-attr]

