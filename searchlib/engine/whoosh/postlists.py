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

While a segment is written the file is named ``<segment id>docs.tmp``: Whoosh's compound
file takes every file named ``<segment id>.*`` into the segment, so the file gets its final
name only after that (:func:`finish`). The temporary name still reads, to Whoosh's
clean-up, as a file of a segment no table of contents names (``MAIN_<letters and
digits>.<ending>``), so a build that dies in between leaves nothing that outlives the next
commit or discarded batch, as with the segment's own files.
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
from typing import Any

__all__ = ["SUFFIX", "PostingLists", "Sink", "finish", "open_lists", "temp_path"]

#: Ending of the file beside each segment.
SUFFIX = ".docs"
_TEMP_SUFFIX = "docs.tmp"
MAGIC = b"SLDOCS1\n"
_HEAD = struct.Struct("<II")
_ENTRY = struct.Struct("<II")
# The entry of a term of one posting in one block, the commonest: n, nblocks, docnum,
# weight, block position, last docnum.
_ONE = struct.Struct("<IIIfQI")
#: Whether this machine reads the little-endian arrays as they are.
_LITTLE = sys.byteorder == "little"


class Sink:
    """Collects one segment's posting lists while the flush writes them, into a file.

    The entries go to the file as they come (a merge writes millions of postings), and the
    directory, which is small, is kept in memory until :meth:`close`.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close() or abort()
        self._offsets = array("Q")
        self._starts = array("Q", [0])
        self._crcs = array("I")
        self._at = 0

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
        self._file.write(MAGIC + _HEAD.pack(len(self._offsets), zlib.crc32(body)))
        self._file.close()

    def abort(self) -> None:
        """Forget the file (the segment is not being written after all)."""
        self._file.close()
        # A discarded batch's clean-up may have removed it first.
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def temp_path(folder: str, segment_id: str) -> str:
    """Where the file of a segment being written goes until :func:`finish`."""
    return os.path.join(folder, segment_id + _TEMP_SUFFIX)


def finish(folder: str, segment_id: str) -> None:
    """Give a written segment's file its final name (after Whoosh assembled the segment)."""
    os.replace(temp_path(folder, segment_id), os.path.join(folder, segment_id + SUFFIX))


class PostingLists:
    """One segment's file; :meth:`get` reads a term's entry.

    The directory is memory-mapped (a lookup touches a few of its pages); the entries are
    read with ``pread``, so that the lists a session reads stay in the page cache and do
    not count as the process's own memory (a one-letter prefix at 100,000 articles reads
    much of 390 MB of them).
    """

    def __init__(self, data: Any, fd: int = -1) -> None:
        # The directory is at the end (written last); its size follows from count.
        tail = len(MAGIC) + _HEAD.size
        if len(data) < tail or data[-tail:-_HEAD.size] != MAGIC:
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

    def get(self, offset: int
            ) -> tuple[array[int], array[float], list[tuple[int, int]]] | None:
        """Docnums, weights and ``(position, last docnum)`` of each block of the term whose
        postings start at ``offset`` in the segment's postings file (None: no such term).

        Raises ValueError when the entry fails its checksum.
        """
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


def open_lists(folder: str, segment_id: str) -> PostingLists | None:
    """The posting lists of one segment, or None when it has no (readable) file."""
    if not _LITTLE:  # pragma: no cover
        return None
    path = os.path.join(folder, segment_id + SUFFIX)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        if os.fstat(fd).st_size == 0:
            os.close(fd)
            return None
        data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        lists = PostingLists(data, fd)
    except (ValueError, OSError):
        os.close(fd)
        return None
    # The descriptor lives as long as the lists (it is what get() reads through).
    weakref.finalize(lists, os.close, fd)
    return lists
