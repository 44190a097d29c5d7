"""Cleaning rules: the shipped ``data/cleaning.yaml`` extended by user files, checked and compiled.

:class:`CleaningRules` holds every rule of :mod:`searchlib.ingest.clean` compiled once; a user
file's mistake (unknown key, wrong type, bad regex or replacement, unsafe YAML tag) is reported
as ``"<file>:<line>: <problem>"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from searchlib.errors import ConfigError

from .yamlfile import compose, error_line

__all__ = ["CleaningRules", "default_rules"]

_SHIPPED_NAME = "cleaning.yaml"


def _top_level_branches(pattern: str) -> list[str]:
    """Split a regex on its top-level ``|`` (outside groups, classes and escapes)."""
    branches: list[str] = []
    depth = 0
    in_class = False
    start = i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]" or pattern[i - 1] == "["
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    branches.append(pattern[start:])
    return branches


class _LineMatcher:
    """Line patterns compiled for speed: this runs on every line of every article.

    Patterns anchored at the line start are merged into one regex (the engine rejects them at
    once); unanchored ones stay separate, since a merged alternation is slower to scan with
    re.IGNORECASE than the patterns one by one.
    """

    __slots__ = ("_patterns", "_tests")

    def __init__(self, patterns: Sequence[str], flags: int) -> None:
        anchored = [
            p for p in patterns if all(b.startswith("^") for b in _top_level_branches(p))
        ]
        others = [p for p in patterns if p not in anchored]
        starts: list[re.Pattern[str]] = []
        if anchored:
            try:
                starts = [re.compile("|".join(f"(?:{p})" for p in anchored), flags)]
            except re.error:
                # Group names repeated across patterns, or inline global flags: keep them apart.
                starts = [re.compile(p, flags) for p in anchored]
        rest = [re.compile(p, flags) for p in others]
        self._patterns = (*starts, *rest)
        # Without MULTILINE, a pattern whose every branch starts with "^" can only match at the
        # start of the line: match() tries that one position, where search() would retry every
        # branch at every position of a long paragraph.
        self._tests = (
            *(p.search if p.flags & re.MULTILINE else p.match for p in starts),
            *(p.search for p in rest),
        )

    def search(self, line: str) -> bool:
        """True when any of the patterns is found in ``line``."""
        for test in self._tests:  # noqa: SIM110 - a plain loop: no generator per line
            if test(line):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self._patterns)


@dataclass(frozen=True)
class CleaningRules:
    """Compiled cleaning rules, loaded from the shipped YAML plus optional user files.

    Build with :meth:`load`; every regex is compiled once here, so one instance can clean any
    number of articles. The fields mirror the sections of ``searchlib/data/cleaning.yaml``.
    """

    sources: tuple[str, ...]
    """The rule files this instance was built from, shipped file first."""
    substitutions: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]
    """Inline rewrites applied to the whole text, in order: pattern, replacement, and strings
    one of which must be present for the pattern to be tried (empty: always tried)."""
    unescape_html_entities: bool
    """Whether ``&amp;``-style entities are decoded."""
    link_only_drop: bool
    """Whether lines made only of markdown links are dropped."""
    link_only_max_words: int
    """Longest link-only line (in words) that is still dropped."""
    drop_lines: _LineMatcher
    """Boilerplate lines dropped anywhere."""
    truncate_after: _LineMatcher
    """Lines that start trailing boilerplate."""
    truncate_min_position: float
    """Fraction of the article before which ``truncate_after`` is ignored."""
    related_headings: _LineMatcher
    """Headings of related-link lists."""
    related_item: re.Pattern[str] | None
    """Shape of one related-link item."""
    related_item_max_words: int
    """Longest short item accepted right under a heading."""
    related_min_run: int
    """Run length of heading-less items that counts as a list; 0 turns that off."""
    header_max_lines: int
    """Most lines the header can span."""
    header_prose_min_words: int
    """A line this long (in words) is body text and ends the header."""
    bylines: tuple[re.Pattern[str], ...]
    """Byline patterns, each with an ``authors`` group."""
    byline_max_words: int
    """Longest byline name list, in words."""
    author_separators: re.Pattern[str]
    """Splits a byline into names."""
    datelines: _LineMatcher
    """Dateline patterns."""
    dateline_max_words: int
    """Longest dateline, in words."""
    header_drop: _LineMatcher
    """Header metadata lines dropped."""
    title_max_words: int
    """Longest headline, in words."""
    title_max_chars: int
    """Longest headline, in characters."""
    title_reject: re.Pattern[str] | None
    """A headline candidate matching this is not a headline."""
    derive_max_words: int
    """Longest derived title, in words."""
    derive_ellipsis: str
    """Appended to a derived title that was cut."""
    derive_trailing_words: frozenset[str]
    """Words a cut title must not end on."""
    derive_skip: re.Pattern[str] | None
    """Removed from the start of the first paragraph before deriving (wire datelines)."""
    derive_abbreviations: frozenset[str]
    """Words whose final period does not end a sentence."""
    subtitle_max_words: int
    """Longest subtitle, in words."""
    subtitle_max_chars: int
    """Longest subtitle, in characters."""
    subtitle_reject: re.Pattern[str] | None
    """A subtitle candidate matching this is not a subtitle."""
    teaser_ellipsis: re.Pattern[str] | None
    """How a teaser paragraph ends."""
    teaser_min_prefix_chars: int
    """Shortest teaser text that is compared with later paragraphs."""
    teaser_window: int
    """How many following paragraphs a teaser is compared with."""
    teaser_scan: int
    """How many leading paragraphs are checked for teasers."""
    join_if_ends: re.Pattern[str] | None
    """A line matching this may continue on the next line."""
    wrap_max_chars: int
    """Line length up to which text counts as hard-wrapped."""
    wrap_min_lines: int
    """Fewest wrapped lines before text counts as hard-wrapped."""
    drop_consecutive_duplicates: bool
    """Whether a paragraph equal to the previous one is dropped."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The merged rule data, as read from the files."""

    @classmethod
    def load(cls, extra: Sequence[Path] = ()) -> CleaningRules:
        """Load the shipped rules, extended by ``extra`` user files in order.

        Lists in a user file are appended to the shipped ones, mappings are merged and scalars
        replace the shipped value. Files are read with ``yaml.safe_load`` semantics only.

        Raises:
            ConfigError: a file cannot be read, is not valid YAML, uses an unsafe tag, has an
                unknown key or a value of the wrong type, or holds an invalid regex. The message
                reads ``"<file>:<line>: <problem>"``.
        """
        shipped = resources.files("searchlib").joinpath("data", _SHIPPED_NAME)
        layers = [_read_layer(str(shipped), shipped.read_text(encoding="utf-8"))]
        for path in extra:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}:1: cannot read cleaning rules: {exc}") from exc
            layers.append(_read_layer(str(path), text))
        merged: dict[str, _Value] = {}
        for layer in layers:
            _merge(merged, layer.data)
        return _compile(merged, tuple(layer.name for layer in layers))


