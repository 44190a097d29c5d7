"""Index building: incremental updates, duplicates, bad files, locking, stable ids."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from whoosh.util.times import long_to_datetime

from searchlib import (
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    build_index,
    open_index,
)
from searchlib.build import _WriteLock, doc_id
from searchlib.engine.whoosh import facetstore, patches
from searchlib.engine.whoosh.storage import open_storage


def _rank_groups(hits: Any) -> list[set[str]]:
    """Hit ids grouped by equal score, best first: a ranking, ties in any order."""
    groups: list[set[str]] = []
    last = None
    for hit in hits:
        if last is None or round(hit.score, 6) != last:
            groups.append(set())
            last = round(hit.score, 6)
        groups[-1].add(hit.id)
    return groups


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
    for i in range(6):  # copies of one text, written by whichever worker takes the file
        (seed_copy / f"copy{i}.txt").write_text(
            "Copy\n\nThe same wire story about Zanzibar cloves, word for word.\n")
    single = build_index([seed_copy], tmp_path / "one", procs=1)
    multi = build_index([seed_copy], tmp_path / "two", procs=2)
    assert single.added == multi.added == 61
    assert single.duplicates == multi.duplicates == 5
    with open_index(tmp_path / "one") as a, open_index(tmp_path / "two") as b:
        assert a.doc_count == b.doc_count == 56
        assert a.facet_values("location") == b.facet_values("location")
        assert {x.id for x in a.articles()} == {x.id for x in b.articles()}
        assert len(b.search("zanzibar cloves").hits) == 1
        # Every match, as equal scores may come in either order from different segments.
        ranked_a = sorted((round(h.score, 6), h.id) for h in a.search("missile", limit=100).hits)
        ranked_b = sorted((round(h.score, 6), h.id) for h in b.search("missile", limit=100).hits)
        assert ranked_a == ranked_b
        # Coordination (documents with both words first) ranks alike across segments.
        for query in ("missile Syria", "Iran missile", "+Syria Iran"):
            hits_a = a.search(query, limit=100).hits
            hits_b = b.search(query, limit=100).hits
            assert _rank_groups(hits_a) == _rank_groups(hits_b)


def test_a_segment_without_dates_does_not_shift_the_others(seed_copy: Path,
                                                           tmp_path: Path) -> None:
    # A first build of undated notes writes a segment with no date column at all; the
    # dated seeds added next go into a second segment after it.
    expected = tmp_path / "seeds-only"
    build_index([seed_copy], expected, procs=1)
    with open_index(expected) as ix:
        years = ix.search("", facets=True).facets["year"]
        newest = [h.id for h in ix.search("", sort="newest").hits if h.published]
        dated_paths = [h.path for h in ix.search("", date_from="2000-01-01").hits]
    assert dated_paths
    notes = tmp_path / "src"
    notes.mkdir()
    for i in range(3):
        (notes / f"undated{i}.txt").write_text(f"Note {i}\n\nAn undated note on Iran.\n")
    index_dir = tmp_path / "ix"
    build_index([notes], index_dir, procs=1)
    for seed in seed_copy.iterdir():
        (notes / seed.name).write_bytes(seed.read_bytes())
    build_index([notes], index_dir, procs=1)
    with open_index(index_dir) as ix:
        results = ix.search("", facets=True, sort="newest")
        assert results.total == 8
        assert results.facets["year"] == years
        assert len([h for h in results.hits if h.published]) == len(newest)
        dated = ix.search("", date_from="2000-01-01")
        assert sorted(Path(h.path).name for h in dated.hits) == sorted(
            Path(p).name for p in dated_paths)


def _is_date(raw: Any) -> bool:
    try:
        return bool(long_to_datetime(raw).year > 1)
    except (OverflowError, ValueError, TypeError):
        return False  # the sentinel of an undated document


def test_column_reads_line_up_with_segments_lacking_the_column(seed_copy: Path,
                                                              tmp_path: Path) -> None:
    notes = tmp_path / "src"
    notes.mkdir()
    (notes / "undated.txt").write_text("Note\n\nAn undated note on Iran.\n")
    index_dir = tmp_path / "ix"
    build_index([notes], index_dir, procs=1)  # a first segment with no date column
    for seed in seed_copy.iterdir():
        (notes / seed.name).write_bytes(seed.read_bytes())
    build_index([notes], index_dir, procs=1)
    ix = open_storage(index_dir / "whoosh").open_index()
    with ix.reader() as reader:
        leaves = list(reader.leaf_readers())
        assert len(leaves) == 2 and not leaves[0][0].has_column("date")
        per_segment = [v for leaf, _ in leaves
                       for v in leaf.column_reader("date", translate=False)]
        # The facet data reads the column segment by segment, patched or not.
        dated = {n: raw for n, raw in enumerate(per_segment) if _is_date(raw)}
        assert dated and facetstore.build(reader).dates() == dated
        if patches.state() != "applied":
            return  # Whoosh's own MultiReader.column_reader misplaces them (patch 2)
        column = reader.column_reader("date", translate=False)
        assert list(column) == per_segment
        assert [column[n] for n in range(reader.doc_count_all())] == per_segment


def test_build_stores_facet_data_for_the_committed_index(seed_copy: Path,
                                                         tmp_path: Path) -> None:

    index_dir = tmp_path / "ix"
    build_index([seed_copy], index_dir, procs=1)
    (seed_copy / "extra.txt").write_text("Extra\n\nIRGC forces near Deir ez-Zor.\n")
    build_index([seed_copy], index_dir, procs=1)
    ix = open_storage(index_dir / "whoosh").open_index()
    with ix.reader() as reader:
        stored = facetstore.load(index_dir, reader)  # None if stale or missing
        assert stored is not None
        fresh = facetstore.build(reader)
        for kind in ("actor", "location", "person", "year", "month", "mentioned"):
            assert stored.values(kind) == fresh.values(kind)
        assert stored.values("actor") and stored.dates() == fresh.dates()


def test_a_broken_install_stops_the_build_instead_of_skipping_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-file isolation skips bad files, never a missing package: that would skip them all."""
    import searchlib.build as index_mod
    from searchlib.errors import DependencyError

    src = tmp_path / "src"
    src.mkdir()
    for n in range(2):
        (src / f"{n}.txt").write_text(f"Title {n}\n\nA plain article body number {n}.\n")

    def broken(*args: object, **kwargs: object) -> None:
        raise DependencyError("extraction needs a package that cannot be imported")

    monkeypatch.setattr(index_mod, "_prepare", broken)
    with pytest.raises(DependencyError, match="cannot be imported"):
        index_mod.build_index([src], tmp_path / "ix", procs=1)
