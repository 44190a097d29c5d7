"""Whole-result evaluation of common queries over cached, decoded posting lists.

A search needs every matching document (for the total and the facet counts) and the best
scored ones (for the page shown). Whoosh's matchers give both, but step through a tree of
Python objects per posting and decode each posting block (a pickle that also holds the
positions) every time: about 60 ms for a two-word query at 10,000 articles, four times that
for a phrase. :class:`Evaluator` computes the same set of documents and the same scores set
at a time instead:

* the documents and term weights of a posting list are decoded once per searcher and kept,
  with each document's BM25 score for that term (which depends on the term alone), in a
  bounded LRU cache; so are the documents a phrase matches;
* ``Or``, ``And``, ``AndMaybe``, ``AndNot`` and phrases combine those per-document scores
  exactly as the matcher classes do (a union adds the scores of its matching parts, an
  intersection all of them, ``AndMaybe`` adds the optional part where it matches,
  ``AndNot`` keeps the positive side's score);
* coordination (:mod:`searchlib.ranking`) is applied with the tier and clauses its matcher
  computes for the same index segment, so nothing of the ranking model is re-implemented.

Sums may be added in another order than Whoosh's matcher tree does, so a score can differ
from Whoosh's in the last bits. The caller therefore only uses these scores to pick the
candidates of a page (with a margin) and asks :func:`exact_scores` for Whoosh's own scores of
those few documents, which decide the final order: results are identical to a plain Whoosh
search. Queries with any other part (wildcards, fuzzy terms, ranges, pseudo-relevance
feedback...) are not handled (:meth:`Evaluator.evaluate` returns None) and go to Whoosh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from whoosh import query as wq
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Results

from . import ranking

__all__ = ["Evaluation", "Evaluator", "exact_scores"]

#: Decoded postings kept per searcher, counted in postings (about 40 bytes each with the
#: score): enough for the few thousand distinct terms of a session at 100,000 articles.
POSTINGS_BUDGET = 4_000_000
#: Phrase results kept per searcher.
PHRASE_ENTRIES = 256


class _Unsupported(Exception):
    """The query has a part this module does not evaluate; Whoosh does it instead."""


class Evaluation:
    """The documents a query matches (global docnums) with their scores.

    ``scores`` may differ from Whoosh's in the last bits (see the module docstring).
    """

    def __init__(self, scores: dict[int, float]) -> None:
        self.scores = scores


class _Node:
    """One evaluated query part in one segment: local docnum -> score, and which terms
    matched where (kept only below a coordinated query, which counts matched words)."""

    __slots__ = ("scores", "terms")

    def __init__(self, scores: dict[int, float],
                 terms: list[tuple[frozenset[tuple[str, bytes]], Any]] | None) -> None:
        self.scores = scores
        self.terms = terms


class _LRU:
    """A small LRU map whose size is the sum of the entries' weights."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self._data.get(key)
        if found is None:
            return None
        self._data.move_to_end(key)
        return found[0]

    def put(self, key: Any, value: Any, weight: int) -> None:
        self._data[key] = (value, weight)
        self.used += weight
        while self.used > self.budget and len(self._data) > 1:
            _, (_, dropped) = self._data.popitem(last=False)
            self.used -= dropped


