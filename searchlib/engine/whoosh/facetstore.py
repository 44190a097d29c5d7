"""Facet data of an index: the documents of every facet value, as bitsets, kept on disk.

Facet counts, facet filters and date sorting need, for every value of ``actor``,
``location``, ``person``, ``mentioned`` (month), ``year`` and ``month`` (of publication), the
set of documents holding it, and every document's publication date. Reading that from the
Whoosh index means walking every posting list of four fields and the date column: about two
seconds at 10,000 articles, which a one-shot ``search query`` would pay on every run.

:func:`write` computes that data once, after the index is committed, and stores it beside the
Whoosh files (``facets.bin``); :func:`load` reads it back in milliseconds. The file is keyed by
the Whoosh generation and segment list it was computed from, so a file left from an older
commit is ignored (and the data rebuilt in memory by :func:`build`) rather than trusted.

Counting: :meth:`FacetData.counts` gives, for one facet kind, how many documents of a
bitset hold each value. Below :data:`DENSE_MIN_DOCS` documents it ANDs and popcounts each
value's bitset (Python ints, no import). From that size on (and for every search after the
first of an open :class:`searchlib.Index`, see ``FacetData.dense``), where a 100,000-bit AND per
value made facet counts 25 ms of each query, it uses numpy (see :class:`_Counter`): values
held by many documents as rows of a bit matrix (one vectorised AND and popcount), the many
rare ones as lists of docnums (a gather from the context's bool array and one
``add.reduceat``): ~3 ms for all six kinds at 100,000 articles. Date ranges
(:meth:`FacetData.dated_between`) and the date order of pages sorted by date are then numpy
comparisons and a lexsort too.

Format of ``facets.bin`` (version 2): the magic line ``SLFACETS1\n``, a 4-byte
little-endian header length, a JSON header, then one zlib stream holding every bitset
(little-endian bytes of ``ceil(size / 8)`` each), the dated documents (``uint32`` docnums
then ``int64`` raw date values, little-endian) and, for indexes of :data:`DENSE_MIN_DOCS`
documents or more, the docnums of each kind's rare values (``uint32``, with a count per
value; the header lists the values). Extracting those from the bitsets takes ~0.15 s at
100,000 articles, so the file keeps them. Sparse bitsets compress to almost nothing. A
version 1 file (the same without the docnum lists) is still read; the lists are then derived
when first needed.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ...layout import index_paths
from .storage import fsync_directory, open_storage

__all__ = [
    "DENSE_MIN_DOCS",
    "FACETS_FILE",
    "FacetData",
    "bits_of",
    "bits_to_mask",
    "build",
    "has_bit",
    "iter_bits",
    "load",
    "mask_to_bits",
    "verify",
    "write",
]

#: File name of the stored facet data inside an index directory.
FACETS_FILE = "facets.bin"

#: Indexes of at least this many documents count facets (and evaluate queries, see
#: :mod:`searchlib.engine.whoosh.evaluate`) with numpy arrays. Importing numpy costs ~0.15 s, more
#: than a
#: whole query on a smaller index, so a one-shot ``search query`` there never loads it.
DENSE_MIN_DOCS = 50_000

# Files of format 3 and later start with _MAGIC and end with the CRC-32 of everything before
# it: a changed byte anywhere (two facet values' entries swapped, a digit changed) made
# filters and counts silently wrong before. Files without one (older releases) are not used:
# the data is computed from the index instead and the next `search index` rewrites the file.
_MAGIC = b"SLFACETS2\n"
_OLD_MAGIC = b"SLFACETS1\n"
_FORMAT = 3
_READABLE = (3,)
#: Facet kind -> Whoosh field holding its values as terms.
_TERM_KINDS = {"actor": "actor", "location": "location", "person": "person"}


def bits_of(docnums: Iterable[int], size: int) -> int:
    """A Python int with bit ``d`` set for every docnum ``d`` (all below ``size``)."""
    if size <= 0:
        return 0
    # One byte per document, then parsed as a base-2 numeral (linear time in C): several
    # times faster than or-ing bits into a bytearray one document at a time.
    buf = bytearray(size)
    for d in docnums:
        buf[d] = 1
    buf.reverse()
    return int(buf.translate(_BINARY_DIGITS), 2)


_BINARY_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def bits_to_mask(bits: int, size: int) -> Any:
    """A numpy bool array of ``size`` entries, True at each docnum set in ``bits``."""
    import numpy as np

    data = np.frombuffer(bits.to_bytes((size + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(data, count=size, bitorder="little").view(bool)


def mask_to_bits(mask: Any) -> int:
    """The bitset of a numpy bool array: bit ``d`` set where ``mask[d]`` is True."""
    import numpy as np

    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def iter_bits(bits: int) -> Iterator[int]:
    """The docnums set in ``bits``, in increasing order."""
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    table = _BYTE_BITS
    for index, byte in enumerate(data):
        if byte:
            base = index << 3
            for bit in table[byte]:
                yield base + bit


# The set bits of every byte value: decoding a bitset a byte at a time is many times faster
# than peeling off its lowest bit, which copies the whole (kilobytes long) int each time.
_BYTE_BITS = tuple(tuple(i for i in range(8) if value >> i & 1) for value in range(256))


#: A facet kind's rare values as stored: names, docnums and counts as little-endian uint32.
_StoredRare = tuple[list[str], bytes | memoryview, bytes | memoryview]


class FacetData:
    """Value -> bitset of live docnums for every facet kind, and the publication dates.

    ``key`` identifies the index state it describes (see :func:`index_key`).
    """

    def __init__(self, key: dict[str, Any], size: int, live: int,
                 values: dict[str, dict[str, int]], dates: dict[int, int],
                 rare: dict[str, _StoredRare] | None = None) -> None:
        self.key = key
        self.size = size
        self.live = live
        self._values = values
        self._dates = dates
        self._lower: dict[str, dict[str, str]] = {}
        self._orders: dict[bool, list[int]] = {}
        # The dated docnums and their raw dates as numpy arrays (dense only).
        self._by_date: tuple[Any, Any] | None = None
        #: Whether counts and date ranges are computed with numpy: by default from
        #: DENSE_MIN_DOCS documents up; an index open for more than one search sets it.
        self.dense = size >= DENSE_MIN_DOCS
        self._counters: dict[str, _Counter] = {}
        # Per kind: rare value names, their docnums and counts as little-endian uint32 bytes,
        # as stored in facets.bin (see rare_lists); derived from the bitsets when absent.
        self._rare = rare or {}
        self._context: tuple[int, Any, Any] | None = None

    def values(self, kind: str) -> dict[str, int]:
        """Value -> bitset for one facet kind (empty for a kind the index has no data for)."""
        return self._values.get(kind, {})

    def lower(self, kind: str) -> dict[str, str]:
        """Lowercased value -> value as indexed."""
        found = self._lower.get(kind)
        if found is None:
            found = self._lower[kind] = {k.lower(): k for k in self.values(kind)}
        return found

    def counts(self, kind: str, within: int) -> dict[str, int]:
        """Value -> number of documents of bitset ``within`` holding it, for one facet kind
        (values with no such document left out)."""
        if not within:
            return {}
        if not self.dense:
            counts: dict[str, int] = {}
            for value, bits in self.values(kind).items():
                n = (bits & within).bit_count()
                if n:
                    counts[value] = n
            return counts
        counter = self._counters.get(kind)
        if counter is None:
            counter = self._counters[kind] = _Counter(self.values(kind), self.size,
                                                      self.rare(kind))
        context = self._context
        if context is None or context[0] is not within:
            # The facet kinds of one search mostly share one context bitset: converted once.
            context = self._context = (within, *_Counter.context(within, self.size))
        return counter.counts(context[1], context[2])

    def rare(self, kind: str) -> _Rare:
        """The rare values of a kind with their docnums (see :func:`rare_lists`)."""
        stored = self._rare.get(kind)
        if stored is None:
            return rare_lists(self.values(kind), self.size)
        import numpy as np

        names, docs, lengths = stored
        found = np.frombuffer(docs, dtype="<u4")
        counts = np.frombuffer(lengths, dtype="<u4")
        if int(counts.sum()) != len(found) or (len(found) and int(found.max()) >= self.size):
            # Lists that do not fit the bitsets they came with: trust the bitsets.
            return rare_lists(self.values(kind), self.size)
        return names, found, counts

    def dated_between(self, low: int | None, high: int | None) -> int:
        """Bitset of the dated documents whose raw date value lies in ``[low, high]``
        (an open end where None), compared as Whoosh's ``DateRange`` compares them."""
        if not self.dense:
            return bits_of((d for d, raw in self._dates.items()
                            if (low is None or raw >= low) and (high is None or raw <= high)),
                           self.size)
        import numpy as np

        docs, raws = self._date_arrays()
        keep = np.ones(len(raws), dtype=bool)
        if low is not None:
            keep &= raws >= low
        if high is not None:
            keep &= raws <= high
        mask = np.zeros(self.size, dtype=bool)
        mask[docs[keep]] = True
        return mask_to_bits(mask)

    def _date_arrays(self) -> tuple[Any, Any]:
        """The dated docnums and their raw dates as numpy arrays (made once)."""
        if self._by_date is None:
            import numpy as np

            count = len(self._dates)
            self._by_date = (np.fromiter(self._dates.keys(), dtype=np.intp, count=count),
                             np.fromiter(self._dates.values(), dtype=np.int64, count=count))
        return self._by_date

    def dates(self) -> dict[int, int]:
        """Docnum -> publication date as a sortable integer, for dated documents only."""
        return self._dates

    def date_order(self, newest: bool) -> list[int]:
        """Every live docnum by publication date (newest or oldest first), undated ones last,
        ties by docnum. Computed once: a date-sorted page then walks it."""
        found = self._orders.get(newest)
        if found is None:
            sign = -1 if newest else 1
            if self.dense:
                # The same order from one lexsort: ~0.4 s less at 100,000 articles than a
                # Python sort with a key function.
                import numpy as np

                docs, raws = self._date_arrays()
                dated = np.zeros(self.size, dtype=bool)
                dated[docs] = True
                raw = np.zeros(self.size, dtype=np.int64)
                raw[docs] = raws
                live = np.flatnonzero(bits_to_mask(self.live, self.size))
                found = live[np.lexsort((live, sign * raw[live], ~dated[live]))].tolist()
            else:
                dates = self._dates
                found = sorted(iter_bits(self.live),
                               key=lambda d: (d not in dates, sign * dates.get(d, 0), d))
            self._orders[newest] = found
        return found


