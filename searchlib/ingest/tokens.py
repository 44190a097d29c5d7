"""Words of a text for the gazetteer and extraction: the tokenizer (:class:`TokenTable`), word
normalisation, the word lists (particles, function words, directions), and the tests that tell a
line written in capitals or title case from an ordinary one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from itertools import accumulate, compress, count, repeat
from operator import and_, itemgetter, le, not_
from typing import NamedTuple, overload

__all__ = [
    "DIRECTIONS",
    "FUNCTION_WORDS",
    "ORG_SUFFIXES",
    "PARTICLES",
    "Token",
    "TokenTable",
    "letter_counts",
    "name_starts",
    "normalise",
    "plainly_lower_case",
    "title_case_line",
    "token_table",
    "tokenize",
]


PARTICLES = frozenset(
    {
        "al", "el", "ad", "ar", "as", "ash", "at", "az", "ez", "es", "e", "de", "del", "della",
        "der", "di", "du", "da", "des", "la", "le", "les", "of", "the", "and", "for", "bin",
        "ibn", "bint", "van", "von", "y", "i", "on", "in", "upon", "ul", "un", "o", "a",
    }
)
"""Lower-case words allowed inside names ("Jabhat al-Nusra", "Party for Free Life of ...")."""

FUNCTION_WORDS = frozenset(
    {
        "the", "a", "an", "but", "and", "or", "then", "in", "on", "at", "as", "if", "when",
        "while", "after", "before", "since", "so", "yet", "for", "of", "to", "this", "that",
        "these", "those", "it", "he", "she", "they", "we", "i", "his", "her", "their", "our",
        "my", "your", "its", "last", "next", "meanwhile", "however", "according", "by", "from",
        "with", "without", "during", "under", "over", "about", "also", "even", "why", "how",
        "what", "where", "who", "whom", "there", "here", "now", "today", "yesterday",
        "although", "though", "because", "near", "into", "across", "outside", "inside",
        "around", "between", "against", "toward", "towards", "via", "both", "all", "not",
    }
)
"""Closed-class words that start sentences ("In Homs", "But Pourdastan said")."""

DIRECTIONS = frozenset(
    {
        "north", "south", "east", "west", "northern", "southern", "eastern", "western",
        "central", "northeastern", "northwestern", "southeastern", "southwestern",
    }
)
"""Lower-case first words of region names that still count ("central Asia")."""

ORG_SUFFIXES = frozenset(
    {
        "center", "centre", "institute", "council", "university", "college", "school",
        "foundation", "society", "association", "club", "company", "corporation", "bank",
        "times", "post", "herald", "tribune", "journal", "gazette", "daily", "news", "airlines",
        "airways", "fc", "united", "academy", "initiative", "forum", "review",
    }
)
"""Capitalised words after a place name that make it part of an organisation's name."""

_LOWER_STARTS = PARTICLES | DIRECTIONS

# "U.S." is one word; so is "U.S" before a spaced full stop ("U.S ." in archive text). That is
# ``(?:[A-Z]\.){2,}|[A-Z]\.[A-Z](?= \.)|[^\W_]+(?:['’ʼ][^\W_]+)*``, written so that the regex
# engine does less work per position (a quarter faster; tokenizing is the hot loop): one
# look-ahead rules out both acronym forms at once, and possessive quantifiers keep no
# backtracking state (nothing follows them that could fail).
_TOKEN_RE = re.compile(
    r"(?=[A-Z]\.)[A-Z]\.(?:(?:[A-Z]\.)+|[A-Z](?= \.))|[^\W_]++(?:['’ʼ][^\W_]++)*+"
)
_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")
_DOTTED_RE = re.compile(r"(?:[A-Z]\.)+[A-Z]\.?")
_JOIN_RE = re.compile(r"(?:['’ʼ][sS]?)?(?:[ \t\u00a0]{1,2}|[-‐‑–])?")
_DROP = str.maketrans("", "", "'’ʼʿʾ`.")


class Token(NamedTuple):
    """One word of a text: its span, its surface and its normalised form."""

    start: int
    """Offset of the first character."""
    end: int
    """Offset after the last character (a possessive "'s" is left outside)."""
    text: str
    """The word as written."""
    norm: str
    """Case-folded, accent-free form without apostrophes and dots (see :func:`normalise`)."""
    joined: bool
    """True when only spaces, one hyphen or a possessive separate it from the previous token."""
    possessive: bool = False
    """True when an "'s" followed the word ("Iran's"): a name ends there."""


@functools.lru_cache(maxsize=262144)
def normalise(word: str) -> str:
    """Matching key of one word: case-folded, accents and apostrophes/dots removed."""
    s = word.casefold()
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.translate(_DROP)


