"""Whole-result evaluation of common queries over cached, decoded posting lists.

A search needs every matching document (for the total and the facet counts) and the best
scored ones (for the page shown). Whoosh's matchers give both, but step through a tree of
Python objects per posting and decode each posting block (a pickle that also holds the
positions) every time: about 60 ms for a two-word query at 10,000 articles, four times that
for a phrase. :class:`Evaluator` computes the same documents and the same scores a set at a
time instead:

* the query's own Whoosh matcher tree is built for each index segment (and kept for the
  next run of the same query), but never stepped through: it is read as a plan. Its leaves
  name the terms and carry their scorers; its inner nodes say how scores combine;
* each leaf's documents and term weights are decoded once per searcher and kept, with each
  document's BM25 score for that term (the expression of ``whoosh.scoring.bm25``, operation
  for operation), in a bounded LRU cache; so are the documents a phrase matches;
* each inner node combines its children's per-document scores exactly as its ``score()``
  does (a union adds the scores of the sides matching a document, an intersection both,
  ``AndMaybe`` the optional side where it matches, ``AndNot`` keeps the positive side, a
  wrapper multiplies by its boost, coordination adds its tiers, see
  :mod:`searchlib.engine.whoosh.ranking`).

Floating-point sums are therefore formed from the same operands in the same way as Whoosh
forms them, and the scores are Whoosh's own, bit for bit: the tests compare them with a
plain scored search. Which terms matched each document (what highlighting needs) is kept too,
with the semantics of Whoosh's ``terms=True``: the leaves positioned on the document. A tree
with any other matcher (wildcards, ranges, pseudo-relevance feedback...) is not handled:
:meth:`Evaluator.evaluate` returns None and the caller uses Whoosh.

The same plan is carried out in one of two forms, chosen by index size and by how long the
caller keeps the index open:

* for the first search of an index below :data:`~searchlib.engine.whoosh.facetstore.DENSE_MIN_DOCS`
  documents, on per-segment dicts (docnum -> score) and sets, with the standard library
  only: importing numpy (~0.15 s) would cost a one-shot ``search query`` on a small index
  more than the whole query;
* from that size on, and for every later search of an open index whatever its size
  (:class:`searchlib.Index` switches after its first search: the arrays are faster at
  1,000 articles already), on numpy arrays over the docnums of all segments at once (or of one
  segment at a time where the segments' trees differ in shape): a float64 score and a bool
  "matches" flag per document, combined element by element with the same IEEE operations
  in the same order, so the same bits. A side that does not match a document holds -0.0
  there, the one value whose addition changes no float, so a union is a plain array sum
  with no per-element branch. A two-word query over 90,000 matching documents at 100,000
  articles takes ~4 ms instead of ~90, the top N is a linear partition instead of a heap
  walk over every match, and postings are cached as arrays of docnums and scores (16 bytes
  a posting instead of ~100), so the cache holds six times more.

The tests run both forms against Whoosh and against each other.
"""

from __future__ import annotations

import heapq
import os
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, chain, repeat
from math import copysign
from operator import add, getitem, itemgetter, neg
from pickle import loads
from typing import Any, TypeVar

from whoosh import query as wq
from whoosh.formats import Positions
from whoosh.matching import (
    AndMaybeMatcher,
    FilterMatcher,
    IntersectionMatcher,
    ListMatcher,
    NullMatcherClass,
    UnionMatcher,
    WrappingMatcher,
)
from whoosh.query.spans import SpanNear2
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Results

from . import postlists, ranking
from .analysis import NewsAnalyzer, TokenTable, occurrences
from .bitsets import bits_of, bits_to_mask, iter_bits, mask_to_bits
from .facetdata import DENSE_MIN_DOCS
from .facetstore import block_reader

__all__ = ["Evaluation", "Evaluator", "exact_scores", "results_for"]

#: Decoded postings kept per searcher, counted in postings (a docnum -> score entry costs
#: about 100 bytes, so at most ~100 MB): the common terms of a session at 10,000 articles.
#: Each entry also counts :data:`ENTRY_POSTINGS` and each of its posting blocks
#: :data:`BLOCK_POSTINGS`, for what the entry costs whatever its length (a fuzzy query reads
#: thousands of one-posting lists, which counted as one posting each let the cache hold
#: ten times its budget).
POSTINGS_BUDGET = 1_000_000
#: The same on numpy arrays, where a posting costs 16 bytes (docnum and score), counted with
#: the fixed costs below: ~56 MB by scaling what a full cache of 4 million freed (90 MB, on
#: the 10,000-article hostile-query run). The benchmark's 16 queries alone
#: read 964,000 postings at 100,000 articles.
DENSE_POSTINGS_BUDGET = 2_500_000
#: What one cached posting list costs beyond its postings, in postings of the cache it is
#: in: its key, the entry and the arrays' headers (about 750 bytes, measured with
#: ``sys.getallocatedblocks`` on the 10,000-article hostile-query run).
ENTRY_POSTINGS = 48
DICT_ENTRY_POSTINGS = 8
#: What one posting block's location costs (a tuple of two ints, ~100 bytes).
BLOCK_POSTINGS = 6
DICT_BLOCK_POSTINGS = 1
#: Phrase results kept per searcher (one per phrase, field and segment).
PHRASE_ENTRIES = 256
#: The same on numpy arrays, counted in matching docnums (4 bytes each: at most ~8 MB);
#: an index of 16 segments needs 32 entries for one phrase searched in title and body.
DENSE_PHRASE_BUDGET = 2_000_000
#: Matcher trees (one per query and segment) kept per searcher, counted in matchers (9.5
#: Python objects, ~730 bytes each, measured with ``sys.getallocatedblocks`` and the hostile
#: queries' peak RSS). They spare a query run again the building of its matchers, which a
#: cached expansion needs too (its key comes from the tree): 150 ms for ``a*`` at 10,000
#: articles, 3,030 matchers over 10 segments, and 200-500 ms of a warm one-letter prefix at
#: 100,000 articles, whose 26 take 116,324 matchers over 16 segments; this holds them. Counting
#: trees instead let 2,048 fuzzy and wildcard trees of hundreds of terms each fill the memory.
TREE_MATCHERS = 150_000
#: Evaluated fuzzy, wildcard and prefix expansions kept per searcher on numpy arrays,
#: packed (:class:`_PackedDense`) and counted in array bytes: 64 MB. An entry holds no
#: matcher: it is found again by its terms. 2,036 hostile queries at 10,000 articles peak at
#: 298 MB with this budget, 399 MB with 128 MB (the limit of their test is 500 MB;
#: docs/performance.md).
DENSE_EXPANSION_BUDGET = 64_000_000
#: Decoded posting blocks (with positions, for snippets) kept per searcher.
BLOCK_ENTRIES = 1024
#: Raw posting values (positions) of phrase words kept per searcher, counted in postings
#: (~150 bytes each: at most ~50 MB).
RAW_BUDGET = 300_000

_Terms = list[tuple[tuple[str, bytes], Any]]


class _Unsupported(Exception):
    """The query has a part this module does not evaluate; Whoosh does it instead."""


class _Mismatch(Exception):
    """The segments' matcher trees differ in shape: evaluated one segment at a time."""