#: A value held by fewer than ``size / ROW_SHARE`` documents is counted from its list of
#: docnums (a gather per document), a commoner one from its bitset (a popcount per 64
#: documents of the index): the cheaper of the two.
ROW_SHARE = 64

#: The rare values of one facet kind: their names, their docnums laid end to end (uint32
#: numpy array, ascending within a value), and how many docnums each has.
_Rare = tuple[list[str], Any, Any]


def rare_lists(values: dict[str, int], size: int) -> _Rare:
    """The rare values of ``values`` (see :data:`ROW_SHARE`) with their docnums."""
    import numpy as np

    width = (size + 63) // 64 * 8
    names = [value for value, bits in values.items() if bits.bit_count() * ROW_SHARE < size]
    # Every docnum at once, from the non-zero 64-bit words of the bitsets laid end to end (a
    # rare value's bitset is mostly zero words): a few passes over arrays, no Python loop.
    joined = np.frombuffer(b"".join(values[value].to_bytes(width, "little")
                                    for value in names), dtype=np.uint8)
    per_row = width // 8
    words = np.flatnonzero(joined.view(np.uint64))
    hits = np.flatnonzero(np.unpackbits(joined.reshape(-1, 8)[words].ravel(),
                                        bitorder="little"))
    word = words[hits >> 6]
    docs = ((word % per_row) * 64 + (hits & 63)).astype(np.uint32)
    lengths = np.bincount(word // per_row, minlength=len(names)).astype(np.uint32)
    return names, docs, lengths


class _Counter:
    """One facet kind's value -> documents, in the two forms numpy counts fastest.

    Values held by many documents are rows of a bit matrix (64 documents a word): a count is
    an AND and a popcount over the row. Rare values, most of them, are lists of docnums: a
    count is a gather from the context's bool array and a sum, and costs only as many
    operations as the value has documents, where a bitset row costs the index's size.
    """

    def __init__(self, values: dict[str, int], size: int, rare: _Rare) -> None:
        import numpy as np

        names, docs, lengths = rare
        listed = set(names)
        width = (size + 63) // 64 * 8
        self.row_names = [value for value in values if value not in listed]
        rows = b"".join(values[value].to_bytes(width, "little") for value in self.row_names)
        self.rows = np.frombuffer(rows, dtype=np.uint64).reshape(len(self.row_names), width // 8)
        self.list_names = names
        self.docs = docs.astype(np.intp)
        ends = np.cumsum(lengths, dtype=np.intp)
        self.starts = ends - lengths

    @staticmethod
    def context(within: int, size: int) -> tuple[Any, Any]:
        """``within`` as 64-bit words and as a bool array (the two forms :meth:`counts` reads)."""
        import numpy as np

        words = (size + 63) // 64
        data = within.to_bytes(words * 8, "little")
        return np.frombuffer(data, dtype=np.uint64), bits_to_mask(within, size)

    def counts(self, words: Any, mask: Any) -> dict[str, int]:
        """Value -> count of the context given as :meth:`context` returns it (non-zero only)."""
        import numpy as np

        out: dict[str, int] = {}
        if self.row_names:
            found = np.bitwise_count(self.rows & words).sum(axis=1, dtype=np.int64)
            out.update((self.row_names[i], n) for i, n in
                       zip(np.flatnonzero(found).tolist(), found[found > 0].tolist(),
                           strict=True))
        if self.list_names:
            found = np.add.reduceat(mask[self.docs], self.starts, dtype=np.int64)
            out.update((self.list_names[i], n) for i, n in
                       zip(np.flatnonzero(found).tolist(), found[found > 0].tolist(),
                           strict=True))
        return out


def index_key(reader: Any) -> dict[str, Any]:
    """What identifies the committed index state ``reader`` reads: generation and segments.

    Every Whoosh commit writes a new generation; segment ids are random, so an index rebuilt
    from scratch (whose generation numbers start over) still gets a different key.
    """
    segments = []
    for leaf, _offset in reader.leaf_readers():
        segment = leaf.segment() if hasattr(leaf, "segment") else None
        segid = segment.segment_id() if segment is not None else ""
        deleted = segment.deleted_count() if segment is not None else 0
        segments.append([segid, leaf.doc_count_all(), deleted])
    return {"generation": reader.generation(), "segments": segments}


def build(reader: Any, previous: FacetData | None = None) -> FacetData:
    """Compute the facet data from a Whoosh reader (reads every facet posting list).

    With ``previous``, the data of an earlier state of the same index, the segments both
    share at the start (same ids and sizes, so the same docnums; an update appends new
    segments and may delete documents in old ones) are taken from it, masked with the current
    live documents, and only the other segments' postings are read: an update of 1% of an
    index rewrites its facet data without reading the other 99%. The result is the same.
    """
    from whoosh.util.times import long_to_datetime

    size = reader.doc_count_all()
    live = bits_of(reader.all_doc_ids(), size)
    key = index_key(reader)
    # Bit tests on bytes: ``live >> d & 1`` copies the big integer for every document.
    alive = live.to_bytes((size + 7) // 8, "little")
    start = _shared_prefix(previous, key) if previous is not None else 0
    values: dict[str, dict[str, list[int]]] = {}
    for kind, fieldname in _TERM_KINDS.items():
        values[kind] = _term_docs(reader, fieldname, start, lambda term: term)
    values["mentioned"] = _term_docs(reader, "mentioned", start, lambda day: day[:7])
    years: dict[str, list[int]] = {}
    months: dict[str, list[int]] = {}
    values["year"], values["month"] = years, months
    dates: dict[int, int] = {}
    if previous is not None:
        dates = {d: raw for d, raw in previous.dates().items() if d < start and has_bit(alive, d)}
    for docnum, raw in _raw_dates(reader, start):
        if not has_bit(alive, docnum):
            continue
        try:
            value = long_to_datetime(raw)
        except (OverflowError, ValueError, TypeError):
            continue
        if value.year > 1:
            dates[docnum] = raw
            years.setdefault(f"{value.year:04d}", []).append(docnum)
            months.setdefault(f"{value.year:04d}-{value.month:02d}", []).append(docnum)
    kept = (1 << start) - 1
    bits: dict[str, dict[str, int]] = {}
    for kind, found in values.items():
        old = previous.values(kind) if previous is not None and start else {}
        out: dict[str, int] = {}
        for value in sorted(found.keys() | old.keys()):
            merged = (bits_of(found.get(value, ()), size) | (old.get(value, 0) & kept)) & live
            if merged:
                out[value] = merged
        bits[kind] = out
    return FacetData(key, size, live, bits, dict(sorted(dates.items())))


def has_bit(bits: bytes, docnum: int) -> bool:
    """Is bit ``docnum`` set in the little-endian bitset ``bits``?"""
    return bool(bits[docnum >> 3] >> (docnum & 7) & 1)


def _shared_prefix(previous: FacetData, key: dict[str, Any]) -> int:
    """Documents at the start of the index that ``previous`` describes as they are now."""
    shared = 0
    for old, new in zip(previous.key.get("segments", ()), key["segments"], strict=False):
        if not old[0] or old[0] != new[0] or old[1] != new[1]:
            break
        shared += new[1]
    return shared if shared <= previous.size else 0


def _raw_dates(reader: Any, start: int) -> Iterator[tuple[int, Any]]:
    """``(docnum, raw date column value)`` of the documents from ``start`` on, in order.

    Read segment by segment: Whoosh 2.7.5's ``MultiReader.column_reader`` misplaces every
    document after a segment that lacks the column (patched in :mod:`.patches`, which may be
    off). A segment without the column holds no dated document; undated documents of the
    others hold a sentinel that does not convert.
    """
    for leaf, offset in reader.leaf_readers():
        count = leaf.doc_count_all()
        if offset + count <= start or not leaf.has_column("date"):
            continue
        column = leaf.column_reader("date", translate=False)
        first = max(start - offset, 0)
        if not first:
            yield from enumerate(column, offset)
        else:
            yield from ((offset + d, column[d]) for d in range(first, count))


def _term_docs(reader: Any, fieldname: str, start: int, name: Any) -> dict[str, list[int]]:
    """Value -> docnums for the terms of one field in the segments from docnum ``start`` on,
    ``name`` mapping a term to its value.

    Walks each segment's own posting lists: the multi-segment reader's ``postings`` looks
    every term up in every segment, which costs more than reading the postings themselves.
    """
    found: dict[str, list[int]] = {}
    for leaf, offset in reader.leaf_readers():
        if offset < start or fieldname not in leaf.schema:
            continue
        for term in leaf.lexicon(fieldname):
            docs = found.setdefault(name(term.decode("utf-8")), [])
            ids = _term_ids(leaf, fieldname, term)
            docs.extend(ids if not offset else (d + offset for d in ids))
    return found


def block_reader(reader: Any, fieldname: str, btext: bytes) -> Any:
    """The codec's posting reader of one term in one segment, without the deletions filter
    (None for a codec without posting blocks)."""
    matcher = reader.postings(fieldname, btext)
    while not hasattr(matcher, "_read_ids") and hasattr(matcher, "child"):
        matcher = matcher.child
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        return matcher
    return None


def _term_ids(leaf: Any, fieldname: str, term: bytes) -> Iterable[int]:
    """Every docnum of a term in one segment, deleted ones included (the callers mask them
    with the live bits): a block of ids at a time instead of a generator step per id."""
    matcher = block_reader(leaf, fieldname, term)
    if matcher is None:
        return leaf.postings(fieldname, term).all_ids()  # type: ignore[no-any-return]
    ids: list[int] = []
    while matcher.is_active():
        matcher._read_ids()
        ids.extend(matcher._ids)
        matcher._next_block()
    return ids


def _path(index_dir: str | os.PathLike[str]) -> Path:
    return Path(index_dir) / FACETS_FILE


def _little(values: array[Any]) -> bytes:
    if sys.byteorder != "little":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _from_little(typecode: str, data: bytes | memoryview) -> array[Any]:
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def dumps(data: FacetData) -> bytes:
    """Serialise ``data`` in the ``facets.bin`` format."""
    width = (data.size + 7) // 8
    chunks: list[bytes] = []
    offset = 0

    def put(blob: bytes) -> list[int]:
        nonlocal offset
        chunks.append(blob)
        start = offset
        offset += len(blob)
        return [start, len(blob)]

    header: dict[str, Any] = {"format": _FORMAT, "key": data.key, "size": data.size}
    header["live"] = put(data.live.to_bytes(width, "little"))
    header["kinds"] = {kind: [[value, *put(bits.to_bytes(width, "little"))]
                              for value, bits in values.items()]
                       for kind, values in data._values.items()}
    dated = sorted(data.dates().items())
    header["dates"] = [put(_little(array("I", (d for d, _ in dated)))),
                       put(_little(array("q", (raw for _, raw in dated))))]
    if data.dense:
        # Extracting the docnums of the rare values from their bitsets takes ~0.15 s at
        # 100,000 articles; the searches that count with them read them from here instead.
        rare = {}
        for kind in data._values:
            names, docs, lengths = data.rare(kind)
            rare[kind] = [names, put(docs.astype("<u4").tobytes()),
                          put(lengths.astype("<u4").tobytes())]
        header["rare"] = rare
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body = zlib.compress(b"".join(chunks), 1)
    payload = _MAGIC + len(head).to_bytes(4, "little") + head + body
    return payload + zlib.crc32(payload).to_bytes(4, "little")


def _verified(blob: bytes) -> bytes:
    """``blob`` without its checksum, or ``ValueError`` saying what is wrong with it."""
    if blob.startswith(_OLD_MAGIC):
        raise ValueError("written by an older release, without a checksum")
    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 8:
        raise ValueError("not a searchlib facet file")
    payload, stored = blob[:-4], int.from_bytes(blob[-4:], "little")
    if zlib.crc32(payload) != stored:
        raise ValueError("fails its checksum (damaged)")
    return payload


def verify(index_dir: str | os.PathLike[str]) -> str | None:
    """What is wrong with the stored facet file of ``index_dir``, or None if it is whole
    (or absent: searches then compute the data). Never raises."""
    try:
        blob = _path(index_dir).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        loads(blob)
    except (ValueError, KeyError, TypeError, IndexError, zlib.error, RecursionError) as exc:
        return str(exc) if isinstance(exc, ValueError) else f"is malformed ({type(exc).__name__})"
    return None


def loads(blob: bytes) -> FacetData:
    """Parse the ``facets.bin`` format; raises ``ValueError`` on anything malformed or failing
    its checksum."""
    blob = _verified(blob)
    start = len(_MAGIC) + 4
    length = int.from_bytes(blob[len(_MAGIC):start], "little")
    header = json.loads(blob[start:start + length].decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") not in _READABLE:
        raise ValueError("unknown facet file format")
    body = memoryview(zlib.decompress(blob[start + length:]))

    def get(span: list[int]) -> memoryview:
        begin, size = span
        if begin < 0 or begin + size > len(body):
            raise ValueError("facet file is truncated")
        return body[begin:begin + size]

    size = int(header["size"])
    live = int.from_bytes(get(header["live"]), "little")
    values = {kind: {str(value): int.from_bytes(get([begin, n]), "little")
                     for value, begin, n in entries}
              for kind, entries in header["kinds"].items()}
    docnums = _from_little("I", get(header["dates"][0]))
    raws = _from_little("q", get(header["dates"][1]))
    if len(docnums) != len(raws):
        raise ValueError("facet file dates are inconsistent")
    rare: dict[str, _StoredRare] = {
        kind: ([str(name) for name in names], get(docs), get(lengths))
        for kind, (names, docs, lengths) in header.get("rare", {}).items()}
    for kind, (names, docs, lengths) in rare.items():
        if (len(docs) % 4 or len(lengths) != 4 * len(names)
                or not set(names) <= values.get(kind, {}).keys()):
            raise ValueError("facet file docnum lists are inconsistent")
    return FacetData(header["key"], size, live, values, dict(zip(docnums, raws, strict=True)),
                     rare)


def _stored(index_dir: str | os.PathLike[str]) -> FacetData | None:
    """The facet data stored at ``index_dir``, whatever index state it describes."""
    try:
        return loads(_path(index_dir).read_bytes())
    except (OSError, ValueError, KeyError, TypeError, IndexError, zlib.error):
        return None


def load(index_dir: str | os.PathLike[str], reader: Any) -> FacetData | None:
    """The stored facet data of ``index_dir`` if it describes what ``reader`` reads, else None."""
    try:
        blob = _path(index_dir).read_bytes()
    except OSError:
        return None
    try:
        data = loads(blob)
    except (ValueError, KeyError, TypeError, IndexError, zlib.error, RecursionError):
        return None  # damaged or from another release: rebuilt in memory instead
    if data.key != index_key(reader) or data.size != reader.doc_count_all():
        return None
    return data


def write(index_dir: str | os.PathLike[str]) -> Path:
    """Compute the facet data of the committed index at ``index_dir`` and store it there.

    Call it after the final commit of a build; until it runs (or if it fails) searches
    compute the same data in memory, so the file only ever saves time. Written atomically.
    """
    whoosh_dir, _, _ = index_paths(index_dir)
    ix = open_storage(whoosh_dir).open_index()
    try:
        with ix.reader() as reader:
            blob = dumps(build(reader, _stored(index_dir)))
    finally:
        ix.close()
    path = _path(index_dir)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_directory(path.parent)
    return path
