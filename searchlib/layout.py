"""Where things live in an index directory, and reading its small JSON files.

Kept free of the indexing pipeline (cleaner, gazetteer, HTML extraction) so that opening an
index for a query imports only what searching needs.

    whoosh/         the Whoosh segments and table of contents
    manifest.json   per source file: mtime, size and the content hash of each record in it
    meta.json       schema version, sources, last update, skipped files
    aliases.json    facet alias -> canonical name, for the values this index holds
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import IndexCorruptError, IndexNotFoundError
from .schema import SCHEMA_VERSION
from .storage import fsync_directory

__all__ = ["ALIASES", "MANIFEST", "META", "WHOOSH_DIR", "index_paths", "load_aliases",
           "load_manifest", "read_meta", "write_atomic"]

WHOOSH_DIR = "whoosh"
MANIFEST = "manifest.json"
META = "meta.json"
ALIASES = "aliases.json"


def index_paths(index_dir: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Return the Whoosh directory, manifest path and meta path of an index directory."""
    base = Path(index_dir)
    return base / WHOOSH_DIR, base / MANIFEST, base / META


def write_atomic(path: Path, data: str) -> None:
    """Write via a temp file, fsync and rename, so readers see the old or the new file whole."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_directory(path.parent)


def load_manifest(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the manifest (``{"files": {path: entry}}``); empty when there is none."""
    _, manifest_path, _ = index_paths(index_dir)
    try:
        with open(manifest_path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
    except FileNotFoundError:
        return {"files": {}}
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"index manifest {manifest_path} is unreadable ({exc}); "
            "run `search index --rebuild`") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise IndexCorruptError(
            f"index manifest {manifest_path} is malformed; run `search index --rebuild`")
    return data


def read_meta(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``meta.json`` of an index, raising the errors a user can act on."""
    whoosh_dir, _, meta_path = index_paths(index_dir)
    if not whoosh_dir.is_dir():
        raise IndexNotFoundError(
            f"no index at {index_dir}; build one with `search index PATH --index {index_dir}`")
    try:
        with open(meta_path, encoding="utf-8") as fh:
            meta: Any = json.load(fh)
    except FileNotFoundError:
        raise IndexCorruptError(
            f"index at {index_dir} has no {META}; run `search index --rebuild`") from None
    except (OSError, ValueError):
        raise IndexCorruptError(
            f"index at {index_dir} has an unreadable {META}; run `search index --rebuild`"
        ) from None
    if not isinstance(meta, dict):
        raise IndexCorruptError(
            f"index at {index_dir} has a malformed {META}; run `search index --rebuild`")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise IndexCorruptError(
            f"index at {index_dir} was built with schema version {version}, this release "
            f"needs {SCHEMA_VERSION}; run `search index --rebuild`")
    return meta



def load_aliases(index_dir: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Facet -> lowercased alias -> canonical name, as written by the last build."""
    try:
        with open(Path(index_dir) / ALIASES, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