class Evaluation:
    """The documents a query matches, their scores and matched terms (global docnums).

    Made by :meth:`Evaluator.evaluate`, in one of two forms that give the same answers: on
    dicts and sets (small indexes) or on numpy arrays (large ones, see :data:`DENSE_MIN_DOCS`).
    """

    @property
    def count(self) -> int:
        """Number of matching documents."""
        raise NotImplementedError

    def bits(self, size: int) -> int:
        """The matching documents as a bitset of global docnums (all below ``size``)."""
        raise NotImplementedError

    def all_scores(self) -> dict[int, float]:
        """Global docnum -> score of every matching document."""
        raise NotImplementedError

    def score(self, docnum: int) -> float:
        """The score of a matching document (global docnum)."""
        raise NotImplementedError

    def best(self, wanted: int, within: int | None = None) -> list[tuple[float, int]]:
        """The ``wanted`` best ``(score, docnum)``: highest score first, then lowest docnum,
        as Whoosh's top-N collector keeps them; only documents of bitset ``within`` (a subset
        of the matches) if given.
        """
        raise NotImplementedError

    def terms_of(self, docnum: int) -> list[tuple[str, bytes]]:
        """The ``(field, term)`` pairs matched in ``docnum``, in Whoosh's term-matcher order."""
        raise NotImplementedError


class _SparseEvaluation(Evaluation):
    """An evaluation held as one ``local docnum -> score`` dict per index segment."""

    def __init__(self, segments: list[tuple[int, int, dict[int, float], _Terms]]) -> None:
        #: ``(offset, document count, local docnum -> score, matched terms)`` per segment.
        self.segments = segments
        self._offsets = [offset for offset, _, _, _ in segments]

    @property
    def count(self) -> int:
        return sum(len(scores) for _, _, scores, _ in self.segments)

    def bits(self, size: int) -> int:
        bits = 0
        for offset, count, scores, _ in self.segments:
            if scores:
                bits |= bits_of(scores, min(count, size - offset)) << offset
        return bits

    def all_scores(self) -> dict[int, float]:
        return {d + offset: score for offset, _, scores, _ in self.segments
                for d, score in scores.items()}

    def score(self, docnum: int) -> float:
        offset, _, scores, _ = self.segments[bisect_right(self._offsets, docnum) - 1]
        return scores[docnum - offset]

    def best(self, wanted: int, within: int | None = None) -> list[tuple[float, int]]:
        found: list[tuple[float, int]] = []
        for offset, count, scores, _ in self.segments:
            if not scores:
                continue
            if within is None:
                # (score, -docnum) in plain tuple order, built by C-level zip and map.
                pool: Any = zip(scores.values(), map(neg, scores.keys()), strict=True)
            else:
                local = (within >> offset) & ((1 << count) - 1)
                pool = [(scores[d], -d) for d in iter_bits(local)]
            found.extend((score, -negated + offset)
                         for score, negated in heapq.nlargest(wanted, pool))
        return sorted(found, key=lambda item: (-item[0], item[1]))[:wanted]

    def terms_of(self, docnum: int) -> list[tuple[str, bytes]]:
        offset, _, _, terms = self.segments[bisect_right(self._offsets, docnum) - 1]
        local = docnum - offset
        return [term for term, docs in terms if local in docs]


class _DenseEvaluation(Evaluation):
    """An evaluation held as whole-index numpy arrays: a score and a match flag per docnum.

    Scores of documents that do not match are meaningless (whatever the combining left
    there); every read goes through the match flags.
    """

    def __init__(self, parts: list[tuple[int, _Dense]]) -> None:
        import numpy as np

        #: ``(first global docnum, evaluated root node)`` per part: one part for the whole
        #: index, or one per segment.
        self.parts = parts
        self._offsets = [offset for offset, _ in parts]
        if len(parts) == 1:
            self.scores, self.mask = parts[0][1].scores, parts[0][1].mask
        elif parts:
            self.scores = np.concatenate([node.scores for _, node in parts])
            self.mask = np.concatenate([node.mask for _, node in parts])
        else:
            self.scores = np.zeros(0)
            self.mask = np.zeros(0, dtype=bool)

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    def bits(self, size: int) -> int:
        mask = self.mask[:size]
        return mask_to_bits(mask)

    def all_scores(self) -> dict[int, float]:
        import numpy as np

        docs = np.flatnonzero(self.mask)
        return dict(zip(docs.tolist(), self.scores[docs].tolist(), strict=True))

    def score(self, docnum: int) -> float:
        return float(self.scores[docnum])

    def best(self, wanted: int, within: int | None = None) -> list[tuple[float, int]]:
        import numpy as np

        mask = self.mask
        if within is not None:
            mask = mask & bits_to_mask(within, len(mask))
        docs = np.flatnonzero(mask)
        scores = self.scores[docs]
        if len(docs) > wanted:
            # Every document scoring at least the wanted-th best score (ties included), then
            # ordered exactly: a partition is linear, a full sort of 100,000 scores is not.
            cut = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            keep = scores >= cut
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((docs, -scores))[:wanted]
        return list(zip(scores[order].tolist(), docs[order].tolist(), strict=True))

    def terms_of(self, docnum: int) -> list[tuple[str, bytes]]:
        offset, node = self.parts[bisect_right(self._offsets, docnum) - 1]
        local = docnum - offset
        return [term for term, docs in node.terms if docs[local]]


class _Node:
    """One evaluated matcher in one segment: local docnum -> score, and the leaves that are
    positioned on each matched document, as ``((field, term), documents)`` in tree order."""

    __slots__ = ("scores", "terms")

    def __init__(self, scores: dict[int, float], terms: _Terms) -> None:
        self.scores = scores
        self.terms = terms


_EMPTY_TERMS: _Terms = []


class _Dense:
    """One evaluated matcher over consecutive segments, as numpy arrays over their docnums:
    ``scores`` (float64), ``mask`` (bool: matched), and the leaves positioned on each
    document as ``((field, term), bool array)`` in tree order.

    If ``clean``, the score is -0.0 wherever ``mask`` is False: the identity of IEEE
    addition (``x + -0.0`` is ``x`` for every ``x``, +0.0 and -0.0 included), so adding a
    side that does not match a document changes nothing, bit for bit, and a union is a
    plain array sum. Otherwise those scores are meaningless, and :meth:`cleaned` makes them
    -0.0 when a sum needs it (only then: it costs a pass over the arrays). Arrays are shared
    between nodes and never modified once made."""

    __slots__ = ("clean", "mask", "scores", "terms")

    def __init__(self, scores: Any, mask: Any, terms: list[tuple[tuple[str, bytes], Any]],
                 clean: bool = False) -> None:
        self.scores = scores
        self.mask = mask
        self.terms = terms
        self.clean = clean

    def cleaned(self) -> Any:
        """The scores, with -0.0 wherever the node does not match."""
        return self.scores if self.clean else _only(self.scores, self.mask)


class _PackedDense:
    """A clean :class:`_Dense` as the expansion cache keeps it: the matched docnums and their
    scores, and each term's documents as docnums or as packed bits, whichever is smaller.

    Kept whole, an expansion of 128 terms over 100,000 documents took 13.7 MB (a flag per
    term and document), so the cache held a few of them and a second pass over the
    benchmark's 40 prefixes found none; packed, a prefix matching a few thousand documents
    takes tens of kilobytes, and ``a*`` about 1.5 MB. :meth:`unpack` gives back equal arrays
    (a few milliseconds at 100,000 documents, where evaluating again takes seconds).
    """

    __slots__ = ("docs", "nbytes", "size", "terms", "values")

    def __init__(self, node: _Dense) -> None:
        import numpy as np

        self.size = len(node.mask)
        self.docs = np.flatnonzero(node.mask).astype(np.int32)
        self.values = node.scores[self.docs]
        self.terms = [(term, _pack_mask(where)) for term, where in node.terms]
        # Beside the arrays: 200 bytes for the entry, its key and arrays' headers, and 100
        # for each term's key and tuple (so that an empty expansion weighs something too).
        self.nbytes = (200 + self.docs.nbytes + self.values.nbytes
                       + sum(p.nbytes + 100 for _, p in self.terms))

    def unpack(self) -> _Dense:
        """The node again: scores -0.0 where it does not match, as it was made."""
        import numpy as np

        scores = np.full(self.size, -0.0)
        scores[self.docs] = self.values
        mask = np.zeros(self.size, dtype=bool)
        mask[self.docs] = True
        return _Dense(scores, mask, [(term, _unpack_mask(p, self.size))
                                     for term, p in self.terms], clean=True)


