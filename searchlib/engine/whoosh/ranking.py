"""Ranking model: BM25 parameters, field weights and how free-text queries are grouped.

Kept apart from ``search`` so that relevance tuning (see ``bench/relevance.py`` and
``docs/relevance.md``) touches one place. The values below were tuned on the Cranfield and CISI
test collections; TIME is kept as the held-out check.

Three pieces:

* :func:`weighting` -- per-field BM25 with the Robertson/Sparck Jones idf used by Lucene and
  tantivy. Whoosh's own idf, ``log(N / (df + 1)) + 1``, never drops below 1, so words found in
  nearly every article ("what", "some", "made") still add a full point per match and drown
  the rare words of a long pasted query.
* :data:`FIELD_BOOSTS` -- how much a title match weighs against a body match.
* :func:`coordinate` -- rewrites the top-level OR of a parsed query so that documents matching
  more of the query's words rank higher: strictly for short keyword queries (every document
  matching all words comes before any matching fewer), gently for long pasted text, where
  strict coordination would bury relevant articles that use other words for half the query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from math import log
from typing import Any

from whoosh import collectors, qparser, scoring
from whoosh import query as wq
from whoosh.lang import stopwords_for_language
from whoosh.matching import AndNotMatcher, NullMatcher, UnionMatcher, WrappingMatcher
from whoosh.util import make_binary_tree

__all__ = [
    "BM25_B",
    "BM25_K1",
    "COORDINATION",
    "FEEDBACK_DOCS",
    "FEEDBACK_MIN_WORDS",
    "FEEDBACK_TERMS",
    "FEEDBACK_WEIGHT",
    "FIELD_BOOSTS",
    "FUNCTION_WORDS",
    "SHORT_QUERY_WORDS",
    "CoordinatedAndMaybe",
    "CoordinatedOr",
    "ExcludingAndNot",
    "ExcludingMatcher",
    "Expanded",
    "ExpandedMatcher",
    "OverBudget",
    "RankingMatcher",
    "budget",
    "check_budget",
    "coordinate",
    "coordination_of",
    "may_use_feedback",
    "query_group",
    "remaining_budget",
    "search_within_budget",
    "weighting",
]

#: Words that carry no topic and score 0 (the English list Whoosh ships, from NLTK).
FUNCTION_WORDS: frozenset[str] = frozenset(stopwords_for_language("en"))

#: Query-time weight of each searchable field.
FIELD_BOOSTS: dict[str, float] = {"title": 0.7, "body": 1.0}

#: BM25 term-frequency saturation.
BM25_K1 = 2.0
#: BM25 length normalisation (0: none, 1: full).
BM25_B = 1.0

#: Queries with at most this many distinct words rank strictly by how many words match.
SHORT_QUERY_WORDS = 4

#: Pseudo-relevance feedback for pasted passages (at least this many distinct content words):
#: the best FEEDBACK_DOCS documents of a first pass lend their FEEDBACK_TERMS most distinctive
#: body terms (Bo1 model), weighted up to FEEDBACK_WEIGHT, to the scoring of the documents the
#: query matches. It changes the order, never which documents match. For sentence-length
#: queries it drifts off topic (TIME, 5-15 words: MAP 0.68 -> 0.62), hence the threshold.
FEEDBACK_MIN_WORDS = 20
FEEDBACK_DOCS = 5
FEEDBACK_TERMS = 20
FEEDBACK_WEIGHT = 1.5
FEEDBACK_FIELD = "body"

#: Exponent of the coordination factor ``(matched words / query words) ** COORDINATION``
#: applied to longer queries; 0 disables it.
COORDINATION = 0.0


_FUNCTION_TERMS: dict[int, frozenset[str]] = {}


class OverBudget(Exception):
    """A search ran past its time budget (``cancelled``: its caller gave up on it)."""

    def __init__(self, cancelled: bool) -> None:
        super().__init__("cancelled" if cancelled else "out of time")
        self.cancelled = cancelled


# The budget of the search running in this thread: (deadline, cancel event or None).
_budget = threading.local()


@contextmanager
def budget(seconds: float, cancel: threading.Event | None = None) -> Iterator[None]:
    """Let the search run in this block for ``seconds`` at most, or until ``cancel`` is set.

    The slow parts of a search (Whoosh's own matchers, for the queries the evaluator does not
    handle: pseudo-relevance feedback on pasted text, above all) call :func:`check_budget`
    as they go, which raises :class:`OverBudget`.
    """
    previous = getattr(_budget, "state", None)
    _budget.state = (time.perf_counter() + seconds, cancel)
    try:
        yield
    finally:
        _budget.state = previous


def check_budget() -> None:
    """Raise :class:`OverBudget` if the search of this thread is out of time or cancelled."""
    state = getattr(_budget, "state", None)
    if state is None:
        return
    deadline, cancel = state
    if cancel is not None and cancel.is_set():
        raise OverBudget(cancelled=True)
    if time.perf_counter() > deadline:
        raise OverBudget(cancelled=False)


def remaining_budget() -> float | None:
    """Seconds left to the search of this thread (None: unbounded)."""
    state = getattr(_budget, "state", None)
    return None if state is None else max(0.0, state[0] - time.perf_counter())


def search_within_budget(searcher: Any, q: Any, **kwargs: Any) -> Any:
    """``searcher.search(q, **kwargs)``, stopped by the thread's budget (a timer thread
    flags Whoosh's collector; no signals, so it works in worker threads too)."""
    left = remaining_budget()
    if left is None or kwargs.get("filter") is not None or kwargs.get("mask") is not None:
        # Whoosh filters in its FilterCollector's own loop, which a TimeLimitCollector
        # around it would bypass: filtered searches rely on the checks in the matchers
        # (RankingMatcher.score) instead.
        return searcher.search(q, **kwargs)
    collector = searcher.collector(**kwargs)
    limited = collectors.TimeLimitCollector(collector, max(left, 0.001), use_alarm=False)
    try:
        searcher.search_with_collector(q, limited)
    except collectors.TimeLimit:
        check_budget()
        raise OverBudget(cancelled=False) from None
    finally:
        if limited.timer is not None:
            limited.timer.cancel()
    check_budget()
    return limited.results()


