"""The text analyzer: Whoosh's ``StemmingAnalyzer`` fused into one loop.

``StemmingAnalyzer()`` is a chain of four generators (regex tokenizer, lowercase, stop words,
Porter stemmer), and every token pays for four generator hops and attribute round trips.
Analysis is most of an index build, so :class:`NewsAnalyzer` does the same work in one loop,
with a plain dict as stem cache. It produces exactly the tokens the chain does (text,
positions with stop words squeezed out, character offsets, ``stopped`` flags), which
``tests/test_analysis.py`` checks against the chain on real text.

:meth:`NewsAnalyzer.postings` goes one step further for indexing: it returns each term's
positions (and character spans) directly, without a ``Token`` per word, and
:mod:`searchlib.engine.whoosh.patches` uses it in Whoosh's posting formats.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator
from itertools import accumulate, compress, count
from typing import Any, NamedTuple

from whoosh.analysis import Analyzer, Token
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter import stem

__all__ = ["NewsAnalyzer", "TokenTable", "occurrences"]

# The same expression as Whoosh's default RegexTokenizer ("*" is kept for query wildcards).
_WORD = re.compile(r"[\w\*]+(\.?[\w\*]+)*", re.UNICODE)
# The same words as the one capture group of a split: the text between words comes too, so
# a running sum of the pieces' lengths gives every word's character span, in C. Written
# without _WORD's optional dot (a repeat can only continue after a dot: the first run took
# every word character), which matches the same words and splits 1.7x as fast.
_WORD_SPLIT = re.compile(r"([\w\*]+(?:\.[\w\*]+)*)", re.UNICODE)
# Bounds the stem cache; news vocabularies reach it only on very large corpora.
_CACHE_LIMIT = 500_000


class TokenTable(NamedTuple):
    """A text's tokens as :meth:`NewsAnalyzer.token_table` found them."""

    terms: list[str]
    """Each token's indexed term ("" for a stop word)."""
    ranks: array[int]
    """Each token's count of kept (not stop) tokens up to and including it."""
    ends: array[int]
    """Running sum of the lengths of the text's pieces: gap, word, gap, word, ..."""
    first: int
    """Index of the first kept token (where positions start)."""


def occurrences(table: TokenTable, terms: Iterable[str]
                ) -> dict[str, list[tuple[int, int, int]]]:
    """Each of ``terms`` -> its ``(position, startchar, endchar)`` triples in the text of
    ``table``: :meth:`NewsAnalyzer.postings` ``(chars=True)`` restricted to those terms.

    For a snippet's few words in a whole article: Python touches only the occurrences of
    the terms asked for, the rest is C-level calls.
    """
    wanted = set(terms)
    out: dict[str, list[tuple[int, int, int]]] = {term: [] for term in wanted}
    found, ranks, ends, first = table
    for index in compress(count(), map(wanted.__contains__, found)):
        # A kept token's position: the first kept token's index plus the kept tokens
        # before it (stop words squeezed out, as in postings()).
        out[found[index]].append((first + ranks[index] - 1, ends[2 * index],
                                  ends[2 * index + 1]))
    return out


