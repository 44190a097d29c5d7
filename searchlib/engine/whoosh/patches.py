"""Small, targeted fixes to Whoosh-Reloaded 2.7.5 internals, applied once on import.

Each patch keeps Whoosh's behaviour and only removes avoidable work (patch 2 fixes a wrong
answer, which searchlib's own code never asks for: it reads columns segment by segment); they
are here rather than upstream because the project pins that release.

They are applied only to the release they were tested with (:data:`TESTED_WITH`): any other
runs unpatched, slower but never wrong, with a one-line :class:`RuntimeWarning`.
``SEARCHLIB_WHOOSH_PATCHES=0`` runs unpatched on purpose (CI runs the search, index and crash
tests that way, so the unpatched path stays correct); :func:`state` says which applies.

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
3. While a segment is flushed, ``add_postings`` asks the per-document reader for the field
   length of every posting, and each answer reads a byte from the lengths column file:
   about 13% of a build. :class:`_SegmentLengths` reads each column once into a list.
4. ``Positions.word_values`` and ``Characters.word_values`` (the formats of the ``title``
   and ``body`` fields) pull a ``Token`` object per word through the analyzer's generator
   and a filtering generator, then encode each term in a method call. With a
   :class:`~searchlib.engine.whoosh.analysis.NewsAnalyzer` they now take its fused
   :meth:`~searchlib.engine.whoosh.analysis.NewsAnalyzer.postings` and encode inline: the same
   ``(term, frequency, weight, bytes)`` values, byte for byte (``tests/test_analysis.py``).
5. ``SegmentWriter.add_document`` hands every posting to ``PostingPool.add``, which
   estimates its memory with seven ``len`` and constant terms and asserts its types. For
   schemas without term vectors or spelling fields (ours), postings are now appended to the
   pool's buffer directly and its size estimate (the same formula) is updated once per
   document; the pool still spills a sorted run to disk when it passes its limit.
6. ``W3PostingsWriter._write_block`` means to store blocks whose pickle is under 20 bytes
   uncompressed, but overwrites that decision on the next line, so every block, most of
   them one or two postings, pays a ``zlib.compress`` when written and a
   ``zlib.decompress`` when read (each block records its own compression level, which the
   reader honours). Blocks under :data:`_COMPRESS_FROM` bytes are now stored as they are.
7. ``PostingPool`` sorts its buffered postings, ``(field, term, docnum, weight, value)``
   tuples, with tuple comparisons: about 6% of a build. No two postings share field, term
   and docnum, so three stable sorts on those keys alone, least significant first, give the
   same order (:func:`sort_postings`); the docnum pass is nearly free, as documents arrive
   in order. Twice as fast on 1,000 articles.
8. When the pool passes its memory limit it spills a sorted run to disk, one ``pickle.dump``
   per posting, and the flush merges the runs with ``heapq.merge`` one posting at a time:
   a single spill of half a million postings cost about 6 s, a third of a worker's time at
   10,000 articles. Runs are now pickled in chunks of :data:`_RUN_CHUNK` postings and merged
   a term at a time: within a run a term's postings are consecutive, and runs hold ever
   later documents, so a term's postings from successive runs simply follow each other
   (checked, and sorted by document if ever they did not). Memory stays bounded: one chunk
   per run is held while merging.
9. Moving to a posting block (``W3LeafMatcher._goto``) unpickles the block's small info tuple
   straight from the segment file, and ``pickle.load`` then reads it a few bytes at a time,
   each a Python-level ``read`` on the compound file: some thirty calls per block, 70% of
   writing the facet data. The head of the block is now read in one call and unpickled from
   memory (the same tuple and data offset).
10. ``FieldWriter.add_postings`` takes the flushed postings one at a time through three
    method calls each (it asks the posting's field length, ``W3FieldWriter.add`` passes it
    on, ``W3PostingsWriter.add_posting`` checks its types and appends it to the block).
    :func:`_pool_terms` now cuts the sorted pool into terms with C-level comparisons of
    neighbours, and :func:`_add_term_postings` fills each block of a term with a few
    C-level calls: the same blocks, statistics and term infos, with 0.9 billion fewer
    instructions in a run of 16 billion that loads and flushes the postings of 1,000
    articles (counted with callgrind: wall-clock times on the shared machine vary more
    than that). The blocks' id deltas and weight summaries are computed without
    generators too.
11. A segment's term table is a hash file, and ``W3TermsReader`` looks a term up anew for
    each question asked about it (is it there, its term info, its document frequency),
    every lookup a dozen small reads of the compound file: the first pass of the
    benchmark's query mix at 10,000 articles made 5,775 lookups of 736 distinct terms,
    a quarter of its time. Each reader now remembers what a lookup found (up to
    :data:`_TERM_CACHE` terms), and answers the same from it.
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

import whoosh
from whoosh import columns, fields, formats, reading, writing
from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.compat import dumps
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length

from .analysis import NewsAnalyzer

__all__ = ["SWITCH", "TESTED_WITH", "apply", "sort_postings", "state"]

TESTED_WITH = (2, 7, 5)
"""The Whoosh-Reloaded release the patches were written for and tested with."""

SWITCH = "SEARCHLIB_WHOOSH_PATCHES"
"""Environment variable: ``0`` runs Whoosh unpatched."""

_MISSING = object()
_state = "pending"


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


class _SegmentLengths:
    """The field lengths of the segment being flushed, each lengths column read once."""

    def __init__(self, perdoc: Any) -> None:
        self._perdoc = perdoc
        self._fields: dict[str, list[int | None] | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        """The length of ``fieldname`` in ``docnum``, as ``W3PerDocReader`` answers it."""
        lengths = self.field_lengths(fieldname)
        if lengths is None:
            return default
        return lengths[docnum]

    def field_lengths(self, fieldname: str) -> list[int | None] | None:
        """Every document's length of ``fieldname`` (None: the field has no lengths)."""
        try:
            return self._fields[fieldname]
        except KeyError:
            lengths = self._fields[fieldname] = self._load(fieldname)
            return lengths

    def _load(self, fieldname: str) -> list[int | None] | None:
        reader = self._perdoc._cached_reader(whoosh3._lenfield(fieldname),
                                             whoosh3.LENGTHS_COLUMN)
        if reader is None:
            return None
        # A zero byte reads as None, as W3PerDocReader.doc_field_length returns then.
        return [byte_to_length(b) if b else None for b in reader]