def _is_function_word(schema: Any, fieldname: str, text: bytes | str) -> bool:
    """Tell whether an indexed term is one of :data:`FUNCTION_WORDS` after analysis."""
    analyzer = getattr(schema[fieldname], "analyzer", None)
    if analyzer is None:
        return False
    key = id(analyzer)
    terms = _FUNCTION_TERMS.get(key)
    if terms is None:
        # The field's own analyzer stems the list, so "doing" is caught as "do".
        terms = frozenset(token.text for word in FUNCTION_WORDS for token in analyzer(word))
        _FUNCTION_TERMS[key] = terms
    word = text.decode("utf-8") if isinstance(text, bytes) else text
    return word in terms


class _BM25(scoring.BM25F):  # type: ignore[misc]
    """Whoosh's per-field BM25 with the non-negative Robertson/Sparck Jones idf.

    Function words weigh nothing: the analyzer's own stop list is short (it keeps "why",
    "did", "what", "there"...), and with an idf that follows document frequency closely, such
    a word that happens to be rare in a small collection would outweigh the content words of
    a sentence pasted as a query.
    """

    def idf(self, searcher: Any, fieldname: str, text: bytes | str) -> float:
        """Return ``log(1 + (N - df + 0.5) / (df + 0.5))`` over the whole index; 0 for stopwords."""
        if _is_function_word(searcher.schema, fieldname, text):
            return 0.0
        parent = searcher.get_parent()
        df = parent.doc_frequency(fieldname, text)
        n = parent.doc_count_all()
        return log(1.0 + (n - df + 0.5) / (df + 0.5))


def weighting() -> Any:
    """Return the Whoosh weighting model used for every search."""
    return _BM25(B=BM25_B, K1=BM25_K1)


