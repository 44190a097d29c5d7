"""The gaps report: frequent capitalised phrases of a corpus that the gazetteer does not know,
mostly names worth adding to a user gazetteer file (``search gazetteer-gaps``).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from .gazetteer import Gazetteer
from .gazetteer_files import FACETS
from .tokens import FUNCTION_WORDS, PARTICLES, Token, _CapsLines, tokenize

__all__ = [
    "capitalised_phrases",
    "gazetteer_gaps",
]

_CALENDAR_WORDS = frozenset(
    w.casefold().rstrip(".")
    for w in (*calendar.month_name, *calendar.month_abbr, *calendar.day_name, *calendar.day_abbr)
    if w
)
_CONTRACTION_RE = re.compile(r"['’](?:m|ve|ll|re|d|t)$", re.IGNORECASE)
_LATIN_WORD_RE = re.compile(r"[a-z0-9]+")


# --------------------------------------------------------------------------- gaps


def capitalised_phrases(
    text: str, tokens: Sequence[Token], covered: set[int]
) -> Iterator[tuple[int, int]]:
    """Runs of capitalised tokens (particles allowed inside) not covered by matches."""
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if i in covered or not t.text[:1].isupper():
            i += 1
            continue
        j = i + 1
        while j < n and j not in covered and tokens[j].joined:
            w = tokens[j].text
            if w[:1].isupper():
                j += 1
            elif (
                w.casefold() in PARTICLES
                and j + 1 < n
                and tokens[j + 1].joined
                and tokens[j + 1].text[:1].isupper()
                and j + 1 not in covered
            ):
                j += 2
            else:
                break
        yield i, j
        i = j


def gazetteer_gaps(
    texts: Iterable[str], gazetteer: Gazetteer, *, limit: int = 50, min_count: int = 2
) -> list[tuple[str, int]]:
    """Frequent capitalised phrases that the gazetteer does not know, most frequent first.

    Leading function words ("The", "But") are dropped, single dictionary words are skipped
    (sentence-initial "Reading"), and all-capital lines are ignored, so what remains is mostly
    names worth adding to a user gazetteer file.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = tokenize(text)
        caps = _CapsLines(text)
        covered: set[int] = set()
        for a, b, _m in gazetteer.find(text, tokens):
            covered.update(range(a, b))
        for a, b in capitalised_phrases(text, tokens, covered):
            # Drop leading sentence words ("But", "The", "Reading") and calendar words.
            while a < b and (
                tokens[a].norm in FUNCTION_WORDS
                or tokens[a].norm in _CALENDAR_WORDS
                or (b - a > 1 and gazetteer.is_common_word(tokens[a].text))
            ):
                a += 1
            if a >= b or caps.is_caps(tokens[a].start):
                continue
            words = tokens[a:b]
            if any(
                _CONTRACTION_RE.search(t.text) or not _LATIN_WORD_RE.fullmatch(t.norm)
                for t in words
            ):
                continue  # "I'm", "Don't"; other scripts are another language's words
            if b - a == 1 and (gazetteer.is_common_word(words[0].text) or len(words[0].text) < 3):
                continue
            phrase = text[words[0].start : words[-1].end]
            if any(gazetteer.canonical(f, phrase) for f in FACETS):
                continue
            counts[phrase] += 1
    ranked = sorted(
        ((p, c) for p, c in counts.items() if c >= min_count), key=lambda pc: (-pc[1], pc[0])
    )
    return ranked[:limit]
