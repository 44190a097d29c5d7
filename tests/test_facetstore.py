"""Stored facet data: identical to what is computed from the index, ignored when stale."""

from __future__ import annotations

import itertools
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from searchlib import build_index, open_index
from searchlib.engine.whoosh import facetstore
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


def _synthetic(size: int, seed: int = 7) -> facetstore.FacetData:
    """Facet data of ``size`` documents: values from one document to nearly all of them."""
    import random

    rng = random.Random(seed)
    live = facetstore.bits_of([d for d in range(size) if rng.random() < 0.97], size)
    values: dict[str, dict[str, int]] = {}
    for kind in FACET_KINDS:
        found: dict[str, int] = {}
        for i in range(40):
            share = rng.choice((0.0005, 0.002, 0.01, 0.05, 0.3, 0.9))
            docs = [d for d in range(size) if rng.random() < share] or [rng.randrange(size)]
            found[f"{kind} {i}"] = facetstore.bits_of(docs, size) & live or 1 << size - 1
        values[kind] = found
    dates = {d: 10_000 + rng.randrange(500) for d in range(size) if rng.random() < 0.8}
    return facetstore.FacetData({"generation": 1, "segments": []}, size, live, values, dates)


def _contexts(data: facetstore.FacetData) -> list[int]:
    import random

    rng = random.Random(3)
    out = [data.live, 1, 1 << data.size - 1, 0]
    for share in (0.001, 0.1, 0.5):
        out.append(facetstore.bits_of([d for d in range(data.size) if rng.random() < share],
                                      data.size) & data.live)
    return out


def test_counts_with_numpy_equal_the_bitset_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facetstore, "DENSE_MIN_DOCS", 1000)
    small = _synthetic(999)
    assert not small.dense
    data = _synthetic(3000)
    assert data.dense
    # Both forms occur: values counted from their bitsets and from docnum lists.
    names, docs, lengths = data.rare("actor")
    assert 0 < len(names) < len(data.values("actor"))
    assert int(lengths.sum()) == len(docs)
    for name, start, n in zip(names, np.cumsum(lengths) - lengths, lengths, strict=True):
        assert facetstore.bits_of(docs[start:start + n].tolist(), data.size) == \
            data.values("actor")[name]
    reference = _synthetic(3000)
    reference.dense = False
    stored = facetstore.loads(facetstore.dumps(data))  # docnum lists read from the file
    assert stored.dense and stored._rare
    for within in _contexts(data):
        for kind in FACET_KINDS:
            want = reference.counts(kind, within)
            assert want == {v: (b & within).bit_count() for v, b in
                            reference.values(kind).items() if b & within}
            assert data.counts(kind, within) == want, kind
            assert stored.counts(kind, within) == want, kind


def test_the_file_carries_a_checksum_that_catches_any_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facetstore, "DENSE_MIN_DOCS", 1000)
    data = _synthetic(1500)
    blob = facetstore.dumps(data)
    assert b'"format":3' in blob and b'"rare"' in blob
    assert facetstore.loads(blob).values("actor") == data.values("actor")
    # Every single-byte change, anywhere (header, compressed body, checksum), is refused.
    rng = random.Random(8)
    for at in [*range(0, 40), *rng.sample(range(len(blob)), 200), len(blob) - 1]:
        damaged = bytearray(blob)
        damaged[at] ^= 1 << rng.randrange(8)
        with pytest.raises(ValueError):
            facetstore.loads(bytes(damaged))
    # Two values' entries swapped in the header: the same length, all of it well formed.
    head = blob.decode("latin-1")
    first, second = (m.group() for m in itertools.islice(
        re.finditer(r"\[\"actor \d+\",\d+,\d+\]", head), 2))
    swapped = head.replace(first, "\0").replace(second, first).replace("\0", second)
    with pytest.raises(ValueError, match="checksum"):
        facetstore.loads(swapped.encode("latin-1"))
    # A file written before checksums existed is not used (the data is computed instead).
    old = b"SLFACETS1\n" + blob[len(b"SLFACETS2\n"):-4]
    with pytest.raises(ValueError, match="older release"):
        facetstore.loads(old)


