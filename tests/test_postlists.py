"""Posting lists without positions, written beside each segment (postlists.py): the same
docnums, weights and blocks as Whoosh's posting blocks, through flushes and merges of
parallel builds; a damaged or missing file changes no answer, and ``search check`` names it."""

from __future__ import annotations

import pickle
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from searchlib import build_index, open_index
from searchlib.engine.whoosh import postlists
from searchlib.engine.whoosh.check import check_index
from searchlib.engine.whoosh.evaluate import _read_postings
from searchlib.engine.whoosh.storage import open_storage
from searchlib.layout import index_paths

QUERIES = ["missile attack", "government", '"prime minister"', "war OR peace", "gover*",
           "*tion", "goverment~", "minster~2", "a*", "title:war", "border -troops"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, gen_corpus: ModuleType
          ) -> Iterator[tuple[Path, Path]]:
    """~300 generated articles indexed by two workers in small batches, in three runs: many
    segments, several of them merged, some with deleted documents."""
    base = tmp_path_factory.mktemp("postlists")
    corpus = base / "corpus"
    gen_corpus.generate(300, 11, corpus)
    files = sorted(p for p in (corpus / "docs").rglob("*") if p.is_file())
    docs = base / "docs"
    docs.mkdir()
    index = base / "index"
    for part in (files[:120], files[120:220], files[220:]):
        for path in part:
            shutil.copy(path, docs / path.name)
        build_index([docs], index, procs=2, batch_size=40)
    for path in sorted(docs.glob("*.txt"))[:5]:  # replaced documents: deletions
        path.write_text(path.read_text(encoding="utf-8") + "\n\nA later paragraph.\n",
                        encoding="utf-8")
    build_index([docs], index, procs=2, batch_size=40)
    yield index, index_paths(index)[0]


def _segment_files(whoosh_dir: Path) -> list[Path]:
    return sorted(whoosh_dir.glob(f"*{postlists.SUFFIX}"))


def test_every_segment_has_lists_equal_to_its_blocks(built: tuple[Path, Path]) -> None:
    index, whoosh_dir = built
    ix = open_storage(whoosh_dir).open_index()
    with ix.reader() as reader:
        leaves = list(reader.leaf_readers())
        assert len(leaves) > 1 and reader.has_deletions()
        longest = 0
        for leaf, _ in leaves:
            lists = postlists.open_lists(str(whoosh_dir), leaf.segment().segment_id())
            assert lists is not None
            compared = 0
            for fieldname, btext in leaf.all_terms():
                offset = leaf.term_info(fieldname, btext)._offset
                blocks: list[tuple[int, int]] = []
                ids, weights, _ = _read_postings(leaf, fieldname, btext, values=False,
                                                 blocks=blocks)
                found = lists.get(offset)
                assert found is not None, (fieldname, btext)
                assert (list(found[0]), list(found[1]), found[2]) == (ids, weights, blocks)
                compared += 1
            assert compared == len(lists)
            longest = max(longest, max(len(lists.get(o)[2])  # type: ignore[index]
                                       for o in lists._offsets))
    ix.close()
    assert longest > 1  # terms of several posting blocks were compared too
    # One file per live segment, no temporary one left.
    assert len(_segment_files(whoosh_dir)) == len(leaves)
    assert not list(whoosh_dir.glob("*docs.tmp"))
    assert check_index(index).ok


def _answers(index: Path) -> list[object]:
    with open_index(index) as ix:
        out = []
        for text in QUERIES:
            result = ix.search(text, limit=10)
            out.append((text, result.total, [(h.id, h.score) for h in result.hits],
                        [h.snippet for h in result.hits]))
        return out


def _damage(files: list[Path]) -> tuple[Path, Path]:
    """A flipped byte inside one term's entry of the largest file (that entry fails its
    checksum) and another file cut short (the whole file is refused)."""
    damaged = max(files, key=lambda p: p.stat().st_size)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 3] ^= 0x55
    damaged.write_bytes(bytes(data))
    cut = next(p for p in files if p != damaged)
    cut.write_bytes(cut.read_bytes()[:-10])
    return damaged, cut


