"""Reading: turn files and directories into :class:`~searchlib.models.SourceDocument` records.

Formats: ``.txt``, ``.md`` (optional YAML front matter), ``.html``/``.htm``, ``.json`` (one
article object or a list of them), ``.jsonl`` (one per line), and ``.gz`` variants of each.
Metadata may also come from a sidecar ``<file>.yaml``. Every problem with a file becomes a
:class:`~searchlib.models.SkippedFile` with a one-line reason; nothing here raises for bad input.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .models import SkippedFile, SourceDocument, SourceFormat

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FileInfo",
    "ReadResult",
    "decode_bytes",
    "is_binary",
    "iter_documents",
    "load_yaml_safely",
    "may_hold_html",
    "read_file",
    "scan",
]

#: Files (after decompression) larger than this are skipped with a reason, so one huge file
#: cannot exhaust memory. Overridable per build.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_FORMATS: dict[str, SourceFormat] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_SIDECAR_SUFFIXES = (".yaml", ".yml")

# JSON field names, in order of preference, for each article property.
_TEXT_KEYS = ("text", "body", "content", "article", "full_text", "maintext", "description")
_TITLE_KEYS = ("title", "headline", "name")


@dataclass(frozen=True)
class FileInfo:
    """A candidate file found by :func:`scan`, with what change detection needs."""

    path: str
    """Absolute path."""
    mtime_ns: int
    """Modification time in nanoseconds."""
    size: int
    """Size in bytes."""


@dataclass(frozen=True)
class ReadResult:
    """What reading one file produced."""

    documents: tuple[SourceDocument, ...]
    """Articles found in the file (several for JSON lists and JSONL)."""
    skipped: tuple[SkippedFile, ...]
    """The file itself, or records inside it, that could not be used."""


def _format_of(path: str) -> SourceFormat | None:
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return _FORMATS.get(os.path.splitext(name)[1])


def may_hold_html(path: str) -> bool:
    """Whether the file at ``path`` is, or may carry, HTML (an HTML page, or JSON records
    whose text is markup), so that an index build needs the HTML extractor."""
    return _format_of(path) in ("html", "json")


def _is_sidecar(path: str) -> bool:
    """A ``foo.txt.yaml`` beside ``foo.txt`` is metadata, not an article."""
    for suffix in _SIDECAR_SUFFIXES:
        if path.endswith(suffix):
            base = path[: -len(suffix)]
            return _format_of(base) is not None and os.path.exists(base)
    return False


def scan(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[FileInfo], list[SkippedFile]]:
    """Find every indexable file under ``paths`` (files or directories, recursively).

    Hidden files and directories (``.git``...) are ignored. Symbolic links to files are
    followed; links to directories are not, so link loops cannot trap the walk. Returns the
    candidates sorted by path, and the files skipped (unknown extension, unreadable, missing).
    """
    found: dict[str, FileInfo] = {}
    skipped: list[SkippedFile] = []

    def consider(path: str) -> None:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            # The index, manifest and terminal all need text; report the name readably.
            shown = os.fsencode(path).decode("utf-8", "replace")
            skipped.append(SkippedFile(shown, "file name is not valid UTF-8; rename it to "
                                              "index it"))
            return
        try:
            st = os.stat(path)
        except FileNotFoundError:
            skipped.append(SkippedFile(path, "file not found (broken link or removed)"))
            return
        except OSError as exc:
            skipped.append(SkippedFile(path, f"cannot read: {exc.strerror or exc}"))
            return
        if not stat.S_ISREG(st.st_mode):
            return
        if _format_of(path) is None:
            if not _is_sidecar(path):
                ext = os.path.splitext(path)[1] or "(none)"
                skipped.append(SkippedFile(path, f"unknown extension {ext}"))
            return
        found[path] = FileInfo(path, st.st_mtime_ns, st.st_size)

    for raw in paths:
        top = os.path.abspath(os.fspath(raw))
        if os.path.isdir(top):
            for root, dirs, files in os.walk(top, onerror=lambda e: skipped.append(
                    SkippedFile(str(e.filename), f"cannot read directory: {e.strerror}"))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        consider(os.path.join(root, name))
        elif os.path.lexists(top):
            consider(top)
        else:
            skipped.append(SkippedFile(top, "no such file or directory"))
    return [found[p] for p in sorted(found)], skipped


def is_binary(data: bytes) -> bool:
    """True when ``data`` looks like a binary file (NUL bytes or mostly control bytes)."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    # Deleting every other byte in C leaves the control bytes (a Python loop over 8 KB per
    # file was 2% of an index build).
    control = len(head.translate(None, _NOT_CONTROL))
    return control / len(head) > 0.10


# Bytes that are not control characters for is_binary: printable ones, tab, newline, form
# feed, carriage return and escape (ANSI colour codes in saved terminal output).
_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 or b in (9, 10, 12, 13, 27))


def decode_bytes(data: bytes) -> str:
    """Decode text: UTF-8 (BOM allowed) first, then cp1252, then latin-1, which never fails.

    A stray byte in an otherwise fine file must not drop the article, hence the fallbacks.
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def load_yaml_safely(text: str, origin: str, *, first_line: int = 1) -> Any:
    """Parse YAML without constructing objects; raise ``ValueError`` naming ``origin`` and line.

    ``yaml.safe_load`` refuses ``!!python/...`` tags, so a hostile file cannot run code.
    ``first_line`` is the file line where ``text`` starts (front matter starts on line 2).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + first_line}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        tag = re.search(r"constructor for the tag '(?:tag:yaml.org,2002:)?([^']+)'", problem)
        if tag:
            problem = f"refused unsafe or unknown tag !!{tag.group(1)}"
        raise ValueError(f"{where}: invalid YAML: {problem}") from None
    if not _small_enough(data):
        raise ValueError(f"{origin}: YAML expands to more than {_YAML_MAX_VALUES:,} values "
                         "(aliases?); refused")
    return data


