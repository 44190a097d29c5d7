"""The terms of the searchable fields, sorted, for expanding fuzzy, wildcard and prefix terms.

Whoosh expands ``khomeni~2`` by walking a Levenshtein automaton over its term files, and
``b*`` or ``*ism`` by matching a regular expression against every term it reads back, one
Python step per term: seconds on 10,000 articles, minutes for a query of twenty fuzzy terms.
This module keeps, per searchable field, every term of the index in one sorted list with its
document frequency, and expands

* a prefix (``pre*``) by bisecting the sorted list;
* a wildcard pattern by one regular expression run over the terms joined by newlines (one
  C-level scan, restricted by bisection to the pattern's literal prefix when it has one);
* a fuzzy term by rapidfuzz's C implementation of the Levenshtein distance over the terms
  sharing the required prefix, with a cut-off at the wanted distance.

Every expansion keeps at most a given number of terms: the closest, then the most frequent.

Storage: at commit each segment's terms are saved beside it in the Whoosh folder
(``MAIN_<id>.terms``, deleted by Whoosh with the segment), and all of them merged into
``terms.bin`` beside the facet data, which a search loads in a few milliseconds. A commit
reads the terms of the segments it added only; the merge of the stored lists is in memory.
Both files end with a CRC-32; a damaged, missing or stale one is rebuilt from the index.
The Whoosh index itself is read through the reader object the caller passes in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...atomic import write_atomic
from ...layout import index_paths
from .storage import open_storage

__all__ = ["SEGMENT_SUFFIX", "TERMS_FILE", "Expansion", "FieldTerms", "Lexicon", "build", "load",
           "merge", "segment_path", "write"]

#: The file beside the Whoosh folder holding the sorted terms of the whole index.
TERMS_FILE = "terms.bin"
#: Ending of the file of one segment's terms (see :func:`segment_path`).
SEGMENT_SUFFIX = ".terms"
_VERSION = 2
_MAGIC = b"SLTERMS2"
_HEADER = struct.Struct("<I")
#: Expansions remembered per field (then forgotten all at once).
_REMEMBERED = 1024


@dataclass(frozen=True)
class Expansion:
    """The terms a fuzzy, wildcard or prefix term stands for, as far as they were kept."""

    terms: tuple[str, ...]
    """The kept terms: the closest (fuzzy), then the most frequent in the index."""
    found: int
    """How many terms of the field matched before the cap (``len(terms)`` if none was cut)."""

    @property
    def cut(self) -> bool:
        """Whether terms were left out to stay within the cap."""
        return self.found > len(self.terms)


class FieldTerms:
    """Every term of one field, sorted, with the number of documents holding each."""

    def __init__(self, terms: list[str], freqs: Sequence[int]) -> None:
        if len(terms) != len(freqs):
            raise ValueError("terms and frequencies differ in length")
        self.terms = terms
        self.freqs = freqs
        self._joined: str | None = None
        # Expansions already made (a query is often run again: paging, the TUI's typing).
        self._made: dict[tuple[Any, ...], Expansion] = {}

    def __len__(self) -> int:
        return len(self.terms)

    def _range(self, prefix: str) -> tuple[int, int]:
        """The slice of :attr:`terms` starting with ``prefix``."""
        lo = bisect_left(self.terms, prefix)
        # Every string starting with the prefix sorts before prefix + the last code point.
        hi = bisect_left(self.terms, prefix + "\U0010ffff", lo) if prefix else len(self.terms)
        return lo, hi

    def _remembered(self, key: tuple[Any, ...], make: Any) -> Expansion:
        found = self._made.get(key)
        if found is None:
            if len(self._made) >= _REMEMBERED:
                self._made.clear()
            found = self._made[key] = make()
        return found

    def prefix(self, prefix: str, cap: int) -> Expansion:
        """The terms starting with ``prefix``."""
        return self._remembered(("prefix", prefix, cap), lambda: self._prefix(prefix, cap))

    def _prefix(self, prefix: str, cap: int) -> Expansion:
        lo, hi = self._range(prefix)
        return self._cap(list(range(lo, hi)), cap)

    def wildcard(self, pattern: str, cap: int) -> Expansion:
        """The terms matching ``pattern``, where ``*`` is any run of characters and ``?``
        one character (the caller bounds the number of wildcards)."""
        return self._remembered(("wildcard", pattern, cap),
                                lambda: self._wildcard(pattern, cap))

    def _wildcard(self, pattern: str, cap: int) -> Expansion:
        literal = re.match(r"[^*?]*", pattern)
        head = literal.group() if literal else ""
        body = "".join("[^\n]*" if ch == "*" else "[^\n]" if ch == "?" else re.escape(ch)
                       for ch in pattern)
        regex = re.compile(f"^{body}$", re.MULTILINE)
        lo, hi = self._range(head)
        if head:
            text = "\n".join(self.terms[lo:hi])
        else:
            if self._joined is None:
                self._joined = "\n".join(self.terms)
            text = self._joined
        found = [bisect_left(self.terms, m.group(), lo, hi) for m in regex.finditer(text)]
        return self._cap(found, cap)

    def fuzzy(self, text: str, maxdist: int, prefixlength: int, cap: int) -> Expansion:
        """The terms within ``maxdist`` edits (insert, delete, substitute, swap two neighbours:
        the optimal string alignment distance, computed exactly over every term) of
        ``text`` that share its first ``prefixlength`` characters."""
        return self._remembered(("fuzzy", text, maxdist, prefixlength, cap),
                                lambda: self._fuzzy(text, maxdist, prefixlength, cap))

    def _fuzzy(self, text: str, maxdist: int, prefixlength: int, cap: int) -> Expansion:
        # Imported here: only fuzzy queries need it, not a build writing the term list.
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        lo, hi = self._range(text[:prefixlength])
        matches = process.extract(text, self.terms[lo:hi], scorer=OSA.distance,
                                  score_cutoff=maxdist, limit=None)
        found = [(lo + index, int(distance)) for _, distance, index in matches]
        return self._order(found, cap)

    def between(self, start: str | None, end: str | None, startexcl: bool, endexcl: bool,
                cap: int) -> Expansion:
        """The terms from ``start`` to ``end`` (None: open), each end included unless
        excluded (a range ``[a TO b]``, ``{a TO b}``)."""
        return self._remembered(("range", start, end, startexcl, endexcl, cap),
                                lambda: self._between(start, end, startexcl, endexcl, cap))

    def _between(self, start: str | None, end: str | None, startexcl: bool, endexcl: bool,
                 cap: int) -> Expansion:
        lo = 0 if start is None else (bisect_right if startexcl else bisect_left)(
            self.terms, start)
        hi = len(self.terms) if end is None else (bisect_left if endexcl else bisect_right)(
            self.terms, end)
        return self._cap(list(range(lo, max(lo, hi))), cap)

    def _cap(self, indexes: list[int], cap: int) -> Expansion:
        return self._order([(i, 0) for i in indexes], cap)

    def _order(self, found: list[tuple[int, int]], cap: int) -> Expansion:
        """The ``cap`` closest, then most frequent, of ``found`` ((index, distance) pairs)."""
        count = len(found)
        if count > cap:
            found = sorted(found, key=lambda f: (f[1], -self.freqs[f[0]], f[0]))[:cap]
        found.sort()
        return Expansion(tuple(self.terms[i] for i, _ in found), count)


class Lexicon:
    """The sorted terms of each searchable field of one committed index state."""

    def __init__(self, key: dict[str, Any], fields: dict[str, FieldTerms]) -> None:
        self.key = key
        self.fields = fields

    def field(self, name: str) -> FieldTerms:
        """The terms of field ``name`` (an empty list for a field without terms)."""
        return self.fields.get(name) or FieldTerms([], [])


#: A record of Whoosh's terms file (``whoosh.filedb.filetables``): key and value lengths.
_RECORD = struct.Struct("!ii")
#: The start of a W3 term info: flags, total weight, document frequency.
_TERM_INFO = struct.Struct("!BfI")
_FIELD_NUMBER = struct.Struct("!H")


def _segment_terms(leaf: Any, fieldnames: set[str]) -> Iterable[tuple[str, bytes, int]]:
    """``(field, term, document frequency)`` of every term of ``fieldnames`` in one segment.

    Reads the segment's terms file (Whoosh's W3 codec) in one piece and walks its records:
    Whoosh's own ``iter_field`` decodes a term info object per term, ~140 microseconds each
    (3 s for the 22,000 terms of 10,000 articles). Other codecs go through ``iter_field``.
    """
    tindex = getattr(getattr(leaf, "_terms", None), "_tindex", None)
    fieldmap = getattr(getattr(leaf, "_terms", None), "_fieldmap", None)
    if tindex is None or fieldmap is None or not hasattr(tindex, "startofdata"):
        for name in fieldnames:
            if name in leaf.schema:
                for btext, info in leaf.iter_field(name):
                    yield name, btext, info.doc_frequency()
        return
    record, info, number = _RECORD.unpack_from, _TERM_INFO.unpack_from, _FIELD_NUMBER.unpack_from
    size, end = _RECORD.size, tindex.endofdata
    for name, num in sorted(fieldmap.items(), key=lambda item: item[1]):
        if name not in fieldnames:
            continue
        # Keys sort by field number, then term: a field's terms are one run of records,
        # found by the file's own binary search (ids, paths and dates are never read).
        start = tindex.closest_key_pos(_FIELD_NUMBER.pack(num))
        if start is None:
            continue
        data = tindex.dbfile.get(start, end - start)
        pos = 0
        while pos < len(data):
            keylen, datalen = record(data, pos)
            keypos = pos + size
            if number(data, keypos)[0] != num:
                break
            yield name, data[keypos + 2:keypos + keylen], info(data, keypos + keylen)[2]
            pos = keypos + keylen + datalen


def _read_segment(leaf: Any, names: set[str]) -> dict[str, FieldTerms]:
    """The sorted terms of ``names`` in one segment, with their document frequencies."""
    freqs: dict[str, dict[str, int]] = {name: {} for name in names}
    for name, btext, df in _segment_terms(leaf, names):
        term = btext.decode("utf-8")
        if "\n" not in term:  # the separator of the stored form; tokens never hold one
            field = freqs[name]
            field[term] = field.get(term, 0) + df
    out: dict[str, FieldTerms] = {}
    for name in sorted(names):
        terms = sorted(freqs[name])
        out[name] = FieldTerms(terms, array("I", (freqs[name][t] for t in terms)))
    return out


def _segment_key(leaf: Any) -> dict[str, Any] | None:
    """What names one segment's terms: its id and size (None: not a stored segment)."""
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    if segment is None:
        return None
    return {"segment": segment.segment_id(), "documents": leaf.doc_count_all()}