_original_flush_segment = writing.SegmentWriter._flush_segment


def _flush_segment(self: Any) -> None:
    self.perdocwriter.close()
    perdoc = self.per_document_reader() if self.codec.length_stats else None
    lengths = _SegmentLengths(perdoc) if perdoc is not None else None
    fieldwriter = self.fieldwriter
    if type(fieldwriter) is whoosh3.W3FieldWriter:
        _add_term_postings(fieldwriter, self.schema, lengths, _pool_terms(self.pool))
    else:
        fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    fieldwriter.close()
    if perdoc is not None:
        perdoc.close()


_WEIGHT, _VALUE = itemgetter(3), itemgetter(4)


def _pool_terms(pool: Any, maxfiles: int = 128) -> Iterator[list[Any]]:
    """The pool's postings (``PostingPool.items``), each term's as one list in docnum order.

    Held in memory, the postings are sorted and cut where the field or the term changes,
    found by C-level comparisons of neighbours; spilled to disk, the runs are merged a term
    at a time (:func:`_merged_terms`).
    """
    if not pool.runs:
        items = _pool_items(pool)
        fieldnames = list(map(_FIELD, items))
        terms = list(map(_TERM, items))
        starts = range(1, len(items))
        cuts = sorted({*compress(starts, map(ne, terms[1:], terms)),
                       *compress(starts, map(ne, fieldnames[1:], fieldnames))})
        yield from map(items.__getitem__, map(slice, [0, *cuts], [*cuts, len(items)]))
        return
    # SortingPool.items: spill what is left, merge down to maxfiles runs, take them all.
    pool.save()
    if maxfiles < len(pool.runs):
        pool.reduce_to(maxfiles, maxfiles)
    runs, pool.runs = pool.runs, []
    yield from _merged_terms(pool, runs)


