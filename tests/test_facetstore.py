"""Stored facet data: identical to what is computed from the index, ignored when stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searchlib import build_index, facetstore, open_index
from searchlib.search import FACET_KINDS


@pytest.fixture()
def index_copy(seed_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    (target / facetstore.FACETS_FILE).unlink(missing_ok=True)
    return target


def _same(a: facetstore.FacetData, b: facetstore.FacetData) -> None:
    assert a.key == b.key and a.size == b.size and a.live == b.live
    for kind in FACET_KINDS:
        assert a.values(kind) == b.values(kind), kind
    assert a.dates() == b.dates()


def test_round_trip_is_identical_to_the_computed_data(index_copy: Path) -> None:
    path = facetstore.write(index_copy)
    assert path == index_copy / facetstore.FACETS_FILE
    with open_index(index_copy) as ix:
        reader = ix._fresh().reader()
        built = facetstore.build(reader)
        loaded = facetstore.load(index_copy, reader)
    assert loaded is not None
    _same(built, loaded)
    assert built.values("actor") and built.values("year") and built.dates()


def test_search_results_do_not_depend_on_the_stored_file(index_copy: Path) -> None:
    def run() -> list[object]:
        with open_index(index_copy) as ix:
            return [ix.search(q, actors=a) for q, a in
                    (("attack", ()), ("", ("ISIS",)), ("Iran missile", ()))]

    without = run()
    facetstore.write(index_copy)
    assert facetstore.FACETS_FILE in {p.name for p in index_copy.iterdir()}
    with_file = run()
    for a, b in zip(without, with_file, strict=True):
        assert (a.total, a.hits, a.facets) == (b.total, b.hits, b.facets)  # type: ignore[attr-defined]


def test_stale_or_damaged_file_is_ignored(index_copy: Path, seed_copy: Path,
                                          tmp_path: Path) -> None:
    facetstore.write(index_copy)
    stored = (index_copy / facetstore.FACETS_FILE).read_bytes()
    with open_index(index_copy) as ix:
        assert facetstore.load(index_copy, ix._fresh().reader()) is not None
    # Another index (other segments, other generation) must not accept this file.
    other = tmp_path / "other"
    build_index([seed_copy / "000_4095e6daf36933a2.txt"], other, procs=1)
    (other / facetstore.FACETS_FILE).write_bytes(stored)
    with open_index(other) as ix:
        assert facetstore.load(other, ix._fresh().reader()) is None
        assert ix.search("*").total == 1
        assert sum(ix.facet_values("year").values()) <= 1
    for damaged in (b"", stored[:40], stored[:-10], b"SLFACETS1\n" + b"\xff" * 20):
        (index_copy / facetstore.FACETS_FILE).write_bytes(damaged)
        with open_index(index_copy) as ix:
            assert facetstore.load(index_copy, ix._fresh().reader()) is None
            assert ix.search("*").total == 5


def test_file_from_an_older_commit_is_not_used(seed_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    files = sorted(seed_copy.iterdir())
    for extra in files[1:]:
        extra.rename(tmp_path / extra.name)
    build_index([seed_copy], index, procs=1)
    facetstore.write(index)
    for extra in files[1:]:
        (tmp_path / extra.name).rename(extra)
    build_index([seed_copy], index, procs=1)
    with open_index(index) as ix:
        reader = ix._fresh().reader()
        if (index / facetstore.FACETS_FILE).is_file():
            loaded = facetstore.load(index, reader)
            assert loaded is None or loaded.key == facetstore.index_key(reader)
        assert ix.search("*").total == 5
        years = facetstore.build(reader).values("year")
        assert ix.facet_values("year") == {k: b.bit_count() for k, b in years.items()}


def test_bits_helpers() -> None:
    bits = facetstore.bits_of([0, 3, 9, 64], 100)
    assert list(facetstore.iter_bits(bits)) == [0, 3, 9, 64]
    assert facetstore.bits_of([], 10) == 0
