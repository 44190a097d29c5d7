"""Each segment's posting lists without their positions: docnums and weights as flat arrays.

Whoosh's posting block is one pickle of the block's docnum deltas, its weights and every
posting's positions and character offsets, usually zlib-compressed. Knowing which documents
hold a term and how often (all that scoring a term, or a fuzzy, wildcard or prefix
expansion, needs) therefore costs decompressing and unpickling the positions too: ``b*`` at
100,000 articles reads 12,000 blocks for 2.5 s of CPU (``pickle.loads`` 0.9 s, zlib 0.4 s,
Whoosh's Python delta decoding 0.2 s). The segment flush (:mod:`.patches.write`) has each
term's docnums and weights in hand, so it also writes them here, as flat little-endian
arrays with each posting block's position and last docnum (what snippets need to find a
document's block again); reading a term is then a bisection and two ``frombytes``.

The file, ``<segment id>.docs`` beside the segment's own files (so Whoosh's clean-up deletes
it with them), is derived data: the posting blocks stay the authority. A segment without
one (written before this file existed, or by another program) or with a damaged one is read
from its blocks as before; ``search check`` compares the two. Layout, little-endian:

* ``MAGIC``, then ``count`` (uint32) and the CRC-32 of the directory (uint32);
* the directory: ``count`` uint64 postings-file offsets, one per term in the order the flush
  wrote them (ascending), ``count + 1`` uint64 entry starts, ``count`` uint32 entry CRC-32s;
* each term's entry: ``n`` and ``nblocks`` (uint32), ``n`` docnums (uint32), ``n`` weights
  (float32, as the blocks store them), ``nblocks`` block positions (uint64) and ``nblocks``
  last docnums (uint32).

Beside it, ``<segment id>.pos`` holds the positions of the terms of a field in Whoosh's
``Positions`` format that have at least :data:`POSITIONS_MIN_POSTINGS` postings in the
segment: what an exact phrase needs of them, without decoding their posting blocks (a
phrase of two common words at 100,000 articles read 1,300 blocks and unpickled 134,000
posting values, 0.39 s). Its directory is laid out as above (``POS_MAGIC``); each entry is
``n``, ``total`` and ``width`` (uint32), ``n`` position counts (uint32), then ``total``
position deltas, each posting's first one from 0 (``width`` 2: uint16, 4: uint32). A term
without an entry is read from its blocks.

While a segment is written the file is named ``<segment id>docs.tmp`` (``pos.tmp``):
Whoosh's compound file takes every file named ``<segment id>.*`` into the segment, so the
file gets its final name only after that (:func:`finish`). The temporary name still
reads, to Whoosh's clean-up, as a file of a segment no table of contents names
(``MAIN_<letters and digits>.<ending>``), so a build that dies in between leaves nothing
that outlives the next commit or discarded batch, as with the segment's own files.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import sys
import weakref
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import chain
from pickle import UnpicklingError, loads
from typing import Any, TypeVar

__all__ = ["POSITIONS_MIN_POSTINGS", "POS_SUFFIX", "SUFFIX", "PositionLists", "PositionSink",
           "PostingLists", "Sink", "decode_positions", "finish", "open_lists", "open_positions",
           "temp_path"]

#: Ending of the file beside each segment.
SUFFIX = ".docs"
_TEMP_SUFFIX = "docs.tmp"
MAGIC = b"SLDOCS1\n"
#: Ending of the positions file beside each segment.
POS_SUFFIX = ".pos"
_POS_TEMP_SUFFIX = "pos.tmp"
POS_MAGIC = b"SLPOS01\n"
#: Terms with fewer postings in a segment have no positions entry: their one or two posting
#: blocks decode in well under a millisecond, and the flush skips most of its terms.
POSITIONS_MIN_POSTINGS = 8
_POS_ENTRY = struct.Struct("<III")
_HEAD = struct.Struct("<II")
_ENTRY = struct.Struct("<II")
# The entry of a term of one posting in one block, the commonest: n, nblocks, docnum,
# weight, block position, last docnum.
_ONE = struct.Struct("<IIIfQI")
#: Whether this machine reads the little-endian arrays as they are.
_LITTLE = sys.byteorder == "little"


class _EntryWriter:
    """Entries keyed by postings-file offset, written to a file as they come (a merge writes
    millions of postings), then the directory, which is small, kept in memory until
    :meth:`close`."""

    magic = MAGIC

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close() or abort()
        self._offsets = array("Q")
        self._starts = array("Q", [0])
        self._crcs = array("I")
        self._at = 0

    def _write(self, offset: int, data: bytes) -> None:
        self._file.write(data)
        self._at += len(data)
        self._offsets.append(offset)
        self._starts.append(self._at)
        self._crcs.append(zlib.crc32(data))

    def close(self) -> None:
        """Write the directory and close the file (its name is still the temporary one)."""
        directory = [self._offsets, self._starts, self._crcs]
        if not _LITTLE:  # pragma: no cover
            for part in directory:
                part.byteswap()
        body = b"".join(part.tobytes() for part in directory)
        self._file.write(body)
        self._file.write(self.magic + _HEAD.pack(len(self._offsets), zlib.crc32(body)))
        self._file.close()

    def abort(self) -> None:
        """Forget the file (the segment is not being written after all)."""
        self._file.close()
        # A discarded batch's clean-up may have removed it first.
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


class Sink(_EntryWriter):
    """Collects one segment's posting lists while the flush writes them, into a file."""

    def add(self, offset: int, docnums: Sequence[int], weights: array[float],
            positions: Sequence[int], maxids: Sequence[int]) -> None:
        """One term: its postings-file ``offset``, docnums, 32-bit weights and its blocks'
        positions and last docnums."""
        ids = array("I", docnums)
        where = array("Q", positions)
        last = array("I", maxids)
        if not _LITTLE:  # pragma: no cover - no big-endian machine here
            for part in (ids, weights, where, last):
                part.byteswap()
        self._write(offset, b"".join((_ENTRY.pack(len(ids), len(where)), ids.tobytes(),
                                      weights.tobytes(), where.tobytes(), last.tobytes())))

    def add_one(self, offset: int, docnum: int, weight: float, position: int) -> None:
        """A term of one posting (most terms of a segment): :meth:`add` without its arrays."""
        self._write(offset, _ONE.pack(1, 1, docnum, weight, position, docnum))