def _pack_mask(mask: Any) -> Any:
    """A bool array as its true indexes (int32) or its packed bits (uint8), the smaller."""
    import numpy as np

    docs = np.flatnonzero(mask)
    if len(docs) * 4 < (len(mask) + 7) // 8:
        return docs.astype(np.int32)
    return np.packbits(mask)


def _unpack_mask(packed: Any, size: int) -> Any:
    """The bool array :func:`_pack_mask` was given."""
    import numpy as np

    if packed.dtype == np.uint8:
        return np.unpackbits(packed, count=size).view(bool)
    mask = np.zeros(size, dtype=bool)
    mask[packed] = True
    return mask


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
        old = self._data.pop(key, None)
        if old is not None:
            self.used -= old[1]
        self._data[key] = (value, weight)
        self.used += weight
        while self.used > self.budget and len(self._data) > 1:
            _, (_, dropped) = self._data.popitem(last=False)
            self.used -= dropped


class Evaluator:
    """Evaluates queries on one Whoosh searcher (top-level, possibly multi-segment)."""

    def __init__(self, searcher: Any, dense: bool | None = None,
                 folder: str | os.PathLike[str] | None = None) -> None:
        self.searcher = searcher
        #: The Whoosh folder, where each segment's posting lists without positions are
        #: (:mod:`.postlists`; None: read every posting list from its blocks).
        self.folder = None if folder is None else os.fspath(folder)
        self._lists: dict[int, postlists.PostingLists | None] = {}
        self._position_files: dict[int, postlists.PositionLists | None] = {}
        self.leaves: list[tuple[Any, int]] = list(searcher.leaf_searchers())
        #: Whether queries are evaluated on numpy arrays (see :data:`DENSE_MIN_DOCS`);
        #: ``dense`` forces one way or the other (the tests compare both).
        self.dense = (searcher.doc_count_all() >= DENSE_MIN_DOCS) if dense is None else dense
        #: Whether the numpy path evaluates all segments at once when their matcher trees
        #: have the same shape (False: always one segment at a time; for the tests).
        self.whole = True
        self._sizes = [sub.doc_count_all() for sub, _ in self.leaves]
        self._postings = _LRU(DENSE_POSTINGS_BUDGET if self.dense else POSTINGS_BUDGET)
        self._phrases = _LRU(DENSE_PHRASE_BUDGET if self.dense else PHRASE_ENTRIES)
        self._trees = _LRU(TREE_MATCHERS)
        self._blocks = _LRU(BLOCK_ENTRIES)
        # Keyed by the terms, boosts and filters of the expansion (see _dense_expanded).
        self._expansions = _LRU(DENSE_EXPANSION_BUDGET)
        self._raw = _LRU(RAW_BUDGET)
        # (seg, field, term) -> docnums, position counts and deltas from a positions file.
        self._positions = _LRU(RAW_BUDGET)
        self._offsets = [offset for _, offset in self.leaves]
        self._lengths: dict[tuple[Any, ...], Any] = {}

    def evaluate(self, q: Any) -> Evaluation | None:
        """All documents ``q`` matches with their scores, or None if ``q`` is not handled."""
        try:
            _check(q)
        except _Unsupported:
            return None
        context = self.searcher.context(needs_current=True)
        sparse: list[tuple[int, int, dict[int, float], _Terms]] = []
        try:
            trees = []
            for seg, (sub, _offset) in enumerate(self.leaves):
                key = (q, seg)
                tree = self._trees.get(key)
                if tree is None:
                    tree = q.matcher(sub, context)
                    self._trees.put(key, tree, _matcher_count(tree))
                trees.append(tree)
            if self.dense:
                return self._evaluate_dense(trees)
            for seg, (tree, (sub, offset)) in enumerate(zip(trees, self.leaves, strict=True)):
                node = self._node(tree, seg, sub)
                sparse.append((offset, self._sizes[seg], node.scores, node.terms))
        except _Unsupported:
            return None
        return _SparseEvaluation(sparse)

    def _evaluate_dense(self, trees: list[Any]) -> _DenseEvaluation:
        """The numpy evaluation of one matcher tree per segment.

        All segments at once when the trees have the same shape (the usual case: each
        numpy operation then runs once over the whole index instead of once per segment,
        three times faster at 16 segments); else one segment at a time. The same
        operations are applied to each document either way.
        """
        segs = list(range(len(trees)))
        if self.whole and len(trees) > 1 and self._contiguous():
            try:
                return _DenseEvaluation([(0, self._dense(trees, segs))])
            except _Mismatch:
                pass
        return _DenseEvaluation([(self._offsets[seg], self._dense([tree], [seg]))
                                 for seg, tree in zip(segs, trees, strict=True)])

    def _contiguous(self) -> bool:
        """Whether each segment's global docnums follow the previous segment's."""
        return self._offsets == [sum(self._sizes[:seg]) for seg in range(len(self._sizes))]

    # --- matchers -------------------------------------------------------------------------

    def _node(self, m: Any, seg: int, sub: Any) -> _Node:
        # Matchers are read as a plan, never by their state: a parent's constructor may have
        # moved a child on (AND-NOT and AND-MAYBE align their sides), even to its end.
        kind = type(m)
        if kind is NullMatcherClass:
            return _Node({}, _EMPTY_TERMS)
        if kind is UnionMatcher:
            return _union(self._node(m.a, seg, sub), self._node(m.b, seg, sub))
        if kind is IntersectionMatcher:
            return _intersection(self._node(m.a, seg, sub), self._node(m.b, seg, sub))
        if kind is AndMaybeMatcher:
            return _and_maybe(self._node(m.a, seg, sub), self._node(m.b, seg, sub))
        if kind is ranking.ExcludingMatcher:
            return _and_not(self._node(m.a, seg, sub), self._node(m.b, seg, sub))
        if kind is WrappingMatcher:
            node = self._node(m.child, seg, sub)
            return _Node(_times(node.scores, m.boost), node.terms)
        if kind is FilterMatcher:
            node = self._node(m.child, seg, sub)
            ids, exclude = m._ids, m._exclude
            scores = {d: s * m.boost for d, s in node.scores.items() if (d in ids) != exclude}
            return _Node(scores, _restrict(node.terms, scores))
        if kind is SpanNear2.SpanNear2Matcher:
            return self._phrase(m, seg, sub)
        if kind is ranking.RankingMatcher:
            return self._coordinated(m, seg, sub)
        if kind is ranking.ExpandedMatcher:
            return self._expanded(m, seg, sub)
        if _is_leaf(m):
            return self._leaf(m, seg, sub)
        raise _Unsupported

    def _expanded(self, m: Any, seg: int, sub: Any) -> _Node:
        """The terms of a fuzzy, wildcard or prefix term: their scores added up in the
        order of the leaves (see :class:`ranking.Expanded`), as :meth:`_dense_expanded`."""
        scores: dict[int, float] = {}
        terms: _Terms = []
        for leaf, boosts, filters in _expansion_leaves(m):
            found = self._load(leaf, seg, sub, values=False)[0][0]
            kept: dict[int, float] = {}
            for d, score in found.items():
                if any((d in ids) == exclude for ids, exclude in filters):
                    continue  # a deleted document (see _node's FilterMatcher)
                for boost in boosts:  # as the wrappers multiply, innermost first
                    score = score * boost
                kept[d] = score
                scores[d] = scores.get(d, -0.0) + score
            terms.append((leaf.term(), kept.keys()))
        return _Node(scores, terms)

    def _dense_expanded(self, ms: list[Any], segs: list[int], size: int) -> _Dense:
        """:meth:`_expanded` on numpy arrays: one scatter-add over every leaf's postings,
        which adds each document's scores in the order of the leaves, as the dicts do."""
        import numpy as np

        # Keyed by what the result depends on, not by the matchers (which the bounded tree
        # cache drops and rebuilds): the segments, and per term its boosts and filters.
        # The postings are cached by (segment, field, term) in the same way (_load). A
        # filter is a segment's set of deleted documents, cached by its reader: named by
        # identity, and kept alive by the entry so that the identity cannot be reused.
        plans = [_expansion_plan(x) for x in ms]
        plan = [leaves for leaves, _ in plans]
        key = (tuple(segs), tuple(terms for _, terms in plans))
        known = self._expansions.get(key)
        if known is not None:
            return known[1].unpack()  # type: ignore[no-any-return]
        docs: list[Any] = []
        scored: list[Any] = []
        # Each term's documents in every segment: one "positioned on" mask per term.
        where: dict[tuple[str, bytes], list[Any]] = {}
        for leaves, seg, base in zip(plan, segs, self._bases(segs), strict=True):
            for leaf, boosts, filters in leaves:
                ids, values, _ = self._load(leaf, seg, self.leaves[seg][0], values=False)[0]
                for listed, exclude in filters:
                    keep = np.isin(ids, np.fromiter(listed, dtype=np.intp)) != exclude
                    ids, values = ids[keep], values[keep]
                for boost in boosts:
                    values = values * boost
                ids = ids + base if base else ids
                docs.append(ids)
                scored.append(values)
                where.setdefault(leaf.term(), []).append(ids)
        mask = np.zeros(size, dtype=bool)
        if docs:
            every = np.concatenate(docs)
            mask[every] = True
            # bincount adds each bin's weights one after the other, in input order, from
            # +0.0: the dicts' sums from -0.0, bit for bit (scores are never negative, and
            # +0.0 + x is x for every x >= +0.0 as -0.0 + x is). Unmatched ones get -0.0.
            sums = np.bincount(every, weights=np.concatenate(scored), minlength=size)
            scores = np.where(mask, sums, -0.0)
        else:
            scores = np.full(size, -0.0)
        masks: list[tuple[tuple[str, bytes], Any]] = []
        for term, parts in where.items():
            own = np.zeros(size, dtype=bool)
            for ids in parts:
                own[ids] = True
            masks.append((term, own))
        result = _Dense(scores, mask, masks, clean=True)
        kept = [ids for leaves in plan for _, _, filters in leaves for ids, _ in filters]
        packed = _PackedDense(result)
        self._expansions.put(key, (kept, packed), packed.nbytes)
        return result

    def _dense(self, ms: list[Any], segs: list[int]) -> _Dense:
        """:meth:`_node` on numpy arrays: the same combinations, element by element.

        ``ms`` are the same node of the matcher trees of segments ``segs`` (consecutive);
        the arrays run over those segments' documents, end to end. Raises
        :class:`_Mismatch` if the nodes differ in kind or parameters.

        Each score is formed from the same operands by the same operation as in
        :meth:`_node` (and so in Whoosh); where a side does not match, it adds -0.0 (see
        :class:`_Dense`), which leaves every float as it was, so not even the sign of a
        zero can differ.
        """
        import numpy as np

        m = ms[0]
        kind = type(m)
        if any(type(other) is not kind for other in ms):
            raise _Mismatch
        size = sum(self._sizes[seg] for seg in segs)
        if kind is NullMatcherClass:
            return _Dense(np.full(size, -0.0), np.zeros(size, dtype=bool), [], clean=True)
        if kind in _BINARY:
            a = self._dense([x.a for x in ms], segs)
            b = self._dense([x.b for x in ms], segs)
            if kind is UnionMatcher:
                # Both sides where both match, else the matching side plus -0.0: itself.
                return _Dense(a.cleaned() + b.cleaned(), a.mask | b.mask, a.terms + b.terms,
                              clean=True)
            if kind is IntersectionMatcher:
                mask = a.mask & b.mask
                return _Dense(a.scores + b.scores, mask, _restrict_dense(a.terms + b.terms, mask))
            if kind is AndMaybeMatcher:
                return _Dense(a.scores + b.cleaned(), a.mask,
                              a.terms + _restrict_dense(b.terms, a.mask))
            mask = a.mask & ~b.mask  # ranking.ExcludingMatcher
            return _Dense(a.scores, mask, _restrict_dense(a.terms, mask))
        if kind is WrappingMatcher:
            boost = _same(x.boost for x in ms)
            node = self._dense([x.child for x in ms], segs)
            # -0.0 times a positive boost (or +0.0) stays -0.0: clean stays clean.
            return _Dense(node.scores * boost, node.mask, node.terms,
                          clean=node.clean and copysign(1.0, boost) > 0)
        if kind is FilterMatcher:
            boost = _same(x.boost for x in ms)
            exclude = _same(x._exclude for x in ms)
            node = self._dense([x.child for x in ms], segs)
            listed = np.zeros(size, dtype=bool)
            for x, base in zip(ms, self._bases(segs), strict=True):
                listed[np.fromiter(x._ids, dtype=np.intp) + base] = True
            mask = node.mask & (~listed if exclude else listed)
            return _Dense(node.scores * boost, mask, _restrict_dense(node.terms, mask))
        if kind is SpanNear2.SpanNear2Matcher:
            return self._dense_phrase(ms, segs)
        if kind is ranking.RankingMatcher:
            return self._dense_coordinated(ms, segs)
        if kind is ranking.ExpandedMatcher:
            return self._dense_expanded(ms, segs, size)
        if _is_leaf(m):
            term = _same(x.term() for x in ms)
            scores = np.full(size, -0.0)
            mask = np.zeros(size, dtype=bool)
            for x, seg, base in zip(ms, segs, self._bases(segs), strict=True):
                docs, scored, _ = self._load(x, seg, self.leaves[seg][0], values=False)[0]
                if base:
                    docs = docs + base
                scores[docs] = scored
                mask[docs] = True
            return _Dense(scores, mask, [(term, mask)], clean=True)
        raise _Unsupported

    def _bases(self, segs: list[int]) -> list[int]:
        """Where each of ``segs`` (consecutive segments) starts in arrays spanning them."""
        return list(accumulate((self._sizes[seg] for seg in segs[:-1]), initial=0))

    def _leaf(self, m: Any, seg: int, sub: Any) -> _Node:
        term = m.term()
        scores = self._load(m, seg, sub, values=False)[0][0]
        return _Node(scores, [(term, scores.keys())])

    def _load(self, m: Any, seg: int, sub: Any, values: bool
              ) -> tuple[tuple[Any, ...], dict[int, Any] | None]:
        """A leaf's scored postings (and local docnum -> raw posting value, if ``values``).

        The scored postings are ``(local docnum -> score, blocks)``, or with :attr:`dense`
        ``(docnums, scores, blocks)`` as numpy arrays; ``blocks`` locate the posting blocks
        for :meth:`characters`.
        """
        ranking.check_budget()  # reading a posting list is the unit of work here
        fieldname, btext = m.term()
        key = (seg, fieldname, btext)
        entry = self._postings.get(key)
        raw: dict[int, Any] | None = self._raw.get(key) if values else None
        if entry is not None and (raw is not None or not values):
            return entry, raw
        reader = sub.reader()
        blocks: list[tuple[int, int]] = []
        leaf = m
        while not hasattr(leaf, "_startoffset") and hasattr(leaf, "child"):
            leaf = leaf.child  # under a deletions filter
        ids, weights, found = _read_postings(reader, fieldname, btext, values=values,
                                             blocks=blocks, lists=self._lists_of(seg, reader),
                                             offset=getattr(leaf, "_startoffset", None))
        if values:
            raw = dict(zip(ids, found, strict=True))
            self._raw.put(key, raw, len(ids) + 1)
        if entry is not None:
            return entry, raw
        scorer = _scorer_of(m)
        if type(scorer) not in (BM25FScorer, WeightScorer):
            raise _Unsupported
        if self.dense:
            entry = (*self._scored_arrays(scorer, seg, sub, fieldname, ids, weights), blocks)
        else:
            if type(scorer) is BM25FScorer:
                lengths = self._field_lengths(seg, sub, fieldname)
                idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
                # The expression of whoosh.scoring.bm25, operation for operation.
                scored = [idf * ((w * (k1 + 1)) / (w + k1 * ((1 - b) + b * lengths[d] / avgfl)))
                          for d, w in zip(ids, weights, strict=True)]
            else:
                scored = list(weights)
            entry = (dict(zip(ids, scored, strict=True)), blocks)
        if self.dense:
            weight = len(ids) + ENTRY_POSTINGS + BLOCK_POSTINGS * len(blocks)
        else:
            weight = len(ids) + DICT_ENTRY_POSTINGS + DICT_BLOCK_POSTINGS * len(blocks)
        self._postings.put(key, entry, weight)
        return entry, raw

    def _lists_of(self, seg: int, reader: Any) -> postlists.PostingLists | None:
        """The posting lists of segment ``seg`` (None: it has none; read its blocks)."""
        if self.folder is None:
            return None
        try:
            return self._lists[seg]
        except KeyError:
            segment = reader.segment() if hasattr(reader, "segment") else None
            found = (postlists.open_lists(self.folder, segment.segment_id())
                     if segment is not None else None)
            self._lists[seg] = found
            return found

    def _scored_arrays(self, scorer: Any, seg: int, sub: Any, fieldname: str,
                       ids: Sequence[int], weights: Sequence[float]) -> tuple[Any, Any]:
        """``(docnums, scores)`` of one posting list as numpy arrays (see :meth:`_load`)."""
        import numpy as np

        docs = np.array(ids, dtype=np.intp)
        w = np.array(weights, dtype=np.float64)
        if type(scorer) is WeightScorer:
            return docs, w
        lengths = self._length_array(seg, sub, fieldname)[docs]
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        # The expression of whoosh.scoring.bm25 again, each operation now done element by
        # element on float64 arrays: the same IEEE operations on the same operands, in the
        # same order, so the same bits (the tests compare them with Whoosh's).
        scores = idf * ((w * (k1 + 1)) / (w + k1 * ((1 - b) + b * lengths / avgfl)))
        return docs, scores

    def _length_array(self, seg: int, sub: Any, fieldname: str) -> Any:
        """:meth:`_field_lengths` as a float64 array (NaN where Whoosh has None)."""
        import numpy as np

        key = (seg, "#array", fieldname)
        found = self._lengths.get(key)
        if found is None:
            lengths = self._field_lengths(seg, sub, fieldname)
            found = np.array(lengths, dtype=np.float64)  # None becomes NaN
            self._lengths[key] = found
        return found

    def characters(self, docnum: int, fieldname: str, btext: bytes) -> Any:
        """``(position, startchar, endchar)`` of a term in a document (global docnum), as
        ``value_as("characters")`` on its posting gives them; None if not at hand.

        Reads only the posting block holding the document, found from the block positions
        recorded when the term was evaluated, and keeps the decoded block.
        """
        seg = bisect_right(self._offsets, docnum) - 1
        sub, offset = self.leaves[seg]
        local = docnum - offset
        entry = self._postings.get((seg, fieldname, btext))
        if entry is None or not entry[-1]:
            return None
        blocks = entry[-1]
        index = bisect_left(blocks, local, key=lambda block: block[1])
        if index == len(blocks):
            return None
        key = (seg, fieldname, btext, index)
        block = self._blocks.get(key)
        if block is None:
            reader = block_reader(sub.reader(), fieldname, btext)
            if reader is None:
                return None
            reader._goto(blocks[index][0])
            reader._read_ids()
            reader._read_values()
            block = (reader._ids, reader._values)
            self._blocks.put(key, block, 1)
        ids, values = block
        at = bisect_left(ids, local)
        if at == len(ids) or ids[at] != local:
            return None
        return sub.schema[fieldname].format.decoder("characters")(values[at])

    def _field_lengths(self, seg: int, sub: Any, fieldname: str) -> Sequence[int | None]:
        """``reader.doc_field_length(d, fieldname, 1)`` for every document of a segment."""
        found = self._lengths.get((seg, fieldname))
        if found is None:
            reader = sub.reader()
            found = _length_column(reader, fieldname)
            if found is None:
                length = reader.doc_field_length
                found = [length(d, fieldname, 1) for d in range(reader.doc_count_all())]
            self._lengths[(seg, fieldname)] = found
        return found

    def _phrase(self, m: Any, seg: int, sub: Any) -> _Node:
        """SpanNear2 (a phrase): the intersection of its words, kept where they are in order."""
        leaves = self._phrase_leaves(m)
        key = (seg, tuple(leaf.term() for leaf in leaves), m.slop)
        docs = self._phrases.get(key)
        if docs is None:
            # Read each word's postings once, with the positions the test needs.
            test = self._span_test(m, leaves, seg, sub)
            inner = self._node(m.child, seg, sub)
            docs = frozenset(filter(test, inner.scores))
            self._phrases.put(key, docs, 1)
        else:
            inner = self._node(m.child, seg, sub)
        scores = {d: s for d, s in inner.scores.items() if d in docs}
        return _Node(scores, _restrict(inner.terms, scores))

    def _dense_phrase(self, ms: list[Any], segs: list[int]) -> _Dense:
        """:meth:`_phrase` on numpy arrays; the phrase's documents are kept as docnums."""
        import numpy as np

        leaves = [self._phrase_leaves(m) for m in ms]
        words = _same(tuple(leaf.term() for leaf in found) for found in leaves)
        slop = _same(m.slop for m in ms)
        # Where the phrase's documents are not cached, the words' postings are read with
        # their positions first, so that the inner node finds them decoded; not where an
        # exact phrase reads its positions from the segment's positions file.
        tests = {seg: self._span_test(m, terms, seg, self.leaves[seg][0])
                 for m, seg, terms in zip(ms, segs, leaves, strict=True)
                 if self._phrases.get((seg, words, slop)) is None
                 and not (slop == 1 and self._has_positions(seg))}
        inner = self._dense([m.child for m in ms], segs)
        found = np.zeros(len(inner.mask), dtype=bool)
        for m, seg, base, terms in zip(ms, segs, self._bases(segs), leaves, strict=True):
            key = (seg, words, slop)
            docs = self._phrases.get(key)
            if docs is None:
                candidates = np.flatnonzero(inner.mask[base:base + self._sizes[seg]])
                docs = self._exact_phrase(m, terms, seg, candidates)
                if docs is None:
                    test = tests.get(seg) or self._span_test(m, terms, seg,
                                                             self.leaves[seg][0])
                    docs = np.array(list(filter(test, candidates.tolist())), dtype=np.int32)
                self._phrases.put(key, docs, len(docs) + 1)
            found[docs.astype(np.intp) + base] = True
        mask = inner.mask & found
        return _Dense(inner.scores, mask, _restrict_dense(inner.terms, mask))

    def _exact_phrase(self, m: Any, leaves: list[Any], seg: int, candidates: Any
                      ) -> Any | None:
        """The ``candidates`` (local docnums holding every word) that hold the exact phrase
        (slop 1) of a field in Whoosh's ``Positions`` format, all at once
        (:func:`_exact_phrase_docs`); None for another phrase or format."""
        sub = self.leaves[seg][0]
        if m.slop != 1 or type(sub.schema[leaves[0].term()[0]].format) is not Positions:
            return None
        words = []
        for leaf in leaves:
            found = self._stored_positions(leaf, seg, sub)
            if found is None:  # a rarer term, or a segment without the file: its blocks
                raw = self._load(leaf, seg, sub, values=True)[1]
                if raw is None:
                    return None
                found = _raw_positions(raw, candidates)
            words.append(found)
        return _exact_phrase_docs(words, candidates)

    def _stored_positions(self, leaf: Any, seg: int, sub: Any) -> tuple[Any, Any, Any] | None:
        """A term's docnums, position counts and position deltas (numpy arrays, in posting
        order) from its segment's positions file (:mod:`.postlists`); None when the term
        has no entry there (a rarer term, an older segment, a damaged file)."""
        if self.folder is None:
            return None
        import numpy as np

        fieldname, btext = leaf.term()
        key = (seg, fieldname, btext)
        found = self._positions.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        while not hasattr(leaf, "_startoffset") and hasattr(leaf, "child"):
            leaf = leaf.child  # under a deletions filter
        offset = getattr(leaf, "_startoffset", None)
        reader = sub.reader()
        files = self._position_files_of(seg, reader)
        lists = self._lists_of(seg, reader)
        if offset is None or files is None or lists is None:
            return None
        try:
            stored = files.get(offset)
            docs = lists.get(offset) if stored is not None else None
        except ValueError:  # a damaged entry (search check names it): the blocks answer
            return None
        if stored is None or docs is None or len(docs[0]) != len(stored[0]):
            return None
        found = (np.frombuffer(docs[0], dtype=np.uint32), np.frombuffer(stored[0], np.uint32),
                 np.frombuffer(stored[1], np.uint16 if stored[1].itemsize == 2 else np.uint32))
        self._positions.put(key, found, len(stored[0]) + 1)
        return found

    def _has_positions(self, seg: int) -> bool:
        """Whether segment ``seg`` has a positions file (see :meth:`_stored_positions`)."""
        return (self.folder is not None
                and self._position_files_of(seg, self.leaves[seg][0].reader()) is not None)

    def _position_files_of(self, seg: int, reader: Any) -> postlists.PositionLists | None:
        """The positions file of segment ``seg`` (None: it has none)."""
        try:
            return self._position_files[seg]
        except KeyError:
            segment = reader.segment() if hasattr(reader, "segment") else None
            found = (postlists.open_positions(self.folder, segment.segment_id())
                     if segment is not None and self.folder is not None else None)
            self._position_files[seg] = found
            return found

    def _phrase_leaves(self, m: Any) -> list[Any]:
        """The term matchers of a SpanNear2 phrase, if it is one this module evaluates."""
        if not m.ordered or m.mindist != 1 or m.boost != 1.0:
            raise _Unsupported
        leaves = []
        for leaf in m.ms:
            found = list(leaf.term_matchers())
            if len(found) != 1 or not hasattr(found[0], "_read_ids"):
                raise _Unsupported
            leaves.append(found[0])
        return leaves

    def _span_test(self, m: Any, leaves: list[Any], seg: int, sub: Any) -> Any:
        """A function telling whether a local docnum (holding every word) has the phrase."""
        raw = [self._load(leaf, seg, sub, values=True)[1] for leaf in leaves]
        decode = _positions_decoder(sub.schema[leaves[0].term()[0]].format)
        slop = m.slop

        def test(d: int) -> bool:
            return _spans_match([decode(values[d]) for values in raw if values is not None],
                                slop)

        return test

    def _coordinated(self, m: Any, seg: int, sub: Any) -> _Node:
        """Coordination: plus :func:`ranking.coordination_bonus` of the matched clauses."""
        try:
            rule = ranking.coordination_of(m)
        except ValueError:
            raise _Unsupported from None
        node = self._node(m.child, seg, sub)
        if rule is None:
            return node
        clauses, tier = rule
        counts: Counter[int] = Counter()
        for clause in clauses:
            docs: set[int] = set()
            for term, where in node.terms:
                if term in clause:
                    docs.update(where)
            counts.update(docs)
        scores = node.scores.copy()
        # A document matching one clause gains 0.0, which leaves any score unchanged: only
        # the others need the arithmetic.
        missed = ranking.coordination_bonus(0, tier)
        for d in scores.keys() - counts.keys():
            scores[d] = scores[d] + missed
        for d, count in counts.items():
            if count != 1:
                scores[d] = scores[d] + ranking.coordination_bonus(count, tier)
        return _Node(scores, node.terms)

    def _dense_coordinated(self, ms: list[Any], segs: list[int]) -> _Dense:
        """:meth:`_coordinated` on numpy arrays."""
        import numpy as np

        try:
            rule = _same(ranking.coordination_of(m) for m in ms)
        except ValueError:
            raise _Unsupported from None
        node = self._dense([m.child for m in ms], segs)
        if rule is None:
            return node
        clauses, tier = rule
        counts = np.zeros(len(node.mask), dtype=np.int64)
        for clause in clauses:
            hit = None
            for term, where in node.terms:
                if term in clause:
                    hit = where if hit is None else hit | where
            if hit is not None:
                counts += hit
        # As in _coordinated. Documents matching exactly one clause get +0.0, turned into
        # -0.0 by setting its sign bit: adding it leaves their score as it was, bit for bit.
        delta = ranking.coordination_bonus(counts, tier)
        delta.view(np.uint64)[...] |= (counts == 1).astype(np.uint64) << np.uint64(63)
        return _Dense(node.scores + delta, node.mask, node.terms)


