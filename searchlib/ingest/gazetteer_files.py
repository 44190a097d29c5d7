"""Gazetteer files: the entry type, the kinds each facet allows, the YAML file format (read with
the safe loader, file:line in every error) and how a later file's entries merge over earlier
ones.

File format::

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

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import yaml

from searchlib.errors import GazetteerError
from searchlib.models import ENTITY_FACETS, FacetKind

from .tokens import normalise
from .yamlfile import SafeLoader, compose

__all__ = [
    "ACTOR_KINDS",
    "FACETS",
    "LOCATION_KINDS",
    "PERSON_KINDS",
    "GazetteerEntry",
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


@dataclass
class _Layer:
    entries: dict[tuple[str, str], GazetteerEntry] = field(default_factory=dict)
    common_words: set[str] = field(default_factory=set)
    first_names: set[str] = field(default_factory=set)


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
