"""Reading: turn files and directories into :class:`~searchlib.models.SourceDocument` records.

Formats: ``.txt``, ``.md`` (optional YAML front matter), ``.html``/``.htm``, ``.json`` (one
article object or a list of them), ``.jsonl`` (one per line), and ``.gz`` variants of each.
Metadata may also come from a sidecar ``<file>.yaml``. Every problem with a file becomes a
:class:`~searchlib.models.SkippedFile` with a one-line reason; nothing here raises for bad input.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import yaml

from ..models import SkippedFile, SourceDocument, SourceFormat
from .yamlfile import error_line

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "FileInfo",
    "NotRegularFile",
    "ReadResult",
    "check_depth",
    "decode_bytes",
    "is_binary",
    "iter_documents",
    "load_yaml_safely",
    "may_hold_html",
    "open_regular",
    "read_file",
    "sanitize_text",
    "sanitized",
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


def _is_sidecar_name(path: str) -> bool:
    """Named like the sidecar of an article (``foo.txt.yaml``), whether or not it exists."""
    return any(path.endswith(suffix) and _format_of(path[: -len(suffix)]) is not None
               for suffix in _SIDECAR_SUFFIXES)


def _is_sidecar(path: str) -> bool:
    """A ``foo.txt.yaml`` beside ``foo.txt`` is metadata, not an article."""
    for suffix in _SIDECAR_SUFFIXES:
        if path.endswith(suffix):
            base = path[: -len(suffix)]
            return _format_of(base) is not None and os.path.exists(base)
    return False


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def scan(paths: Iterable[str | os.PathLike[str]], *, follow_symlinks: bool = False
         ) -> tuple[list[FileInfo], list[SkippedFile]]:
    """Find every indexable file under ``paths`` (files or directories, recursively).

    Hidden files and directories (``.git``...) are ignored. Symbolic links to files inside the
    folder being scanned are followed; links leaving it (to ``/etc/passwd``, say) are skipped
    with a reason unless ``follow_symlinks``, so indexing an untrusted archive cannot pull in
    files from elsewhere. Links to directories are not followed, so link loops cannot trap the
    walk. Only regular files are candidates: named pipes, sockets and devices are listed as
    skipped (opening a pipe would wait forever). Returns the candidates sorted by path, and
    the files skipped (unknown extension, unreadable, missing, not regular, outside).
    """
    found: dict[str, FileInfo] = {}
    skipped: list[SkippedFile] = []

    def consider(path: str, root: str | None) -> None:
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
        if stat.S_ISDIR(st.st_mode):
            return  # a link to a directory: not followed (see above)
        if not stat.S_ISREG(st.st_mode):
            what = "sidecar" if _is_sidecar_name(path) else "file"
            skipped.append(SkippedFile(path, f"{what} is {_kind(st.st_mode)}, not a regular "
                                             "file (never opened)"))
            return
        if (root is not None and not follow_symlinks and os.path.islink(path)
                and not _inside(os.path.realpath(path), root)):
            skipped.append(SkippedFile(path, "symbolic link to a file outside the folder "
                                             "being indexed (pass --follow-symlinks to "
                                             "index it)"))
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
            root = os.path.realpath(top)
            for dirpath, dirs, files in os.walk(top, onerror=lambda e: skipped.append(
                    SkippedFile(str(e.filename), f"cannot read directory: {e.strerror}"))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        consider(os.path.join(dirpath, name), root)
        elif os.path.lexists(top):
            consider(top, None)  # named on the command line: the user chose it
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


# Byte-order marks of the UTF-16 and UTF-32 encodings (UTF-32 first: its little-endian mark
# starts with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _wide_encoding(data: bytes) -> str | None:
    """``utf-16``/``utf-32`` when ``data`` starts with that encoding's byte-order mark."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode_bytes(data: bytes) -> str:
    """Decode text: UTF-16/32 with a byte-order mark, else UTF-8 (BOM allowed), then cp1252,
    then latin-1, which never fails.

    A stray byte in an otherwise fine file must not drop the article, hence the fallbacks.
    Lone surrogates (which UTF-16 can hold) become U+FFFD, as they cannot be written out.
    """
    wide = _wide_encoding(data)
    if wide is not None:
        return sanitize_text(data.decode(wide, "replace"))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


_SURROGATE = re.compile("[\ud800-\udfff]")


def sanitize_text(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in JSON) replaced by U+FFFD.

    A surrogate cannot be encoded as UTF-8: kept, it would make every later query, ``show``,
    ``--json`` or export that prints the document fail.
    """
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def sanitized(value: Any) -> Any:
    """A parsed JSON or YAML value with :func:`sanitize_text` applied to every string in it
    (keys included). The value's depth is already bounded (:func:`check_depth`)."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {sanitized(k): sanitized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitized(v) for v in value]
    return value


#: Deepest nesting of lists and mappings accepted in JSON records, front matter and sidecars.
#: Articles are flat; without a bound, a 2 KB file nested 1,000 deep broke the recursive code
#: that serialises metadata (RecursionError) and with it the whole build.
MAX_DEPTH = 64