class Evaluator:
    """Evaluates queries on one Whoosh searcher (top-level, possibly multi-segment)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.weighting = searcher.weighting
        self.leaves: list[tuple[Any, int]] = list(searcher.leaf_searchers())
        self._postings = _LRU(POSTINGS_BUDGET)
        self._phrases = _LRU(PHRASE_ENTRIES)
        self._lengths: dict[tuple[int, str], Sequence[int]] = {}

    # --- entry point ----------------------------------------------------------------------

    def evaluate(self, q: Any) -> Evaluation | None:
        """All documents ``q`` matches with their scores, or None if ``q`` is not handled."""
        context = self.searcher.context(needs_current=True)
        scores: dict[int, float] = {}
        try:
            _check(q)
            for index, (sub, offset) in enumerate(self.leaves):
                node = self._node(q, index, sub, context, want_terms=False)
                if offset:
                    scores.update({d + offset: s for d, s in node.scores.items()})
                else:
                    scores.update(node.scores)
        except _Unsupported:
            return None
        return Evaluation(scores)

    # --- query parts ----------------------------------------------------------------------

    def _node(self, q: Any, seg: int, sub: Any, context: Any, want_terms: bool) -> _Node:
        kind = type(q)
        if kind is wq.Term:
            return self._term(q, seg, sub, want_terms)
        if kind is wq.Phrase:
            return self._phrase(q, seg, sub, want_terms)
        if kind is wq.Or or kind is ranking.CoordinatedOr:
            if q.scale or q.minmatch:
                raise _Unsupported
            parts = [self._node(p, seg, sub, context, want_terms or kind is not wq.Or)
                     for p in q.subqueries]
            node = _union(parts)
            if len(q.subqueries) > 1:  # a lone subquery's matcher is used as it is
                _boost(node, q.boost)
            if kind is not wq.Or:
                node = self._coordinate(q, node, seg, sub, context)
            return node
        if kind is wq.And:
            parts = [self._node(p, seg, sub, context, want_terms) for p in q.subqueries]
            node = _intersection(parts)
            if len(q.subqueries) > 1:
                _boost(node, q.boost)
            return node
        if kind is wq.AndMaybe or kind is ranking.CoordinatedAndMaybe:
            coordinated = kind is not wq.AndMaybe
            a = self._node(q.a, seg, sub, context, want_terms or coordinated)
            b = self._node(q.b, seg, sub, context, want_terms or coordinated)
            node = _and_maybe(a, b)
            if coordinated:
                node = self._coordinate(q, node, seg, sub, context)
            return node
        if kind is ranking.ExcludingAndNot:
            a = self._node(q.a, seg, sub, context, want_terms)
            b = self._node(q.b, seg, sub, context, False)
            return _and_not(a, b)
        raise _Unsupported

    def _term(self, q: Any, seg: int, sub: Any, want_terms: bool) -> _Node:
        if q.minquality:
            raise _Unsupported
        fieldname = q.fieldname
        schema = sub.schema
        empty = _Node({}, [] if want_terms else None)
        if fieldname not in schema:
            return empty
        try:
            btext = schema[fieldname].to_bytes(q.text)
        except ValueError:
            return empty
        scores = self._term_scores(seg, sub, fieldname, btext)
        if scores is None:
            return empty
        if q.boost != 1.0:
            boost = q.boost
            scores = {d: s * boost for d, s in scores.items()}
        else:
            scores = dict(scores)
        terms = [(frozenset([(fieldname, btext)]), scores.keys())] if want_terms else None
        return _Node(scores, terms)

    def _term_scores(self, seg: int, sub: Any, fieldname: str, btext: bytes
                     ) -> dict[int, float] | None:
        """Local docnum -> unboosted score of one term in one segment, None if absent."""
        key = (seg, fieldname, btext)
        cached: dict[int, float] | None = self._postings.get(key)
        if cached is not None:
            return cached
        reader = sub.reader()
        if (fieldname, btext) not in reader:
            return None
        ids, weights, _ = _read_postings(reader, fieldname, btext, values=False)
        scorer = self.weighting.scorer(sub, fieldname, btext)
        if type(scorer) is BM25FScorer:
            lengths = self._field_lengths(seg, sub, fieldname)
            idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
            # The expression of whoosh.scoring.bm25, operation for operation.
            values = [idf * ((w * (k1 + 1)) / (w + k1 * ((1 - b) + b * lengths[d] / avgfl)))
                      for d, w in zip(ids, weights, strict=True)]
        elif type(scorer) is WeightScorer:
            values = list(weights)
        else:
            raise _Unsupported
        scores = dict(zip(ids, values, strict=True))
        self._postings.put(key, scores, len(ids) + 1)
        return scores

    def _field_lengths(self, seg: int, sub: Any, fieldname: str) -> Sequence[int]:
        found = self._lengths.get((seg, fieldname))
        if found is None:
            reader = sub.reader()
            length = reader.doc_field_length
            found = [length(d, fieldname, 1) for d in range(reader.doc_count_all())]
            self._lengths[(seg, fieldname)] = found
        return found

    def _phrase(self, q: Any, seg: int, sub: Any, want_terms: bool) -> _Node:
        fieldname = q.fieldname
        schema = sub.schema
        empty = _Node({}, [] if want_terms else None)
        if fieldname not in schema:
            return empty
        field = schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise _Unsupported  # Whoosh raises a query error here; let it
        reader = sub.reader()
        btexts: list[bytes] = []
        for word in q.words:
            try:
                btext = field.to_bytes(word)
            except ValueError:
                return empty
            if (fieldname, btext) not in reader:
                return empty
            btexts.append(btext)
        parts = []
        for btext in btexts:
            found = self._term_scores(seg, sub, fieldname, btext)
            if found is None:
                return empty
            parts.append(found)
        key = (seg, fieldname, tuple(btexts), q.slop)
        docs = self._phrases.get(key)
        if docs is None:
            docs = self._phrase_docs(reader, fieldname, btexts, parts, q.slop)
            self._phrases.put(key, docs, 1)
        # The phrase matcher scores the intersection of its word matchers: their sum.
        scores: dict[int, float] = {}
        for d in docs:
            total = parts[0][d]
            for part in parts[1:]:
                total = total + part[d]
            scores[d] = total
        if q.boost != 1.0:
            scores = {d: s * q.boost for d, s in scores.items()}
        terms = ([(frozenset((fieldname, t) for t in btexts), scores.keys())]
                 if want_terms else None)
        return _Node(scores, terms)

    def _phrase_docs(self, reader: Any, fieldname: str, btexts: list[bytes],
                     parts: list[dict[int, float]], slop: int) -> tuple[int, ...]:
        """Local docnums where the words occur in order within ``slop`` (SpanNear2's test)."""
        common = set(parts[0])
        for part in parts[1:]:
            common &= part.keys()
        if not common:
            return ()
        decode = reader.schema[fieldname].format.decoder("positions")
        positions: list[dict[int, Any]] = []
        for btext in dict.fromkeys(btexts):
            ids, _, values = _read_postings(reader, fieldname, btext, values=True)
            positions.append({d: v for d, v in zip(ids, values, strict=True) if d in common})
        by_word = dict(zip(dict.fromkeys(btexts), positions, strict=True))
        matched = []
        for d in sorted(common):
            if _spans_match([decode(by_word[b][d]) for b in btexts], slop):
                matched.append(d)
        return tuple(matched)

    def _coordinate(self, q: Any, node: _Node, seg: int, sub: Any, context: Any) -> _Node:
        """Apply the coordination the query's own matcher applies in this segment."""
        if not node.scores:
            return node
        try:
            rule = ranking.coordination_of(q.matcher(sub, context))
        except ValueError:
            raise _Unsupported from None
        if rule is None:
            return node
        clauses, tier = rule
        assert node.terms is not None
        counts: dict[int, int] = {}
        for clause in clauses:
            docs: set[int] = set()
            for terms, where in node.terms:
                if not terms.isdisjoint(clause):
                    docs.update(where)
            for d in docs:
                counts[d] = counts.get(d, 0) + 1
        scores = {d: s + (counts.get(d, 0) - 1) * tier for d, s in node.scores.items()}
        return _Node(scores, node.terms)


def _check(q: Any) -> None:
    """Refuse early what would need Whoosh anyway (saves building partial results)."""
    kind = type(q)
    if kind in (wq.Term, wq.Phrase):
        return
    if kind in (wq.Or, wq.And, ranking.CoordinatedOr):
        if kind is ranking.CoordinatedOr and ranking.may_use_feedback(q):
            raise _Unsupported
        for sub in q.subqueries:
            _check(sub)
        return
    if kind in (wq.AndMaybe, ranking.ExcludingAndNot, ranking.CoordinatedAndMaybe):
        if kind is ranking.CoordinatedAndMaybe and ranking.may_use_feedback(q):
            raise _Unsupported
        _check(q.a)
        _check(q.b)
        return
    raise _Unsupported


def _boost(node: _Node, boost: float) -> None:
    if boost != 1.0:
        node.scores = {d: s * boost for d, s in node.scores.items()}


def _union(parts: list[_Node]) -> _Node:
    parts = [p for p in parts if p.scores] or parts[:1]
    if not parts:
        return _Node({}, None)
    first = max(parts, key=lambda p: len(p.scores))
    scores = dict(first.scores)
    for part in parts:
        if part is first:
            continue
        for d, s in part.scores.items():
            found = scores.get(d)
            scores[d] = s if found is None else found + s
    terms = None
    if all(p.terms is not None for p in parts):
        terms = [t for p in parts for t in p.terms or ()]
    return _Node(scores, terms)


def _intersection(parts: list[_Node]) -> _Node:
    if not parts or any(not p.scores for p in parts):
        return _Node({}, [] if parts and all(p.terms is not None for p in parts) else None)
    smallest = min(parts, key=lambda p: len(p.scores))
    docs: Iterable[int] = smallest.scores.keys()
    for part in parts:
        if part is not smallest:
            docs = part.scores.keys() & docs
    scores = {}
    for d in docs:
        total = parts[0].scores[d]
        for part in parts[1:]:
            total = total + part.scores[d]
        scores[d] = total
    terms = None
    if all(p.terms is not None for p in parts):
        keep = scores.keys()
        terms = [(t, keep & where) for p in parts for t, where in p.terms or ()]
    return _Node(scores, terms)


def _and_maybe(a: _Node, b: _Node) -> _Node:
    optional = b.scores
    scores = {d: (s + optional[d]) if d in optional else s for d, s in a.scores.items()}
    terms = None
    if a.terms is not None and b.terms is not None:
        keep = scores.keys()
        terms = a.terms + [(t, keep & where) for t, where in b.terms]
    return _Node(scores, terms)


def _and_not(a: _Node, b: _Node) -> _Node:
    excluded = b.scores
    scores = {d: s for d, s in a.scores.items() if d not in excluded}
    terms = None
    if a.terms is not None:
        keep = scores.keys()
        terms = [(t, keep & where) for t, where in a.terms]
    return _Node(scores, terms)


def _spans_match(positions: list[list[int]], slop: int) -> bool:
    """SpanNear2(ordered=True, mindist=1) on one document: is there any matching span?

    Same walk as ``whoosh.query.spans.SpanNear2.SpanNear2Matcher._get_spans``, on
    ``(start, end)`` tuples.
    """
    from bisect import bisect_left

    aspans = {(p, p) for p in positions[0]}
    for plist in positions[1:]:
        if not aspans:
            return False
        spans: set[tuple[int, int]] = set()
        for astart, aend in aspans:
            # bspans are single positions, sorted; first one starting at or after astart.
            j = bisect_left(plist, astart)
            while j < len(plist):
                bpos = plist[j]
                j += 1
                if bpos > aend + slop:
                    break
                if aend < bpos:
                    dist = bpos - aend
                elif bpos < astart:
                    dist = astart - bpos
                else:
                    dist = 0
                if 1 <= dist <= slop:
                    spans.add((min(astart, bpos), max(aend, bpos)))
        aspans = spans
    return bool(aspans)


def _read_postings(reader: Any, fieldname: str, btext: bytes, *, values: bool
                   ) -> tuple[list[int], list[float], list[Any]]:
    """Docnums, weights and (optionally) raw values of one segment's posting list.

    Deleted documents are included: callers mask results with the live documents.
    """
    matcher = reader.postings(fieldname, btext)
    # Unwrap the deleted-documents filter to reach the codec's block reader.
    while not hasattr(matcher, "_read_ids") and hasattr(matcher, "child"):
        matcher = matcher.child
    ids: list[int] = []
    weights: list[float] = []
    raw: list[Any] = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if values:
                matcher._read_values()
                raw.extend(matcher._values)
            matcher._next_block()
    else:  # another codec: the generic (slower) matcher interface
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if values:
                raw.append(matcher.value())
            matcher.next()
    return ids, weights, raw


def exact_scores(searcher: Any, q: Any, docnums: Sequence[int]
                 ) -> dict[int, tuple[float, list[tuple[str, bytes]]]]:
    """Whoosh's own score and matched terms for each of ``docnums`` (sorted global docnums).

    Runs the query's matcher of each segment holding one of them, skipping straight to each
    document, and reads the score and the term matchers positioned there, as Whoosh's
    scored search with ``terms=True`` records them. Documents the query does not match are
    left out.
    """
    context = searcher.context(needs_current=True)
    out: dict[int, tuple[float, list[tuple[str, bytes]]]] = {}
    final = searcher.weighting.final if searcher.weighting.use_final else None
    leaves = list(searcher.leaf_searchers())
    for index, (sub, offset) in enumerate(leaves):
        end = leaves[index + 1][1] if index + 1 < len(leaves) else offset + sub.doc_count_all()
        local = [d - offset for d in docnums if offset <= d < end]
        if not local:
            continue
        matcher = q.matcher(sub, context)
        term_matchers = list(matcher.term_matchers())
        for d in local:
            if not matcher.is_active():
                break
            if matcher.id() < d:
                matcher.skip_to(d)
                if not matcher.is_active():
                    break
            if matcher.id() != d:
                continue
            score = matcher.score()
            if final is not None:
                score = final(searcher, d + offset, score)
            terms = [tm.term() for tm in term_matchers if tm.is_active() and tm.id() == d]
            out[d + offset] = (score, terms)
    return out


def results_for(searcher: Any, q: Any, ranked: Sequence[tuple[float, int]],
                terms: dict[int, list[tuple[str, bytes]]]) -> Results:
    """A Whoosh ``Results`` for the given (score, docnum) hits with their matched terms,
    as a scored search with ``terms=True`` would return for them (highlighting reads it)."""
    results = Results(searcher, q, list(ranked))
    termdocs: dict[tuple[str, bytes], list[int]] = {}
    for docnum, found in terms.items():
        for term in found:
            termdocs.setdefault(term, []).append(docnum)
    results.termdocs = termdocs
    results.docterms = {d: list(t) for d, t in terms.items()}
    return results
