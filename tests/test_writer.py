"""The engine's writer side: the Whoosh writer is a :class:`~searchlib.engine.Writer`, and the
builder does all its engine work through that protocol, with opaque handles."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from searchlib import build as build_mod
from searchlib import build_index, open_index
from searchlib.engine import (
    BatchWriter,
    DocHandle,
    FileProcessor,
    FileResult,
    IndexDocument,
    Writer,
)
from searchlib.engine.whoosh.writer import WhooshBatchWriter, WhooshWriter, open_writer

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "seeds").glob("*.txt"))


def test_the_whoosh_writer_is_a_writer(tmp_path: Path) -> None:
    writer = open_writer(tmp_path, create=True)
    assert isinstance(writer, WhooshWriter) and isinstance(writer, Writer)
    batches = writer.batches(lambda path: ([], []), 1)
    assert isinstance(batches, WhooshBatchWriter) and isinstance(batches, BatchWriter)
    with batches:
        batches.write(["/x/none"], lambda result: None)
        batches.commit((), ())
    assert writer.doc_count() == 0
    writer.finish(refresh=True)


class _Recorded:
    """A :class:`Writer` that hands every call on to the Whoosh writer and notes it."""

    def __init__(self, inner: Writer, calls: list[str], handles: list[object]) -> None:
        self.inner, self.calls, self.handles = inner, calls, handles

    def batches(self, process: FileProcessor, procs: int) -> BatchWriter:
        self.calls.append("batches")

        def checked(path: str) -> tuple[list[IndexDocument], list[object]]:
            docs, skipped = process(path)
            # What crosses to the engine is the engine-neutral document.
            assert all(isinstance(d, IndexDocument) for d in docs)
            return docs, skipped  # type: ignore[return-value]

        return _RecordedBatches(self.inner.batches(checked, procs),  # type: ignore[arg-type]
                                self.calls, self.handles)

    def doc_count(self) -> int:
        self.calls.append("doc_count")
        return self.inner.doc_count()

    def facet_terms(self, kinds: Sequence[str]) -> dict[str, list[str]]:
        self.calls.append("facet_terms")
        return self.inner.facet_terms(kinds)

    @contextmanager
    def stored_signatures(self) -> Iterator[Callable[[str], tuple[str | None, str | None]]]:
        self.calls.append("stored_signatures")
        with self.inner.stored_signatures() as read:
            yield read

    def finish(self, refresh: bool) -> None:
        self.calls.append(f"finish({refresh})")
        self.inner.finish(refresh)


class _RecordedBatches:
    def __init__(self, inner: BatchWriter, calls: list[str], handles: list[object]) -> None:
        self.inner, self.calls, self.handles = inner, calls, handles

    def __enter__(self) -> _RecordedBatches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _noted(self, on_file: Callable[[FileResult], None]) -> Callable[[FileResult], None]:
        def noted(result: FileResult) -> None:
            self.handles.extend(handle for _, _, handle in result.records)
            on_file(result)
        return noted

    def write(self, paths: Sequence[str], on_file: Callable[[FileResult], None],
              procs: int | None = None) -> None:
        self.calls.append("write")
        self.inner.write(paths, self._noted(on_file), procs)

    def write_more(self, paths: Sequence[str], on_file: Callable[[FileResult], None]) -> None:
        self.calls.append("write_more")
        self.inner.write_more(paths, self._noted(on_file))

    def commit(self, drop: Iterable[DocHandle], delete_ids: Iterable[str]) -> None:
        drop = list(drop)
        # The builder gives back only handles the engine gave it, unchanged.
        assert all(isinstance(h, DocHandle) and h in self.handles for h in drop)
        self.calls.append(f"commit(drop={len(drop)})")
        self.inner.commit(drop, delete_ids)
        self.handles.clear()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.skipif(len(SEEDS) < 4, reason="needs the seed articles")
def test_the_builder_writes_through_the_protocol(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for seed in SEEDS[:4]:
        shutil.copy(seed, docs / seed.name)
    shutil.copy(SEEDS[0], docs / "copy-of-first.txt")  # the same text twice: one is dropped
    calls: list[str] = []
    handles: list[object] = []
    opened: list[object] = []

    def recorded(base: Path, *, create: bool) -> Writer:
        writer = _Recorded(open_writer(base, create=create), calls, handles)
        assert isinstance(writer, Writer)  # the double is a Writer too
        opened.append(writer)
        return writer

    monkeypatch.setattr(build_mod, "open_writer", recorded)
    index = tmp_path / "index"
    summary = build_index(docs, index, procs=1)
    assert summary.added == 5 and summary.duplicates == 1
    assert calls == ["batches", "write", "commit(drop=1)", "doc_count", "facet_terms",
                     "stored_signatures", "finish(True)"]

    # Update: the kept copy goes, so its twin's file is indexed again into the same batch.
    calls.clear()
    kept = min(["copy-of-first.txt", SEEDS[0].name])
    (docs / kept).unlink()
    summary = build_index(docs, index, procs=1)
    assert summary.removed == 1 and summary.duplicates == 0
    assert calls[:4] == ["batches", "write", "write_more", "commit(drop=0)"]
    assert calls[-1] == "finish(True)"
    with open_index(index) as ix:
        assert ix.doc_count == 4
        assert {a.path for a in ix.articles()} == {
            str(docs / name) for name in {*(s.name for s in SEEDS[:4]),
                                          "copy-of-first.txt"} - {kept}}

    # Nothing changed: no batch, and the engine's files are only checked.
    calls.clear()
    build_index(docs, index, procs=1)
    assert calls == ["doc_count", "finish(False)"]
    assert len(opened) == 3



@pytest.mark.skipif(len(SEEDS) < 3, reason="needs the seed articles")
def test_a_record_the_engine_cannot_lay_out_is_skipped_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Whoosh fields are laid out after the engine-neutral preparation: a failure there
    # must skip that record with its reason, as a failed preparation does, not stop the build.
    from searchlib.engine.whoosh import writer as writer_mod

    docs = tmp_path / "docs"
    docs.mkdir()
    for seed in SEEDS[:3]:
        shutil.copy(seed, docs / seed.name)
    bad = str(docs / SEEDS[1].name)
    real = writer_mod.index_fields

    def failing(prepared: Any, minhash: str | None) -> dict[str, Any]:
        if prepared.source.key == bad:
            raise ValueError("no layout for this one")
        return real(prepared, minhash)

    monkeypatch.setattr(writer_mod, "index_fields", failing)
    summary = build_index(docs, tmp_path / "index", procs=1)
    assert summary.added == 2
    assert [(s.path, s.reason) for s in summary.skipped] == [
        (bad, "could not be processed (ValueError: no layout for this one)")]
    with open_index(tmp_path / "index") as ix:
        assert bad not in {a.path for a in ix.articles()} and ix.doc_count == 2