class PositionSink(_EntryWriter):
    """Collects the positions of one segment's terms while the flush writes them."""

    magic = POS_MAGIC

    def add(self, offset: int, values: Sequence[bytes]) -> bool:
        """One term's postings' raw ``Positions`` values (see :func:`decode_positions`);
        False, and no entry, when they do not decode."""
        decoded = decode_positions(values)
        if decoded is None:
            return False  # not this format after all: the term is read from its blocks
        counts, deltas = decoded
        if not _LITTLE:  # pragma: no cover
            counts.byteswap()
            deltas.byteswap()
        self._write(offset, b"".join((_POS_ENTRY.pack(len(counts), len(deltas), deltas.itemsize),
                                      counts.tobytes(), deltas.tobytes())))
        return True


def decode_positions(values: Sequence[bytes]) -> tuple[array[int], array[int]] | None:
    """The position counts and deltas of postings given as raw ``Positions`` values (the
    frequency, then the pickled list of position deltas, with or without its STOP byte);
    None when they are not lists of small non-negative whole numbers.

    The values become one pickle (a MARK, each value's list-building opcodes, LIST), so one
    C-level ``loads`` decodes every posting of a term.
    """
    stream = b"".join((b"\x80\x02(", *[v[4:-1] if v[-1:] == b"." else v[4:] for v in values],
                       b"l."))
    try:
        lists = loads(stream)
        counts = array("I", map(len, lists))
        flat = list(chain.from_iterable(lists))
        try:
            deltas = array("H", flat)
        except OverflowError:
            deltas = array("I", flat)
    except (UnpicklingError, TypeError, ValueError, OverflowError, EOFError, IndexError):
        return None
    return (counts, deltas) if len(counts) == len(values) else None


def temp_path(folder: str, segment_id: str, suffix: str = SUFFIX) -> str:
    """Where the file (``suffix``: :data:`SUFFIX` or :data:`POS_SUFFIX`) of a segment being
    written goes until :func:`finish`."""
    temp = _TEMP_SUFFIX if suffix == SUFFIX else _POS_TEMP_SUFFIX
    return os.path.join(folder, segment_id + temp)


def finish(folder: str, segment_id: str, suffix: str = SUFFIX) -> None:
    """Give a written segment's file its final name (after Whoosh assembled the segment)."""
    os.replace(temp_path(folder, segment_id, suffix), os.path.join(folder, segment_id + suffix))


