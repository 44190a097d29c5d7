"""Facet data of an index: computed from the Whoosh index, kept on disk beside it.

Facet counts, facet filters and date sorting need, for every value of ``actor``,
``location``, ``person``, ``mentioned`` (month), ``year`` and ``month`` (of publication), the
set of documents holding it, and every document's publication date (a
:class:`~.facetdata.FacetData`). Reading that from the Whoosh index means walking every
posting list of four fields and the date column: about two seconds at 10,000 articles, which a
one-shot ``search query`` would pay on every run.

:func:`write` computes that data once, after the index is committed, and stores it beside the
Whoosh files (``facets.bin``, see :mod:`.facetfile`); :func:`load` reads it back in
milliseconds. The file is keyed by the Whoosh generation and segment list it was computed
from, so a file left from an older commit is ignored (and the data rebuilt in memory by
:func:`build`) rather than trusted.

The bitsets are :mod:`.bitsets`; the data and its counting, :mod:`.facetdata`; this module
re-exports their names for the engine's other modules.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ...atomic import write_atomic
from ...layout import index_paths
from ...models import ENTITY_FACETS
from .bitsets import bits_of, bits_to_mask, has_bit, iter_bits, mask_to_bits
from .facetdata import DENSE_MIN_DOCS, FacetData
from .facetfile import FACETS_FILE, dumps, facets_path, loads, stored, verify
from .storage import open_storage

__all__ = [
    "DENSE_MIN_DOCS",
    "FACETS_FILE",
    "FacetData",
    "bits_of",
    "bits_to_mask",
    "block_reader",
    "build",
    "dumps",
    "has_bit",
    "index_key",
    "iter_bits",
    "load",
    "loads",
    "mask_to_bits",
    "verify",
    "write",
]

#: Facet kind -> Whoosh field holding its values as terms.
_TERM_KINDS: dict[str, str] = {kind: kind for kind in ENTITY_FACETS}  # kind -> index field


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
    terms = getattr(reader, "_terms", None)
    if terms is not None and fieldname in reader.schema:
        # A segment reader's own matcher: reader.postings() wraps it in a deletions filter
        # that has already stepped past the deleted documents at its start, whole blocks
        # of them included.
        try:
            matcher = terms.matcher(fieldname, btext, reader.schema[fieldname].format)
        except KeyError:  # what reader.postings() raises for a term it does not have
            from whoosh.reading import TermNotFound

            raise TermNotFound(f"{fieldname}:{btext!r}") from None
    else:
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


def load(index_dir: str | os.PathLike[str], reader: Any) -> FacetData | None:
    """The stored facet data of ``index_dir`` if it describes what ``reader`` reads, else None."""
    try:
        blob = facets_path(index_dir).read_bytes()
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
            blob = dumps(build(reader, stored(index_dir)))
    finally:
        ix.close()
    path = facets_path(index_dir)
    write_atomic(path, blob)
    return path
