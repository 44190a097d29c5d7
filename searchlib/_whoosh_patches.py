"""Small, targeted fixes to Whoosh-Reloaded 2.7.5 internals, applied once on import.

Each patch keeps Whoosh's behaviour and only removes avoidable work; they are here rather than
upstream because the project pins that release.

1. ``W3PerDocReader._cached_reader`` caches the column reader of a field it finds, but asks
   the file system again (a ``stat``) on *every* call for a field that has no lengths column
   (IDs, keywords, the spelling fields). While a segment is flushed that is one ``stat`` per
   posting: about 20% of the time of a build, measured with cProfile on 1,000 articles.
   Segment files never change once written, so a negative answer can be cached as well.
2. ``MultiReader.column_reader`` leaves out the segments that have no file for the column
   (a segment none of whose documents has a publication date) but keeps the document offsets
   of the others, so every document after such a segment is looked up in the wrong segment:
   wrong dates, or ``struct.error`` reading past the end of a column. A segment reader already
   answers the column's default value for a column it lacks, so the fix asks every segment.
"""

from __future__ import annotations

from typing import Any

from whoosh import columns, reading
from whoosh.codec import whoosh3

__all__ = ["apply"]

_MISSING = object()
_applied = False


def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    cached = self._readers.get(fieldname, _MISSING)
    if cached is not _MISSING:
        return cached
    reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
    self._readers[fieldname] = reader
    return reader


def _multi_column_reader(self: Any, fieldname: str, column: Any = None, reverse: bool = False,
                         translate: bool = True) -> Any:
    readers = [r.column_reader(fieldname, column=column, reverse=reverse, translate=translate)
               for r in self.readers]
    return columns.MultiColumnReader(readers, list(self.doc_offsets))


def apply() -> None:
    """Install the patches (idempotent)."""
    global _applied
    if _applied:
        return
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    reading.MultiReader.column_reader = _multi_column_reader
    _applied = True
