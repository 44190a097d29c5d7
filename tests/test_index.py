"""Index building: incremental updates, duplicates, bad files, locking, stable ids."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from searchlib import (
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    build_index,
    open_index,
)
from searchlib.index import _WriteLock, doc_id


def _ids(index_dir: Path) -> dict[str, str]:
    with open_index(index_dir) as ix:
        return {Path(a.path).name: a.id for a in ix.articles()}


def test_build_then_noop(seed_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    first = build_index([seed_copy], index_dir, procs=1)
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.skipped == ()
    again = build_index([seed_copy], index_dir, procs=1)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 5)
    with open_index(index_dir) as ix:
        assert ix.doc_count == 5


def test_incremental_add_change_remove_keeps_ids(seed_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([seed_copy], index_dir, procs=1)
    before = _ids(index_dir)
    changed = seed_copy / "002_d8c76462a485d42c.txt"
    changed.write_text(changed.read_text() + "\nA new closing paragraph about Baghdad.\n")
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    (seed_copy / "004_fe8cf5b321c1a29f.txt").unlink()
    (seed_copy / "new.txt").write_text("Fresh report\n\nHezbollah fighters moved near Aleppo.\n")
    summary = build_index([seed_copy], index_dir, procs=1)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 1, 1, 3)
    after = _ids(index_dir)
    assert "004_fe8cf5b321c1a29f.txt" not in after and "new.txt" in after
    for name in ("000_4095e6daf36933a2.txt", "002_d8c76462a485d42c.txt"):
        assert after[name] == before[name]  # ids are stable across re-index
    with open_index(index_dir) as ix:
        top = ix.search("Baghdad closing paragraph").hits[0]
        assert top.path.endswith("002_d8c76462a485d42c.txt")
        assert ix.search("Kerman").total == 0


def test_rebuild_starts_over(seed_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([seed_copy], index_dir, procs=1)
    summary = build_index([seed_copy], index_dir, procs=1, rebuild=True)
    assert summary.added == 5 and summary.unchanged == 0


def test_exact_duplicates_indexed_once(seed_copy: Path, tmp_path: Path) -> None:
    original = seed_copy / "000_4095e6daf36933a2.txt"
    copy = seed_copy / "zz_copy.txt"
    copy.write_text(original.read_text())
    index_dir = tmp_path / "ix"
    summary = build_index([seed_copy], index_dir, procs=1)
    assert summary.duplicates == 1
    with open_index(index_dir) as ix:
        assert ix.doc_count == 5
        kept = ix.get(doc_id(str(original)))
        assert kept.duplicates == (str(copy),)
    # Removing the kept file promotes the copy, so the text stays searchable.
    original.unlink()
    build_index([seed_copy], index_dir, procs=1)
    with open_index(index_dir) as ix:
        assert ix.doc_count == 5
        assert ix.search("Qasre Shirin").hits[0].path == str(copy)


def test_bad_files_are_reported_and_the_run_continues(seed_copy: Path, tmp_path: Path) -> None:
    (seed_copy / "binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    (seed_copy / "empty.txt").write_text("")
    (seed_copy / "latin1.txt").write_bytes("Caf\xe9 talk in Tehran\n\nThe caf\xe9 was full.".encode(
        "latin-1"))
    (seed_copy / "broken.html").write_text("<html><body><p>Unclosed <div><p>Deir ez-Zor story"
                                           " with enough words to count as an article body.")
    (seed_copy / "evil.md").write_text("---\n!!python/object/apply:os.system [ls]\n---\nx\n")
    (seed_copy / "notes.pdf").write_bytes(b"%PDF-1.4")
    summary = build_index([seed_copy], tmp_path / "ix", procs=1)
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    assert reasons["binary.txt"] == "binary file (not text)"
    assert reasons["empty.txt"] == "empty file"
    assert "invalid YAML" in reasons["evil.md"]
    assert reasons["notes.pdf"] == "unknown extension .pdf"
    assert summary.added == 7  # five seeds + latin-1 + malformed HTML
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("café").total == 1


def test_missing_and_incompatible_index(tmp_path: Path, seed_copy: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="search index"):
        open_index(tmp_path / "nothing")
    index_dir = tmp_path / "ix"
    build_index([seed_copy], index_dir, procs=1)
    meta = json.loads((index_dir / "meta.json").read_text())
    meta["schema_version"] = 0
    (index_dir / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        open_index(index_dir)
    summary = build_index([seed_copy], index_dir, procs=1, rebuild=True)
    assert summary.added == 5


def test_second_writer_gets_a_clear_message(tmp_path: Path, seed_copy: Path) -> None:
    index_dir = tmp_path / "ix"
    with _WriteLock(index_dir, wait=False), pytest.raises(
            IndexLockedError, match=f"process {os.getpid()} since"):
        build_index([seed_copy], index_dir, procs=1)


def test_multiprocess_build_matches_single(tmp_path: Path, seed_copy: Path) -> None:
    for i in range(50):  # enough files to use the worker pool
        (seed_copy / f"gen{i:02d}.txt").write_text(
            f"Report {i}\n\nIRGC units fired missile number {i} toward Deir ez-Zor in Syria.\n")
    single = build_index([seed_copy], tmp_path / "one", procs=1)
    multi = build_index([seed_copy], tmp_path / "two", procs=2)
    assert single.added == multi.added == 55
    with open_index(tmp_path / "one") as a, open_index(tmp_path / "two") as b:
        assert a.facet_values("location") == b.facet_values("location")
