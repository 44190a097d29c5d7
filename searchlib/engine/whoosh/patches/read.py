"""Read-path patches of Whoosh-Reloaded 2.7.5: posting blocks, term lookups and field lengths
(patches 9, 11, 13 and 14 of :mod:`.patches`). The same answers, with fewer reads of the segment
files."""

from __future__ import annotations

import io
import pickle
from itertools import accumulate
from typing import Any

from whoosh import reading, searching
from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length

from ..ranking import check_budget

_MISSING = object()

# Enough for any block's info tuple (six small numbers pickled: about 30 bytes).
_BLOCK_HEAD = 128
_original_goto = whoosh3.W3LeafMatcher._goto


def _goto(self: Any, position: int) -> None:
    # W3LeafMatcher._goto, reading the block's info tuple in one call.
    # Every posting block read is a unit of a search's work: a matcher tree that walks the
    # documents by itself (a NOT over a union of broad patterns skips through thousands of
    # postings before it yields one) stops here when its search is out of time.
    check_budget()
    postfile = self._postfile
    self._data = None
    self._ids = None
    self._weights = None
    self._values = None
    self._i = 0
    postfile.seek(position)
    length = postfile.read_int()
    if length < 0:  # the last block
        self._lastblock = True
        length *= -1
    self._nextoffset = position + whoosh3._INT_SIZE + length
    start = postfile.tell()
    head = io.BytesIO(postfile.read(min(length, _BLOCK_HEAD)))
    try:
        info = pickle.load(head)
    except (EOFError, pickle.UnpicklingError):  # longer than expected: read as Whoosh does
        postfile.seek(start)
        info = postfile.read_pickle()
        self._dataoffset = postfile.tell()
    else:
        self._dataoffset = start + head.tell()
        postfile.seek(self._dataoffset)
    (self._blocklength, self._maxid, self._maxweight, self._compression, mnlen,
     mxlen) = info
    self._minlength = byte_to_length(mnlen)
    self._maxlength = byte_to_length(mxlen)


_original_read_ids = whoosh3.W3LeafMatcher._read_ids


def _read_ids(self: Any) -> None:
    # W3LeafMatcher._read_ids with the docnums summed from their deltas in C: the same
    # tuple as tuple(delta_decode(ids)), whose deltas run from 0.
    if self._data is None:
        self._read_data()
    ids = self._data[0]
    self._ids = ids if self._byteids else tuple(accumulate(ids))


#: Terms whose lookup a segment's terms reader remembers (about 100 bytes each).
_TERM_CACHE = 20_000


def _term_bytes(self: Any, key: bytes) -> bytes | None:
    """The term info bytes the term table holds under ``key`` (None: no such term)."""
    cache = self.__dict__.get("_found")
    if cache is None:
        cache = self._found = {}
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = self._tindex.get(key)
        if len(cache) >= _TERM_CACHE:
            cache.clear()
        cache[key] = found
    return found  # type: ignore[no-any-return]


def _terms_contains(self: Any, term: tuple[str, bytes]) -> bool:
    # W3TermsReader.__contains__ through the remembered lookups.
    return _term_bytes(self, self._keycoder(*term)) is not None


def _terms_term_info(self: Any, fieldname: str, tbytes: bytes) -> Any:
    # W3TermsReader.term_info through the remembered lookups.
    found = _term_bytes(self, self._keycoder(fieldname, tbytes))
    if found is None:
        raise reading.TermNotFound(f"No term {fieldname}:{tbytes!r}")
    return whoosh3.W3TermInfo.from_bytes(found)


def _term_stats(self: Any, fieldname: str, tbytes: bytes) -> tuple[Any, ...]:
    """The head of a term's info: flags, weight, document frequency... (KeyError: none)."""
    key = self._keycoder(fieldname, tbytes)
    found = _term_bytes(self, key)
    if found is None:
        raise KeyError(key)  # as W3TermsReader._range_for_key raises
    return whoosh3.W3TermInfo._struct.unpack_from(found)  # type: ignore[no-any-return]


def _terms_frequency(self: Any, fieldname: str, tbytes: bytes) -> float:
    # W3TermsReader.frequency (W3TermInfo.read_weight) through the remembered lookups.
    return _term_stats(self, fieldname, tbytes)[1]  # type: ignore[no-any-return]


def _terms_doc_frequency(self: Any, fieldname: str, tbytes: bytes) -> int:
    # W3TermsReader.doc_frequency (W3TermInfo.read_doc_freq) through the remembered lookups.
    return _term_stats(self, fieldname, tbytes)[2]  # type: ignore[no-any-return]


def _avg_field_length(self: Any, fieldname: str, default: Any = None) -> Any:
    # Searcher.avg_field_length, remembered per searcher: every term's BM25 scorer asks it,
    # and each answer sums the field's length over every segment (16 reads a term at
    # 100,000 articles, 70 ms of a one-letter prefix's 128 terms). A searcher reads one
    # fixed state of the index, so the answer cannot change under it.
    memo = self.__dict__.get("_avg_lengths")
    if memo is None:
        memo = self._avg_lengths = {}
    try:
        return memo[fieldname, default]
    except KeyError:
        found = memo[fieldname, default] = _original_avg_field_length(self, fieldname,
                                                                      default)
        return found


_original_avg_field_length = searching.Searcher.avg_field_length
_TERMS_READER = {name: getattr(whoosh3.W3TermsReader, name)
                 for name in ("__contains__", "term_info", "frequency", "doc_frequency")}


def install() -> None:
    """Replace the Whoosh methods (called by :func:`.apply`)."""
    whoosh3.W3LeafMatcher._goto = _goto
    whoosh3.W3LeafMatcher._read_ids = _read_ids
    whoosh3.W3TermsReader.__contains__ = _terms_contains
    whoosh3.W3TermsReader.term_info = _terms_term_info
    whoosh3.W3TermsReader.frequency = _terms_frequency
    whoosh3.W3TermsReader.doc_frequency = _terms_doc_frequency
    searching.Searcher.avg_field_length = _avg_field_length
