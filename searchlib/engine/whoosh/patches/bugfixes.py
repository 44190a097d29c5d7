"""Fixes of wrong answers in Whoosh-Reloaded 2.7.5 (patch 2 of :mod:`.patches`).

searchlib's own code does not rely on them (it reads columns segment by segment), so the
unpatched path stays correct; they protect any other use of a ``MultiReader``.
"""

from __future__ import annotations

import heapq
import io
import os
import pickle
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, compress, groupby, islice, repeat
from operator import itemgetter, mul, ne, sub
from typing import Any

from whoosh import columns, fields, formats, reading, writing
from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.compat import dumps
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length

from ..analysis import NewsAnalyzer


def _multi_column_reader(self: Any, fieldname: str, column: Any = None, reverse: bool = False,
                         translate: bool = True) -> Any:
    readers = [r.column_reader(fieldname, column=column, reverse=reverse, translate=translate)
               for r in self.readers]
    return columns.MultiColumnReader(readers, list(self.doc_offsets))


def install() -> None:
    """Replace the Whoosh methods (called by :func:`.apply`)."""
    reading.MultiReader.column_reader = _multi_column_reader