def segment_path(whoosh_dir: str | os.PathLike[str], segment_id: str) -> Path:
    """The file of one segment's terms, beside the segment in the Whoosh folder.

    Its name matches Whoosh's pattern for the segment's own files, so Whoosh deletes it with
    them when a merge or a rebuild retires the segment, and a staged rebuild carries it.
    """
    return Path(whoosh_dir) / f"{segment_id}{SEGMENT_SUFFIX}"


def _segment_terms_of(leaf: Any, names: set[str], whoosh_dir: Path | None, store: bool
                      ) -> dict[str, FieldTerms]:
    """One segment's terms: from its stored file when whole, else read from the segment
    (and, with ``store``, saved for the next time)."""
    key = _segment_key(leaf)
    if key is None or whoosh_dir is None:
        return _read_segment(leaf, names)
    path = segment_path(whoosh_dir, key["segment"])
    try:
        stored = loads(path.read_bytes())
    except (OSError, ValueError):
        stored = None
    if stored is not None and stored.key == key and names <= stored.fields.keys():
        return stored.fields
    fields = _read_segment(leaf, names)
    if store:
        with contextlib.suppress(OSError):  # a read-only index: read again next time
            _save(path, Lexicon(key, fields))
    return fields


def merge(parts: Sequence[dict[str, FieldTerms]], names: Iterable[str], key: dict[str, Any]
          ) -> Lexicon:
    """One lexicon of the segments' terms ``parts``, document frequencies added up."""
    fields: dict[str, FieldTerms] = {}
    for name in sorted(names):
        runs = [part[name] for part in parts if name in part and len(part[name])]
        if len(runs) == 1:
            fields[name] = runs[0]
            continue
        total: dict[str, int] = {}
        get = total.get
        for run in runs:
            for term, df in zip(run.terms, run.freqs, strict=True):
                total[term] = get(term, 0) + df
        terms = sorted(total)
        fields[name] = FieldTerms(terms, array("I", map(total.__getitem__, terms)))
    return Lexicon(key, fields)


