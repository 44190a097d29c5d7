"""The fused analyzer, and the posting formats patched to use it, give exactly what Whoosh's
StemmingAnalyzer chain and formats give."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import formats
from whoosh.analysis import StemmingAnalyzer

from searchlib.engine.whoosh.analysis import NewsAnalyzer, occurrences
from searchlib.engine.whoosh.patches import write as patches_write
from searchlib.engine.whoosh.schema import make_schema
from searchlib.engine.whoosh.storage import open_storage

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
FLAGS = [
    {},
    {"positions": True, "chars": True},
    {"positions": True, "chars": True, "removestops": False, "keeporiginal": True},
    {"positions": True, "start_pos": 7, "start_char": 100, "mode": "query"},
    {"tokenize": False, "positions": True, "chars": True},
]


def _tokens(analyzer: object, text: str, **flags: object) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for t in analyzer(text, **flags):  # type: ignore[operator]
        out.append((t.text, t.stopped, getattr(t, "pos", None), getattr(t, "startchar", None),
                    getattr(t, "endchar", None), getattr(t, "original", None), t.boost))
    return out


@pytest.mark.parametrize("flags", FLAGS)
def test_same_tokens_as_the_whoosh_chain_on_the_seeds(flags: dict[str, object]) -> None:
    reference, fused = StemmingAnalyzer(), NewsAnalyzer()
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if flags.get("tokenize") is False:
            text = text.split()[3]
        assert _tokens(fused, text, **flags) == _tokens(reference, text, **flags)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.booleans())
def test_same_tokens_on_random_text(text: str, removestops: bool) -> None:
    flags = {"positions": True, "chars": True, "removestops": removestops}
    assert _tokens(NewsAnalyzer(), text, **flags) == _tokens(StemmingAnalyzer(), text, **flags)


def test_pickles_without_its_cache() -> None:
    analyzer = NewsAnalyzer()
    list(analyzer("Missiles were fired"))
    clone = pickle.loads(pickle.dumps(analyzer))
    assert clone == analyzer and clone._stems == {}
    assert [t.text for t in clone("Missiles were fired")] == ["missil", "were", "fire"]


def _reference_word_values(fmt: Any, text: str) -> list[tuple[Any, ...]]:
    """Whoosh's own word_values for ``fmt`` (unpatched), over the Whoosh chain's tokens."""
    original = (patches_write._characters_word_values if isinstance(fmt, formats.Characters)
                else patches_write._positions_word_values)
    return list(original(fmt, text, StemmingAnalyzer(), mode="index"))


_TRICKY = [
    "", "a an the", "U.S. and U.K. troops; e.g. 3.5km", "Al-Baghdadi's men—and ISIS's",
    "café Zürich naïve ŠKODA", "x " * 50 + "word word word", "*wild card* tokens",
]


@pytest.mark.parametrize("fmt", [formats.Positions(), formats.Characters(field_boost=0.7)])
def test_fast_posting_values_match_whoosh_byte_for_byte(fmt: Any) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + _TRICKY
    for text in texts:
        assert list(fmt.word_values(text, NewsAnalyzer(), mode="index")) == \
            _reference_word_values(fmt, text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cdé.-'*9 \nXY"), max_size=80))
def test_fast_posting_values_on_random_text(text: str) -> None:
    for fmt in (formats.Positions(), formats.Characters()):
        assert list(fmt.word_values(text, NewsAnalyzer(), mode="index")) == \
            _reference_word_values(fmt, text)


def test_segment_lengths_answer_as_the_column_reader(tmp_path: Path) -> None:
    storage = open_storage(tmp_path / "w", create=True)
    ix = storage.create_index(make_schema())
    with ix.writer() as w:
        w.add_document(id="a", title="One two", body="three four five six")
        w.add_document(id="b", title="", body="seven " * 300)
        w.add_document(id="c", body="eight")
    with ix.reader() as reader:
        (segment_reader, _), = reader.leaf_readers()
        perdoc = segment_reader._perdoc
        fast = patches_write._SegmentLengths(perdoc)
        for docnum in range(3):
            for field in ("title", "body", "actor"):
                assert fast.doc_field_length(docnum, field) == \
                    perdoc.doc_field_length(docnum, field)


def test_fast_posting_values_with_a_warm_cache() -> None:
    # Indexing reuses one analyzer: tokens seen before come from its cache, in any mix with
    # new ones, and must encode exactly as on first sight.
    analyzer = NewsAnalyzer()
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + _TRICKY
    for text in texts + texts[::-1]:
        for fmt in (formats.Positions(), formats.Characters()):
            assert list(fmt.word_values(text, analyzer, mode="index")) == \
                _reference_word_values(fmt, text)


@pytest.fixture()
def vectorised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text takes the numpy path that long texts take."""
    monkeypatch.setattr(patches_write, "VECTOR_MIN_CHARS", 0)


@pytest.mark.usefixtures("vectorised")
def test_vectorised_character_values_match_whoosh_byte_for_byte() -> None:
    fmt = formats.Characters(field_boost=0.7)
    analyzer = NewsAnalyzer()
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + _TRICKY
    # A long text of a few words repeated, the case the numpy path is for, starting with a
    # stop word so that positions start after it.
    texts.append("The " + "army said, the troops in Aleppo met U.S. officials. " * 5000)
    for text in texts + texts[::-1]:  # and again with a warm cache
        assert list(fmt.word_values(text, analyzer, mode="index")) == \
            _reference_word_values(fmt, text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cdé.-'*9 \nXY"), max_size=80))
def test_vectorised_character_values_on_random_text(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(patches_write, "VECTOR_MIN_CHARS", 0)
        assert list(formats.Characters().word_values(text, NewsAnalyzer(), mode="index")) == \
            _reference_word_values(formats.Characters(), text)


def test_long_texts_take_the_vectorised_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = NewsAnalyzer.character_deltas
    monkeypatch.setattr(NewsAnalyzer, "character_deltas",
                        lambda self, value: calls.append(len(value)) or original(self, value))
    text = "convoy reached the border " * 5000
    assert len(text) >= patches_write.VECTOR_MIN_CHARS
    values = list(formats.Characters().word_values(text, NewsAnalyzer(), mode="index"))
    assert calls == [len(text)]
    assert values == _reference_word_values(formats.Characters(), text)


def _check_occurrences(text: str) -> None:
    analyzer = NewsAnalyzer()
    grouped = analyzer.postings(text, chars=True)
    terms = sorted(grouped)
    for wanted in (terms, terms[::3], terms[:1], ["zzzabsent"], []):
        found = occurrences(analyzer.token_table(text), [*wanted, "zzzabsent"])
        assert set(found) == {*wanted, "zzzabsent"}
        for term, triples in found.items():
            assert triples == grouped.get(term, []), (text[:40], term)


def test_occurrences_are_the_postings_of_the_terms_asked_for() -> None:
    """What snippets find in a shown body: postings(chars=True), restricted to its words."""
    for text in [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + _TRICKY:
        _check_occurrences(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_occurrences_on_random_text(text: str) -> None:
    _check_occurrences(text)
