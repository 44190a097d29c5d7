"""Where things live in an index directory, and reading its small JSON files.

Kept free of the indexing pipeline (cleaner, gazetteer, HTML extraction) so that opening an
index for a query imports only what searching needs.

    whoosh/         the Whoosh segments and table of contents
    manifest.json   per source file: mtime, size and the content hash of each record in it
    meta.json       schema version, sources, last update, skipped files
    aliases.json    facet alias -> canonical name, for the values this index holds

``manifest.json`` and ``meta.json`` start with the SHA-256 of the rest of their text
(:func:`checked_json`); both record the sources the index is built from.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from .engine.whoosh.schema import SCHEMA_VERSION
from .errors import IndexCorruptError, IndexNotFoundError

__all__ = ["ALIASES", "JOURNAL", "LOCK", "MANIFEST", "META", "STAGING", "WHOOSH_DIR",
           "checked_json", "doc_id", "has_index_files",
           "index_paths", "load_aliases", "load_manifest", "read_meta", "recorded_sources",
           "verify_json"]

WHOOSH_DIR = "whoosh"
MANIFEST = "manifest.json"
META = "meta.json"
ALIASES = "aliases.json"
LOCK = "write.lock"
"""The writers' lock file (see :class:`searchlib.build._WriteLock`)."""
STAGING = "rebuild.tmp"
"""Folder inside the index where a rebuild writes the new index."""
JOURNAL = "rebuild.json"
"""Written once the staged index is complete: from then on the rebuild is finished (rolled
forward) by whichever writer runs next, even if this one dies during the swap."""


def doc_id(key: str) -> str:
    """Stable document id for a source key (the same file always gets the same id)."""
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def index_paths(index_dir: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Return the Whoosh directory, manifest path and meta path of an index directory."""
    base = Path(index_dir)
    return base / WHOOSH_DIR, base / MANIFEST, base / META


_CHECKSUM_PREFIX = '{"sha256": "'
_SURROGATE = re.compile("[\ud800-\udfff]")


def checked_json(data: dict[str, Any], *, indent: int | None = None) -> str:
    """``data`` as JSON whose first member is the SHA-256 of the rest of the text.

    The text stays plain JSON (readers that do not check see one more key); :func:`verify_json`
    recomputes the digest from the text as written, without parsing and serialising again.
    """
    body = json.dumps(data, ensure_ascii=False, indent=indent)
    # A lone surrogate (from an error message quoting a hostile file) cannot be written as
    # UTF-8; JSON's own escape for it can.
    body = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
    digest = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
    rest = body[1:] if body != "{}" else "}"
    return f'{_CHECKSUM_PREFIX}{digest}"{", " if body != "{}" else ""}{rest}'


def verify_json(text: str | bytes) -> bool | None:
    """True when ``text`` (from :func:`checked_json`, or its UTF-8 bytes as written) matches
    its checksum, False when not, None when it has none (written by an older release)."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    return _verify_json_bytes(text)


def _verify_json_bytes(raw: bytes) -> bool | None:
    """:func:`verify_json` on the file's bytes, hashed in place: the manifest of 100,000
    articles is 27 MB, and slicing and encoding its text again held three more copies of it
    at the end of a build, when the build's memory peaks."""
    prefix = _CHECKSUM_PREFIX.encode("ascii")
    if not raw.startswith(prefix):
        return None
    start = len(prefix)
    digest, after = raw[start:start + 64], start + 64
    view = memoryview(raw)
    hashed = hashlib.sha256()
    if raw.startswith(b'", ', after):
        hashed.update(b"{")
        hashed.update(view[after + 3:])
    elif raw.startswith(b'"}', after):
        hashed.update(b"{}")
        hashed.update(view[after + 2:])
    else:
        return False
    return hashed.hexdigest().encode("ascii") == digest


def load_manifest(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the manifest (``{"files": {path: entry}}``); empty when there is none."""
    _, manifest_path, _ = index_paths(index_dir)
    try:
        with open(manifest_path, "rb") as fh:
            text = fh.read()
        data: dict[str, Any] = json.loads(text)
    except FileNotFoundError:
        return {"files": {}}
    except (OSError, ValueError, RecursionError) as exc:
        raise IndexCorruptError(
            f"index manifest {manifest_path} is unreadable ({exc}); "
            "run `search index --rebuild`") from None
    if verify_json(text) is False:
        raise IndexCorruptError(f"index manifest {manifest_path} fails its checksum (damaged); "
                                "run `search index --rebuild`")
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise IndexCorruptError(
            f"index manifest {manifest_path} is malformed; run `search index --rebuild`")
    return data


def read_meta(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``meta.json`` of an index, raising the errors a user can act on."""
    whoosh_dir, _, meta_path = index_paths(index_dir)
    if whoosh_dir.exists() and not whoosh_dir.is_dir():
        raise IndexCorruptError(
            f"index at {index_dir} is damaged ({WHOOSH_DIR} is not a folder); run "
            "`search index --rebuild`")
    if not whoosh_dir.is_dir():
        raise IndexNotFoundError(
            f"no index at {index_dir}; build one with `search index PATH --index {index_dir}`")
    try:
        with open(meta_path, encoding="utf-8") as fh:
            text = fh.read()
        meta: Any = json.loads(text)
    except FileNotFoundError:
        raise IndexCorruptError(
            f"index at {index_dir} has no {META}; run `search index --rebuild`") from None
    except (OSError, ValueError, RecursionError):
        raise IndexCorruptError(
            f"index at {index_dir} has an unreadable {META}; run `search index --rebuild`"
        ) from None
    if verify_json(text) is False:
        raise IndexCorruptError(
            f"index at {index_dir} has a damaged {META} (it fails its checksum); run "
            "`search index --rebuild`")
    if not isinstance(meta, dict):
        raise IndexCorruptError(
            f"index at {index_dir} has a malformed {META}; run `search index --rebuild`")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise IndexCorruptError(
            f"index at {index_dir} was built with schema version {version}, this release "
            f"needs {SCHEMA_VERSION}; run `search index --rebuild`")
    return meta



def recorded_sources(index_dir: str | os.PathLike[str]) -> list[str]:
    """The folders the index at ``index_dir`` was built from, or ``[]`` if none is recorded.

    Read from ``meta.json``, else from the manifest (which records them too), without the
    checks of :func:`read_meta`: ``search index --rebuild`` must know what to rebuild an
    index from precisely when it is damaged or from an older release.
    """
    _, manifest_path, meta_path = index_paths(index_dir)
    for path in (meta_path, manifest_path):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError, RecursionError):
            continue
        found = data.get("sources") if isinstance(data, dict) else None
        if isinstance(found, list):
            names = [s for s in found if isinstance(s, str) and s]
            if names:
                return names
    return []


def has_index_files(index_dir: str | os.PathLike[str]) -> bool:
    """Whether ``index_dir`` holds any part of an index (damaged or not)."""
    return any(p.exists() for p in index_paths(index_dir))


def load_aliases(index_dir: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Facet -> lowercased alias -> canonical name, as written by the last build."""
    try:
        with open(Path(index_dir) / ALIASES, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
