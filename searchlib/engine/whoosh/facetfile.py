"""The file of an index's facet data, ``facets.bin``: its format, checksum, reading, writing.

Format (version 3): the magic line ``SLFACETS2\\n``, a 4-byte little-endian header length, a
JSON header, then one zlib stream holding every bitset (little-endian bytes of
``ceil(size / 8)`` each), the dated documents (``uint32`` docnums then ``int64`` raw date
values, little-endian) and, for indexes of :data:`~.facetdata.DENSE_MIN_DOCS` documents or
more, the docnums of each kind's rare values (``uint32``, with a count per value; the header
lists the values), then the CRC-32 of everything before it. Extracting those docnums from the
bitsets takes ~0.15 s at 100,000 articles, so the file keeps them. Sparse bitsets compress to
almost nothing.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

from .facetdata import FacetData, StoredRare

__all__ = ["FACETS_FILE", "dumps", "facets_path", "loads", "stored", "verify"]

#: File name of the stored facet data inside an index directory.
FACETS_FILE = "facets.bin"

# Files of format 3 and later start with _MAGIC and end with the CRC-32 of everything before
# it: a changed byte anywhere (two facet values' entries swapped, a digit changed) made
# filters and counts silently wrong before. Files without one (older releases) are not used:
# the data is computed from the index instead and the next `search index` rewrites the file.
_MAGIC = b"SLFACETS2\n"
_OLD_MAGIC = b"SLFACETS1\n"
_FORMAT = 3
_READABLE = (3,)


def facets_path(index_dir: str | os.PathLike[str]) -> Path:
    """Where the facet file of the index at ``index_dir`` is."""
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
        blob = facets_path(index_dir).read_bytes()
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
    rare: dict[str, StoredRare] = {
        kind: ([str(name) for name in names], get(docs), get(lengths))
        for kind, (names, docs, lengths) in header.get("rare", {}).items()}
    for kind, (names, docs, lengths) in rare.items():
        if (len(docs) % 4 or len(lengths) != 4 * len(names)
                or not set(names) <= values.get(kind, {}).keys()):
            raise ValueError("facet file docnum lists are inconsistent")
    return FacetData(header["key"], size, live, values, dict(zip(docnums, raws, strict=True)),
                     rare)


def stored(index_dir: str | os.PathLike[str]) -> FacetData | None:
    """The facet data stored at ``index_dir``, whatever index state it describes."""
    try:
        return loads(facets_path(index_dir).read_bytes())
    except (OSError, ValueError, KeyError, TypeError, IndexError, zlib.error):
        return None