@pytest.mark.parametrize("dense", [False, True], ids=["bitsets", "arrays"])
def test_dated_between_is_an_inclusive_range(dense: bool) -> None:
    data = _synthetic(2000)
    data.dense = dense
    dates = data.dates()
    for low, high in ((None, None), (10_100, None), (None, 10_100), (10_100, 10_100),
                      (10_200, 10_350), (10_400, 10_300), (20_000, None), (None, 0)):
        want = facetstore.bits_of([d for d, raw in dates.items()
                                   if (low is None or raw >= low)
                                   and (high is None or raw <= high)], data.size)
        assert data.dated_between(low, high) == want, (low, high)


def test_mask_helpers_round_trip() -> None:
    for size in (1, 7, 8, 64, 65, 1000):
        bits = facetstore.bits_of(range(0, size, 3), size) | 1 << size - 1
        mask = facetstore.bits_to_mask(bits, size)
        assert len(mask) == size and np.flatnonzero(mask).tolist() == list(
            facetstore.iter_bits(bits))
        assert facetstore.mask_to_bits(mask) == bits


def test_inconsistent_docnum_lists_are_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facetstore, "DENSE_MIN_DOCS", 1000)
    data = _synthetic(1200)
    names, docs, lengths = data.rare("person")
    wrong = docs.copy()
    wrong[0] = 5000  # beyond the index
    for bad in ((names, wrong.tobytes(), lengths.astype("<u4").tobytes()),
                (names, docs.astype("<u4").tobytes()[:-4], lengths.astype("<u4").tobytes())):
        data._rare = {"person": bad}
        data._counters = {}
        data._context = None
        want = {v: (b & data.live).bit_count() for v, b in data.values("person").items()
                if b & data.live}
        assert data.counts("person", data.live) == want


def test_date_order_is_the_same_with_numpy() -> None:
    """Newest or oldest first, undated documents last, ties (many here) by docnum."""
    plain, dense = _synthetic(2500), _synthetic(2500)
    dense.dense = True
    dates = plain.dates()
    for newest in (True, False):
        order = plain.date_order(newest)
        assert dense.date_order(newest) == order
        assert sorted(order) == list(facetstore.iter_bits(plain.live))
        keys = [(d not in dates, (-1 if newest else 1) * dates.get(d, 0), d) for d in order]
        assert keys == sorted(keys)


def _articles(folder: Path, names: range, place: str) -> None:
    folder.mkdir(exist_ok=True)
    for n in names:
        (folder / f"a{n}.txt").write_text(
            f"Report {n} from {place}\n\nPublished: 20{10 + n % 9}-0{1 + n % 9}-1{n % 9}\n\n"
            f"Iranian officials met in {place} on Monday. ISIS fighters were seen near "
            f"Mosul, article {n} says, while the Kurdish Peshmerga held the line.\n",
            encoding="utf-8")


def test_an_update_reuses_the_stored_data_and_gets_the_same_result(tmp_path: Path) -> None:
    src, index_dir = tmp_path / "src", tmp_path / "index"
    _articles(src, range(12), "Baghdad")
    build_index([src], index_dir, procs=1)
    first = (index_dir / facetstore.FACETS_FILE).read_bytes()
    # Changed (old document deleted, new one appended), removed and added articles.
    _articles(src, range(3), "Damascus")
    (src / "a5.txt").unlink()
    _articles(src, range(12, 16), "Tehran")
    read: list[str] = []
    original = facetstore._term_ids

    def counting(leaf: object, fieldname: str, term: bytes) -> object:
        read.append(fieldname)
        return original(leaf, fieldname, term)

    facetstore._term_ids = counting  # type: ignore[assignment]
    try:
        build_index([src], index_dir, procs=1)
    finally:
        facetstore._term_ids = original  # type: ignore[assignment]
    with open_index(index_dir) as ix:
        reader = ix._fresh().reader()
        stored = facetstore.load(index_dir, reader)
        assert stored is not None and stored.key != facetstore.loads(first).key
        full = facetstore.build(reader)
        # Only the new segment's postings were read (its 7 documents' values), not the
        # whole index's.
        incremental_reads = len(read)
        read.clear()
        facetstore._term_ids = counting  # type: ignore[assignment]
        try:
            facetstore.build(reader)
        finally:
            facetstore._term_ids = original  # type: ignore[assignment]
        assert 0 < incremental_reads < len(read)
    _same(stored, full)
    assert set(full.values("location")) >= {"Damascus", "Tehran", "Baghdad"}
    assert full.live.bit_count() == 15