def query_group() -> Any:
    """Return the parser's default grouping for bare terms: OR.

    Coordination is not done by the group (Whoosh's plus/minus handling replaces the top-level
    group with a plain OR anyway) but by :func:`coordinate` on the parsed query.
    """
    return qparser.OrGroup


class Expanded(wq.Or):  # type: ignore[misc]
    """The index terms a fuzzy, wildcard or prefix term stands for: still one query word.

    Scored like the same terms typed as words (each with the field's boost), but counted as
    one word by the coordination, whatever the number of terms: ``word`` names it (the
    pattern's kind and text), the same in every field.
    """

    # A binary tree of unions, which the evaluator reads (see CoordinatedOr).
    matcher_type = wq.Or.DEFAULT_MATCHER

    def __init__(self, subqueries: list[Any], boost: float = 1.0,
                 word: tuple[str, str] = ("", "")) -> None:
        super().__init__(subqueries, boost=boost)
        self.word = word

    def __repr__(self) -> str:
        return f"Expanded({self.word[0]}:{self.word[1]!r}, {len(self.subqueries)} terms)"

    def __eq__(self, other: object) -> bool:
        # Whoosh's compound equality starts with "other and ...", false for an expansion
        # that found no terms (an empty query is falsy): the evaluator's cache of matcher
        # trees then never found the same query again.
        return (isinstance(other, Expanded) and type(other) is type(self)
                and self.word == other.word and self.boost == other.boost
                and self.subqueries == other.subqueries)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.word, self.boost, tuple(self.subqueries)))

    def apply(self, fn: Callable[[Any], Any]) -> Any:
        """Apply ``fn`` to each term, keeping the word."""
        return self.__class__([fn(q) for q in self.subqueries], boost=self.boost,
                              word=self.word)

    def normalize(self) -> Any:
        """Already normal: distinct terms of one field."""
        return self

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """A union of the terms present in this segment, marked for the evaluator."""
        leaves = [m for m in (q.matcher(searcher, context) for q in self.subqueries)
                  if m.is_active()]
        if not leaves:
            child = NullMatcher()
        elif len(leaves) == 1:
            child = leaves[0]
        else:
            child = make_binary_tree(UnionMatcher, leaves)
        return _ExpandedMatcher(child, leaves)


class _ExpandedMatcher(WrappingMatcher):  # type: ignore[misc]
    """The union matcher of an :class:`Expanded` query, with its leaves listed.

    Whoosh steps through the union as usual; :mod:`searchlib.engine.whoosh.evaluate` instead adds
    up the
    leaves' scores directly, in the order of ``leaves`` (a few numpy calls for hundreds of
    terms instead of a node per union).
    """

    def __init__(self, child: Any, leaves: list[Any]) -> None:
        super().__init__(child)
        self.leaves = leaves

    def _replacement(self, newchild: Any) -> Any:
        return self.__class__(newchild, self.leaves)

    def copy(self) -> Any:
        """Return an independent copy (of the union; the leaf list is a plan, never read
        for its state)."""
        return self.__class__(self.child.copy(), self.leaves)


#: The matcher of :class:`Expanded`.
ExpandedMatcher = _ExpandedMatcher


def _clause_key(q: Any) -> Any:
    """Return what identifies one query word across the fields it is searched in.

    The multifield parser turns ``iran`` into ``title:iran OR body:iran`` and normalisation
    flattens those into the top-level OR, so the word is recovered from the term itself.
    """
    if isinstance(q, wq.Phrase):
        return ("phrase", tuple(q.words))
    if isinstance(q, Expanded):
        return ("expanded", q.word)
    text = getattr(q, "text", None)
    if text is not None and q.is_leaf():
        return (type(q).__name__, text)
    return ("query", id(q))


