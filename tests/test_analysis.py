"""The fused analyzer yields exactly what Whoosh's StemmingAnalyzer chain yields."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import StemmingAnalyzer

from searchlib.analysis import NewsAnalyzer

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
FLAGS = [
    {},
    {"positions": True, "chars": True},
    {"positions": True, "chars": True, "removestops": False, "keeporiginal": True},
    {"positions": True, "start_pos": 7, "start_char": 100, "mode": "query"},
    {"tokenize": False, "positions": True, "chars": True},
]


def _tokens(analyzer: object, text: str, **flags: object) -> list[tuple[object, ...]]:
    out = []
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