_BINARY = (UnionMatcher, IntersectionMatcher, AndMaybeMatcher, ranking.ExcludingMatcher)

_T = TypeVar("_T")


def _same(values: Iterable[_T]) -> _T:
    """The one value all of ``values`` share; :class:`_Mismatch` if they differ."""
    found = iter(values)
    first = next(found)
    for other in found:
        if other != first:
            raise _Mismatch
    return first


_SIGN = 1 << 63


def _only(scores: Any, mask: Any) -> Any:
    """``scores`` where ``mask`` is True, -0.0 elsewhere (a new array).

    Done on the bits (AND with all ones or zeros, then OR the sign bit) rather than with
    ``numpy.where``: its branch per element costs ~5 times more on the irregular masks of
    posting lists.
    """
    import numpy as np

    out = scores.copy()
    bits = out.view(np.uint64)
    keep = mask.astype(np.uint64)
    np.negative(keep, out=keep)  # 1 -> all ones, 0 -> 0 (modulo 2**64)
    bits &= keep
    bits |= ~keep & np.uint64(_SIGN)
    return out


def _restrict_dense(terms: list[tuple[tuple[str, bytes], Any]], mask: Any
                    ) -> list[tuple[tuple[str, bytes], Any]]:
    """:func:`_restrict` on bool arrays."""
    return [(term, where & mask) for term, where in terms]