class _RankingMatcher(WrappingMatcher):  # type: ignore[misc]
    """Rescores the wrapped matcher: coordination by matched words, plus feedback terms."""

    def __init__(
        self,
        child: Any,
        clauses: list[frozenset[tuple[str, bytes]]],
        tier: float | None,
        exponent: float,
        feedback: Any = None,
    ) -> None:
        super().__init__(child)
        self._clauses = clauses
        self._tier = tier
        self._exponent = exponent
        self._feedback = feedback

    def _replacement(self, newchild: Any) -> Any:
        return self.__class__(newchild, self._clauses, self._tier, self._exponent, self._feedback)

    def copy(self) -> Any:
        """Return an independent copy (the feedback matcher is copied too)."""
        feedback = self._feedback.copy() if self._feedback is not None else None
        return self.__class__(
            self.child.copy(), self._clauses, self._tier, self._exponent, feedback
        )

    def reset(self) -> None:
        """Rewind to the first match."""
        self.child.reset()
        if self._feedback is not None:
            self._feedback.reset()

    def supports_block_quality(self) -> bool:
        # Scores are no longer bounded by the child's block quality; never skip blocks.
        return False

    def replace(self, minquality: float = 0) -> Any:
        """Simplify the wrapped matcher, without pruning by ``minquality``.

        A top-N search calls this with the score of its N-th best document so far, and a
        union below that bound turns into an intersection, or into nothing, on the grounds
        that no document can still reach it. Those bounds are the child's BM25 scores, while
        the coordination tier and the feedback terms lift scores far above them: pruning
        with them dropped documents matching every word from the top ten.
        """
        return super().replace(0)

    def _matched(self) -> int:
        terms = set(self.child.matching_terms(self.child.id()))
        return sum(1 for clause in self._clauses if not clause.isdisjoint(terms))

    def _feedback_score(self) -> float:
        # Documents are visited in increasing order, so the feedback matcher only moves on.
        fb = self._feedback
        docnum = self.child.id()
        if fb.is_active() and fb.id() < docnum:
            fb.skip_to(docnum)
        if fb.is_active() and fb.id() == docnum:
            return float(fb.score())
        return 0.0

    def score(self) -> float:
        """Return the BM25 score adjusted for matched query words and feedback terms."""
        check_budget()  # Whoosh's own search calls this once per matching document
        score = float(self.child.score())
        if self._feedback is not None:
            score += self._feedback_score()
        if self._tier is not None:
            # Each extra matched word is worth more than any BM25 score can be.
            return score + (self._matched() - 1) * self._tier
        if self._exponent:
            return score * float((self._matched() / len(self._clauses)) ** self._exponent)
        return score


def _words(q: Any) -> list[Any]:
    """Return the word-level subqueries of a top-level query part (itself if it is a word)."""
    if isinstance(q, (wq.Or, wq.And)) and not isinstance(q, (wq.Phrase, Expanded)):
        return [w for sub in q.subqueries for w in _words(sub)]
    return [q]


def _feedback_terms(searcher: Any, base: Any) -> list[tuple[str, float]]:
    """Return ``(term, weight)`` expansion terms from the best documents for ``base``.

    Bo1 weights (Whoosh's ``key_terms``) over the body text of the top
    :data:`FEEDBACK_DOCS` hits, scaled so that the strongest term weighs 1. Terms found in only
    one document, shorter than three letters or function words are left out: they can only
    lift documents already at the top, or are noise.
    """
    top = search_within_budget(searcher, base, limit=FEEDBACK_DOCS)
    docnums = [hit.docnum for hit in top]
    if not docnums:
        return []
    candidates = searcher.key_terms(
        docnums, FEEDBACK_FIELD, numterms=FEEDBACK_TERMS * 3, normalize=False
    )
    field = searcher.schema[FEEDBACK_FIELD]
    kept = [
        (term, weight)
        for term, weight in candidates
        if len(term) >= 3
        and not _is_function_word(searcher.schema, FEEDBACK_FIELD, term)
        and searcher.doc_frequency(FEEDBACK_FIELD, field.to_bytes(term)) >= 2
    ][:FEEDBACK_TERMS]
    return [(term, float(weight)) for term, weight in kept]


