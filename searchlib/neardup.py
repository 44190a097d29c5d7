"""Near-duplicate articles: MinHash signatures over word shingles, grouped by LSH banding.

Exact copies are merged at index time by content hash; this finds the *near* copies (a wire
story re-posted with another headline, chrome or a changed sentence, the same page saved twice
with different boilerplate). Each article's cleaned body becomes the set of its 5-word
shingles; a 64-value MinHash signature estimates the Jaccard similarity of two such sets as
the share of equal values. Signatures are cut into 16 bands of 4 values: two articles sharing a
band are candidates, and candidates whose estimated similarity reaches :data:`THRESHOLD` are
near-duplicates. Groups are the connected components of that relation.

Why not ``datasketch``: it hashes every shingle with its own Python call and then runs each
of the ``NUM_PERM`` permutations over all of them; on the same texts it took 4.4 times as long
as this version (``python bench/neardup.py``), and scipy would have become a dependency. The
method is the same (Broder's MinHash, banded LSH), here with one-permutation hashing (see
:func:`signature`) on numpy arrays, and fixed hash functions so signatures are stable across
runs and machines and can be kept on disk.

The threshold and its measured precision on labelled pairs: ``python bench/neardup.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import compress, count
from operator import not_
from pathlib import Path
from typing import Any

import numpy as np

from .neargroups import (
    GROUPS_FILE,
    NearDuplicateGroup,
    load_groups,
    members_of,
    read_groups_file,
)

__all__ = ["BANDS", "GROUPS_FILE", "NUM_PERM", "SHINGLE", "THRESHOLD", "NearDuplicateGroup",
           "decode", "encode", "group", "groups_json", "jaccard", "load_groups", "members_of",
           "refresh", "shingles", "signature", "similarity"]



#: Words per shingle.
SHINGLE = 5
#: MinHash values per signature.
NUM_PERM = 64
#: LSH bands (NUM_PERM / BANDS values each).
BANDS = 16
#: Estimated Jaccard similarity of the shingle sets from which two articles are copies.
THRESHOLD = 0.5
# Articles shorter than this many words are not grouped: a few shared sentences are not a copy.
MIN_WORDS = 30

_WORD = re.compile(r"\w+")
_MULT = np.uint64(0x100000001B3)  # FNV prime: mixes the word hashes of a shingle
_BIN_SHIFT = np.uint64(64 - 6)  # the top 6 bits choose one of NUM_PERM = 64 bins
_VALUE_MASK = np.uint64((1 << 58) - 1)
_EMPTY = np.uint64(1 << 58)  # larger than any value: marks a bin no shingle fell into
_WORD_MARK = np.uint64(1 << 32)  # set in every word's value (a CRC-32 fills the low 32 bits)


# Bytes of UTF-8 text -> an ASCII byte lower-cased if it is a word character (what ``\w``
# matches in ASCII: letters, digits, "_"), another ASCII byte a space; the bytes of other
# characters stay (whether those are word characters is left to the regex).
_WORD_BYTES = bytes(
    (b | 0x20) if chr(b).isupper() else b if chr(b).isalnum() or b == 0x5F else 0x20
    for b in range(128)
) + bytes(range(128, 256))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _word_keys(text: str) -> list[bytes]:
    """The words of ``text`` as :func:`_words` gives them, in UTF-8 (what a word's hash is
    computed from).

    One translation of the text's bytes and a split on spaces, twice as fast as the regex;
    only the pieces holding other than ASCII (in news text, a few words next to curly quotes
    or dashes) are split by the regex itself.
    """
    lowered = text.lower()
    words = lowered.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split()
    if lowered.isascii():
        return words
    out: list[bytes] = []
    done = 0
    for k in compress(count(), map(not_, map(bytes.isascii, words))):
        out += words[done:k]
        out += (w.encode("utf-8", "surrogatepass")
                for w in _WORD.findall(words[k].decode("utf-8", "surrogatepass")))
        done = k + 1
    out += words[done:]
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit (the bins and
    values below are read from different bits of one hash)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def _shingle_hashes(text: str) -> np.ndarray:
    words = _word_keys(text)
    if len(words) < MIN_WORDS:
        return np.zeros(0, dtype=np.uint64)
    # The words' CRC-32s, by a C-level map straight into the array: a memo of them (a dict
    # of words) cost more, since looking a fresh word up hashes it first anyway.
    values = np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words)) | _WORD_MARK
    n = len(values) - SHINGLE + 1
    with np.errstate(over="ignore"):
        hashed = values[:n].copy()
        for offset in range(1, SHINGLE):
            hashed = hashed * _MULT + values[offset:offset + n]
    return _mix(hashed)


def shingles(text: str) -> set[str]:
    """The set of ``SHINGLE``-word shingles of ``text`` (for exact Jaccard, in tests)."""
    words = _words(text)
    return {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of the shingle sets of two texts."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def signature(text: str) -> bytes | None:
    """The MinHash signature of ``text`` (``NUM_PERM`` 32-bit values), or None when the text
    is too short to be grouped.

    One-permutation hashing: each shingle's hash falls in one of ``NUM_PERM`` bins (its top
    bits) and a bin keeps its smallest value; bins no shingle reached borrow the next
    non-empty bin's value ("rotation" densification, Shrivastava & Li 2014), so that two
    signatures agree in a bin with probability equal to the Jaccard similarity, as with
    ``NUM_PERM`` separate permutations, for one hash per shingle instead of ``NUM_PERM``.
    """
    hashes = _shingle_hashes(text)
    if not len(hashes):
        return None
    bins = (hashes >> _BIN_SHIFT).astype(np.intp)
    values = hashes & _VALUE_MASK
    sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, bins, values)
    empty = sig == _EMPTY
    if empty.any():
        filled = np.flatnonzero(~empty)
        # For each bin, the first non-empty bin at or after it (circularly), and how far.
        after = np.searchsorted(filled, np.arange(NUM_PERM))
        source = filled[after % len(filled)]
        distance = (source - np.arange(NUM_PERM)) % NUM_PERM
        # The distance is mixed in so that two documents agree on a borrowed value only
        # when they borrowed it from the same bin.
        sig = np.where(empty, sig[source] + distance.astype(np.uint64) * _EMPTY, sig)
    # 32 bits of a mixed value are plenty to tell bins apart and halve what is stored.
    return (_mix(sig) & np.uint64(0xFFFFFFFF)).astype("<u4").tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal values)."""
    return float(np.mean(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4")))


def group(signatures: Mapping[str, bytes], order: Sequence[str] | None = None,
          threshold: float = THRESHOLD) -> list[NearDuplicateGroup]:
    """Group document ids whose signatures are at least ``threshold`` similar.

    ``order`` ranks ids for choosing each group's representative (first wins); by default
    the smallest id. Groups come in the order of their representatives.
    """
    rank = {doc: i for i, doc in enumerate(order)} if order is not None else {}
    width = NUM_PERM // BANDS * 4  # bytes of a band
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    checked: set[tuple[str, str]] = set()
    joined: set[str] = set()
    for band in range(BANDS):
        # One band's buckets at a time: all sixteen at once held 1.6 million keys at
        # 100,000 articles, about 600 MB at the very end of a build. The components found
        # do not depend on the order in which the pairs are joined.
        start = band * width
        buckets: dict[bytes, list[str]] = {}
        for doc, sig in signatures.items():
            buckets.setdefault(sig[start:start + width], []).append(doc)
        for members in buckets.values():
            if len(members) < 2:
                continue
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    pair = (a, b) if a < b else (b, a)
                    if pair in checked:
                        continue
                    checked.add(pair)
                    if similarity(signatures[a], signatures[b]) >= threshold:
                        ra, rb = find(a), find(b)
                        if ra != rb:
                            parent[max(ra, rb)] = min(ra, rb)
                        joined.update(pair)
    components: dict[str, list[str]] = {}
    for doc in joined:
        components.setdefault(find(doc), []).append(doc)
    groups = []
    for members in components.values():
        members = sorted(set(members), key=lambda d: (rank.get(d, len(rank)), d))
        head = signatures[members[0]]
        low = min(similarity(head, signatures[m]) for m in members[1:])
        groups.append(NearDuplicateGroup(tuple(members), round(low, 3)))
    groups.sort(key=lambda g: (rank.get(g.ids[0], len(rank)), g.ids[0]))
    return groups


def encode(sig: bytes) -> str:
    """A signature as text (for the stored ``info`` JSON and the groups file)."""
    return base64.b64encode(sig).decode("ascii")


def decode(text: str) -> bytes | None:
    """The signature ``encode`` wrote, or None if it is not one."""
    try:
        sig = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
    return sig if len(sig) == NUM_PERM * 4 else None


def refresh(index_dir: str | os.PathLike[str], documents: Mapping[str, str],
            stored: Callable[[str, str], tuple[str | None, str | None]],
            arrived: Mapping[str, str] | None = None) -> int:
    """Recompute the groups of an index after a build; return how many there are.

    ``documents`` maps each indexed document id to its content hash; ``stored(doc_id,
    content_hash)`` returns its encoded signature and publication date (ISO); ``arrived``
    maps ids to when they were first indexed (ISO), which decides between equally dated
    members which one represents the group (the first indexed: the original). Only
    documents whose content hash is new are asked for: the others' signatures are kept in
    the groups file from the previous build.
    """
    base = Path(index_dir)
    old = read_groups_file(base).get("documents", {})
    known: dict[str, Any] = old if isinstance(old, dict) else {}
    kept: dict[str, list[str | None]] = {}
    for doc, content in documents.items():
        previous = known.get(content)
        if isinstance(previous, list) and len(previous) == 2:
            kept[content] = previous
        else:
            kept[content] = list(stored(doc, content))
    signatures: dict[str, bytes] = {}
    published: dict[str, str] = {}
    for doc, content in documents.items():
        encoded, date = kept[content]
        sig = decode(encoded) if encoded else None
        if sig is not None:
            signatures[doc] = sig
            published[doc] = date or "9999"  # undated articles are not the originals
    arrived = arrived or {}
    order = sorted(signatures, key=lambda d: (published[d], arrived.get(d, "~"), d))
    groups = group(signatures, order)
    from .atomic import write_atomic_chunks

    write_atomic_chunks(base / GROUPS_FILE, groups_json(groups, kept))
    return len(groups)


#: Documents per piece of :func:`groups_json`'s ``documents`` object.
_DOCUMENTS_PER_CHUNK = 5000


def groups_json(groups: Sequence[NearDuplicateGroup], documents: Mapping[str, Any]
                ) -> Iterator[str]:
    """The groups file's JSON text in pieces, joined the very text ``json.dumps`` gives for
    the whole (``tests/test_neardup.py`` compares them): at 100,000 articles the text is
    38 MB, and the whole string with its encoded bytes raised a build's peak by 76 MB."""
    head = json.dumps({
        "version": 1, "threshold": THRESHOLD, "shingle": SHINGLE, "num_perm": NUM_PERM,
        "groups": [{"ids": list(g.ids), "similarity": g.similarity} for g in groups]},
        ensure_ascii=False)
    yield head[:-1] + ', "documents": {'
    items = list(documents.items())
    for start in range(0, len(items), _DOCUMENTS_PER_CHUNK):
        piece = json.dumps(dict(items[start:start + _DOCUMENTS_PER_CHUNK]), ensure_ascii=False)
        yield (", " if start else "") + piece[1:-1]
    yield "}}"