class NewsAnalyzer(Analyzer):  # type: ignore[misc]
    """Tokenize, lowercase, drop stop words (and one-letter tokens), Porter-stem."""

    def __init__(self, minsize: int = 2) -> None:
        self.minsize = minsize
        self.stoplist = frozenset(STOP_WORDS)
        self._stems: dict[str, str] = {}
        # Token as written -> indexed term: one lookup per token when indexing.
        self._terms: dict[str, str] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The schema is pickled into the index's table of contents: leave the cache out.
        return {"minsize": self.minsize, "stoplist": self.stoplist}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.minsize = state["minsize"]
        self.stoplist = state["stoplist"]
        self._stems = {}
        self._terms = {}

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, NewsAnalyzer) and other.minsize == self.minsize
                and other.stoplist == self.stoplist)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.minsize))

    def has_morph(self) -> bool:
        """Stemming changes word forms (Whoosh asks this for spelling and highlighting)."""
        return True

    def _term(self, raw: str) -> str:
        """The indexed term of the token ``raw`` ("" for a stop word), remembered."""
        text = raw.lower()
        if len(text) < self.minsize or text in self.stoplist:
            term = ""
        else:
            cached = self._stems.get(text)
            if cached is None:
                # Remembered by its lower-case form too: "Said" and "said" stem once.
                if len(self._stems) >= _CACHE_LIMIT:
                    self._stems.clear()
                cached = self._stems[text] = stem(text)
            term = cached
        if len(self._terms) >= _CACHE_LIMIT:
            self._terms.clear()
        self._terms[raw] = term
        return term

    def _found_terms(self, words: list[str]) -> list[str]:
        """The indexed term of each token in ``words`` ("" for a stop word)."""
        # Token -> term for every token at once (C-level map); only unseen tokens need Python.
        found: list[str | None] = list(map(self._terms.get, words))
        if None in found:
            # Each unseen token once, however often it occurs: a 10 MB file of a few dozen
            # words used to stem every one of its million tokens here.
            new = {word: "" for word, term in zip(words, found, strict=True) if term is None}
            for word in new:
                new[word] = self._term(word)
            # The words looked up just now get their term, the others keep theirs (in C).
            found = list(map(new.get, words, found))
        return found  # type: ignore[return-value]  # every None was replaced

    def character_deltas(self, value: str) -> list[tuple[str, list[tuple[int, int, int]]]]:
        """Each indexed term of ``value``, in order of first occurrence, with its occurrences
        as Whoosh's ``Characters`` format stores them: ``(position - previous position,
        startchar - previous endchar, endchar - startchar)``, the first one's "previous"
        being 0.

        The same figures as grouping :meth:`postings` ``(chars=True)`` and taking the deltas
        term by term, computed with numpy: on a long text that Python loop over every token
        was a third of indexing it (a 10 MB text of 1.6 million words).
        """
        # Imported here: the schema (and with it this module) is on every query's path, and
        # a one-shot query on a small index must not pay numpy's import (test_query_path).
        import numpy as np

        parts = _WORD_SPLIT.split(value)
        words = parts[1::2]
        found = self._found_terms(words)
        kept_mask = np.fromiter(map(bool, found), dtype=bool, count=len(found))
        if not kept_mask.any():
            return []
        first = int(kept_mask.argmax())
        # Term ids in order of first occurrence, one per kept token (dict.fromkeys: in C).
        kept = list(filter(None, found))
        ids = {term: n for n, term in enumerate(dict.fromkeys(kept))}
        tid = np.fromiter(map(ids.__getitem__, kept), dtype=np.int64, count=len(kept))
        ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
        starts = ends[0::2][:len(words)][kept_mask]  # a word starts where the gap before ends
        stops = ends[1::2][kept_mask]
        # Kept tokens are numbered on from the first one's index, stop words squeezed out;
        # a stable sort groups each term's occurrences and keeps them in text order.
        order = np.argsort(tid, kind="stable")
        pos = order + first
        start, stop = starts[order], stops[order]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(tid))))
        heads = bounds[:-1]
        dpos = np.empty_like(pos)
        dpos[1:] = pos[1:] - pos[:-1]
        dstart = np.empty_like(start)
        dstart[1:] = start[1:] - stop[:-1]
        dpos[heads] = pos[heads]  # each term's first occurrence counts from 0
        dstart[heads] = start[heads]
        triples = list(zip(dpos.tolist(), dstart.tolist(), (stop - start).tolist(),
                           strict=True))
        return [(term, triples[a:b]) for term, a, b
                in zip(ids, heads.tolist(), bounds[1:].tolist(), strict=True)]

    def postings(self, value: str, *, chars: bool) -> dict[str, list[Any]]:
        """Each indexed term of ``value`` -> its positions, or with ``chars`` its
        ``(position, startchar, endchar)`` triples, in order of first occurrence.

        Exactly what iterating ``self(value, positions=True, chars=chars)`` and grouping the
        token texts gives (the same positions, renumbered around stop words). The tokens are
        split, looked up and located by C-level calls; Python only groups them by term.
        """
        parts = _WORD_SPLIT.split(value)
        found = self._found_terms(parts[1::2])
        kept = list(filter(None, found))  # stop words ("") drop out
        seen: dict[str, list[Any]] = {}
        if not kept:
            return seen
        # Kept tokens are numbered on from the first one's index, stop words squeezed out.
        first = next(index for index, term in enumerate(found) if term)
        entries: Any = count(first)
        if chars:
            ends = list(accumulate(map(len, parts)))
            entries = zip(entries, compress(ends[0::2], found), compress(ends[1::2], found),
                          strict=False)  # count() never ends
        for term, entry in zip(kept, entries, strict=False):
            group = seen.get(term)
            if group is None:
                seen[term] = [entry]
            else:
                group.append(entry)
        return seen

    def token_table(self, value: str) -> TokenTable:
        """What :func:`occurrences` needs to know of ``value``: each token's term, kept-token
        rank and character span, found by C-level calls (kept for a text shown again)."""
        parts = _WORD_SPLIT.split(value)
        found = self._found_terms(parts[1::2])
        kept = list(map(bool, found))
        first = kept.index(True) if True in kept else 0
        return TokenTable(found, array("l", accumulate(kept)),
                          array("l", accumulate(map(len, parts))), first)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Any]:
        """Yield Whoosh tokens for ``value`` (one reused ``Token``, as Whoosh's own do)."""
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stems = self._stems
        stoplist = self.stoplist
        minsize = self.minsize
        matches: Any = _WORD.finditer(value) if tokenize else (None,)
        pos: int | None = None  # position of the last kept token (StopFilter's renumbering)
        for index, match in enumerate(matches):
            if match is None:
                raw, begin, end = value, 0, len(value)
            else:
                raw, begin, end = match.group(0), match.start(), match.end()
            text = raw.lower()
            if len(text) < minsize or text in stoplist:
                if removestops:
                    continue
                t.stopped = True
                t.text = text
            else:
                t.stopped = False
                stemmed = stems.get(text)
                if stemmed is None:
                    if len(stems) >= _CACHE_LIMIT:
                        stems.clear()
                    stemmed = stems[text] = stem(text)
                t.text = stemmed
            t.boost = 1.0
            if keeporiginal or match is None:
                t.original = raw
            if positions:
                if t.stopped:
                    t.pos = start_pos + index
                elif pos is None:
                    pos = t.pos = start_pos + index
                else:
                    pos += 1
                    t.pos = pos
            if chars:
                t.startchar = start_char + begin
                t.endchar = start_char + end
            yield t