def _copy(built: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the built index that a test may damage or rebuild."""
    index = tmp_path / "index"
    shutil.copytree(built[0], index)
    return index


def test_damaged_or_missing_lists_change_no_answer_and_check_names_them(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    index = _copy(built, tmp_path)
    whoosh_dir = index_paths(index)[0]
    expected = _answers(index)
    damaged, cut = _damage(_segment_files(whoosh_dir))
    assert _answers(index) == expected
    report = check_index(index)
    named = [line for line in report.problems if "posting lists" in line]
    assert not report.ok and len(named) == 2, report.problems
    assert all("delete " in line for line in named)
    # The fix the check names: delete the files; the blocks answer, and the check is clean.
    damaged.unlink()
    cut.unlink()
    assert _answers(index) == expected
    assert check_index(index).ok


def test_a_rebuild_writes_them_again(built: tuple[Path, Path], tmp_path: Path) -> None:
    index = _copy(built, tmp_path)
    for path in _segment_files(index_paths(index)[0]):
        path.unlink()
    build_index([built[0].parent / "docs"], index, rebuild=True, procs=2)
    whoosh_dir = index_paths(index)[0]
    files = _segment_files(whoosh_dir)
    assert files and check_index(index).ok
    with_lists = _answers(index)
    for path in files:
        path.unlink()
    assert _answers(index) == with_lists


def test_the_backfill_writes_what_the_flush_wrote(built: tuple[Path, Path], tmp_path: Path,
                                                  postlists_backfill: ModuleType) -> None:
    """bench/postlists_backfill.py, which the benchmarks use on indexes built before the
    lists existed, writes byte for byte the files the segment flush wrote."""
    index = _copy(built, tmp_path)
    whoosh_dir = index_paths(index)[0]
    flushed = {path.name: path.read_bytes() for path in _segment_files(whoosh_dir)}
    for name in flushed:
        (whoosh_dir / name).unlink()
    assert postlists_backfill.backfill(str(index)) == len(flushed)
    assert {path.name: path.read_bytes() for path in _segment_files(whoosh_dir)} == flushed


def _phrases(index: Path) -> list[str]:
    """Exact phrases of two and three words that stand in several articles, of words
    common enough to have positions entries."""
    with open_index(index) as ix:
        searcher = ix._engine._fresh()
        reader = searcher.reader()
        body = " ".join(searcher.stored_fields(d).get("body", "") for d in range(40)
                        if not reader.is_deleted(d))
    words = re.findall(r"\b[a-z]+\b", body.lower())
    pairs = Counter(pair for pair in pairwise(words)
                    if min(map(len, pair)) > 3)
    triples = Counter(triple for triple in zip(words, words[1:], words[2:], strict=False)
                      if min(map(len, triple)) > 3)
    found = [f'"{a} {b}"' for (a, b), _ in pairs.most_common(6)]
    found += [f'"{a} {b} {c}"' for (a, b, c), _ in triples.most_common(3)]
    return found


def test_positions_equal_the_blocks_and_phrases_read_them(built: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    """Each segment's positions file holds, for every term of the body and title with
    enough postings, the counts and deltas its posting blocks hold; exact phrases read
    from it find Whoosh's own documents, and the same ones without the files."""
    index, whoosh_dir = built
    ix = open_storage(whoosh_dir).open_index()
    entries = 0
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            files = postlists.open_positions(str(whoosh_dir), leaf.segment().segment_id())
            assert files is not None
            for fieldname, btext in leaf.all_terms():
                found = files.get(leaf.term_info(fieldname, btext)._offset)
                ids, _, values = _read_postings(leaf, fieldname, btext, values=True)
                wanted = (fieldname in ("body", "title")
                          and len(ids) >= postlists.POSITIONS_MIN_POSTINGS)
                assert (found is not None) == wanted, (fieldname, btext)
                if found is not None:
                    lists = [pickle.loads(value[4:] + b".") for value in values]
                    assert list(found[0]) == [len(x) for x in lists]
                    assert list(found[1]) == [d for x in lists for d in x]
                    entries += 1
    ix.close()
    assert entries > 100
    assert not list(whoosh_dir.glob("*pos.tmp"))
    phrases = _phrases(index)
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    with open_index(index) as ix:
        searcher = ix._engine._fresh()
        ix.search("warm up")  # from its second search on, the arrays (the phrase path here)
        with_files = {}
        for text in phrases:
            result = ix.search(text, limit=500, collapse=False)
            expected = {searcher.stored_fields(d)["id"]
                        for d in searcher.docs_for_query(ix._engine.parse(text))}
            assert result.total == len(expected) > 0, text
            assert {h.id for h in result.hits} == expected, text
            with_files[text] = [(h.id, h.score, h.snippet) for h in result.hits]
        evaluator = ix._engine._evaluation
        assert evaluator is not None and evaluator.dense and len(evaluator._positions._data)
    for path in index_paths(copy)[0].glob(f"*{postlists.POS_SUFFIX}"):
        path.unlink()
    with open_index(copy) as ix:
        ix.search("warm up")
        for text in phrases:
            result = ix.search(text, limit=500, collapse=False)
            assert [(h.id, h.score, h.snippet) for h in result.hits] == with_files[text]
        assert not ix._engine._evaluation._positions._data


def test_damaged_positions_change_no_answer_and_check_names_them(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    index = _copy(built, tmp_path)
    whoosh_dir = index_paths(index)[0]
    phrases = _phrases(index)

    def answers() -> list[object]:
        with open_index(index) as ix:
            ix.search("warm up")
            return [[(h.id, h.score) for h in ix.search(text, limit=50).hits]
                    for text in phrases]

    expected = answers()
    damaged, cut = _damage(sorted(whoosh_dir.glob(f"*{postlists.POS_SUFFIX}")))
    assert answers() == expected
    report = check_index(index)
    named = [line for line in report.problems if "positions of segment" in line]
    assert not report.ok and len(named) == 2, report.problems
    assert all(f"delete {whoosh_dir}" in line for line in named)
    damaged.unlink()
    cut.unlink()
    assert answers() == expected
    assert check_index(index).ok