class TokenTable(Sequence[Token]):
    """The tokens of one text as parallel lists ("columns"), one entry per word.

    Extraction reads a few fields of every token many times; plain lists indexed by token
    number avoid building a :class:`Token` per word (the tokenizer fills every column with
    C-level ``map``/``accumulate`` passes, several times faster than a Python loop). Indexing
    it still gives :class:`Token` values, so it can be passed wherever a ``Sequence[Token]`` is
    expected. Invariant for tables made by :func:`token_table`: ``norms[k] ==
    normalise(texts[k])``.
    """

    __slots__ = ("ends", "joined", "norms", "possessive", "starts", "texts")

    def __init__(
        self,
        starts: list[int],
        ends: list[int],
        texts: list[str],
        norms: list[str],
        joined: list[bool],
        possessive: list[bool],
    ) -> None:
        """Build from equally long columns (see the fields of :class:`Token`)."""
        self.starts = starts
        """Offset of each token's first character."""
        self.ends = ends
        """Offset after each token's last character (a possessive "'s" left outside)."""
        self.texts = texts
        """Each word as written."""
        self.norms = norms
        """Each word's normalised form (:func:`normalise`)."""
        self.joined = joined
        """Whether only spaces, one hyphen or a possessive separate it from the previous one."""
        self.possessive = possessive
        """Whether an "'s" followed the word."""

    @classmethod
    def of(cls, tokens: Sequence[Token]) -> TokenTable:
        """The table of a token sequence (itself when it already is one)."""
        if isinstance(tokens, TokenTable):
            return tokens
        columns = [list(c) for c in zip(*tokens, strict=True)]
        if not columns:
            return cls([], [], [], [], [], [])
        return cls(*columns)

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, index: int) -> Token: ...

    @overload
    def __getitem__(self, index: slice) -> list[Token]: ...

    def __getitem__(self, index: int | slice) -> Token | list[Token]:
        if isinstance(index, slice):
            return list(self)[index]
        return _new_tuple(Token, (
            self.starts[index], self.ends[index], self.texts[index], self.norms[index],
            self.joined[index], self.possessive[index],
        ))

    def __iter__(self) -> Iterator[Token]:
        return map(_new_tuple, repeat(Token), zip(
            self.starts, self.ends, self.texts, self.norms, self.joined, self.possessive,
            strict=True,
        ))


class _GapJoins(dict[str, bool]):
    """Memo of gap text -> does it join two words (:data:`_JOIN_RE`)."""

    def __missing__(self, gap: str) -> bool:
        joins = _JOIN_RE.fullmatch(gap) is not None
        if len(self) >= _GAP_MEMO_LIMIT:
            self.clear()  # bounded memory; only costs recomputation
        self[gap] = joins
        return joins
_GAP_MEMO_LIMIT = 65_536  # gaps can be long runs of punctuation or markup
_GAP_JOINS = _GapJoins()
_FIRST_CHAR = itemgetter(0)
_new_tuple = tuple.__new__
# A token longer than two characters that ends in an apostrophe and "s" is a possessive ("ʼs"
# alone is a word: U+02BC is a letter).
_POSSESSIVE_ENDINGS = ("'s", "'S", "’s", "’S", "ʼs", "ʼS")