def _length_column(reader: Any, fieldname: str) -> list[int | None] | None:
    """The field lengths of a segment read as one block from its length column.

    Same values as ``doc_field_length`` gives document by document (the byte-coded length,
    decoded; None where the byte is 0, as Whoosh returns then), 20,000 method calls fewer per
    10,000 articles. None when the reader is not the Whoosh 3 codec's or lacks the column.
    """
    from whoosh.codec import whoosh3
    from whoosh.util.numeric import byte_to_length

    perdoc = getattr(reader, "_perdoc", None)
    if not isinstance(perdoc, whoosh3.W3PerDocReader):
        return None
    column = perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    if column is None or getattr(column, "_typecode", None) != "B" or column._fixedlen != 1:
        return None
    doccount = reader.doc_count_all()
    count = min(column._count, doccount)
    raw = column._dbfile.get(column._basepos, count)
    table: list[int | None] = [None] + [byte_to_length(b) for b in range(1, 256)]
    return [table[b] for b in raw] + [None] * (doccount - count)


def _is_leaf(m: Any) -> bool:
    """Whether ``m`` is one term's posting matcher: a block reader, or the list matcher
    Whoosh uses for a term whose few postings are stored inline (a word of one article)."""
    # Asked of the class: on an instance, a failed lookup goes through Whoosh's attribute
    # delegation and an exception (17 us, a third of a warm ``a*``'s evaluation).
    if hasattr(type(m), "_read_ids"):
        return m.term() is not None
    return isinstance(m, ListMatcher) and m.term() is not None


