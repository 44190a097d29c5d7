"""Write-path patches of Whoosh-Reloaded 2.7.5: building and flushing segments (patches 1,
3-8, 10 and 12 of :mod:`.patches`). The same postings, blocks and statistics, with less work,
and each segment's posting lists without positions beside it."""

from __future__ import annotations

import heapq
import pickle
import struct
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from hashlib import md5
from itertools import chain, compress, groupby, islice, repeat
from operator import itemgetter, mul, ne, sub
from typing import Any

from whoosh import fields, formats, writing
from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.compat import dumps
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from .. import postlists
from ..analysis import NewsAnalyzer

_MISSING = object()

def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    cached = self._readers.get(fieldname, _MISSING)
    if cached is not _MISSING:
        return cached
    reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
    self._readers[fieldname] = reader
    return reader


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
    sinks = _postlists_sinks(self)
    try:
        if type(fieldwriter) is whoosh3.W3FieldWriter:
            whole = _add_term_postings(fieldwriter, self.schema, lengths,
                                       _pool_terms(self.pool), *sinks)
        else:
            whole = False
            fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        fieldwriter.close()
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    if sinks:
        if whole:
            for sink in sinks:
                sink.close()
            self._searchlib_postlists = True  # named for good by _finalize_segment
        else:  # pragma: no cover - a codec setting of another program: blocks only
            for sink in sinks:
                sink.abort()
    if perdoc is not None:
        perdoc.close()


def _postlists_sinks(writer: Any
                     ) -> tuple[()] | tuple[postlists.Sink, postlists.PositionSink]:
    """The posting-list and positions files (:mod:`..postlists`) of the segment ``writer``
    flushes, when it is written into a folder (none for a RamStorage)."""
    folder = getattr(writer.storage, "folder", None)
    if folder is None:  # a RamStorage (tests, Whoosh's own temporary indexes)
        return ()
    segment_id = writer.get_segment().segment_id()
    return (postlists.Sink(postlists.temp_path(folder, segment_id)),
            postlists.PositionSink(postlists.temp_path(folder, segment_id,
                                                       postlists.POS_SUFFIX)))


_original_finalize_segment = writing.SegmentWriter._finalize_segment


def _finalize_segment(self: Any) -> Any:
    """Whoosh's ``_finalize_segment``, then the posting-list file takes its final name: only
    now, because assembling the compound segment takes every file named like it."""
    segment = _original_finalize_segment(self)
    if self.__dict__.pop("_searchlib_postlists", False):
        postlists.finish(self.storage.folder, segment.segment_id())
        postlists.finish(self.storage.folder, segment.segment_id(), postlists.POS_SUFFIX)
    return segment


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
                       terms: Iterable[list[Any]], sink: postlists.Sink | None = None,
                       positions: postlists.PositionSink | None = None) -> bool:
    """``FieldWriter.add_postings`` for a ``W3FieldWriter``, given each term's postings.

    Whoosh hands every posting to three method calls (``add_postings`` asks its field
    length, ``W3FieldWriter.add`` passes it on, ``W3PostingsWriter.add_posting`` checks its
    types and appends it to the block), then writes each term through half a dozen more
    (``start_term``, ``finish_term``, ``finish_postings``, ``_write_block``, the term
    info's ``add_block`` and ``to_bytes``, the hash table's ``add``), each asking its file
    for its position: about 40 µs a term, and a segment of 50 short articles holds 5,000
    terms. Here a term's blocks, term info and hash-table row are made by one function
    (:func:`_term_bytes`) and written with one call to each file, whose positions are
    counted instead of asked. The terms of a ``Positions`` field with many postings also
    go to the ``positions`` file. The bytes are the same: a block is written when it holds
    ``blocklimit`` postings and another one follows, only non-empty values are kept, only
    non-zero lengths count toward the length bounds, and blocks are encoded as
    :func:`_write_block` encodes them.
    """
    postwriter = fieldwriter._codec.postings_writer(fieldwriter._postfile)
    if postwriter._byteids or postwriter._inlinelimit > 1:  # pragma: no cover - not ours
        # Inlined postings or byte ids: Whoosh's own loop.
        fieldwriter.add_postings(schema, lengths, chain.from_iterable(terms))
        return False
    limit = postwriter._blocklimit
    compression = postwriter._compression
    tindex = fieldwriter._tindex
    post_write = fieldwriter._postfile.write
    term_write = tindex.dbfile.write
    post_pos = fieldwriter._postfile.tell()
    term_pos = tindex.dbfile.tell()
    buckets = tindex.buckets
    index_append = tindex.index.append
    lastkey = tindex.lastkey
    lastfn: str | None = None
    field_lengths: list[int | None] | None = None
    prefix = b""
    fixedsize: int | None = None
    field_positions: postlists.PositionSink | None = None
    for items in terms:
        if not items:
            continue
        fieldname, btext = items[0][0], items[0][1]
        if fieldname != lastfn:
            if lastfn is not None:
                if fieldname < lastfn:
                    raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                fieldwriter.finish_field()
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            prefix = pack_ushort(fieldwriter._fieldid)
            fixedsize = fieldobj.format.fixed_value_size()
            field_lengths = lengths.field_lengths(fieldname) if lengths is not None else None
            field_positions = positions if type(fieldobj.format) is formats.Positions else None
            lastfn = fieldname
        key = prefix + btext
        if key <= lastkey:
            if key[:2] == lastkey[:2]:
                raise OutOfOrderError(f"Term {lastfn}:{lastkey[2:]!r} .. {fieldname}:{btext!r}")
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        postings = _term_bytes(items, field_lengths, limit, compression, fixedsize, sink,
                               post_pos, field_positions)
        terminfo = _TERMINFO.pack(*postings[1]) + pack_long(post_pos) + pack_int(len(postings[0]))
        post_write(postings[0])
        post_pos += len(postings[0])
        # OrderedHashWriter.add: the key's position, its row, and its hash in a bucket.
        index_append(term_pos)
        row = _ROW_LENGTHS.pack(len(key), len(terminfo)) + key + terminfo
        term_write(row)
        # md5_hash: the low 32 bits of the digest read as one big-endian number.
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")
        buckets[h & 255].append((h, term_pos))
        term_pos += len(row)
        lastkey = key
    tindex.lastkey = lastkey
    if lastfn is not None:
        fieldwriter.finish_field()
    return True