def build(reader: Any, fieldnames: Iterable[str], key: dict[str, Any], *,
          whoosh_dir: str | os.PathLike[str] | None = None, store: bool = False) -> Lexicon:
    """The terms of ``fieldnames`` in every segment of a Whoosh ``reader``.

    With ``whoosh_dir`` each segment's terms come from its stored file when it has a whole
    one (see :func:`segment_path`), and ``store`` saves those read from a segment: a commit
    reads only the segments it added.
    """
    names = set(fieldnames)
    folder = Path(whoosh_dir) if whoosh_dir is not None else None
    parts = [_segment_terms_of(leaf, names, folder, store)
             for leaf, _offset in reader.leaf_readers()]
    return merge(parts, names, key)


def dumps(lexicon: Lexicon) -> bytes:
    """Serialise ``lexicon``: a JSON header, then per field its terms joined by newlines
    and their frequencies (little-endian uint32), all compressed, then a CRC-32."""
    blobs: list[bytes] = []
    spans: dict[str, list[int]] = {}
    for name, field in lexicon.fields.items():
        text = "\n".join(field.terms).encode("utf-8")
        freqs = array("I", field.freqs)
        if sys.byteorder != "little":
            freqs.byteswap()
        spans[name] = [len(field.terms), len(text), len(freqs) * freqs.itemsize]
        blobs += [text, freqs.tobytes()]
    header = json.dumps({"version": _VERSION, "key": lexicon.key, "fields": spans}).encode()
    payload = _MAGIC + zlib.compress(_HEADER.pack(len(header)) + header + b"".join(blobs), 1)
    return payload + zlib.crc32(payload).to_bytes(4, "little")