def _add_term_postings(fieldwriter: Any, schema: Any, lengths: _SegmentLengths | None,
                       terms: Iterable[list[Any]]) -> None:
    """``FieldWriter.add_postings`` for a ``W3FieldWriter``, given each term's postings.

    Whoosh hands every posting to three method calls (``add_postings`` asks its field
    length, ``W3FieldWriter.add`` passes it on, ``W3PostingsWriter.add_posting`` checks its
    types and appends it to the block); here a term's postings fill each block with a few
    C-level calls. The blocks, their statistics and the term info are the same: a block is
    written when it holds ``blocklimit`` postings and another one follows, only non-empty
    values are kept, and only non-zero lengths count toward the length bounds.
    """
    lastfn: str | None = None
    lasttext = b""
    field_lengths: list[int | None] | None = None
    for items in terms:
        if not items:
            continue
        fieldname, btext = items[0][0], items[0][1]
        if fieldname != lastfn:
            if lastfn is not None:
                if fieldname < lastfn:
                    raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            field_lengths = lengths.field_lengths(fieldname) if lengths is not None else None
            lastfn = fieldname
        elif btext < lasttext:
            raise OutOfOrderError(f"Term {lastfn}:{lasttext!r} .. {fieldname}:{btext!r}")
        lasttext = btext
        # (Whoosh's loop also skips postings of docnum -1, spelling words in older versions;
        # this version's writer adds spelling words as docnum 0, so none reach here.)
        docnums = list(map(_DOCNUM, items))
        fieldwriter.start_term(btext)
        writer = fieldwriter._postwriter
        limit = writer._blocklimit
        weights = list(map(_WEIGHT, items))
        values = list(map(_VALUE, items))
        doclengths = (list(map(field_lengths.__getitem__, docnums))
                      if field_lengths is not None else None)
        for start in range(0, len(docnums), limit):
            if start:
                writer._write_block()
            end = start + limit
            writer._ids.extend(docnums[start:end])
            block_weights = weights[start:end]
            writer._weights.extend(block_weights)
            top = max(block_weights)
            if top > writer._maxweight:
                writer._maxweight = top
            writer._values.extend(filter(None, values[start:end]))
            if doclengths is not None:
                known = list(filter(None, doclengths[start:end]))
                if known:
                    writer._minlength = min(known)  # a fresh block: no bound yet
                    writer._maxlength = max(known)
        fieldwriter.finish_term()
    if lastfn is not None:
        fieldwriter.finish_field()


_positions_word_values = formats.Positions.word_values
_characters_word_values = formats.Characters.word_values