# W3TermInfo's fixed part (flags, weight, doc frequency, length bytes, max weight, ids) and
# the hash file's key and value lengths.
_TERMINFO = whoosh3.W3TermInfo._struct
_ROW_LENGTHS = struct.Struct("!ii")
_HEADER = whoosh3.WHOOSH3_HEADER_MAGIC


def _term_bytes(items: list[Any], field_lengths: list[int | None] | None, limit: int,
                compression: int, fixedsize: int | None, sink: postlists.Sink | None = None,
                offset: int = 0, position_sink: postlists.PositionSink | None = None
                ) -> tuple[bytes, tuple[Any, ...]]:
    """One term's postings as ``W3PostingsWriter`` writes them, and its term info's fields.

    The statistics follow ``W3TermInfo.add_block`` block by block: weights summed as the
    block's 32-bit floats, the shortest and longest known lengths, the largest weight as
    given, the first and last document. With a ``sink``, the docnums, weights and blocks
    also go there, for postings written at ``offset`` of the postings file; with
    ``position_sink``, the values of a term of many postings go to that file.
    """
    if len(items) == 1:  # most terms of a segment: one posting, one block
        return _one_posting_bytes(items[0], field_lengths, compression, fixedsize, sink,
                                  offset)
    docnums = list(map(_DOCNUM, items))
    weights = list(map(_WEIGHT, items))
    values = list(map(_VALUE, items))
    if position_sink is not None and len(items) >= postlists.POSITIONS_MIN_POSTINGS:
        position_sink.add(offset, values)
    doclengths = (list(map(field_lengths.__getitem__, docnums))
                  if field_lengths is not None else None)
    out = [_HEADER]
    total_weight: float = 0
    minlength: int | None = None
    maxlength = 0
    maxweight: float = 0
    n = len(docnums)
    # Where each block starts in the postings file: after the header, then each block's
    # length field and bytes (what W3LeafMatcher's _goto steps through).
    position = offset + len(_HEADER)
    positions: list[int] = []
    maxids: list[int] = []
    for start in range(0, n, limit):
        end = start + limit
        ids = docnums[start:end]
        block_weights = weights[start:end]
        stored = array("f", block_weights)  # the block keeps 32-bit floats
        top = max(block_weights)
        block_max = top if top > 0 else 0  # a fresh block's maximum starts at (int) 0
        block_min_length: int | None = None
        block_max_length = 0
        if doclengths is not None:
            known = list(filter(None, doclengths[start:end]))
            if known:
                block_min_length = min(known)
                block_max_length = max(known)
        # W3TermInfo.add_block
        total_weight += sum(stored)
        if minlength is None:
            minlength = block_min_length
        elif block_min_length is not None:  # (always: a document with the term has a length)
            minlength = min(minlength, block_min_length)
        maxlength = max(maxlength, block_max_length)
        maxweight = max(maxweight, block_max)
        # _write_block
        mini_ids = tuple(map(sub, ids, chain((0,), ids)))
        count = len(ids)
        databytes, comp = _block_data(
            mini_ids, _mini_weights(stored),
            _mini_values(list(filter(None, values[start:end])), fixedsize), compression)
        infobytes = dumps((count, ids[-1], block_max, comp, length_to_byte(block_min_length),
                           length_to_byte(block_max_length)), 2)
        blocklength = len(infobytes) + len(databytes)
        out.append(pack_int(-blocklength if end >= n else blocklength))
        out.append(infobytes)
        out.append(databytes)
        positions.append(position)
        maxids.append(ids[-1])
        position += _INT_SIZE + blocklength
    info = (0, total_weight, n, 0 if minlength is None else length_to_byte(minlength),
            length_to_byte(maxlength), maxweight, docnums[0], docnums[-1])
    if sink is not None:
        sink.add(offset, docnums, array("f", weights), positions, maxids)
    return b"".join(out), info