def _coordinated(child: Any, query: Any, base: Any, searcher: Any, context: Any,
                 plain: Callable[[Any], Any]) -> Any:
    """Wrap ``child``, the matcher of ``query``, with coordination and pseudo-relevance feedback.

    ``base`` is the same query without this rewriting, used for the feedback's first pass;
    ``plain(leaf_searcher)`` builds ``child``'s matcher on any segment.
    """
    if context is not None and context.weighting is None:
        return child  # only the matching documents are wanted, not their scores
    if not child.is_active():
        return child
    # Whoosh builds a matcher per index segment. What decides a document's rank must be the
    # same in every segment, or documents of different segments are ranked by different
    # rules: so the words, the tier and the feedback terms come from the whole index, once
    # per query.
    top = searcher.get_parent()
    cache = query.__dict__.setdefault("_ranking_cache", {})
    key = id(top)
    if key not in cache:
        cache[key] = _ranking_plan(query, base, top, context, plain)
    clauses, tier, expansion = cache[key]
    feedback = None
    if expansion:
        fbq = wq.Or([wq.Term(FEEDBACK_FIELD, t, boost=FEEDBACK_WEIGHT * w) for t, w in expansion])
        feedback = fbq.matcher(searcher, context)
    if len(clauses) < 2 or (tier is None and feedback is None and not COORDINATION):
        return child
    return _RankingMatcher(child, clauses, tier, COORDINATION, feedback)


def _ranking_plan(query: Any, base: Any, top: Any, context: Any, plain: Callable[[Any], Any]
                  ) -> tuple[list[frozenset[tuple[str, bytes]]], float | None,
                             list[tuple[str, float]]]:
    """``(clauses, tier, expansion terms)`` of a coordinated query over the whole index."""
    reader = top.reader()
    words: dict[Any, set[tuple[str, bytes]]] = {}
    for part in query.children():
        check_budget()
        for sub in _words(part):
            if isinstance(sub, wq.Not):
                continue
            terms: Iterable[tuple[str, bytes]] = sub.existing_terms(reader, expand=True)
            # Function words score nothing (see _BM25), so they are not words to match either.
            kept = {t for t in terms if not _is_function_word(top.schema, t[0], t[1])}
            words.setdefault(_clause_key(sub), set()).update(kept)
    # A word that occurs nowhere in the index cannot be matched; it does not count.
    clauses = [frozenset(t) for t in words.values() if t]
    # Feedback is for pasted prose: fuzzy, wildcard and prefix words do not make a passage.
    prose = sum(1 for key, t in words.items() if t and key[0] != "expanded")
    tier = None
    expansion: list[tuple[str, float]] = []
    if len(clauses) < 2:
        return clauses, tier, expansion
    if len(clauses) <= SHORT_QUERY_WORDS:
        # Above the best plain score any document can reach in any segment.
        bounds = [float(m.max_quality()) for m in
                  (plain(leaf) for leaf, _offset in top.leaf_searchers()) if m.is_active()]
        tier = max(bounds, default=0.0) + 1.0
    elif prose >= FEEDBACK_MIN_WORDS and FEEDBACK_WEIGHT > 0:
        expansion = _feedback_terms(top, base)
    return clauses, tier, expansion


class _CoordinatedOr(wq.Or):  # type: ignore[misc]
    """An OR whose matcher prefers documents that match more of its words."""

    # The binary union tree keeps track of the current document's matching terms, which the
    # coordination needs; the preloaded array matcher does not.
    matcher_type = wq.Or.DEFAULT_MATCHER

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """Return the union of the subqueries, rescored by :class:`_CoordinationMatcher`."""
        check_budget()  # called per segment; a pasted page makes thousands of term matchers
        child = super().matcher(searcher, context)
        base = wq.Or(self.subqueries, boost=self.boost)
        return _coordinated(child, self, base, searcher, context,
                            lambda leaf: wq.Or.matcher(self, leaf, context))


