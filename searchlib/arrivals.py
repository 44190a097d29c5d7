"""When each article arrived in the index, for "what is new since I last looked".

The indexer calls :func:`record` after every build that changed something. It keeps, per
record key, the content hash it was stamped with and the time of that build's end
(``arrivals.json`` beside the manifest). A record keeps its stamp as long as its content is
unchanged, through incremental updates and ``--rebuild`` alike (the file is not part of the
Whoosh index, so a rebuild does not reset it); a new record, or one whose text changed, is
stamped anew. The stamp is taken after the build's last commit, never before: a search that
starts while a build is committing may see new documents that have no stamp yet; they count
as not new for that search, and as new for the next one, so a watch never misses them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import IndexCorruptError

__all__ = ["ARRIVALS", "added_since", "arrival_times", "record"]

ARRIVALS = "arrivals.json"


def _read(index_dir: Path) -> dict[str, Any]:
    path = index_dir / ARRIVALS
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is unreadable ({exc}); run `search index` to "
                                "write it again") from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, dict):
        raise IndexCorruptError(f"{path} is malformed; run `search index` to write it again")
    return records


def record(index_dir: str | os.PathLike[str], files: dict[str, Any],
           doc_id: Callable[[str], str], *, now: dt.datetime | None = None) -> int:
    """Stamp the records of the manifest ``files`` that are new or changed; return how many.

    ``files`` is the manifest's ``files`` mapping (path -> entry with ``records``: key ->
    content hash); ``doc_id`` maps a record key to its document id. Records gone from the
    manifest are forgotten.
    """
    base = Path(index_dir)
    try:
        old = _read(base)
    except IndexCorruptError:
        old = {}  # rewritten below from the manifest, which is the authority
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="microseconds")
    out: dict[str, Any] = {}
    fresh = 0
    for entry in files.values():
        for key, content in (entry.get("records") or {}).items():
            if not isinstance(content, str) or content.startswith("skipped:"):
                continue
            previous = old.get(key)
            if isinstance(previous, dict) and previous.get("hash") == content:
                out[key] = previous
            else:
                out[key] = {"hash": content, "id": doc_id(key), "added": stamp}
                fresh += 1
    if out != old:
        from .atomic import write_atomic

        write_atomic(base / ARRIVALS, json.dumps({"version": 1, "records": out},
                                                 ensure_ascii=False))
    return fresh


def arrival_times(index_dir: str | os.PathLike[str]) -> dict[str, dt.datetime]:
    """Document id -> when it arrived (UTC), for every stamped record."""
    out: dict[str, dt.datetime] = {}
    for item in _read(Path(index_dir)).values():
        try:
            out[str(item["id"])] = dt.datetime.fromisoformat(item["added"])
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry counts as not new, never as an error of the search
    return out


def added_since(index_dir: str | os.PathLike[str], since: dt.datetime) -> set[str]:
    """Ids of the documents that arrived at or after ``since`` (a naive time is local)."""
    if since.tzinfo is None:
        since = since.astimezone()
    return {doc for doc, when in arrival_times(index_dir).items() if when >= since}