def _mini_weights(weights: Sequence[float]) -> Any:
    """A block's weights as Whoosh stores them: None when all are 1.0, the one weight they
    share, or every weight."""
    n = len(weights)
    if weights.count(1.0) == n:
        return None
    if weights.count(weights[0]) == n:
        return weights[0]
    return tuple(weights)


def _mini_values(kept: list[bytes], fixedsize: int | None) -> Any:
    """A block's non-empty posting values as Whoosh stores them for a format of ``fixedsize``:
    each value (variable size), None (no values), or the values joined (fixed size)."""
    if fixedsize is None or fixedsize < 0:
        return tuple(kept)
    if fixedsize == 0:
        return None
    return b"".join(kept)


def _block_data(mini_ids: Any, mini_weights: Any, mini_values: Any, compression: int
                ) -> tuple[bytes, int]:
    """A block's pickled data, compressed when long enough, and the compression used."""
    databytes = dumps((mini_ids, mini_weights, mini_values), _BLOCK_PROTOCOL)
    comp = compression if len(databytes) >= _COMPRESS_FROM else 0
    if comp:
        databytes = zlib.compress(databytes, comp)
    return databytes, comp


def _one_posting_bytes(posting: Any, field_lengths: list[int | None] | None,
                       compression: int, fixedsize: int | None,
                       sink: postlists.Sink | None = None, offset: int = 0
                       ) -> tuple[bytes, tuple[Any, ...]]:
    """:func:`_term_bytes` for a term of one posting, without its lists and slices."""
    docnum, weight, value = posting[2], posting[3], posting[4]
    stored = _FLOAT32.unpack(_FLOAT32.pack(weight))[0]  # the block keeps a 32-bit float
    block_max = weight if weight > 0 else 0
    length = field_lengths[docnum] if field_lengths is not None else None
    databytes, comp = _block_data((docnum,), None if stored == 1.0 else stored,
                                  _mini_values([value] if value else [], fixedsize),
                                  compression)
    minbyte = length_to_byte(length) if length else 0
    maxbyte = length_to_byte(length or 0)
    infobytes = dumps((1, docnum, block_max, comp, minbyte, maxbyte), 2)
    data = b"".join((_HEADER, pack_int(-len(infobytes) - len(databytes)), infobytes,
                     databytes))
    if sink is not None:
        sink.add_one(offset, docnum, stored, offset + len(_HEADER))
    # As W3TermInfo.add_block adds it to a term info starting at 0: 0 + weight.
    return data, (0, 0 + stored, 1, minbyte, maxbyte, max(0, block_max), docnum, docnum)


_FLOAT32 = struct.Struct("f")
_INT_SIZE = struct.calcsize("!i")


_positions_word_values = formats.Positions.word_values
_characters_word_values = formats.Characters.word_values


class _PickledInts(dict[int, bytes]):
    """Memo: a non-negative int below 2**31 -> its opcode in a protocol-2 pickle (``K`` and
    one byte, ``M`` and two, ``J`` and four, as ``pickle.dumps(..., 2)`` writes it)."""

    def __missing__(self, number: int) -> bytes:
        if number < 256:
            code = b"K" + _UBYTE.pack(number)
        elif number < 65536:
            code = b"M" + _USHORT_LE.pack(number)
        else:
            code = b"J" + _INT_LE.pack(number)
        self[number] = code
        return code