def _fast_positions(self: Any, value: Any, analyzer: Any, **kwargs: Any) -> Any:
    if type(analyzer) is not NewsAnalyzer or not isinstance(value, str):
        return _positions_word_values(self, value, analyzer, **kwargs)
    fb = self.field_boost
    out = []
    for word, poslist in analyzer.postings(value, chars=False).items():
        deltas = []
        base = 0
        for pos in poslist:
            deltas.append(pos - base)
            base = pos
        n = len(poslist)
        out.append((word, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
    return out


def _fast_characters(self: Any, value: Any, analyzer: Any, **kwargs: Any) -> Any:
    if type(analyzer) is not NewsAnalyzer or not isinstance(value, str):
        return _characters_word_values(self, value, analyzer, **kwargs)
    fb = self.field_boost
    out = []
    for word, poslist in analyzer.postings(value, chars=True).items():
        n = len(poslist)
        if n == 1:  # most terms of a document: no deltas to take
            pos, startchar, endchar = poslist[0]
            deltas = [(pos, startchar, endchar - startchar)]
        else:
            deltas = []
            posbase = charbase = 0
            for pos, startchar, endchar in poslist:
                deltas.append((pos - posbase, startchar - charbase, endchar - startchar))
                posbase = pos
                charbase = endchar
        out.append((word, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
    return out


_add_document = writing.SegmentWriter.add_document
_FIELD_INDEX = fields.FieldType.index


def _columns(entries: Any) -> tuple[Sequence[Any], ...]:
    """``(term, frequency, weight, value)`` rows as four columns (empty ones if no rows)."""
    found = list(zip(*entries, strict=True))
    return tuple(found) if found else ((), (), (), ())
# Whoosh's estimate of a posting's memory: the constant part, per posting.
_POSTING_OVERHEAD = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


def _lean_add_document(self: Any, **fields: Any) -> None:
    schema = self.schema
    if any(f.vector or f.separate_spelling() for f in schema):
        _add_document(self, **fields)  # the general case keeps Whoosh's own code
        return
    self._check_state()
    perdocwriter = self.perdocwriter
    docnum = self.docnum
    pool = self.pool
    current = pool.current  # pool.save() replaces it: fetched again for every document
    size = 0
    docboost = self._doc_boost(fields)
    fieldnames = sorted(name for name in fields if not name.startswith("_"))
    self._check_fields(schema, fieldnames)
    perdocwriter.start_doc(docnum)
    try:
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                scorable = field.scorable
                if type(field).index is _FIELD_INDEX and isinstance(value, str):
                    # FieldType.index without its generator: the format's values, with
                    # each term UTF-8 encoded (in C) as utf8encode does.
                    entries = field.format.word_values(value, field.analyzer, mode="index")
                    words, freqs, weights, values = _columns(entries)
                    terms: Sequence[Any] = list(map(str.encode, words))
                else:
                    terms, freqs, weights, values = _columns(field.index(value))
                added = len(terms)
                if added:
                    if scorable:
                        length = sum(freqs)
                    # One C-level pass builds the pool's posting tuples.
                    current.extend(zip(repeat(fieldname, added), terms, repeat(docnum, added),
                                       map(mul, weights, repeat(fieldboost, added)), values,
                                       strict=True))
                    pool.fieldnames.add(fieldname)
                    size += (2 * sum(map(len, terms)) + sum(map(len, filter(None, values)))
                             + added * (_POSTING_OVERHEAD + len(fieldname)))
            customval = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, customval if field.stored else None,
                                   length)
            column = field.column_type
            if column and customval is not None:
                perdocwriter.add_column_value(fieldname, column,
                                              field.to_column_value(customval))
    except Exception:
        perdocwriter.cancel_doc()
        raise
    finally:
        pool.currentsize += size
    if pool.currentsize > pool.limit:
        pool.save()
    perdocwriter.finish_doc()
    self._added = True
    self.docnum += 1


#: Block pickles shorter than this are stored uncompressed: on 1,000 generated articles,
#: compressing the 5,247 blocks of 64-127 bytes saved 3% of their size, and every call pays
#: zlib's setup (clearing a 64 KB hash table), a third of all compression time.
_COMPRESS_FROM = 128


_original_write_block = whoosh3.W3PostingsWriter._write_block


def _write_block(self: Any, last: bool = False) -> None:
    # Whoosh's W3PostingsWriter._write_block with its small-block rule applied.
    if not self._blockcount:
        self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
    self._terminfo.add_block(self)
    ids = self._ids
    weights = self._weights
    # _mini_ids and _mini_weights without their generators: delta-encoded ids, then None
    # (all weights 1.0), the one weight they share, or every weight.
    mini_ids = tuple(ids) if self._byteids else tuple(map(sub, ids, chain((0,), ids)))
    n = len(weights)
    if weights.count(1.0) == n:
        mini_weights: Any = None
    elif weights.count(weights[0]) == n:
        mini_weights = weights[0]
    else:
        mini_weights = tuple(weights)
    databytes = dumps((mini_ids, mini_weights, self._mini_values()), 2)
    comp = self._compression if len(databytes) >= _COMPRESS_FROM else 0
    if comp:
        databytes = zlib.compress(databytes, comp)
    infobytes = dumps((len(ids), ids[-1], self._maxweight, comp,
                       whoosh3.length_to_byte(self._minlength),
                       whoosh3.length_to_byte(self._maxlength)), 2)
    postfile = self._postfile
    blocklength = len(infobytes) + len(databytes)
    postfile.write_int(-blocklength if last else blocklength)
    postfile.write(infobytes)
    postfile.write(databytes)
    self._blockcount += 1
    self._new_block()


_FIELD, _TERM, _DOCNUM = itemgetter(0), itemgetter(1), itemgetter(2)


def sort_postings(postings: list[tuple[Any, ...]]) -> None:
    """Sort pool postings in place into the order ``postings.sort()`` gives, faster.

    Each posting is ``(field, term bytes, docnum, weight, value)`` and no two share their
    first three items, so stable sorts by docnum, then term, then field settle the order
    before the weight or value would ever be compared.
    """
    postings.sort(key=_DOCNUM)
    postings.sort(key=_TERM)
    postings.sort(key=_FIELD)


_original_pool_items = writing.PostingPool.items
_original_pool_save = writing.PostingPool.save


def _pool_save(self: Any) -> None:
    # PostingPool.save (SortingPool.save, then a fresh size count) with the faster sort.
    current = self.current
    if current:
        sort_postings(current)
        path, f = self._new_run()
        self._write_run(f, current)
        self._add_run(path)
        self.current = []
    self.currentsize = 0


def _pool_items(self: Any, maxfiles: int = 128) -> Any:
    if not self.runs:
        # SortingPool.items returns a sorted copy when nothing was spilled to disk.
        items = list(self.current)
        sort_postings(items)
        return items
    return _original_pool_items(self, maxfiles)  # saves the rest (above), merges the runs


#: Postings per pickle in a spilled run (about 2 MB of postings in memory per run merged).
_RUN_CHUNK = 10_000
_KEY = itemgetter(0, 1)
_FIRST = itemgetter(0)


def _write_run(self: Any, f: Any, items: Iterable[Any]) -> None:
    # SortingPool._write_run, a chunk of postings per pickle instead of one each.
    rest = iter(items)
    with f:
        while chunk := list(islice(rest, _RUN_CHUNK)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)


def _read_run(self: Any, path: str) -> Iterator[Any]:
    # SortingPool._read_run for runs written by _write_run.
    f = self._open_run(path)
    try:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk
    finally:
        f.close()
        self._remove_run(path)


def _term_groups(postings: Iterable[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """``((field, term), postings)`` for each run of postings with the same field and term."""
    for key, group in groupby(postings, _KEY):
        yield key, list(group)


def _merge_runs(self: Any, paths: Sequence[str]) -> Iterator[Any]:
    # SortingPool._merge_runs a term at a time (see _merged_terms).
    return chain.from_iterable(_merged_terms(self, paths))


def _merged_terms(pool: Any, paths: Sequence[str]) -> Iterator[list[Any]]:
    """The postings of sorted runs ``paths``, merged: each term's as one list.

    ``heapq.merge`` keeps equal keys in run order.
    """
    merged = heapq.merge(*(_term_groups(pool._read_run(path)) for path in paths), key=_FIRST)
    return _joined(merged)


def _joined(merged: Iterable[tuple[Any, list[Any]]]) -> Iterator[list[Any]]:
    """Each term's postings from all runs as one list in docnum order."""
    key: Any = None
    postings: list[Any] = []
    for next_key, more in merged:
        if next_key != key:
            if postings:
                yield postings
            key, postings = next_key, more
            continue
        in_order = postings[-1][2] < more[0][2]
        postings.extend(more)
        if not in_order:  # runs of documents added out of order (not from add_document)
            postings.sort(key=_DOCNUM)
    if postings:
        yield postings


# Enough for any block's info tuple (six small numbers pickled: about 30 bytes).
_BLOCK_HEAD = 128
_original_goto = whoosh3.W3LeafMatcher._goto


def _goto(self: Any, position: int) -> None:
    # W3LeafMatcher._goto, reading the block's info tuple in one call.
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


_TERMS_READER = {name: getattr(whoosh3.W3TermsReader, name)
                 for name in ("__contains__", "term_info", "frequency", "doc_frequency")}


def state() -> str:
    """``applied``; ``off`` (``SEARCHLIB_WHOOSH_PATCHES=0``); ``untested`` (another Whoosh
    release); or ``pending`` before :func:`apply` ran."""
    return _state


def apply() -> None:
    """Install the patches once, if this Whoosh release is the tested one and the switch is
    not ``0`` (idempotent)."""
    global _state
    if _state != "pending":
        return
    if os.environ.get(SWITCH, "").strip() == "0":
        _state = "off"
        return
    if tuple(whoosh.__version__) != TESTED_WITH:
        _state = "untested"
        warnings.warn(
            f"Whoosh {whoosh.versionstring()} is not the release searchlib's patches were "
            f"tested with ({'.'.join(map(str, TESTED_WITH))}): running unpatched (slower, "
            "same results)", RuntimeWarning, stacklevel=2)
        return
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    reading.MultiReader.column_reader = _multi_column_reader
    writing.SegmentWriter._flush_segment = _flush_segment
    formats.Positions.word_values = _fast_positions
    formats.Characters.word_values = _fast_characters
    writing.SegmentWriter.add_document = _lean_add_document
    whoosh3.W3PostingsWriter._write_block = _write_block
    writing.PostingPool.save = _pool_save
    writing.PostingPool.items = _pool_items
    writing.PostingPool._write_run = _write_run
    writing.PostingPool._read_run = _read_run
    writing.PostingPool._merge_runs = _merge_runs
    whoosh3.W3LeafMatcher._goto = _goto
    whoosh3.W3TermsReader.__contains__ = _terms_contains
    whoosh3.W3TermsReader.term_info = _terms_term_info
    whoosh3.W3TermsReader.frequency = _terms_frequency
    whoosh3.W3TermsReader.doc_frequency = _terms_doc_frequency
    _state = "applied"
