"""Fixes of wrong answers in Whoosh-Reloaded 2.7.5 (patch 2 of :mod:`.patches`).

searchlib's own code does not rely on them (it reads columns segment by segment), so the
unpatched path stays correct; they protect any other use of a ``MultiReader``.
"""

from __future__ import annotations

from typing import Any

from whoosh import columns, reading


def _multi_column_reader(self: Any, fieldname: str, column: Any = None, reverse: bool = False,
                         translate: bool = True) -> Any:
    readers = [r.column_reader(fieldname, column=column, reverse=reverse, translate=translate)
               for r in self.readers]
    return columns.MultiColumnReader(readers, list(self.doc_offsets))


def install() -> None:
    """Replace the Whoosh methods (called by :func:`.apply`)."""
    reading.MultiReader.column_reader = _multi_column_reader
