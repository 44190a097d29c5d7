"""The set-at-a-time evaluation gives Whoosh's own results: documents, scores bit for bit,
matched terms; on a multi-segment index with deleted documents."""

from __future__ import annotations

import functools
import importlib.util
import pickle
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from searchlib import build_index, open_index
from searchlib.engine.whoosh import evaluate, facetdata, facetstore, postlists, schema
from searchlib.search import Index

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _gen_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("gen_corpus_for_evaluate",
                                                  BENCH / "gen_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _build_segmented(base: Path) -> Path:
    """~80 generated articles indexed in three batches, then a few changed (deletions)."""
    corpus = base / "corpus"
    _gen_corpus().generate(80, 5, corpus)
    docs = corpus / "docs"
    files = sorted(p for p in docs.rglob("*") if p.is_file())
    staging = base / "staging"
    staging.mkdir()
    for path in files:
        shutil.move(str(path), str(staging / path.name))
    index = base / "index"
    target = docs / "000"
    target.mkdir(parents=True, exist_ok=True)
    staged = sorted(staging.iterdir())
    for batch in (staged[:30], staged[30:55], staged[55:]):
        for path in batch:
            shutil.move(str(path), str(target / path.name))
        build_index([docs], index, procs=1)
    changed = [p for p in sorted(target.iterdir()) if p.suffix == ".txt"][:4]
    for path in changed:
        path.write_text(path.read_text(encoding="utf-8") + "\n\nA later paragraph about "
                        "missile defence and border troops.\n", encoding="utf-8")
    build_index([docs], index, procs=1)
    return index


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The multi-segment index with deletions, as searchlib writes it today."""
    with open_index(_build_segmented(tmp_path_factory.mktemp("evaluate"))) as ix:
        yield ix


@pytest.fixture(scope="module")
def segmented_chars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The same index written as before 2026-12-04: body postings with character offsets."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "make_schema", functools.partial(schema.make_schema,
                                                               body_chars=True))
        index = _build_segmented(tmp_path_factory.mktemp("evaluate-chars"))
    with open_index(index) as ix:
        assert ix._engine._fresh().schema["body"].supports("characters")
        yield ix


def _queries(ix: Index) -> list[str]:
    searcher = ix._engine._fresh()
    reader = searcher.reader()
    words = sorted({w for w in re.findall(r"[a-z]{5,}", " ".join(
        searcher.stored_fields(d).get("body", "")[:400] for d in range(6) if
        not reader.is_deleted(d)))})
    body = searcher.stored_fields(next(d for d in range(20) if not reader.is_deleted(d)))["body"]
    pairs = re.findall(r"\b([a-z]{4,}) ([a-z]{4,})\b", body)[:3]
    phrases = [f'"{a} {b}"' for a, b in pairs]
    actors = list(ix.facet_values("actor"))[:2]
    out = ["missile attack", "government", "border troops", "war peace treaty",
           "the president said the government would act", "iran AND missile",
           "nuclear NOT weapons", "+government war", "-government war", "title:war",
           "war OR government OR troops", '"prime minister"', '"border troops"~3',
           "flow AND (layer OR boundary)", "what is the flow of air over a wing"]
    out += words[:6] + [" ".join(words[i:i + 3]) for i in range(0, 9, 3)] + phrases
    out += [f'actor:"{a}" attack' for a in actors]
    # A word found only in the first live document: the excluded side of "-word" is used up
    # as soon as the matcher is built, a case that once lost the exclusion.
    first = next(d for d in range(reader.doc_count_all()) if not reader.is_deleted(d))
    analyzer = searcher.schema["body"].analyzer
    rare = common = None
    for word in re.findall(r"[A-Za-z]{6,}", searcher.stored_fields(first)["body"]):
        stems = [t.text for t in analyzer(word)]
        frequency = searcher.doc_frequency("body", stems[0]) if stems else 0
        if frequency == 1:
            rare = rare or word
        elif frequency >= 3:
            common = common or word
    assert rare and common
    out += [f"{common} -{rare}", f"{common} war -{rare}", f"war OR ({common} AND NOT {rare})"]
    return out


@pytest.mark.parametrize("lists", [False, True], ids=["blocks", "postlists"])
@pytest.mark.parametrize("dense", [False, True], ids=["dicts", "arrays"])
def test_scores_documents_and_terms_are_whooshs(segmented: Index, dense: bool, lists: bool
                                                ) -> None:
    """With the postings read from Whoosh's blocks, or from the posting-list files written
    beside each segment (postlists.py): Whoosh's documents, scores and snippet offsets."""
    ix = segmented
    searcher = ix._engine._fresh()
    assert len(searcher.leaf_searchers()) > 1
    assert searcher.reader().has_deletions()
    folder = ix._engine._whoosh_dir if lists else None
    evaluator = evaluate.Evaluator(searcher, dense=dense, folder=folder)
    if lists:  # every segment has its file, and the postings are read from it
        assert all(evaluator._lists_of(seg, sub.reader()) is not None
                   for seg, (sub, _) in enumerate(evaluator.leaves))
    assert evaluator.dense is dense
    handled = 0
    for text in _queries(ix):
        q = ix._engine.parse(text)
        evaluation = evaluator.evaluate(q)
        reference = searcher.search(q, limit=None, terms=True)
        expected = {hit.docnum: hit.score for hit in reference}
        assert set(searcher.docs_for_query(q)) == set(expected), text
        if evaluation is None:
            continue
        handled += 1
        assert evaluation.all_scores() == expected, text
        assert {d: s.hex() for d, s in evaluation.all_scores().items()} == {
            d: float(s).hex() for d, s in expected.items()}, text  # bit for bit
        assert evaluation.count == len(expected)
        for docnum in expected:
            assert sorted(evaluation.terms_of(docnum)) == sorted(
                reference.docterms.get(docnum, [])), (text, docnum)
    assert handled >= len(_queries(ix)) - 2


@pytest.mark.parametrize("lists", [False, True], ids=["blocks", "postlists"])
def test_snippet_offsets_are_the_stored_ones(segmented_chars: Index, lists: bool) -> None:
    """On an index whose body postings hold character offsets (written before 2026-12-04):
    the evaluator reads each hit's offsets from its posting block, and analysing the stored
    body again (what indexes without offsets do) gives the very same triples."""
    ix = segmented_chars
    searcher = ix._engine._fresh()
    folder = ix._engine._whoosh_dir if lists else None
    evaluator = evaluate.Evaluator(searcher, dense=False, folder=folder)
    checked = 0
    for text in _queries(ix):
        q = ix._engine.parse(text)
        if evaluator.evaluate(q) is None:
            continue
        results = searcher.search(q, limit=None, terms=True)
        stored = evaluate.chars_from_text(
            results, "body",
            lambda d: evaluate.token_table(searcher.schema["body"],
                                           searcher.stored_fields(d)["body"]),
            [hit.docnum for hit in results])
        for hit in results:
            for term in hit.matched_terms():
                if term[0] != "body":
                    continue
                postings = searcher.postings(*term)
                postings.skip_to(hit.docnum)
                value = postings.value_as("characters")
                assert evaluator.characters(hit.docnum, *term) == value, (text, term)
                assert stored[hit.docnum][term[1].decode()] == value, (text, term)
                checked += 1
    assert checked > 500


def test_snippets_without_stored_offsets_are_the_same(segmented: Index,
                                                      segmented_chars: Index) -> None:
    """The same articles indexed with and without the body's character offsets give every
    query the same hits, snippets and marked spans."""
    assert not segmented._engine._fresh().schema["body"].supports("characters")
    compared = 0
    for text in _queries(segmented):
        for page in (1, 2):
            plain = segmented.search(text, limit=5, page=page)
            chars = segmented_chars.search(text, limit=5, page=page)
            assert [(Path(h.path).name, h.snippet, h.highlights) for h in plain.hits] == [
                (Path(h.path).name, h.snippet, h.highlights) for h in chars.hits], (text, page)
            compared += sum(bool(h.highlights) for h in plain.hits)
    assert compared > 100


def test_a_long_article_is_analysed_again_only_up_to_the_bound(tmp_path: Path) -> None:
    """A snippet's words are looked for in an article's first REANALYSED_CHARS characters:
    a word found there is marked; one found only beyond gives the article's lead."""
    docs = tmp_path / "docs"
    docs.mkdir()
    filler = "The committee met again on Tuesday to discuss the harbour budget. "
    body = filler * (evaluate.REANALYSED_CHARS // len(filler) + 50)
    (docs / "long.txt").write_text("Harbour report\n\nA zebra escaped early. " + body
                                   + "A quagga was seen late.\n", encoding="utf-8")
    build_index([docs], tmp_path / "index", procs=1)
    with open_index(tmp_path / "index") as ix:
        early = ix.search("zebra").hits[0]
        assert "zebra" in [early.snippet[a:b].lower() for a, b in early.highlights]
        late = ix.search("quagga").hits[0]
        assert late.highlights == () and late.snippet.startswith("A zebra escaped early.")


def test_both_evaluation_paths_agree(segmented: Index) -> None:
    """Dicts (small indexes) and numpy arrays (large ones): same documents, scores, order."""
    ix = segmented
    searcher = ix._engine._fresh()
    size = searcher.doc_count_all()
    sparse = evaluate.Evaluator(searcher, dense=False)
    whole = evaluate.Evaluator(searcher, dense=True)
    # The numpy path one segment at a time (what it falls back to when the segments'
    # matcher trees differ in shape, e.g. a word missing from one segment).
    split = evaluate.Evaluator(searcher, dense=True)
    split.whole = False
    # Every other document, and the first few: a filter through the middle of every segment.
    pattern = sum(1 << d for d in range(0, size, 2)) | 0b11111
    compared = 0
    parts = set()
    for text in _queries(ix):
        q = ix._engine.parse(text)
        a = sparse.evaluate(q)
        for dense in (whole, split):
            b = dense.evaluate(q)
            assert (a is None) == (b is None), text
            if a is None or b is None:
                continue
            assert isinstance(b, evaluate._DenseEvaluation)
            parts.add(len(b.parts) if dense is whole else 0)
            compared += 1
            assert a.all_scores() == b.all_scores(), text
            assert {d: s.hex() for d, s in a.all_scores().items()} == {
                d: s.hex() for d, s in b.all_scores().items()}, text  # even a zero's sign
            assert a.count == b.count and a.bits(size) == b.bits(size), text
            within = a.bits(size) & pattern
            for wanted in (1, 5, size):
                assert a.best(wanted) == b.best(wanted), (text, wanted)
                assert a.best(wanted, within) == b.best(wanted, within), (text, wanted)
            for docnum in a.all_scores():
                assert a.score(docnum) == b.score(docnum)
                assert a.terms_of(docnum) == b.terms_of(docnum), (text, docnum)
    assert compared >= 2 * (len(_queries(ix)) - 2)
    # Both the all-segments-at-once evaluation and its fallback were exercised.
    assert {1, len(searcher.leaf_searchers())} <= parts


def test_best_breaks_ties_by_docnum() -> None:
    """Equal scores (a one-word query on equal-length documents) come lowest docnum first."""
    import numpy as np

    scores = np.array([1.0, 2.0, 2.0, 0.5, 2.0, 2.0])
    mask = np.array([True, True, False, True, True, True])
    node = evaluate._Dense(scores, mask, [])
    ranked = evaluate._DenseEvaluation([(0, node)])
    assert ranked.best(2) == [(2.0, 1), (2.0, 4)]
    assert ranked.best(10) == [(2.0, 1), (2.0, 4), (2.0, 5), (1.0, 0), (0.5, 3)]
    assert ranked.best(2, within=0b110001) == [(2.0, 4), (2.0, 5)]
    assert ranked.bits(6) == 0b111011 and ranked.count == 5
    sparse = evaluate._SparseEvaluation([(0, 6, {0: 1.0, 1: 2.0, 3: 0.5, 4: 2.0, 5: 2.0}, [])])
    for wanted, within in ((2, None), (10, None), (2, 0b110001)):
        assert sparse.best(wanted, within) == ranked.best(wanted, within)


def test_the_index_size_picks_the_path(segmented: Index, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    searcher = segmented._engine._fresh()
    assert not evaluate.Evaluator(searcher).dense  # ~80 documents
    monkeypatch.setattr(evaluate, "DENSE_MIN_DOCS", searcher.doc_count_all())
    assert evaluate.Evaluator(searcher).dense
    assert facetstore.DENSE_MIN_DOCS >= 10_000  # a one-shot query at 10k never loads numpy


@pytest.mark.parametrize("dense", [False, True], ids=["dicts", "arrays"])
def test_search_results_match_a_plain_whoosh_ranking(segmented: Index, dense: bool) -> None:
    ix = segmented
    searcher = ix._engine._fresh()
    ix._engine._dense_pinned = dense
    for text in ("missile attack", "border troops", '"border troops"', "-government war",
                 "government"):
        q = ix._engine.parse(text)
        ranked = sorted(((hit.score, hit.docnum) for hit in searcher.search(q, limit=None)),
                        key=lambda item: (-item[0], item[1]))
        for page in (1, 2):
            results = ix.search(text, limit=5, page=page)
            assert results.total == len(ranked)
            want = [searcher.stored_fields(d)["id"] for _, d in ranked[(page - 1) * 5:page * 5]]
            assert [h.id for h in results.hits] == want, (text, page)
            assert [h.score for h in results.hits] == [
                s for s, _ in ranked[(page - 1) * 5:page * 5]]
    assert ix._engine._evaluation is not None and ix._engine._evaluation.dense is dense
    ix._engine._dense_pinned = None  # the next test gets the evaluator the index picks


def test_unsupported_queries_fall_back(segmented: Index) -> None:
    ix = segmented
    for text in ("date:2017 war", "*"):
        assert ix._engine._evaluator().evaluate(ix._engine.parse(text)) is None
        assert ix.search(text).total >= 0
    # Fuzzy, wildcard and prefix terms are expanded into index terms at parse time, which
    # the evaluator handles (tests/test_patterns.py compares them with Whoosh's own).
    for text in ("missil*", "govermnent~", "*ment"):
        assert ix._engine._evaluator().evaluate(ix._engine.parse(text)) is not None


def test_exclusion_applies_to_the_first_document_of_a_segment(segmented: Index) -> None:
    ix = segmented
    searcher = ix._engine._fresh()
    for text in ("-government war", "war -troops", "attack -missile"):
        results = ix.search(text, limit=100)
        excluded = text.split("-")[1].split()[0]
        q = ix._engine.parse(excluded)
        bad = set(searcher.docs_for_query(q))
        ids = {searcher.stored_fields(d)["id"] for d in bad}
        assert not ids & {h.id for h in results.hits}, text


def test_exact_phrase_shortcut_agrees_with_the_span_walk() -> None:
    import random

    from searchlib.engine.whoosh import evaluate

    rng = random.Random(3)
    for _ in range(2000):
        words = rng.randint(1, 4)
        positions = [sorted(rng.sample(range(30), rng.randint(0, 8))) for _ in range(words)]
        walk = bool(positions) and all(positions) and any(
            all(p + i in positions[i] for i in range(1, words)) for p in positions[0])
        assert evaluate._spans_match(positions, 1) == walk, positions


def _positions_value(positions: list[int], stop: bool) -> bytes:
    """A posting value as Whoosh's Positions format writes it (the STOP byte is sometimes
    left off in the blocks)."""
    import pickle
    import struct

    deltas = [b - a for a, b in zip([0, *positions], positions, strict=False)]
    value = struct.pack("!I", len(positions)) + pickle.dumps(deltas, 2)
    return value if stop else value[:-1]


def _stored_form(docnums: list[int], values: list[bytes]) -> tuple[Any, Any, Any]:
    """One term's postings written by a PositionSink and read back from its file."""
    import tempfile

    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        sink = postlists.PositionSink(postlists.temp_path(folder, "seg", postlists.POS_SUFFIX))
        assert sink.add(1234, values)
        sink.close()
        postlists.finish(folder, "seg", postlists.POS_SUFFIX)
        files = postlists.open_positions(folder, "seg")
        assert files is not None and files.get(99) is None
        entry = files.get(1234)
        assert entry is not None
        counts, deltas = entry
    return np.array(docnums), np.array(counts), np.array(deltas)


def test_exact_phrases_found_all_at_once_are_the_span_walks() -> None:
    """_exact_phrase_docs (numpy, every candidate at once) against _spans_match (one
    document at a time) on random documents: same documents hold the phrase."""
    import random

    import numpy as np

    rng = random.Random(7)
    for _ in range(300):
        words = rng.randint(1, 4)
        docs = rng.randint(0, 40)
        candidates = np.array(sorted(rng.sample(range(1000), docs)), dtype=np.int64)
        span = rng.choice([12, 60, 100_000])
        positions = {d: [sorted(rng.sample(range(span), rng.randint(1, 9)))
                         for _ in range(words)] for d in candidates.tolist()}
        raws = [{d: _positions_value(positions[d][w], rng.random() < 0.5)
                 for d in candidates.tolist()} for w in range(words)]
        expected = [d for d in candidates.tolist() if evaluate._spans_match(positions[d], 1)]
        words_found = [evaluate._raw_positions(raw, candidates) for raw in raws]
        found = evaluate._exact_phrase_docs(words_found, candidates)
        assert found.dtype == np.int32 and found.tolist() == expected
        # As a positions file gives them: every posting of the term, candidates or not,
        # counts and deltas decoded from the values by the flush's one-pickle decoding.
        others = sorted(set(range(1000)) - set(candidates.tolist()))
        stored = []
        for w, raw in enumerate(raws):
            extra = {d: _positions_value(sorted(rng.sample(range(span), rng.randint(1, 9))),
                                         True) for d in rng.sample(others, 5)}
            every = dict(sorted({**raw, **extra}.items()))
            stored.append(_stored_form(list(every), list(every.values())))
            if w == 0:
                assert stored[0][2].tolist() == [  # the same deltas as each value's own
                    x for v in every.values() for x in pickle.loads(v[4:] + b".")]
        found = evaluate._exact_phrase_docs(stored, candidates)
        assert found.dtype == np.int32 and found.tolist() == expected


def test_whole_searches_agree_on_both_paths(segmented: Index, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """Totals, hits, scores, snippets and facet counts with filters, date ranges and date
    sorts: the same from dicts and bitsets as from numpy arrays."""
    ix = segmented
    cache = ix._engine._facet_cache()
    actors = list(ix.facet_values("actor"))[:2]
    locations = list(ix.facet_values("location"))[:1]
    years = sorted(ix.facet_values("year"))
    calls: list[dict[str, Any]] = [
        {"query": "missile attack"}, {"query": "government", "page": 2, "limit": 5},
        {"query": '"border troops"~3'}, {"query": "war", "actors": actors},
        {"query": "attack", "locations": locations, "sort": "newest"},
        {"query": "government war", "date_from": years[len(years) // 2]},
        {"query": "troops", "date_to": years[-1], "sort": "oldest", "actors": actors[:1]},
        {"query": "", "actors": actors[:1], "sort": "newest"}, {"query": "missil*"},
    ]
    ix._engine._dense_pinned = False
    try:
        plain = [ix.search(**call) for call in calls]
        assert not cache.dense and not ix._engine._evaluator().dense
        # Numpy everywhere, and values split between bitset rows and docnum lists.
        monkeypatch.setattr(facetdata, "ROW_SHARE", 8)
        ix._engine._dense_pinned = True
        cache._by_date = None
        cache._orders = {}
        assert any(cache.rare(kind)[0] for kind in ("actor", "location", "person"))
        dense = [ix.search(**call) for call in calls]
        assert cache.dense and ix._engine._evaluator().dense
    finally:
        ix._engine._dense_pinned = None
        cache._by_date = None
        cache._orders = {}
    for call, a, b in zip(calls, plain, dense, strict=True):
        assert a.total and a.total == b.total, call
        assert a.hits == b.hits, call
        assert a.facets == b.facets, call


def test_zero_and_negative_boosts_keep_whooshs_bits(segmented: Index) -> None:
    """Signed zeros and negative scores: the numpy path's -0.0 filler must never show."""
    from whoosh import query as wq

    searcher = segmented._engine._fresh()
    war, gov = wq.Term("body", "war"), wq.Term("body", "govern")
    queries = [
        wq.Or([wq.Term("body", "war", boost=-1.0), gov]),
        wq.Or([wq.Term("body", "war", boost=0.0), wq.Term("title", "war", boost=-0.0), gov]),
        wq.Or([wq.And([war, wq.Term("body", "govern", boost=-2.0)]), wq.Term("body", "troop")]),
        wq.AndMaybe(wq.Term("body", "war", boost=-0.5), gov),
        # Every score -0.0: documents matching one side only must keep the sign.
        wq.Or([wq.Term("body", "war", boost=-0.0), wq.Term("body", "troop", boost=-0.0)]),
    ]
    signed = 0
    for q in queries:
        # Whoosh's matchers' own scores (its collector would leave out the 0.0 ones).
        docs = sorted(searcher.docs_for_query(q))
        expected = {d: float(score).hex()
                    for d, (score, _) in evaluate.exact_scores(searcher, q, docs).items()}
        assert len(expected) == len(docs) > 0, q
        signed += sum(score == "-0x0.0p+0" for score in expected.values())
        for dense in (False, True):
            evaluation = evaluate.Evaluator(searcher, dense=dense).evaluate(q)
            assert evaluation is not None
            assert {d: s.hex() for d, s in evaluation.all_scores().items()} == expected, q
    assert signed


def test_only_fills_unmatched_documents_with_negative_zero() -> None:
    import numpy as np

    scores = np.array([1.5, -0.0, 0.0, -2.0, float("inf")])
    mask = np.array([True, True, False, False, True])
    out = evaluate._only(scores, mask)
    assert [x.hex() for x in out.tolist()] == [x.hex() for x in (1.5, -0.0, -0.0, -0.0,
                                                                 float("inf"))]
    assert scores.tolist()[2] == 0.0 and str(scores.tolist()[2]) == "0.0"  # input untouched
    for x in (0.0, -0.0, 1e-300, -3.5):  # -0.0 is the identity of addition
        assert (x + -0.0).hex() == x.hex()


def test_an_index_opened_cold_uses_arrays_from_its_second_search(segmented: Index) -> None:
    """A one-shot query (``warm=False``) stays on dicts (no numpy import); a second search
    switches to arrays, with the same results."""
    with open_index(segmented.path, warm=False) as ix:
        _dicts_then_arrays(ix)


def test_a_warm_session_uses_arrays_once_numpy_is_loaded(segmented: Index) -> None:
    """A session (``warm``, the default) loads numpy in the background as it opens and
    evaluates on arrays from its first search once the import is done."""
    from searchlib.engine.whoosh import searcher

    with open_index(segmented.path) as ix:
        assert searcher._NUMPY_READY.wait(60)
        first = ix.search("missile attack")
        assert ix._engine._evaluation is not None and ix._engine._evaluation.dense
        assert ix._engine._facets is not None and ix._engine._facets.dense
    with open_index(segmented.path, warm=False) as ix:
        again = ix.search("missile attack")
        assert not ix._engine._evaluation.dense
    assert first.total and replace(again, elapsed=0.0) == replace(first, elapsed=0.0)


def _dicts_then_arrays(ix: Index) -> None:
    actors = list(ix.facet_values("actor"))[:1]
    calls: list[dict[str, Any]] = [{"query": "missile attack"},
                                   {"query": "war", "actors": actors, "sort": "newest"}]
    first = [ix.search(**calls[0])]
    assert ix._engine._evaluation is not None and not ix._engine._evaluation.dense
    assert ix._engine._facets is not None and not ix._engine._facets.dense
    first.append(ix.search(**calls[1]))
    assert ix._engine._evaluation.dense and ix._engine._facets.dense
    again = [ix.search(**call) for call in calls]
    for call, a, b in zip(calls, first, again, strict=True):
        assert a.total and a.total == b.total, call
        assert a.hits == b.hits, call
        assert a.facets == b.facets, call


def test_caches_count_what_their_entries_hold(segmented: Index) -> None:
    """An expansion's cached arrays hold none of its matchers and are found again by its
    terms once the bounded tree cache has dropped them; a cached tree counts its matchers,
    a cached posting list its fixed cost: 2,000 hostile queries at 10,000 articles once
    held 460 MB because one-posting lists and fuzzy trees of hundreds of matchers each
    counted as one, and the expansions kept every matcher alive."""
    import gc
    import weakref

    ix = segmented
    searcher = ix._engine._fresh()
    evaluator = evaluate.Evaluator(searcher, dense=True)
    q = ix._engine.parse("gov* OR war~")
    first = evaluator.evaluate(q)
    assert first is not None
    entries = dict(evaluator._expansions._data)
    assert entries, "the query was not evaluated as an expansion"
    assert evaluator._trees.used == sum(
        evaluate._matcher_count(tree) for tree, _ in evaluator._trees._data.values())
    assert evaluator._trees.used > len(evaluator._trees._data)
    assert evaluator._postings.used >= len(evaluator._postings._data) * (
        evaluate.ENTRY_POSTINGS + 1)
    trees = [weakref.ref(tree) for tree, _ in evaluator._trees._data.values()]
    evaluator._trees = evaluate._LRU(evaluate.TREE_MATCHERS)  # as if evicted
    gc.collect()
    assert all(tree() is None for tree in trees)  # nothing else kept the matchers
    again = evaluator.evaluate(q)
    assert again is not None and again.all_scores() == first.all_scores()
    assert dict(evaluator._expansions._data) == entries  # found again, not recomputed
    # Unpacked from the cache, the same documents with the same terms positioned on them.
    docs = list(first.all_scores())
    assert [again.terms_of(d) for d in docs] == [first.terms_of(d) for d in docs]
    assert again.bits(10**9) == first.bits(10**9)
    # Each entry weighs its arrays, and something even when empty (its key and tuples).
    assert all(weight == packed.nbytes >= 200 for (_, packed), weight in entries.values())


@pytest.mark.parametrize("share", [0.0, 0.001, 0.05, 0.5, 1.0])
def test_packed_masks_unpack_to_the_same_arrays(share: float) -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    for size in (1, 7, 8, 1000, 100_003):
        mask = rng.random(size) < share
        packed = evaluate._pack_mask(mask)
        assert packed.nbytes <= (size + 7) // 8 + 4 * max(1, int(mask.sum()))
        back = evaluate._unpack_mask(packed, size)
        assert back.dtype == bool and back.shape == mask.shape and (back == mask).all()
    scores = np.where(mask, rng.random(size), -0.0)
    node = evaluate._Dense(scores, mask, [(("body", b"x"), mask)], clean=True)
    again = evaluate._PackedDense(node).unpack()
    assert again.scores.tobytes() == scores.tobytes()  # -0.0 where unmatched, bit for bit
    assert (again.mask == mask).all() and again.clean
    assert [(t, (w == mask).all()) for t, w in again.terms] == [(("body", b"x"), True)]
