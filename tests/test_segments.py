"""Worker processes that index into segments of their own: errors, deaths, interrupts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from searchlib import build_index, open_index
from searchlib.engine import FileResult
from searchlib.engine.whoosh.schema import make_schema
from searchlib.engine.whoosh.segments import (
    SegmentWorkers,
    WorkerError,
    build_segments,
    commit_segments,
)
from searchlib.engine.whoosh.storage import open_storage
from searchlib.errors import SearchlibError


def _index(tmp_path: Path) -> Any:
    return open_storage(tmp_path / "w", create=True).create_index(make_schema())


def _doc(name: str) -> tuple[str, str, dict[str, Any]]:
    return (name, "hash-" + name,
            {"id": name, "path": name, "title": name, "body": f"text of {name}"})


def _ok(path: str) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Any]]:
    return [_doc(os.path.basename(path))], []


def test_workers_write_every_file_once_and_commit_in_one_step(tmp_path: Path) -> None:
    ix = _index(tmp_path)
    paths = [f"/x/doc{i}" for i in range(30)]
    seen: list[FileResult] = []
    segments = build_segments(ix, paths, _ok, 2, seen.append)
    assert sorted(r.path for r in seen) == sorted(paths)
    assert ix.doc_count() == 0  # nothing is visible before the commit
    # Drop one document of each segment: they must not come back after the commit.
    drop = {r.records[0][2].part: [r.records[0][2].position] for r in seen[:1]}
    commit_segments(ix, segments, drop, ())
    assert ix.doc_count() == 29
    with ix.searcher() as s:
        ids = {f["id"] for f in s.all_stored_fields()}
    assert seen[0].records[0][0] not in ids and len(ids) == 29


def _fails_on_seventh(path: str) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Any]]:
    if path.endswith("doc7"):
        raise ValueError("cannot read doc7")
    return _ok(path)


def test_a_worker_error_is_raised_in_the_parent(tmp_path: Path) -> None:
    # One line with the root cause; the traceback goes to a log file the message names.
    ix = _index(tmp_path)
    with pytest.raises(WorkerError, match=r"an indexing worker failed: ValueError: cannot "
                                          r"read doc7; .*details in (\S+)\)") as info:
        build_segments(ix, [f"/x/doc{i}" for i in range(20)], _fails_on_seventh, 2,
                       lambda r: None)
    assert ix.doc_count() == 0
    log = str(info.value).rsplit("details in ", 1)[1].rstrip(")")
    assert "Traceback" in Path(log).read_text() and "_fails_on_seventh" in Path(log).read_text()


def _dies_on_third(path: str) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Any]]:
    if path.endswith("doc3"):
        os._exit(7)  # as if killed: no message, no clean-up
    return _ok(path)


def test_a_dead_worker_is_reported_not_waited_for(tmp_path: Path) -> None:
    ix = _index(tmp_path)
    with pytest.raises(SearchlibError, match=r"worker process died \(exit code 7\)"):
        build_segments(ix, [f"/x/doc{i}" for i in range(20)], _dies_on_third, 2,
                       lambda r: None)


def test_uncommitted_segment_files_are_cleaned_by_the_next_build(tmp_path: Path,
                                                               seed_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([seed_copy], index_dir, procs=1)
    ix = open_storage(index_dir / "whoosh").open_index()
    # A batch written by workers but never committed (the build was killed).
    build_segments(ix, [f"/x/doc{i}" for i in range(10)], _ok, 2, lambda r: None)
    orphaned = set(os.listdir(index_dir / "whoosh"))
    (seed_copy / "new.txt").write_text("New\n\nA new report from Baghdad.\n")
    build_index([seed_copy], index_dir, procs=1)
    after = set(os.listdir(index_dir / "whoosh"))
    assert len(after) < len(orphaned)
    with open_index(index_dir) as idx:
        assert idx.doc_count == 6


def test_an_interrupted_batch_leaves_no_files_behind(tmp_path: Path) -> None:
    ix = _index(tmp_path)
    committed = build_segments(ix, [f"/x/first{i}" for i in range(5)], _ok, 1, lambda r: None)
    commit_segments(ix, committed, {}, ())
    before = set(os.listdir(tmp_path / "w"))
    seen: list[FileResult] = []

    def interrupt_after_ten(result: FileResult) -> None:
        seen.append(result)
        if len(seen) == 10:
            raise KeyboardInterrupt

    for procs in (1, 2):
        seen.clear()
        with pytest.raises(KeyboardInterrupt):
            build_segments(ix, [f"/x/doc{i}" for i in range(40)], _ok, procs,
                           interrupt_after_ten)
        assert set(os.listdir(tmp_path / "w")) == before
    assert ix.doc_count() == 5


def _with_pid(path: str) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Any]]:
    name = os.path.basename(path)
    if name == "fail-me":
        raise ValueError("cannot read fail-me")
    return [(name, f"pid-{os.getpid()}", _doc(name)[2])], []


def test_the_same_workers_serve_batch_after_batch(tmp_path: Path) -> None:
    ix = _index(tmp_path)
    pids: list[set[str]] = []
    with SegmentWorkers(ix, _with_pid, 2) as workers:
        for batch in range(3):
            seen: list[FileResult] = []
            paths = [f"/x/b{batch}-{i}" for i in range(25)]
            segments = workers.build(paths, seen.append)
            assert sorted(r.path for r in seen) == sorted(paths)  # each file exactly once
            commit_segments(ix, segments, {}, ())
            assert ix.doc_count() == 25 * (batch + 1)
            pids.append({h for r in seen for _, h, _ in r.records})
        # A small batch runs in this process, the workers wait meanwhile.
        seen = []
        commit_segments(ix, workers.build(["/x/small"], seen.append, procs=1), {}, ())
        assert seen[0].records[0][1] == f"pid-{os.getpid()}"
        commit_segments(ix, workers.build(["/x/last-0", "/x/last-1"], seen.append), {}, ())
    assert ix.doc_count() == 78
    # Warm caches need the same two processes throughout, not a new pair per batch (which
    # would make at least three different ones over three batches).
    everyone = set().union(*pids)
    assert 1 <= len(everyone) <= 2 and f"pid-{os.getpid()}" not in everyone


def test_an_error_in_a_later_batch_stops_the_workers_and_keeps_what_was_committed(
        tmp_path: Path) -> None:
    ix = _index(tmp_path)
    with SegmentWorkers(ix, _with_pid, 2) as workers:
        commit_segments(ix, workers.build([f"/x/a{i}" for i in range(10)], lambda r: None),
                        {}, ())
        files_before = set(os.listdir(tmp_path / "w"))
        with pytest.raises(WorkerError, match="ValueError: cannot read fail-me"):
            workers.build([f"/x/b{i}" for i in range(10)] + ["/x/fail-me"], lambda r: None)
        assert set(os.listdir(tmp_path / "w")) == files_before  # the failed batch left nothing
        # The pool starts afresh for the next batch.
        commit_segments(ix, workers.build([f"/x/c{i}" for i in range(10)], lambda r: None),
                        {}, ())
    assert ix.doc_count() == 20