@dataclass
class _Value:
    """A YAML value with the file and line it came from (for error messages)."""

    value: Any
    origin: str
    line: int


@dataclass
class _Layer:
    name: str
    data: dict[str, _Value]


def _read_layer(name: str, text: str) -> _Layer:
    # Composing first keeps each node's line; only SafeLoader constructors ever run.
    loader, node = compose(text, name, ConfigError)
    try:
        if node is None:
            return _Layer(name, {})
        root = _wrap(loader, node, name)
    except yaml.YAMLError as exc:
        line, problem = error_line(exc)
        raise ConfigError(f"{name}:{line or 1}: {problem}") from exc
    finally:
        loader.dispose()
    if not isinstance(root.value, dict):
        raise ConfigError(f"{name}:{root.line}: cleaning rules must be a mapping of sections")
    return _Layer(name, root.value)


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def _wrap(loader: yaml.SafeLoader, node: yaml.Node, name: str) -> _Value:
    """Construct ``node`` safely, wrapping every value with its position."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.CollectionNode) and node.tag not in (_MAP_TAG, _SEQ_TAG):
        # Only plain mappings and lists: a tag such as !!python/object is refused, not ignored.
        raise ConfigError(f"{name}:{line}: tag {node.tag!r} is not allowed in a rules file")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, _Value] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConfigError(f"{name}:{key_node.start_mark.line + 1}: keys must be strings")
            out[key] = _wrap(loader, value_node, name)
        return _Value(out, name, line)
    if isinstance(node, yaml.SequenceNode):
        return _Value([_wrap(loader, item, name) for item in node.value], name, line)
    return _Value(loader.construct_object(node, deep=True), name, line)


def _merge(into: dict[str, _Value], new: Mapping[str, _Value]) -> None:
    """Layer ``new`` over ``into``: mappings merge, lists append, anything else replaces."""
    for key, value in new.items():
        old = into.get(key)
        if old is not None and isinstance(old.value, dict) and isinstance(value.value, dict):
            merged = dict(old.value)
            _merge(merged, value.value)
            into[key] = _Value(merged, old.origin, old.line)
        elif old is not None and isinstance(old.value, list) and isinstance(value.value, list):
            into[key] = _Value([*old.value, *value.value], old.origin, old.line)
        else:
            into[key] = value


_SCHEMA: dict[str, Any] = {
    "version": int,
    "substitutions": [{"pattern": str, "replace": str, "requires": [str]}],
    "unescape_html_entities": bool,
    "link_only_lines": {"drop": bool, "max_words": int},
    "drop_lines": [str],
    "truncate_after": {"min_position": float, "patterns": [str]},
    "related_links": {"headings": [str], "item": str, "item_max_words": int, "min_run": int},
    "header": {
        "max_lines": int, "prose_min_words": int, "bylines": [str], "byline_max_words": int,
        "author_separators": str, "datelines": [str], "dateline_max_words": int, "drop": [str],
    },
    "title": {
        "max_words": int, "max_chars": int, "reject": str, "derive_max_words": int,
        "derive_ellipsis": str, "derive_trailing_words": [str], "derive_skip": str,
        "derive_abbreviations": [str],
    },
    "subtitle": {"max_words": int, "max_chars": int, "reject": str},
    "teaser": {"ellipsis": str, "min_prefix_chars": int, "window": int, "scan_paragraphs": int},
    "paragraphs": {
        "join_if_ends": str, "wrap_max_chars": int, "wrap_min_lines": int,
        "drop_consecutive_duplicates": bool,
    },
}


def _check(value: _Value, schema: Any, where: str) -> Any:
    """Validate ``value`` against ``schema`` and return it unwrapped."""
    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{value.origin}:{value.line}: {where}: {problem}")

    if isinstance(schema, dict):
        if not isinstance(value.value, dict):
            raise fail("expected a mapping")
        out: dict[str, Any] = {}
        for key, item in value.value.items():
            if key not in schema:
                known = ", ".join(sorted(schema))
                raise ConfigError(
                    f"{item.origin}:{item.line}: unknown key {key!r} in {where or 'the rules'} "
                    f"(known: {known})"
                )
            out[key] = _check(item, schema[key], f"{where}.{key}" if where else key)
        return out
    if isinstance(schema, list):
        if not isinstance(value.value, list):
            raise fail("expected a list")
        return [_check(item, schema[0], f"{where}[{i}]") for i, item in enumerate(value.value)]
    if schema is float and isinstance(value.value, int) and not isinstance(value.value, bool):
        return float(value.value)
    if schema is int and isinstance(value.value, bool):
        raise fail("expected an integer")
    if schema is str and isinstance(value.value, (int, float)) and not isinstance(
        value.value, bool
    ):
        return str(value.value)
    if not isinstance(value.value, schema):
        raise fail(f"expected {schema.__name__}, got {type(value.value).__name__}")
    return value.value


def _positions(value: _Value, where: str, out: dict[str, _Value]) -> None:
    """Index every nested value by its dotted path, to report regex errors at the right line."""
    out[where] = value
    if isinstance(value.value, dict):
        for key, item in value.value.items():
            _positions(item, f"{where}.{key}" if where else key, out)
    elif isinstance(value.value, list):
        for i, item in enumerate(value.value):
            _positions(item, f"{where}[{i}]", out)


def _compile(merged: dict[str, _Value], sources: tuple[str, ...]) -> CleaningRules:
    root = _Value(merged, sources[0], 1)
    data: dict[str, Any] = _check(root, _SCHEMA, "")
    where: dict[str, _Value] = {}
    _positions(root, "", where)

    def section(name: str) -> dict[str, Any]:
        got: dict[str, Any] = data.get(name, {})
        return got

    def regex(path: str, pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            pos = where.get(path, root)
            raise ConfigError(
                f"{pos.origin}:{pos.line}: {path}: bad regex {pattern!r}: {exc}"
            ) from exc

    def optional(path: str, pattern: str | None, flags: int = re.IGNORECASE) -> (
        re.Pattern[str] | None
    ):
        return regex(path, pattern, flags) if pattern else None

    def matcher(path: str, patterns: list[str], flags: int = re.IGNORECASE) -> _LineMatcher:
        for i, pattern in enumerate(patterns):
            regex(f"{path}[{i}]", pattern, flags)
        return _LineMatcher(patterns, flags)

    subs: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = []
    for i, item in enumerate(data.get("substitutions", [])):
        if "pattern" not in item:
            pos = where.get(f"substitutions[{i}]", root)
            raise ConfigError(f"{pos.origin}:{pos.line}: substitutions[{i}]: 'pattern' is missing")
        compiled = regex(f"substitutions[{i}].pattern", item["pattern"], re.MULTILINE)
        requires = tuple(s for s in item.get("requires", []) if s)
        subs.append((compiled, item.get("replace", ""), requires))
    for i, (pattern, replacement, _) in enumerate(subs):
        try:
            _check_replacement(pattern, replacement)
        except (re.error, IndexError) as exc:
            pos = where.get(f"substitutions[{i}]", root)
            raise ConfigError(
                f"{pos.origin}:{pos.line}: substitutions[{i}]: bad replacement "
                f"{replacement!r}: {exc}"
            ) from exc

    links = section("link_only_lines")
    truncate = section("truncate_after")
    related = section("related_links")
    header = section("header")
    title = section("title")
    subtitle = section("subtitle")
    teaser = section("teaser")
    paragraphs = section("paragraphs")

    bylines = tuple(
        regex(f"header.bylines[{i}]", p) for i, p in enumerate(header.get("bylines", []))
    )
    for i, pattern in enumerate(bylines):
        if "authors" not in pattern.groupindex:
            pos = where.get(f"header.bylines[{i}]", root)
            raise ConfigError(
                f"{pos.origin}:{pos.line}: header.bylines[{i}]: the pattern needs a group "
                "named 'authors', as in (?P<authors>...)"
            )

    return CleaningRules(
        sources=sources,
        substitutions=tuple(subs),
        unescape_html_entities=data.get("unescape_html_entities", True),
        link_only_drop=links.get("drop", True),
        link_only_max_words=links.get("max_words", 15),
        drop_lines=matcher("drop_lines", data.get("drop_lines", [])),
        truncate_after=matcher("truncate_after.patterns", truncate.get("patterns", [])),
        truncate_min_position=truncate.get("min_position", 0.5),
        related_headings=matcher("related_links.headings", related.get("headings", [])),
        related_item=optional("related_links.item", related.get("item")),
        related_item_max_words=related.get("item_max_words", 20),
        related_min_run=related.get("min_run", 0),
        header_max_lines=header.get("max_lines", 15),
        header_prose_min_words=header.get("prose_min_words", 15),
        bylines=bylines,
        byline_max_words=header.get("byline_max_words", 12),
        author_separators=regex(
            "header.author_separators", header.get("author_separators", r"\s*,\s*")
        ),
        datelines=matcher("header.datelines", header.get("datelines", [])),
        dateline_max_words=header.get("dateline_max_words", 12),
        header_drop=matcher("header.drop", header.get("drop", [])),
        title_max_words=title.get("max_words", 25),
        title_max_chars=title.get("max_chars", 200),
        title_reject=optional("title.reject", title.get("reject"), 0),
        derive_max_words=title.get("derive_max_words", 12),
        derive_ellipsis=title.get("derive_ellipsis", "…"),
        derive_trailing_words=frozenset(
            w.casefold() for w in title.get("derive_trailing_words", [])
        ),
        derive_skip=optional("title.derive_skip", title.get("derive_skip"), 0),
        derive_abbreviations=frozenset(
            w.casefold().rstrip(".") for w in title.get("derive_abbreviations", [])
        ),
        subtitle_max_words=subtitle.get("max_words", 20),
        subtitle_max_chars=subtitle.get("max_chars", 160),
        subtitle_reject=optional("subtitle.reject", subtitle.get("reject"), 0),
        teaser_ellipsis=optional("teaser.ellipsis", teaser.get("ellipsis")),
        teaser_min_prefix_chars=teaser.get("min_prefix_chars", 30),
        teaser_window=teaser.get("window", 6),
        teaser_scan=teaser.get("scan_paragraphs", 12),
        join_if_ends=optional("paragraphs.join_if_ends", paragraphs.get("join_if_ends"), 0),
        wrap_max_chars=paragraphs.get("wrap_max_chars", 100),
        wrap_min_lines=paragraphs.get("wrap_min_lines", 4),
        drop_consecutive_duplicates=paragraphs.get("drop_consecutive_duplicates", True),
        raw=data,
    )


def _check_replacement(pattern: re.Pattern[str], replacement: str) -> None:
    """Raise re.error when ``replacement`` is not a valid template for ``pattern``.

    A stand-in pattern with the same groups, all empty, always matches, so expanding the
    template on it reports bad escapes and unknown group references up front.
    """
    names = {index: name for name, index in pattern.groupindex.items()}
    stand_in = "".join(
        f"(?P<{names[i]}>)" if i in names else "()" for i in range(1, pattern.groups + 1)
    )
    re.compile(stand_in).sub(replacement, "", count=1)


@lru_cache(maxsize=1)
def default_rules() -> CleaningRules:
    """The shipped rules alone, loaded once."""
    return CleaningRules.load()