def _scorer_of(m: Any) -> Any:
    """The scorer of a leaf matcher (a list matcher keeps it in a private attribute)."""
    return m.scorer if hasattr(m, "scorer") else getattr(m, "_scorer", None)


def _matcher_count(m: Any) -> int:
    """How many matchers make up the tree ``m`` (what a cached tree costs)."""
    count, stack = 0, [m]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.children())
    return count


def _expansion_plan(m: Any) -> tuple[list[tuple[Any, list[float], list[tuple[Any, bool]]]],
                                     tuple[Any, ...]]:
    """:func:`_expansion_leaves` of ``m`` and what identifies them (each leaf's term, boosts
    and filters), kept on the matcher: a warm ``a*`` walks 3,000 of them otherwise."""
    found = m.__dict__.get("_searchlib_plan")
    if found is None:
        leaves = _expansion_leaves(m)
        terms = tuple((leaf.term(), tuple(boosts),
                       tuple((id(ids), exclude) for ids, exclude in filters))
                      for leaf, boosts, filters in leaves)
        found = m.__dict__["_searchlib_plan"] = (leaves, terms)
    return found  # type: ignore[no-any-return]


def _expansion_leaves(m: Any) -> list[tuple[Any, list[float], list[tuple[Any, bool]]]]:
    """The term matchers of an expansion's matcher, each with the boosts of its wrappers
    (innermost first; a term searched in ``title`` carries the field's boost) and the
    ``(docnums, exclude)`` of its filters (a segment's deleted documents)."""
    out = []
    for leaf in m.leaves:
        boosts: list[float] = []
        filters: list[tuple[Any, bool]] = []
        while type(leaf) in (WrappingMatcher, FilterMatcher):
            if type(leaf) is FilterMatcher:
                filters.append((leaf._ids, leaf._exclude))
            if leaf.boost != 1.0:
                boosts.append(leaf.boost)
            leaf = leaf.child
        if not _is_leaf(leaf):
            raise _Unsupported
        out.append((leaf, boosts[::-1], filters))
    return out