#: Most values (scalars, items, keys) a YAML file may expand to. Aliases are followed, so a
#: "billion laughs" file or a self-referencing list is refused rather than expanded later.
_YAML_MAX_VALUES = 100_000


def _small_enough(data: Any) -> bool:
    budget = _YAML_MAX_VALUES
    stack = [data]
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return True


def _read_bytes(path: str, max_bytes: int) -> bytes:
    """Read a file, decompressing gzip with a bound so a gzip bomb cannot exhaust memory."""
    if path.lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    else:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge
    return data


class _TooLarge(Exception):
    pass


def _split_front_matter(text: str, origin: str) -> tuple[dict[str, Any], str]:
    """Separate a leading ``---`` YAML block from the body."""
    stripped = text.lstrip("\ufeff")
    if not stripped.startswith("---"):
        return {}, text
    lines = stripped.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for i in range(1, min(len(lines), 400)):
        if lines[i].strip() in ("---", "..."):
            meta = load_yaml_safely("\n".join(lines[1:i]), origin, first_line=2)
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise ValueError(f"{origin}:2: front matter is not a mapping of fields")
            return {str(k): v for k, v in meta.items()}, "\n".join(lines[i + 1 :])
    return {}, text


def _sidecar_metadata(path: str) -> dict[str, Any]:
    base = path
    for suffix in _SIDECAR_SUFFIXES:
        side = base + suffix
        if os.path.exists(side):
            with open(side, "rb") as fh:
                meta = load_yaml_safely(decode_bytes(fh.read(1024 * 1024)), side)
            if meta is None:
                return {}
            if not isinstance(meta, dict):
                raise ValueError(f"{side}:1: sidecar metadata is not a mapping of fields")
            return {str(k): v for k, v in meta.items()}
    return {}


def _first(record: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _json_document(record: Any, path: str, key: str, sidecar: Mapping[str, Any]) -> SourceDocument:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    text_key = next((k for k in _TEXT_KEYS if isinstance(record.get(k), str)
                     and record[k].strip()), None)
    if text_key is None:
        raise ValueError("no text field (text, body, content, article)")
    text: str = record[text_key]
    meta: dict[str, Any] = {k: v for k, v in record.items() if k != text_key}
    title = _first(record, _TITLE_KEYS)
    if title is not None:
        meta["title"] = title
    meta.update(sidecar)
    fmt: SourceFormat = "html" if "<p" in text[:2000].lower() and "</" in text else "json"
    return SourceDocument(path=path, key=key, format=fmt, text=text, metadata=meta)


def read_file(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one file into source documents, or explain in ``skipped`` why it was not used."""

    def skip(reason: str) -> ReadResult:
        return ReadResult((), (SkippedFile(path, reason),))

    fmt = _format_of(path)
    if fmt is None:
        return skip(f"unknown extension {os.path.splitext(path)[1] or '(none)'}")
    try:
        data = _read_bytes(path, max_bytes)
    except _TooLarge:
        return skip(f"larger than the size limit ({max_bytes // (1024 * 1024)} MiB)")
    except FileNotFoundError:
        return skip("file vanished while indexing")
    except PermissionError:
        return skip("permission denied")
    except IsADirectoryError:
        return skip("is a directory")
    except (OSError, EOFError, zlib.error) as exc:
        return skip(f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    if not data.strip():
        return skip("empty file")
    if is_binary(data):
        return skip("binary file (not text)")
    text = decode_bytes(data)
    try:
        sidecar = _sidecar_metadata(path)
        if fmt == "json":
            return _read_json(path, text, sidecar)
        meta: dict[str, Any] = {}
        if fmt in ("text", "markdown"):
            meta, text = _split_front_matter(text, path)
        meta.update(sidecar)
    except ValueError as exc:
        return skip(str(exc))
    if not text.strip():
        return skip("no text after the front matter")
    return ReadResult((SourceDocument(path=path, key=path, format=fmt, text=text,
                                      metadata=meta),), ())


def _read_json(path: str, text: str, sidecar: Mapping[str, Any]) -> ReadResult:
    docs: list[SourceDocument] = []
    skipped: list[SkippedFile] = []
    is_lines = path.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson"))
    records: list[tuple[str, Any]] = []
    if is_lines:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((f"{path}#{n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                skipped.append(SkippedFile(f"{path}#{n}", f"invalid JSON: {exc.msg}"))
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return ReadResult((), (SkippedFile(
                path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"),))
        except RecursionError:
            return ReadResult((), (SkippedFile(path, "invalid JSON: nested too deeply"),))
        if isinstance(value, list):
            records = [(f"{path}#{n}", item) for n, item in enumerate(value, 1)]
        else:
            records = [(path, value)]
    for key, record in records:
        try:
            docs.append(_json_document(record, path, key, sidecar))
        except ValueError as exc:
            skipped.append(SkippedFile(key, str(exc)))
    return ReadResult(tuple(docs), tuple(skipped))


def iter_documents(paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES
                   ) -> Iterator[SourceDocument | SkippedFile]:
    """Yield every document (or skip record) of the given files, in order."""
    for path in paths:
        result = read_file(path, max_bytes=max_bytes)
        yield from result.documents
        yield from result.skipped
