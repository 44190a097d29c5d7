"""Bitsets of documents: Python ints with bit ``d`` set for docnum ``d``.

Facet values, filters and query results are sets of docnums; as Python ints they AND, OR and
popcount in C with no import. These helpers convert them from and to docnum lists, numpy bool
arrays and little-endian bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["bits_of", "bits_to_mask", "has_bit", "iter_bits", "mask_to_bits"]


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


def has_bit(bits: bytes, docnum: int) -> bool:
    """Is bit ``docnum`` set in the little-endian bitset ``bits``?"""
    return bool(bits[docnum >> 3] >> (docnum & 7) & 1)