def token_table(text: str) -> TokenTable:
    """The tokens of ``text`` (as :func:`tokenize` splits it) as a :class:`TokenTable`."""
    # One re.split gives [gap, word, gap, word, ..., gap]; offsets are running sums of the
    # part lengths. Per-token work is done by C-level ``map`` passes; Python code runs only for
    # the few words that are not plain ASCII letters and digits.
    parts = _SPLIT_RE.split(text)
    texts = parts[1::2]
    n = len(texts)
    # For an ASCII word of letters and digits normalise() is just lower(); the rest (accents,
    # apostrophes, dotted acronyms, possessives) is fixed up below.
    norms = list(map(str.lower, texts))
    plain = map(str.isalnum, texts)
    if not text.isascii():
        plain = map(and_, map(str.isascii, texts), plain)
    special = list(compress(count(), map(not_, plain)))
    offsets = list(accumulate(map(len, parts)))
    starts = offsets[0:-1:2]
    ends = offsets[1::2]
    joined = [False] if n else []
    joined += map(_GAP_JOINS.__getitem__, parts[2:-1:2])
    possessive = [False] * n
    for k in special:
        word = texts[k]
        if len(word) > 2 and word.endswith(_POSSESSIVE_ENDINGS):
            possessive[k] = True
            texts[k] = word[:-2]
            ends[k] -= 2
            if k + 1 < n:
                # The "'s" belongs to the gap: "Iran's army" is joined, "Iran's. The" is not.
                joined[k + 1] = _GAP_JOINS[word[-2:] + parts[2 * k + 2]]
        norms[k] = normalise(texts[k])
    return TokenTable(starts, ends, texts, norms, joined, possessive)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word tokens ("U.S." and "Shi'a" stay whole; "Iran's" gives "Iran")."""
    return list(token_table(text))


def name_starts(tokens: Sequence[Token]) -> list[int]:
    """Indexes of the tokens a name can start at: not lower-case, or a particle ("al-Qaeda")
    or a direction ("central Asia")."""
    if isinstance(tokens, TokenTable):
        # C-level passes: "a <= b" on booleans is "a implies b", here "a lower-case first
        # letter implies a particle or direction".
        lower_first = map(str.islower, map(_FIRST_CHAR, tokens.texts))
        particle = map(_LOWER_STARTS.__contains__, tokens.norms)
        return list(compress(count(), map(le, lower_first, particle)))
    lower = _LOWER_STARTS
    return [k for k, t in enumerate(tokens) if not t.text[0].islower() or t.norm in lower]


@functools.lru_cache(maxsize=262144)
def _key(alias: str) -> tuple[str, ...]:
    """Matching key of a name: the normalised words :func:`tokenize` would give."""
    if _DOTTED_RE.fullmatch(alias):
        return (normalise(alias),)  # "U.S", "U.S.": one word, as in text
    out = []
    for word in _TOKEN_RE.findall(alias):
        if len(word) > 2 and word[-2] in "'’ʼ" and word[-1] in "sS":
            word = word[:-2]
        out.append(normalise(word))
    return tuple(out)


def _is_cap(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


# Letter counts of a line decide whether it is written in capitals. Counting character by
# character in Python (``sum(map(str.isupper, line))``) dominated matching on long paragraphs;
# ASCII letters are counted with bytes.translate instead, and only the (few) other characters
# one by one, which gives exactly the same counts.
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not (b < 128 and chr(b).isalpha()))
_NOT_ASCII_UPPER = bytes(b for b in range(256) if not (b < 128 and chr(b).isupper()))
# Deleting the ASCII runs leaves the other characters, in a string, twice as fast as finding
# them one by one.
_ASCII_RUNS_RE = re.compile(r"[\x00-\x7f]+")
_LONG_WORD_INITIAL_RE = re.compile(r"([^\W\d_])[^\W\d_]{2,}")
r"""Words of three or more letters (``[^\W\d_]{3,}``), giving only each word's first letter."""


def letter_counts(text: str) -> tuple[int, int]:
    """``(letters, upper-case letters)`` in ``text``, as ``str.isalpha``/``str.isupper`` count
    them character by character."""
    ascii_part = text.encode("ascii", "ignore")
    letters = len(ascii_part.translate(None, _NOT_ASCII_LETTER))
    upper = len(ascii_part.translate(None, _NOT_ASCII_UPPER))
    if len(ascii_part) != len(text):
        others = _ASCII_RUNS_RE.sub("", text)
        letters += sum(map(str.isalpha, others))
        upper += sum(map(str.isupper, others))
    return letters, upper


_COMMON_LOWER_WORDS = (" the ", " and ", " that ", " for ", " with ", " was ", " said ")


def plainly_lower_case(line: str, upper: int) -> bool:
    """A cheap sufficient test that ``line`` is not title case (fewer than 75% of its words of
    three or more letters capitalised); ``upper`` is its number of upper-case letters.

    Each " the " (or other common word between spaces) is a lower-case word, and each
    capitalised word starts with an upper-case letter, so when three times the former exceed
    the latter the line cannot be title case. Ordinary paragraphs are settled this way without
    collecting their words.
    """
    return 3 * sum(map(line.count, _COMMON_LOWER_WORDS)) > upper


def title_case_line(line: str, upper: int, min_words: int) -> bool:
    """Is ``line`` title case: at least ``min_words`` words of three or more letters, of which
    75% or more are capitalised? ``upper`` is its number of upper-case letters (as
    ``letter_counts`` gives it), for the cheap test that settles ordinary paragraphs.

    The gazetteer's matcher asks for two such words, the person finder for three (a
    two-word line there is more often a name than a headline).
    """
    if plainly_lower_case(line, upper):
        return False
    initials = _LONG_WORD_INITIAL_RE.findall(line)
    capitalised = sum(map(str.isupper, initials))
    return len(initials) >= min_words and capitalised / len(initials) >= 0.75


class _CapsLines:
    """Classifies lines lazily: all capitals ("WAR IS BORING"), title case, or ordinary."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._memo: dict[int, tuple[bool, bool]] = {}

    def _line(self, offset: int) -> tuple[bool, bool]:
        text = self._text
        start = text.rfind("\n", 0, offset) + 1
        hit = self._memo.get(start)
        if hit is None:
            end = text.find("\n", offset)
            line = text[start : end if end >= 0 else len(text)]
            letters, upper = letter_counts(line)
            caps = letters >= 8 and upper / letters > 0.7
            hit = (caps, caps or title_case_line(line, upper, 2))
            self._memo[start] = hit
        return hit

    def is_caps(self, offset: int) -> bool:
        """Is the line holding ``offset`` written in capitals?"""
        return self._line(offset)[0]

    def is_title(self, offset: int) -> bool:
        """Is the line holding ``offset`` a headline (most longer words capitalised)?"""
        return self._line(offset)[1]