class _CoordinatedAndMaybe(wq.AndMaybe):  # type: ignore[misc]
    """``+required optional ...``: required words must match; more matched words rank higher."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """Return the AND-MAYBE matcher, rescored by :class:`_CoordinationMatcher`."""
        child = super().matcher(searcher, context)
        return _coordinated(child, self, wq.AndMaybe(self.a, self.b), searcher, context,
                            lambda leaf: wq.AndMaybe.matcher(self, leaf, context))


#: The coordinated query classes and their matcher, for code that evaluates queries by
#: reading their matcher trees (see :mod:`searchlib.engine.whoosh.evaluate`).
CoordinatedOr = _CoordinatedOr
CoordinatedAndMaybe = _CoordinatedAndMaybe
RankingMatcher = _RankingMatcher


def coordination_of(matcher: Any) -> tuple[list[frozenset[tuple[str, bytes]]], float] | None:
    """``(clauses, tier)`` of a coordinated query's matcher, or None if it rescores nothing.

    The score of a document is then its plain score plus ``(matched - 1) * tier``, where
    ``matched`` counts the clauses (sets of ``(field, term)``) one of whose terms matched it.
    Raises ``ValueError`` for the rescoring modes this summary cannot describe
    (pseudo-relevance feedback, or a coordination exponent instead of tiers).
    """
    if not isinstance(matcher, _RankingMatcher):
        return None
    if matcher._feedback is not None or matcher._tier is None:
        raise ValueError("feedback or exponent coordination")
    return matcher._clauses, matcher._tier


def may_use_feedback(q: Any) -> bool:
    """Whether the matcher of a coordinated query could add pseudo-relevance feedback.

    Counts the query's distinct words, an upper bound on the clauses the matcher keeps.
    """
    if FEEDBACK_WEIGHT <= 0:
        return False
    keys = {_clause_key(sub) for part in q.children() for sub in _words(part)
            if not isinstance(sub, (wq.Not, Expanded))}
    return len(keys) >= FEEDBACK_MIN_WORDS


class _ExcludingMatcher(AndNotMatcher):  # type: ignore[misc]
    """Whoosh's AND-NOT matcher with its first document checked against the excluded side.

    Upstream only looks at the excluded side when both start on the same document, so in
    every index segment the first document of the positive side escaped the exclusion when
    the excluded side started earlier: ``-iran missile`` listed an article about Iran.
    """

    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class ExcludingAndNot(wq.AndNot):  # type: ignore[misc]
    """``a ANDNOT b`` that never matches a document ``b`` matches (see _ExcludingMatcher)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """Return the AND-NOT matcher; the excluded side is matched without scoring."""
        return _ExcludingMatcher(self.a.matcher(searcher, context),
                                 self.b.matcher(searcher, searcher.boolean_context()))


#: The matcher of :class:`ExcludingAndNot`.
ExcludingMatcher = _ExcludingMatcher


def _exclusions(q: Any) -> Any:
    """Replace every ``AndNot`` in ``q`` with :class:`ExcludingAndNot`."""
    if type(q) is wq.AndNot:
        return ExcludingAndNot(_exclusions(q.a), _exclusions(q.b))
    if q.is_leaf():
        return q
    return q.apply(_exclusions)


def coordinate(q: Any) -> Any:
    """Return ``q`` with its top level coordinated: more matched words rank higher.

    Call it on the normalised query from the parser. Handles a bare list of words (an OR),
    ``+word`` (AND-MAYBE) and ``-word`` (AND-NOT, whose positive side is coordinated); other
    queries (a single word, an explicit AND, a phrase) are returned unchanged, except that
    every ``AndNot`` becomes an :class:`ExcludingAndNot`.
    """
    q = _exclusions(q)
    if type(q) is wq.Or:
        return _CoordinatedOr(q.subqueries, boost=q.boost)
    if type(q) is wq.AndMaybe:
        return _CoordinatedAndMaybe(q.a, q.b)
    if isinstance(q, wq.AndNot):
        return ExcludingAndNot(coordinate(q.a), q.b)
    return q
