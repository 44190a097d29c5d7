"""The Whoosh engine's :class:`~searchlib.engine.Writer`: the builder's one door to the index.

:func:`open_writer` opens (or creates) the Whoosh index of an index folder through the durable
storage; :class:`WhooshWriter` and its :class:`WhooshBatchWriter` write batches of prepared
documents with the segment workers (:mod:`.segments`), commit them, read back what the builder
needs after its commits (facet values, MinHash signatures) and write the facet data and term
list the readers load. Whoosh objects and document numbers stay in here: the builder holds
:class:`~searchlib.engine.DocHandle` values only.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...errors import IndexCorruptError
from ...layout import WHOOSH_DIR
from ...models import SkippedFile
from .. import DocHandle, FileProcessor, FileResult, Writer
from . import facetstore, lexicon
from . import schema as schema_mod
from .documents import index_fields
from .segments import SegmentWorkers, build_segments, commit_segments
from .storage import open_storage

__all__ = ["SCHEMA_VERSION", "STORE_FILES", "WhooshBatchWriter", "WhooshWriter", "has_store",
           "open_writer"]

SCHEMA_VERSION = schema_mod.SCHEMA_VERSION
"""The version of the index's layout this engine writes (recorded in ``meta.json``)."""

STORE_FILES = (facetstore.FACETS_FILE, lexicon.TERMS_FILE)
"""Files the engine keeps beside its Whoosh folder in the index folder (a rebuild moves them
in with it, before the files that refer to the index)."""


def has_store(base: Path) -> bool:
    """The index folder ``base`` has a Whoosh table of contents (whether it can be read is
    for opening to find out)."""
    folder = base / WHOOSH_DIR
    return folder.is_dir() and any(folder.glob("_MAIN_*.toc"))


def open_writer(base: Path, *, create: bool) -> Writer:
    """Open the Whoosh index in the index folder ``base`` through the durable storage;
    create it, empty, when ``create`` or when there is none. Raises
    :class:`IndexCorruptError` for an index that cannot be opened.

    Typed as the protocol, so that mypy checks :class:`WhooshWriter` (and its batch writer)
    against it."""
    return WhooshWriter(base, _open_or_create(base / WHOOSH_DIR, create))


def _open_or_create(whoosh_dir: Path, rebuild: bool) -> Any:
    """Open the Whoosh index through the durable storage, creating it when needed."""
    if rebuild or not has_store(whoosh_dir.parent):
        if whoosh_dir.is_dir() and not whoosh_dir.is_symlink():
            shutil.rmtree(whoosh_dir)
        elif whoosh_dir.exists() or whoosh_dir.is_symlink():
            whoosh_dir.unlink()  # a file (or link) where the index folder belongs: damage
        return open_storage(whoosh_dir, create=True).create_index(schema_mod.make_schema())
    try:
        ix = open_storage(whoosh_dir).open_index()
        ix.reader().close()  # opens every segment: damage shows now, not halfway through
        return ix
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexCorruptError(
            f"index at {whoosh_dir.parent} is damaged ({type(exc).__name__}); "
            "run `search index --rebuild`") from None


@dataclass(frozen=True)
class _AsFields:
    """A :data:`~searchlib.engine.FileProcessor` whose documents come out as Whoosh fields
    (in the worker processes, where the documents are prepared)."""

    process: FileProcessor

    def __call__(self, path: str
                 ) -> tuple[list[tuple[str, str, dict[str, Any]]], list[SkippedFile]]:
        """The documents of ``path`` as ``(key, content hash, fields)``, and what was
        skipped."""
        docs, skipped = self.process(path)
        out = []
        for doc in docs:
            try:
                out.append((doc.key, doc.content_hash, index_fields(doc.prepared, doc.minhash)))
            except Exception as exc:  # per-record isolation, as for the record's preparation
                skipped.append(SkippedFile.failed(doc.key, exc))
        return out, skipped


class WhooshBatchWriter:
    """Batches of segments written by the same worker processes (:class:`SegmentWorkers`),
    each committed with one table-of-contents write."""

    def __init__(self, ix: Any, process: FileProcessor, procs: int) -> None:
        self._ix = ix
        self._process = _AsFields(process)
        self._workers = SegmentWorkers(ix, self._process, procs)
        self._segments: list[Any | None] = []

    def __enter__(self) -> WhooshBatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, paths: Sequence[str], on_file: Callable[[FileResult], None],
              procs: int | None = None) -> None:
        """Start a batch: ``paths`` written into new segments, one per worker."""
        self._segments = self._workers.build(paths, on_file, procs)

    def write_more(self, paths: Sequence[str], on_file: Callable[[FileResult], None]) -> None:
        """Add ``paths`` to the batch as one more segment, written in this process."""
        extra = len(self._segments)

        def placed(result: FileResult) -> None:
            # Built alone, the segment numbers itself 0: it is the batch's segment ``extra``.
            on_file(replace(result, records=tuple(
                (key, content, DocHandle(extra, handle.position))
                for key, content, handle in result.records)))

        self._segments = [*self._segments,
                          *build_segments(self._ix, paths, self._process, 1, placed)]

    def commit(self, drop: Iterable[DocHandle], delete_ids: Iterable[str]) -> None:
        """Commit the batch's segments without the documents at ``drop``, deleting the
        ``delete_ids`` from the segments already committed (see :func:`commit_segments`)."""
        numbers: dict[int, list[int]] = {}
        for handle in drop:
            numbers.setdefault(handle.part, []).append(handle.position)
        segments, self._segments = self._segments, []
        commit_segments(self._ix, segments, numbers, delete_ids)

    def close(self) -> None:
        """Let the workers finish and exit."""
        self._workers.close()


class WhooshWriter:
    """The Whoosh index of an index folder, open for writing (see :func:`open_writer`)."""

    def __init__(self, base: Path, ix: Any) -> None:
        self._base = base
        self._ix = ix

    def batches(self, process: FileProcessor, procs: int) -> WhooshBatchWriter:
        """A batch writer with ``procs`` segment workers running ``process``."""
        return WhooshBatchWriter(self._ix, process, procs)

    def doc_count(self) -> int:
        """Number of live documents committed."""
        return int(self._ix.doc_count())

    def facet_terms(self, kinds: Sequence[str]) -> dict[str, list[str]]:
        """The indexed values of each facet field in ``kinds``, read from its term list."""
        with self._ix.reader() as reader:
            return {kind: [term.decode("utf-8") for term in reader.lexicon(kind)]
                    for kind in kinds}

    @contextmanager
    def stored_signatures(self) -> Iterator[Callable[[str], tuple[str | None, str | None]]]:
        """Signatures and dates read back from the documents' stored ``info`` field."""
        with self._ix.searcher() as searcher:
            def stored(doc_id: str) -> tuple[str | None, str | None]:
                fields = searcher.document(id=doc_id) or {}
                info = json.loads(fields.get("info") or "{}")
                return info.get("minhash"), info.get("published")

            yield stored

    def finish(self, refresh: bool) -> None:
        """Close the index; write the facet data and the term list (when ``refresh``, or
        when missing; the facet data also when damaged or without a checksum)."""
        self._ix.close()
        base = self._base
        if refresh or not (base / facetstore.FACETS_FILE).exists() or facetstore.verify(base):
            # Saves every later search process from reading all facet postings on start.
            facetstore.write(base)
        if refresh or not (base / lexicon.TERMS_FILE).exists():
            # Saves the first fuzzy, wildcard or prefix query of every later search process
            # from reading the whole term dictionary (seconds at 10,000 articles).
            lexicon.write(base, schema_mod.SEARCH_FIELDS, facetstore.index_key)