def loads(blob: bytes) -> Lexicon:
    """Read what :func:`dumps` wrote (raises ValueError if it is not that, or if it fails
    its checksum)."""
    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 4:
        raise ValueError("not a terms file of this release")
    payload = blob[:-4]
    if zlib.crc32(payload) != int.from_bytes(blob[-4:], "little"):
        raise ValueError("terms file fails its checksum (damaged)")
    try:
        data = memoryview(zlib.decompress(payload[len(_MAGIC):]))
        (size,) = _HEADER.unpack_from(data)
        header = json.loads(bytes(data[_HEADER.size:_HEADER.size + size]))
        if header.get("version") != _VERSION:
            raise ValueError("terms file of another version")
        pos = _HEADER.size + size
        fields: dict[str, FieldTerms] = {}
        for name, (count, text_len, freq_len) in header["fields"].items():
            text = bytes(data[pos:pos + text_len]).decode("utf-8")
            pos += text_len
            freqs = array("I")
            freqs.frombytes(data[pos:pos + freq_len])
            pos += freq_len
            if sys.byteorder != "little":
                freqs.byteswap()
            terms = text.split("\n") if count else []
            if len(terms) != count or len(freqs) != count:
                raise ValueError("terms file is inconsistent")
            fields[name] = FieldTerms(terms, freqs)
    except (zlib.error, struct.error, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable terms file ({type(exc).__name__})") from None
    return Lexicon(header["key"], fields)


def _path(index_dir: str | os.PathLike[str]) -> Path:
    return Path(index_dir) / TERMS_FILE


def load(index_dir: str | os.PathLike[str], key: dict[str, Any]) -> Lexicon | None:
    """The stored terms of ``index_dir`` if they describe the index state ``key``."""
    try:
        lexicon = loads(_path(index_dir).read_bytes())
    except (OSError, ValueError):
        return None  # missing, damaged or from another release: rebuilt in memory instead
    return lexicon if lexicon.key == key else None


def _save(path: Path, lexicon: Lexicon) -> Path:
    """Write ``lexicon`` to ``path`` atomically (two searches saving at once cannot mix
    their bytes)."""
    write_atomic(path, dumps(lexicon))
    return path


def save(index_dir: str | os.PathLike[str], lexicon: Lexicon) -> Path:
    """Store ``lexicon``, the terms of the whole index, in ``index_dir`` atomically."""
    return _save(_path(index_dir), lexicon)


def write(index_dir: str | os.PathLike[str], fieldnames: Iterable[str],
          key_of: Any) -> Path:
    """Store the terms of the committed index at ``index_dir``: those of each segment that
    has no stored terms yet (after an update, only the new segments are read), and all of
    them merged, the file searches load.

    ``key_of(reader)`` names the index state (see
    :func:`searchlib.engine.whoosh.facetstore.index_key`).
    Call it after the final commit of a build; until it runs searches build the same list
    in memory (and store it), so the files only ever save time.
    """
    whoosh_dir, _, _ = index_paths(index_dir)
    ix = open_storage(whoosh_dir).open_index()
    try:
        with ix.reader() as reader:
            lexicon = build(reader, fieldnames, key_of(reader), whoosh_dir=whoosh_dir,
                            store=True)
    finally:
        ix.close()
    return save(index_dir, lexicon)
