"""The Whoosh patches change speed, not the index: a build with and without them matches."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import externalsort, formats, writing
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import TermNotFound

from searchlib.engine.whoosh.patches import read as patches_read
from searchlib.engine.whoosh.patches import write as patches_write
from searchlib.engine.whoosh.schema import make_schema
from searchlib.engine.whoosh.storage import open_storage

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# Whoosh's own method, kept by the patch module under this name.
_original_write_block = patches_write._original_write_block


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for n, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        docs.append({"id": f"d{n}", "path": str(path), "title": title, "body": body,
                     "_stored_title": title.upper(), "actor": "Iran,ISIS",
                     "location": "Syria" if n % 2 else "Iraq,Syria", "info": f"{{\"n\": {n}}}"})
    docs.append({"id": "empty", "title": "", "body": "the a an"})
    # Enough documents that common terms fill several 128-posting blocks, with varied field
    # lengths and weights (repeated words) so each block has its own statistics.
    words = " ".join(d["body"] for d in docs[:5]).split()
    for n in range(400):
        start = (n * 37) % max(len(words) - 200, 1)
        body = " ".join(words[start:start + 20 + n % 150]) + " Iran" * (n % 4)
        doc: dict[str, Any] = {"id": f"g{n}", "title": f"Report {n % 7} on Iran", "body": body,
                               "actor": "Iran" if n % 3 else "ISIS"}
        if n % 5:
            doc["date"] = dt.datetime(2010 + n % 9, 1 + n % 12, 1 + n % 28)
        if n % 50 == 7:
            doc["_boost"] = 1.5  # weights are multiplied by a document's boost
        docs.append(doc)
    return docs


def _build(path: Path, limitmb: int, runs: list[int] | None = None) -> Any:
    ix = open_storage(path, create=True).create_index(make_schema())
    writer = ix.writer(limitmb=limitmb)
    for doc in _documents():
        writer.add_document(**doc)
    if runs is not None:
        runs.append(len(writer.pool.runs))  # sorted runs spilled to disk so far
    writer.commit()
    return ix


def _dump(ix: Any) -> dict[str, Any]:
    with ix.reader() as reader:
        return _dump_reader(reader)


def _dump_reader(reader: Any) -> dict[str, Any]:
    """Every term's postings, block statistics and term info, the stored fields and the field
    lengths of one segment's ``reader``."""
    out: dict[str, Any] = {}
    for fieldname, term in reader.all_terms():
        info = reader.term_info(fieldname, term)
        out[f"{fieldname}:{term!r}"] = (
            _postings(reader, fieldname, term),
            (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
             info.max_weight(), info.min_id(), info.max_id()))
    out["stored"] = list(reader.all_stored_fields())
    out["lengths"] = [(n, f, reader.doc_field_length(n, f))
                      for n in range(reader.doc_count_all()) for f in ("title", "body")]
    return out


def _postings(reader: Any, fieldname: str, term: bytes) -> list[tuple[Any, ...]]:
    m = reader.postings(fieldname, term)
    found = []
    while m.is_active():
        # The block statistics too: scoring skips blocks by their length and weight bounds.
        found.append((m.id(), m.weight(), m.value(), m.block_min_length(),
                      m.block_max_length(), m.block_max_weight()))
        m.next()
    return found


@pytest.fixture
def unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoosh's own code for every patched method that can change what is written."""
    monkeypatch.setattr(writing.SegmentWriter, "add_document", patches_write._add_document)
    monkeypatch.setattr(writing.SegmentWriter, "_flush_segment",
                        patches_write._original_flush_segment)
    monkeypatch.setattr(formats.Positions, "word_values",
                        patches_write._positions_word_values)
    monkeypatch.setattr(formats.Characters, "word_values",
                        patches_write._characters_word_values)
    monkeypatch.setattr(whoosh3.W3PostingsWriter, "_write_block", _original_write_block)
    monkeypatch.setattr(writing.PostingPool, "save", patches_write._original_pool_save)
    monkeypatch.setattr(writing.PostingPool, "items", externalsort.SortingPool.items)
    for name in ("_write_run", "_read_run", "_merge_runs"):
        monkeypatch.setattr(writing.PostingPool, name, getattr(externalsort.SortingPool, name))