_UBYTE, _USHORT_LE, _INT_LE = struct.Struct("<B"), struct.Struct("<H"), struct.Struct("<i")
# Below VECTOR_MIN_CHARS characters, every position, offset and length is below 100,000: the
# memo holds at most that many entries.
_PICKLED = _PickledInts()
# A posting value of one occurrence: Whoosh's count (1), then pickle.dumps([x], 2): protocol,
# empty list and its memo slot, x's opcodes, APPEND and STOP (for a tuple of three, its
# TUPLE3 and memo slot come first).
_ONE_POSTING = pack_uint(1) + b"\x80\x02]q\x00"
_ONE_ITEM_TAIL = b"a."
_TRIPLE_TAIL = b"\x87q\x01a."


def _fast_positions(self: Any, value: Any, analyzer: Any, **kwargs: Any) -> Any:
    if type(analyzer) is not NewsAnalyzer or not isinstance(value, str):
        return _positions_word_values(self, value, analyzer, **kwargs)
    fb = self.field_boost
    out = []
    pickled = _PICKLED
    short = len(value) < VECTOR_MIN_CHARS
    for word, poslist in analyzer.postings(value, chars=False).items():
        if len(poslist) == 1 and short:
            # Most terms of a title: the pickle's bytes put together (about 4x faster
            # than pickle.dumps, which sets up a pickler for every posting).
            out.append((word, 1, 1.0 * fb, b"".join((_ONE_POSTING, pickled[poslist[0]],
                                                     _ONE_ITEM_TAIL))))
            continue
        deltas = []
        base = 0
        for pos in poslist:
            deltas.append(pos - base)
            base = pos
        n = len(poslist)
        out.append((word, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
    return out


#: From this length on, a text's character postings are computed with numpy: below it the
#: Python loop is as fast (an article has a few hundred words, most of them once).
VECTOR_MIN_CHARS = 100_000


def _fast_characters(self: Any, value: Any, analyzer: Any, **kwargs: Any) -> Any:
    if type(analyzer) is not NewsAnalyzer or not isinstance(value, str):
        return _characters_word_values(self, value, analyzer, **kwargs)
    fb = self.field_boost
    out = []
    if len(value) >= VECTOR_MIN_CHARS:
        for word, deltas in analyzer.character_deltas(value):
            n = len(deltas)
            out.append((word, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
        return out
    pickled = _PICKLED
    for word, poslist in analyzer.postings(value, chars=True).items():
        n = len(poslist)
        if n == 1:  # most terms of a document: no deltas to take, and no pickler needed
            pos, startchar, endchar = poslist[0]
            out.append((word, 1, 1.0 * fb, b"".join((_ONE_POSTING, pickled[pos],
                                                     pickled[startchar],
                                                     pickled[endchar - startchar],
                                                     _TRIPLE_TAIL))))
            continue
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


#: The pickle protocol of a block's data. Whoosh writes protocol 2 (for Python 2), where a
#: bytes object is pickled as a call to ``_codecs.encode`` of its text and every posting value
#: is such an object: on the blocks of 2,000 real articles, protocol 4 (bytes as bytes)
#: pickled 6x faster, pickled and compressed 2.6x faster, compressed to half the size, and
#: decompressed and unpickled 3.3x faster. Readers call ``pickle.loads``, which reads any
#: protocol: old indexes, Whoosh's own reader and a mix of both in one index all work.
_BLOCK_PROTOCOL = 4

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
    databytes, comp = _block_data(mini_ids, _mini_weights(weights), self._mini_values(),
                                  self._compression)
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


def install() -> None:
    """Replace the Whoosh methods (called by :func:`.apply`)."""
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    writing.SegmentWriter._flush_segment = _flush_segment
    writing.SegmentWriter._finalize_segment = _finalize_segment
    formats.Positions.word_values = _fast_positions
    formats.Characters.word_values = _fast_characters
    writing.SegmentWriter.add_document = _lean_add_document
    whoosh3.W3PostingsWriter._write_block = _write_block
    writing.PostingPool.save = _pool_save
    writing.PostingPool.items = _pool_items
    writing.PostingPool._write_run = _write_run
    writing.PostingPool._read_run = _read_run
    writing.PostingPool._merge_runs = _merge_runs
