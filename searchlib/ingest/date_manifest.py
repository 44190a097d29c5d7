"""Date manifests: a CSV or JSONL file that dates the articles of a folder in bulk.

A crawl or an export often knows each file's publication date, URL and publisher while the files
themselves do not say. A manifest lists them, one row per file:

- CSV with a header row: a ``path`` column and any of ``published`` (or ``date``), ``url``,
  ``source``;
- JSONL (``.jsonl``/``.ndjson``): one object per line with the same keys.

Paths are relative to the manifest's folder (or absolute). A date is read like a metadata value
(:func:`searchlib.ingest.dates.parse_date_value`); an empty one leaves that file undated. A row that
cannot be used (no path, an unreadable date) is an error naming the file and line: a manifest
is written on purpose, and a silently ignored row would date nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .dates import parse_date_value

__all__ = ["ManifestEntry", "load_date_manifest"]

_DATE_KEYS = ("published", "date")


@dataclass(frozen=True)
class ManifestEntry:
    """What a manifest says about one file."""

    published: dt.date | None = None
    """Publication date of the file's articles."""
    url: str | None = None
    """Where the article was published."""
    source: str | None = None
    """Publisher or site."""


def _rows(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(line number, row) pairs of a CSV or JSONL manifest."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}:1: cannot read manifest: {exc}") from exc
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"{path}:{number}: not a JSON object: {exc}") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{number}: not a JSON object")
            yield number, row
        return
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or "path" not in reader.fieldnames:
        raise ConfigError(f"{path}:1: a manifest needs a header row with a 'path' column")
    for row in reader:
        yield reader.line_num, row


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def load_date_manifest(path: str | os.PathLike[str]) -> dict[str, ManifestEntry]:
    """Read a manifest: absolute file path -> :class:`ManifestEntry`.

    Raises :class:`ConfigError` (``FILE:LINE: problem``) for an unreadable file, a missing
    ``path`` or an unreadable date.
    """
    manifest = Path(os.fspath(path))
    base = Path(os.path.abspath(manifest)).parent
    entries: dict[str, ManifestEntry] = {}
    for number, row in _rows(manifest):
        where = f"{manifest}:{number}"
        file = _text(row.get("path"))
        if file is None:
            raise ConfigError(f"{where}: row has no path")
        published = None
        raw = next((row[k] for k in _DATE_KEYS if _text(row.get(k)) is not None), None)
        if raw is not None:
            published = parse_date_value(str(raw).strip())
            if published is None:
                raise ConfigError(f"{where}: cannot read the date {str(raw)!r} "
                                  "(expected e.g. 2017-06-21)")
        key = os.path.abspath(base / file)
        entries[key] = ManifestEntry(published, _text(row.get("url")), _text(row.get("source")))
    return entries