def _check(q: Any) -> None:
    """Refuse early what would need Whoosh anyway (saves building matchers for nothing)."""
    kind = type(q)
    if kind in (wq.Term, wq.Phrase):
        return
    if kind in (wq.Or, wq.And, ranking.CoordinatedOr, ranking.Expanded):
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


def _times(scores: dict[int, float], boost: float) -> dict[int, float]:
    return {d: s * boost for d, s in scores.items()}


def _restrict(terms: _Terms, keep: Any) -> _Terms:
    """Leaves below a node are positioned on a document only where the node matches it."""
    keys = keep.keys()
    return [(term, keys & where) for term, where in terms]


def _union(a: _Node, b: _Node) -> _Node:
    # The dict and set operations run in C; Python only adds where both sides match.
    sa, sb = a.scores, b.scores
    both = sa.keys() & sb.keys()
    scores = sa.copy()
    scores.update(sb)
    for d in both:
        scores[d] = sa[d] + sb[d]
    return _Node(scores, a.terms + b.terms)


def _intersection(a: _Node, b: _Node) -> _Node:
    sa, sb = a.scores, b.scores
    scores = {d: sa[d] + sb[d] for d in sa.keys() & sb.keys()}
    return _Node(scores, _restrict(a.terms + b.terms, scores))


def _and_maybe(a: _Node, b: _Node) -> _Node:
    optional = b.scores
    scores = {d: (s + optional[d]) if d in optional else s for d, s in a.scores.items()}
    return _Node(scores, a.terms + _restrict(b.terms, scores))


def _and_not(a: _Node, b: _Node) -> _Node:
    excluded = b.scores
    scores = {d: s for d, s in a.scores.items() if d not in excluded}
    return _Node(scores, _restrict(a.terms, scores))


def _positions_decoder(fmt: Any) -> Any:
    """``fmt.decoder("positions")``, without its Python loop for the two formats we index.

    Both store a 4-byte frequency then a pickled list of deltas (tuples for ``Characters``),
    sometimes without the pickle's final STOP byte, which the decoders add back.
    """
    from whoosh import formats

    def positions(value: bytes) -> list[int]:
        if not value.endswith(b"."):
            value += b"."
        return list(accumulate(loads(value[4:])))

    def characters(value: bytes) -> list[int]:
        if not value.endswith(b"."):
            value += b"."
        return list(accumulate(map(itemgetter(0), loads(value[4:]))))

    if type(fmt) is formats.Characters:
        return characters
    if type(fmt) is formats.Positions:
        return positions
    return fmt.decoder("positions")


#: A posting value of Whoosh's ``Positions`` format: the frequency (4 bytes), then the pickled
#: list of position deltas, sometimes without its STOP byte (pickle ignores one too many).
_AFTER_FREQUENCY = slice(4, None)


def _raw_positions(raw: dict[int, bytes], candidates: Any) -> tuple[Any, Any, Any]:
    """The ``candidates``' postings of one word from its raw ``Positions`` values (docnum ->
    value): docnums, position counts and position deltas, as :func:`_exact_phrase_docs`
    takes them. Each value is unpickled by C-level calls."""
    import numpy as np

    values = map(getitem, map(raw.__getitem__, candidates.tolist()), repeat(_AFTER_FREQUENCY))
    deltas = list(map(loads, map(add, values, repeat(b"."))))
    counts = np.fromiter(map(len, deltas), dtype=np.int64, count=len(deltas))
    flat = np.fromiter(chain.from_iterable(deltas), dtype=np.int64, count=int(counts.sum()))
    return candidates, counts, flat