@pytest.mark.parametrize("limitmb", [64, 1])  # 1 MB: the pool spills sorted runs to disk
def test_patched_build_writes_the_same_index(tmp_path: Path, limitmb: int,
                                             request: pytest.FixtureRequest) -> None:
    runs: list[int] = []
    patched = _dump(_build(tmp_path / "patched", limitmb, runs))
    request.getfixturevalue("unpatched")
    reference = _dump(_build(tmp_path / "reference", limitmb, runs))
    # The pool spills as often as Whoosh's own (a patched save that kept its size count
    # would spill at every document after the first time).
    assert runs[0] == runs[1] and (runs[0] > 0) == (limitmb == 1)
    assert patched.keys() == reference.keys()
    assert patched == reference
    # The documents do reach past one posting block (what _write_term splits).
    terms = [value for key, value in patched.items() if key not in ("stored", "lengths")]
    assert max(len(postings) for postings, _ in terms) > 2 * 128


_POSTING = st.tuples(st.sampled_from(["body", "title", "actor"]),
                     st.binary(max_size=3), st.integers(0, 50))


@given(st.lists(_POSTING, unique=True, max_size=60), st.randoms())
def test_sort_postings_gives_the_tuple_order(keys: list[tuple[str, bytes, int]],
                                             rnd: Any) -> None:
    # Weights and values vary freely: they never decide the order of distinct postings.
    postings = [(f, t, d, rnd.random(), bytes([rnd.randrange(256)])) for f, t, d in keys]
    expected = sorted(postings)
    patches_write.sort_postings(postings)
    assert postings == expected


# No deadline: each example writes runs to disk, which a loaded machine can slow past 200 ms.
@settings(deadline=None)
@given(st.lists(_POSTING, unique=True, max_size=80), st.integers(1, 7), st.randoms())
def test_spilled_runs_merge_into_the_tuple_order(keys: list[tuple[str, bytes, int]],
                                                 every: int, rnd: Any) -> None:
    # Postings in any order, spilled every few: documents need not arrive in order (merging
    # segments adds them term by term), and the merge must still give the sorted order.
    postings = _shuffled(keys, rnd)
    with tempfile.TemporaryDirectory() as folder:
        storage = FileStorage(folder)
        pool = _filled_pool(storage, postings, every)
        assert list(pool.items()) == sorted(postings)
        assert storage.list() == []  # the run files are gone


def _shuffled(keys: list[tuple[str, bytes, int]], rnd: Any) -> list[tuple[Any, ...]]:
    postings = [(f, t, d, 1.0, b"v") for f, t, d in keys]
    rnd.shuffle(postings)
    return postings


def _filled_pool(storage: Any, postings: list[tuple[Any, ...]], every: int) -> Any:
    """A posting pool holding ``postings``, spilled to disk after every ``every`` (0: never)."""
    pool = writing.PostingPool(storage, None, limitmb=1)
    for n, posting in enumerate(postings, 1):
        pool.current.append(posting)
        if every and n % every == 0:
            pool.save()
    return pool


@given(st.lists(_POSTING, unique=True, max_size=80), st.integers(0, 7), st.randoms())
def test_pool_terms_are_the_sorted_postings_cut_per_term(keys: list[tuple[str, bytes, int]],
                                                         every: int, rnd: Any) -> None:
    # The same term in several fields (b"" in "actor" and "body") is cut at the field change.
    postings = _shuffled(keys, rnd)
    with tempfile.TemporaryDirectory() as folder:
        terms = list(patches_write._pool_terms(_filled_pool(FileStorage(folder), postings,
                                                              every)))
    expected = sorted(postings)
    assert [p for term in terms for p in term] == expected
    keys_per_term = [{p[:2] for p in term} for term in terms if term]
    assert all(len(k) == 1 for k in keys_per_term)
    assert len(keys_per_term) == len({p[:2] for p in expected})


def _skips(ix: Any) -> list[tuple[int, float]]:
    """Where skip_to lands in a multi-block posting list (it moves by block headers)."""
    out = []
    with ix.reader() as reader:
        for target in (3, 140, 300, 395):
            m = reader.postings("body", b"iran")
            m.skip_to(target)
            out.append((m.id(), m.block_max_weight()))
    return out


def test_patched_block_reads_give_the_same_postings(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ix = _build(tmp_path / "ix", 64)
    patched, skips = _dump(ix), _skips(ix)
    assert len(patched["body:b'iran'"][0]) > 2 * 128  # several blocks to move between
    monkeypatch.setattr(whoosh3.W3LeafMatcher, "_goto", patches_read._original_goto)
    monkeypatch.setattr(whoosh3.W3LeafMatcher, "_read_ids", patches_read._original_read_ids)
    assert _dump(ix) == patched
    assert _skips(ix) == skips


def _segment_dumps(ix: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], set[int]]:
    """Each segment's :func:`_dump_reader`, and the pickle protocols of the posting blocks'
    data met while reading them."""
    seen: set[int] = set()
    loads = whoosh3.loads

    def recording(data: bytes) -> Any:
        seen.add(data[1] if data[:1] == b"\x80" else 0)
        return loads(data)

    with monkeypatch.context() as m:
        m.setattr(whoosh3, "loads", recording)
        with ix.reader() as reader:
            dumps = [_dump_reader(leaf) for leaf, _offset in reader.leaf_readers()]
    return dumps, seen