def check_depth(value: Any) -> None:
    """Raise ``ValueError`` when ``value`` nests lists and mappings deeper than MAX_DEPTH."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep; refused")
        stack.extend((child, depth + 1) for child in children)


@dataclass(frozen=True)
class _BadValue:
    """A scalar YAML resolved as a date or time that is not one (``2019-13-45``)."""

    text: str
    line: int
    problem: str


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that records an impossible date instead of raising ``ValueError``
    with no file, line or field (PyYAML calls ``datetime.date(2019, 13, 45)`` as it loads)."""

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """The date or datetime of ``node``, or a :class:`_BadValue` saying why not."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            return _BadValue(str(node.value), node.start_mark.line, str(exc))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _find_bad_value(data: Any) -> tuple[str, _BadValue] | None:
    """The first impossible date in ``data`` and the dotted name of its field."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        name, item = stack.pop()
        if isinstance(item, _BadValue):
            return name or "(document)", item
        if isinstance(item, dict):
            stack.extend((f"{name}.{k}" if name else str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{name}[{i}]", v) for i, v in enumerate(item))
    return None


def load_yaml_safely(text: str, origin: str, *, first_line: int = 1) -> Any:
    """Parse YAML without constructing objects; raise ``ValueError`` naming ``origin`` and line.

    ``yaml.safe_load`` refuses ``!!python/...`` tags, so a hostile file cannot run code.
    ``first_line`` is the file line where ``text`` starts (front matter starts on line 2).
    Documents nested more than :data:`MAX_DEPTH` levels are refused.
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
    except RecursionError:
        # PyYAML's composer recurses once per level: hundreds of levels exhaust the stack.
        raise ValueError(f"{origin}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        line, problem = error_line(exc, first_line)
        where = f"{origin}:{line}" if line is not None else origin
        tag = re.search(r"constructor for the tag '(?:tag:yaml.org,2002:)?([^']+)'", problem)
        if tag:
            problem = f"refused unsafe or unknown tag !!{tag.group(1)}"
        raise ValueError(f"{where}: invalid YAML: {problem}") from None
    if not _small_enough(data):
        raise ValueError(f"{origin}: YAML expands to more than {_YAML_MAX_VALUES:,} values "
                         "(aliases?); refused")
    try:
        check_depth(data)
    except ValueError as exc:
        raise ValueError(f"{origin}: {exc}") from None
    bad = _find_bad_value(data)
    if bad is not None:
        field, value = bad
        raise ValueError(f"{origin}:{value.line + first_line}: field {field!r}: invalid date "
                         f"{value.text!r} ({value.problem})")
    return sanitized(data)


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


class NotRegularFile(OSError):
    """The path is a directory, pipe, socket or device: it was not read."""


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file, without blocking.

    ``O_NONBLOCK`` makes opening a named pipe return at once (a plain ``open`` waits for a
    writer, forever); the kind is then checked on the open descriptor, so a file swapped for
    a pipe between a check and the open is refused too. Raises :class:`NotRegularFile`.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"{_kind(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bytes(path: str, max_bytes: int) -> bytes:
    """Read a file, decompressing gzip with a bound so a gzip bomb cannot exhaust memory."""
    with open_regular(path) as raw:
        if path.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                data = fh.read(max_bytes + 1)
        else:
            data = _read_at_most(raw, max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge
    return data


def _read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """The first ``limit`` bytes of ``fh`` (all of it if shorter), as ``fh.read(limit)``.

    ``read(limit)`` sets up a buffer of ``limit`` bytes before reading: with a 10 MiB limit
    that cost a few times the reading of a news article itself (3% of the ingest CPU). The
    read is sized by the file's length instead, and goes on if the file grew meanwhile.
    """
    try:
        size = os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError):  # not a real file: read as asked
        return fh.read(limit)
    want = min(size + 1, limit)
    data = fh.read(want)
    if len(data) == want < limit:  # the file is longer than its size said: read on
        data += fh.read(limit - want)
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


def _sidecar_metadata(path: str, follow_symlinks: bool = False) -> dict[str, Any]:
    base = path
    for suffix in _SIDECAR_SUFFIXES:
        side = base + suffix
        if os.path.lexists(side):
            if (not follow_symlinks and os.path.islink(side) and not _inside(
                    os.path.realpath(side), os.path.realpath(os.path.dirname(side)))):
                # Its contents would end up in the index's metadata: as with articles, an
                # untrusted archive must not pull in files from elsewhere.
                raise ValueError(f"sidecar {side} is a symbolic link to a file outside its "
                                 "folder (pass --follow-symlinks to use it)")
            try:
                with open_regular(side) as fh:
                    raw = fh.read(_SIDECAR_MAX_BYTES + 1)
            except NotRegularFile as exc:
                raise ValueError(f"sidecar {side} is {exc}") from None
            except OSError as exc:
                raise ValueError(f"cannot read sidecar {side}: {exc.strerror or exc}") from None
            if len(raw) > _SIDECAR_MAX_BYTES:
                raise ValueError(f"sidecar {side} is larger than 1 MiB")
            meta = load_yaml_safely(decode_bytes(raw), side)
            if meta is None:
                return {}
            if not isinstance(meta, dict):
                raise ValueError(f"{side}:1: sidecar metadata is not a mapping of fields")
            return {str(k): v for k, v in meta.items()}
    return {}


_SIDECAR_MAX_BYTES = 1024 * 1024


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


def read_file(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
              follow_symlinks: bool = False) -> ReadResult:
    """Read one file into source documents, or explain in ``skipped`` why it was not used.

    A sidecar that is a symbolic link out of the article's folder is refused unless
    ``follow_symlinks`` (the article is skipped with that reason).
    """

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
    except NotRegularFile as exc:
        return skip(f"{exc} (never read)")
    except (OSError, EOFError, zlib.error) as exc:
        return skip(f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    if not data.strip():
        return skip("empty file")
    # UTF-16 and UTF-32 text is full of NUL bytes: its byte-order mark says it is text.
    if _wide_encoding(data) is None and is_binary(data):
        return skip("binary file (not text)")
    text = decode_bytes(data)
    try:
        sidecar = _sidecar_metadata(path, follow_symlinks)
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
            except RecursionError:
                skipped.append(SkippedFile(f"{path}#{n}", "invalid JSON: nested too deeply"))
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
            check_depth(record)
            docs.append(_json_document(sanitized(record), path, key, sidecar))
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