def _exact_phrase_docs(words: Sequence[tuple[Any, Any, Any]], candidates: Any) -> Any:
    """The ``candidates`` (a sorted numpy array of local docnums) at which the words stand
    one after the other: :func:`_spans_match` with slop 1, for all of them at once.

    Each word is given as its postings' docnums (ascending), position counts and position
    deltas (each posting's first one from 0), in phrase order; postings of documents that
    are not candidates are left out. The positions of word ``i`` less ``i``, keyed by
    docnum, are intersected with numpy (on 72,000 candidates of two words, a per-document
    test in Python was two thirds of a phrase's first use).
    """
    import numpy as np

    size = len(words)
    found: Any = None
    for shift, (ids, counts, deltas) in enumerate(words):
        ids = np.asarray(ids, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        keep = np.isin(ids, candidates)
        if not keep.all():
            deltas = np.asarray(deltas)[np.repeat(keep, counts)]
            ids, counts = ids[keep], counts[keep]
        # Running sums of the deltas, less each posting's sum of the earlier ones' deltas.
        sums = np.concatenate(([0], np.cumsum(deltas, dtype=np.int64)))
        before = sums[np.cumsum(counts) - counts]
        sums = sums[1:]
        row = np.repeat(np.arange(len(ids), dtype=np.int64), counts)
        # Where word 0 would start; offset by the word count so that no key goes negative.
        keys = ids[row] * _ROW_KEY + (sums - before[row] - shift + size)
        found = keys if found is None else np.intersect1d(found, keys, assume_unique=True)
        if not len(found):
            break
    if found is None or not len(found):
        return np.zeros(0, dtype=np.int32)
    return np.unique(found // _ROW_KEY).astype(np.int32)


#: Spacing of the documents in :func:`_exact_phrase_docs`'s keys (positions stay far below
#: it: a document has fewer than 2**32 tokens).
_ROW_KEY = 1 << 32


def _spans_match(positions: list[list[int]], slop: int) -> bool:
    """SpanNear2(ordered=True, mindist=1) on one document: is there any matching span?

    Same walk as ``whoosh.query.spans.SpanNear2.SpanNear2Matcher._get_spans``, on
    ``(start, end)`` tuples.
    """
    if not positions:
        return False
    if slop == 1:
        # An exact phrase: word i at the first word's position plus i.
        starts = set(positions[0])
        for shift, plist in enumerate(positions[1:], 1):
            starts.intersection_update([p - shift for p in plist])
            if not starts:
                return False
        return bool(starts)
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


def _read_postings(reader: Any, fieldname: str, btext: bytes, *, values: bool,
                   blocks: list[tuple[int, int]] | None = None,
                   lists: postlists.PostingLists | None = None, offset: int | None = None
                   ) -> tuple[Sequence[int], Sequence[float], list[Any]]:
    """Docnums, weights and (optionally) raw values of one segment's posting list.

    Deleted documents are included (the matcher tree's deletions filter drops them). With
    ``blocks``, appends each posting block's file position and last docnum to it. Without
    ``values``, the docnums and weights come from the segment's posting ``lists`` when it
    has them (the same numbers, without decoding the positions); ``offset``, where the
    term's postings start, spares looking the term up when the caller knows it.
    """
    if lists is not None and not values:
        if offset is None:
            offset = getattr(reader.term_info(fieldname, btext), "_offset", None)
        try:
            found = lists.get(offset) if offset is not None else None
        except ValueError:  # a damaged entry (search check names it): the blocks answer
            found = None
        if found is not None:
            if blocks is not None:
                blocks.extend(found[2])
            return found[0], found[1], []
    matcher = block_reader(reader, fieldname, btext)
    ids: list[int] = []
    weights: list[float] = []
    raw: list[Any] = []
    if matcher is not None:
        position = matcher._baseoffset
        while matcher.is_active():
            if blocks is not None:
                blocks.append((position, matcher._maxid))
                position = matcher._nextoffset
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if values:
                matcher._read_values()
                raw.extend(matcher._values)
            matcher._next_block()
    else:  # another codec: the generic (slower) matcher interface
        matcher = reader.postings(fieldname, btext)
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


def preload_chars(results: Any, fieldname: str, evaluator: Evaluator | None = None,
                  tables: Callable[[int], TokenTable] | None = None,
                  docnums: Sequence[int] | None = None) -> None:
    """Fill the character offsets Whoosh's highlighter loads for the hits of ``results``.

    Same data as ``Highlighter._load_chars`` (for each hit and each matched word of
    ``fieldname``, the word's ``(position, startchar, endchar)`` list). A field that stores
    offsets has them read from each segment's postings instead of the top-level searcher's,
    which builds a scorer for every segment for each word; through ``evaluator``'s block
    index when given. A field without them has the text of each hit in ``docnums`` (default:
    all of ``results``) analysed again (:func:`chars_from_text`; ``tables``: global docnum ->
    the token table of its stored text). Leaves the cache empty (so
    Whoosh finds them its own way) if anything is off.
    """
    searcher = results.searcher
    field = searcher.schema[fieldname]
    if not results.has_matched_terms():
        return
    if not field.supports("characters"):
        # Only our analyzer makes token tables; another leaves it to Whoosh, which analyses
        # the texts token by token.
        if tables is not None and isinstance(field.analyzer, NewsAnalyzer):
            shown = [d for _, d in results.top_n] if docnums is None else docnums
            results._char_cache[fieldname] = chars_from_text(results, fieldname, tables,
                                                             shown)
        return
    leaves = list(searcher.leaf_searchers())
    offsets = [offset for _, offset in leaves]
    docnums = sorted(docnum for _, docnum in results.top_n)
    cache: dict[int, dict[str, Any]] = {d: {} for d in docnums}
    words = frozenset(field.from_bytes(t[1]) for t in results.matched_terms()
                      if t[0] == fieldname)
    for text in words:
        btext = field.to_bytes(text)
        docset = set(results.termdocs[(fieldname, btext)])
        matchers: dict[int, Any] = {}
        for d in docnums:
            if d not in docset:
                continue
            if evaluator is not None:
                chars = evaluator.characters(d, fieldname, btext)
                if chars is not None:
                    cache[d][text] = chars
                    continue
            seg = bisect_right(offsets, d) - 1
            sub, offset = leaves[seg]
            matcher = matchers.get(seg)
            if matcher is None:
                matcher = matchers[seg] = sub.reader().postings(fieldname, btext)
            if matcher.is_active() and matcher.id() < d - offset:
                matcher.skip_to(d - offset)
            if not matcher.is_active() or matcher.id() != d - offset:
                return
            cache[d][text] = matcher.value_as("characters")
    results._char_cache[fieldname] = cache


#: Characters of a hit's text analysed again for its snippet's words (about 16,000 words):
#: a query's work stays bounded on a 10 MB article, whose snippet comes from its opening.
REANALYSED_CHARS = 100_000


def token_table(field: Any, text: str) -> TokenTable:
    """The token table of the first :data:`REANALYSED_CHARS` characters of ``text``, as
    :func:`chars_from_text` reads it (``field``'s analyzer is a :class:`NewsAnalyzer`)."""
    analyzer: NewsAnalyzer = field.analyzer
    return analyzer.token_table(text[:REANALYSED_CHARS])


def chars_from_text(results: Any, fieldname: str, tables: Callable[[int], TokenTable],
                    docnums: Iterable[int]) -> dict[int, dict[str, Any]]:
    """For each hit of ``results`` in ``docnums``, its matched words of ``fieldname`` ->
    their ``(position, startchar, endchar)`` triples, found by analysing the hit's text
    again (``tables``: global docnum -> :func:`token_table` of its stored text).

    The field's own analyzer gives the positions and offsets the postings would have stored
    (:func:`.analysis.occurrences`, checked against ``NewsAnalyzer.postings``, which are
    checked against Whoosh's tokens), over the first :data:`REANALYSED_CHARS` characters of
    the text; a word matched only beyond them gets no triple, and a hit without any gets
    the article's lead as its snippet.
    """
    field = results.searcher.schema[fieldname]
    cache: dict[int, dict[str, Any]] = {}
    for docnum in docnums:
        # The words the highlighter asks for: the hit's own matched terms of the field.
        words = [field.from_bytes(term[1]) for term in results.docterms.get(docnum, ())
                 if term[0] == fieldname]
        cache[docnum] = occurrences(tables(docnum), words) if words else {}
    return cache