def _two_commits(path: Path, first_protocol: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test documents in two segments: the first half's blocks pickled with
    ``first_protocol``, the second half's as the patched writer pickles them."""
    docs = _documents()
    half = len(docs) // 2
    ix = open_storage(path, create=True).create_index(make_schema())
    with monkeypatch.context() as m:
        m.setattr(patches_write, "_BLOCK_PROTOCOL", first_protocol)
        writer = ix.writer(limitmb=64)
        for doc in docs[:half]:
            writer.add_document(**doc)
        writer.commit()
    writer = ix.writer(limitmb=64)
    for doc in docs[half:]:
        writer.add_document(**doc)
    writer.commit(merge=False)
    return ix


def test_blocks_pickled_anew_read_like_whooshs_own(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # An index updated across the change holds blocks of both protocols (Whoosh's own 2 in
    # its first segment): each segment reads as the same segment written with protocol 4.
    mixed, seen = _segment_dumps(_two_commits(tmp_path / "mixed", 2, monkeypatch),
                                 monkeypatch)
    assert seen == {2, 4}
    new, seen = _segment_dumps(_two_commits(tmp_path / "new", 4, monkeypatch), monkeypatch)
    assert seen == {4}
    assert len(mixed) == 2 and mixed == new
    # And Whoosh's own reading of the blocks agrees.
    monkeypatch.setattr(whoosh3.W3LeafMatcher, "_goto", patches_read._original_goto)
    monkeypatch.setattr(whoosh3.W3LeafMatcher, "_read_ids", patches_read._original_read_ids)
    assert _segment_dumps(_two_commits(tmp_path / "whoosh", 2, monkeypatch),
                          monkeypatch)[0] == new


def test_remembered_term_lookups_answer_as_whoosh_does(tmp_path: Path) -> None:
    ix = _build(tmp_path / "ix", 64)
    original = patches_read._TERMS_READER
    with ix.reader() as reader:
        terms = reader._terms  # the segment's W3TermsReader
        present = list(reader.all_terms())[::7]
        missing = [("body", b"zyxwvut"), ("title", b"iran-missing"), ("nosuchfield", b"iran")]
        assert len(present) > 20
        for _ in range(2):  # the second round answers from what the first looked up
            for term in present + missing:
                assert (term in terms) == original["__contains__"](terms, term), term
                for name in ("term_info", "frequency", "doc_frequency"):
                    try:
                        want: Any = original[name](terms, *term)
                    except (KeyError, TermNotFound) as exc:
                        with pytest.raises(type(exc)):
                            getattr(terms, name)(*term)
                        continue
                    got = getattr(terms, name)(*term)
                    if name == "term_info":
                        got, want = vars(got), vars(want)
                    assert got == want, (name, term)
        assert len(terms._found) == len(present) + len(missing)


def _patch_state(env: dict[str, str], version: str = "") -> tuple[str, str]:
    """The patch state in a fresh interpreter, and its stderr; ``version`` fakes Whoosh's."""
    fake = f"import whoosh; whoosh.__version__ = {version}\n" if version else ""
    code = (f"{fake}from searchlib.engine.whoosh import patches, schema\n"
            "from whoosh import reading\n"
            "print(patches.state(), reading.MultiReader.column_reader.__module__)")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)
    return done.stdout.strip(), done.stderr.strip()


def test_the_switch_and_the_version_guard_run_whoosh_unpatched() -> None:
    assert _patch_state({"SEARCHLIB_WHOOSH_PATCHES": "1"}) == (
        "applied searchlib.engine.whoosh.patches.bugfixes", "")
    assert _patch_state({"SEARCHLIB_WHOOSH_PATCHES": "0"}) == ("off whoosh.reading", "")
    out, err = _patch_state({"SEARCHLIB_WHOOSH_PATCHES": "1"}, version="(2, 7, 6)")
    assert out == "untested whoosh.reading"
    assert ("RuntimeWarning: Whoosh 2.7.6 is not the release searchlib's patches were tested "
            "with (2.7.5): running unpatched (slower, same results)") in err
