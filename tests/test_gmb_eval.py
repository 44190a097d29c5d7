"""The GMB entity harness (bench/gmb_eval.py): its reading, matching rule and the dev targets.

The unit tests use small made-up token lists; the figures need the shared corpus and are
skipped without it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_BENCH = Path(__file__).resolve().parent.parent / "bench" / "gmb_eval.py"


def _load() -> ModuleType:
    # bench/ is not a package: load the script from its path.
    spec = importlib.util.spec_from_file_location("gmb_eval", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gmb_eval"] = module
    spec.loader.exec_module(module)
    return module


ge = _load()


def _sentence(pairs: str) -> list[tuple[str, str]]:
    return [tuple(p.rsplit("/", 1)) for p in pairs.split()]  # type: ignore[misc]


def test_reading_spans_and_text(tmp_path: Path) -> None:
    csv = tmp_path / "ner.csv"
    csv.write_text(
        "Sentence #,Word,POS,Tag\n"
        "Sentence: 1,President,NNP,B-per\n,George,NNP,I-per\n,Bush,NNP,I-per\n,'s,POS,O\n"
        ",visit,NN,O\n,to,TO,O\n,New,NNP,B-geo\n,York,NNP,I-geo\n,\",\",\",\",O\n"
        ",Iraqi,JJ,B-gpe\n,officials,NNS,O\n,.,.,O\n"
        "Sentence: 2,The,DT,O\n,U.N.,NNP,B-org\n,met,VBD,O\n,.,.,O\n",
        encoding="latin-1",
    )
    sentences = ge.load_sentences(csv)
    assert len(sentences) == 2
    (article,) = ge.pseudo_articles(sentences)
    assert article.text == ("President George Bush's visit to New York, Iraqi officials.\n\n"
                            "The U.N. met.")
    assert [(s.kind, s.text) for s in article.gold] == [
        ("per", "President George Bush"), ("geo", "New York"), ("gpe", "Iraqi"), ("org", "U.N.")]


def test_matching_rule() -> None:
    assert ge.normalise("the U.S.'s") == "us"
    assert ge.strip_titles("Prime Minister Tony Blair") == "Tony Blair"
    assert ge.strip_titles("President") == ""
    article = ge.PseudoArticle(0, "", (
        ge.Span("per", "Mr. Abbas"), ge.Span("geo", "Iraq"), ge.Span("org", "Iran"),
        ge.Span("geo", "Iran"), ge.Span("gpe", "Iraqi"), ge.Span("org", "Hamas"),
        ge.Span("per", "President")))
    report = ge.Report("x", "dev")
    ge.score_article(article, {
        "person": {"Abbas", "Hamas Fighters", "Hamas Leader"},  # a title alone is dropped
        "location": {"Iraq", "Atlantis"},
        # Iran is gold both org and geo: right as an organisation. Iraqi is a demonym.
        "organisation": {"Iran", "Iraqi", "Hamas", "Fatah"},
    }, report)
    s = report.scores
    assert (s["person"].tp, s["person"].fp, s["person"].fn) == (1, 1, 0)
    # Iran is gold geo too; not predicted as a location: a miss.
    assert (s["location"].tp, s["location"].fp, s["location"].fn) == (1, 1, 1)
    assert (s["organisation"].tp, s["organisation"].fp, s["organisation"].fn) == (2, 1, 0)
    assert s["organisation"].precision == pytest.approx(2 / 3)
    assert s["organisation"].f1 == pytest.approx(0.8)


def test_split_is_contiguous_and_disjoint() -> None:
    articles = [ge.PseudoArticle(i, "", ()) for i in range(10)]
    parts = ge.split(articles)
    assert [a.index for a in parts["dev"]] == list(range(7))
    assert [a.index for a in parts["heldout"]] == [7, 8, 9]



def test_dev_targets_on_the_corpus() -> None:
    corpus = ge.default_corpora() / "gmb-ner" / "ner_dataset.csv"
    if not corpus.is_file():
        pytest.skip("gmb-ner corpus absent")
    dev = ge.split(ge.pseudo_articles(ge.load_sentences(corpus)))["dev"]
    report = ge.evaluate("searchlib", ge.searchlib_extractor(), dev, "dev")
    scores = report.scores
    assert scores["location"].f1 >= 0.85
    assert scores["person"].f1 >= 0.80
    assert scores["organisation"].f1 >= 0.60