class _Entries:
    """One segment's file of entries keyed by postings-file offset.

    The directory is memory-mapped (a lookup touches a few of its pages); the entries are
    read with ``pread``, so that the lists a session reads stay in the page cache and do
    not count as the process's own memory (a one-letter prefix at 100,000 articles reads
    much of 390 MB of them).
    """

    magic = MAGIC

    def __init__(self, data: Any, fd: int = -1) -> None:
        # The directory is at the end (written last); its size follows from count.
        magic = self.magic
        tail = len(magic) + _HEAD.size
        if len(data) < tail or data[-tail:-_HEAD.size] != magic:
            raise ValueError("not a posting-list file of this release")
        count, crc = _HEAD.unpack(data[-_HEAD.size:])
        size = count * 8 + (count + 1) * 8 + count * 4
        start = len(data) - tail - size
        if start < 0:
            raise ValueError("posting-list file too short (damaged)")
        view = memoryview(data)
        if zlib.crc32(view[start:start + size]) != crc:
            raise ValueError("posting-list file fails its checksum (damaged)")
        self._data = data
        self._fd = fd
        self._offsets = view[start:start + count * 8].cast("Q")
        self._starts = view[start + count * 8:start + count * 8 + (count + 1) * 8].cast("Q")
        self._crcs = view[start + size - count * 4:start + size].cast("I")
        if count and self._starts[count] != start:
            raise ValueError("posting-list file's directory does not match its entries")

    def __len__(self) -> int:
        return len(self._offsets)

    def _entry(self, offset: int) -> bytes | None:
        """The checked bytes of the entry of the term whose postings start at ``offset`` in
        the segment's postings file (None: no such term); ValueError if damaged."""
        index = bisect_left(self._offsets, offset)
        if index == len(self._offsets) or self._offsets[index] != offset:
            return None
        start, end = self._starts[index], self._starts[index + 1]
        data = (os.pread(self._fd, end - start, start) if self._fd >= 0
                else self._data[start:end])
        if len(data) != end - start:
            raise ValueError("a posting list is cut short")
        if zlib.crc32(data) != self._crcs[index]:
            raise ValueError("a posting list fails its checksum")
        return data


class PostingLists(_Entries):
    """One segment's posting lists; :meth:`get` reads a term's entry."""

    def get(self, offset: int
            ) -> tuple[array[int], array[float], list[tuple[int, int]]] | None:
        """Docnums, weights and ``(position, last docnum)`` of each block of the term whose
        postings start at ``offset`` in the segment's postings file (None: no such term).

        Raises ValueError when the entry fails its checksum.
        """
        data = self._entry(offset)
        if data is None:
            return None
        n, nblocks = _ENTRY.unpack_from(data)
        at = _ENTRY.size
        ids = array("I")
        ids.frombytes(data[at:at + 4 * n])
        at += 4 * n
        weights = array("f")
        weights.frombytes(data[at:at + 4 * n])
        at += 4 * n
        positions = array("Q")
        positions.frombytes(data[at:at + 8 * nblocks])
        at += 8 * nblocks
        maxids = array("I")
        maxids.frombytes(data[at:at + 4 * nblocks])
        return ids, weights, list(zip(positions, maxids, strict=True))


class PositionLists(_Entries):
    """One segment's positions file; :meth:`get` reads a term's entry."""

    magic = POS_MAGIC

    def get(self, offset: int) -> tuple[array[int], array[int]] | None:
        """Each posting's position count and the position deltas (each posting's first one
        from 0), in posting order, of the term whose postings start at ``offset`` (None: it
        has no entry). Raises ValueError when the entry is damaged."""
        data = self._entry(offset)
        if data is None:
            return None
        n, total, width = _POS_ENTRY.unpack_from(data)
        at = _POS_ENTRY.size
        if width not in (2, 4) or len(data) != at + 4 * n + width * total:
            raise ValueError("a positions entry has the wrong length")
        counts = array("I")
        counts.frombytes(data[at:at + 4 * n])
        deltas = array("H" if width == 2 else "I")
        deltas.frombytes(data[at + 4 * n:])
        return counts, deltas


def open_lists(folder: str, segment_id: str) -> PostingLists | None:
    """The posting lists of one segment, or None when it has no (readable) file."""
    return _open(PostingLists, folder, segment_id + SUFFIX)


def open_positions(folder: str, segment_id: str) -> PositionLists | None:
    """The positions of one segment's terms, or None when it has no (readable) file."""
    return _open(PositionLists, folder, segment_id + POS_SUFFIX)


_E = TypeVar("_E", bound=_Entries)


def _open(kind: type[_E], folder: str, name: str) -> _E | None:
    if not _LITTLE:  # pragma: no cover
        return None
    path = os.path.join(folder, name)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        if os.fstat(fd).st_size == 0:
            os.close(fd)
            return None
        data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        lists = kind(data, fd)
    except (ValueError, OSError):
        os.close(fd)
        return None
    # The descriptor lives as long as the lists (it is what get() reads through).
    weakref.finalize(lists, os.close, fd)
    return lists
