"""The engine record: which engine an index folder uses, and where its documents live.

``search index --engine opensearch`` writes ``engine.json`` into the index folder; a folder
without one is a Whoosh index (every index built before OpenSearch, and every new Whoosh one).
:func:`searchlib.search.open_index` reads it to pick the engine's reader, so every command
follows the engine the index was built with. The record names the cluster's URL and index,
never credentials (those come from the environment or the config file only).

This module imports no engine library: opening a Whoosh index reads it too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...atomic import write_atomic
from ...errors import IndexCorruptError
from ...models import SkippedFile

__all__ = ["ENGINE_FILE", "EngineRecord", "read_engine_record", "write_engine_record"]

ENGINE_FILE = "engine.json"
"""The engine record's name inside an index folder."""


@dataclass(frozen=True)
class EngineRecord:
    """An index folder's engine and, for OpenSearch, the cluster index that holds it."""

    engine: str
    """``opensearch`` (a folder without a record is ``whoosh``)."""
    url: str
    """The cluster's address, as given when the index was built (no credentials)."""
    index: str
    """The OpenSearch index name."""
    last_update: dt.datetime | None = None
    """When the last ingest finished (UTC)."""
    sources: tuple[str, ...] = ()
    """The folders the index was built from."""
    skipped: tuple[SkippedFile, ...] = ()
    """Files the last build skipped, with their reasons."""
    sent: dict[str, str] = field(default_factory=dict, repr=False)
    """Document id -> fingerprint of the record the cluster acknowledged: what an incremental
    ingest compares against, so that a re-index with nothing changed sends nothing."""


def read_engine_record(index_dir: str | os.PathLike[str]) -> EngineRecord | None:
    """The engine record of ``index_dir``, or None when it has none (a Whoosh index).

    Raises :class:`IndexCorruptError` when the record exists but cannot be read.
    """
    path = Path(index_dir) / ENGINE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorruptError(f"{path}: cannot read the engine record ({exc.strerror})"
                                ) from None
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict) or data.get("engine") != "opensearch":
            raise ValueError("not an OpenSearch engine record")
        updated = data.get("last_update")
        return EngineRecord(
            engine="opensearch", url=str(data["url"]), index=str(data["index"]),
            last_update=dt.datetime.fromisoformat(updated) if updated else None,
            sources=tuple(str(s) for s in data.get("sources", ())),
            skipped=tuple(SkippedFile(str(s["path"]), str(s["reason"]))
                          for s in data.get("skipped", ())),
            sent={str(k): str(v) for k, v in data.get("sent", {}).items()})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexCorruptError(f"{path}: damaged engine record ({exc}); run `search index "
                                "--engine opensearch --rebuild`") from None


def write_engine_record(index_dir: str | os.PathLike[str], record: EngineRecord) -> None:
    """Write ``record`` into ``index_dir`` atomically (a crash leaves the old one whole)."""
    data = {"engine": record.engine, "url": record.url, "index": record.index,
            "last_update": record.last_update.isoformat() if record.last_update else None,
            "sources": list(record.sources),
            "skipped": [{"path": s.path, "reason": s.reason} for s in record.skipped],
            "sent": dict(sorted(record.sent.items()))}
    write_atomic(Path(index_dir) / ENGINE_FILE, json.dumps(data, ensure_ascii=False) + "\n")
