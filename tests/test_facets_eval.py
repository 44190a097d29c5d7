"""Facet quality targets on the hand-annotated articles of tests/data/facets_eval.

The seed annotations always run. The benchmark and TIME annotations need the corpora
(``$SEARCHLIB_CORPORA`` or ``shared/corpora`` beside the repository) and are skipped without them.
Targets: precision and recall >= 0.9 (micro) for actors and locations; the publication date right
on every seed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from searchlib.models import Extraction

_BENCH = Path(__file__).resolve().parent.parent / "bench" / "facets_eval.py"
TARGET = 0.9
TARGET_FACETS = ("actor", "location")


def _load_bench() -> ModuleType:
    # bench/ is not a package and holds a collections.py that must not shadow the stdlib, so the
    # script is loaded from its path rather than through sys.path.
    spec = importlib.util.spec_from_file_location("facets_eval", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["facets_eval"] = module
    spec.loader.exec_module(module)
    return module


fe = _load_bench()
ANNOTATIONS: list[Any] = fe.load_annotations()


def _of(source: str) -> list[Any]:
    return [annotation for annotation in ANNOTATIONS if annotation.source == source]


@pytest.fixture(scope="module")
def reports() -> dict[str, Any]:
    """One evaluation per source, shared by the tests of this module."""
    corpora = fe.default_corpora()
    return {source: fe.evaluate(_of(source), corpora) for source in fe.SOURCES}


def _require(report: Any, source: str) -> None:
    if not report.articles:
        pytest.skip(f"no {source} article available (corpus absent): {report.skipped[:1]}")


# --- the annotation set itself ----------------------------------------------------------------


def test_annotation_set_is_complete_and_well_formed() -> None:
    assert len(_of("seed")) == 5
    assert len(_of("benchmark")) + len(_of("time")) >= 30
    for annotation in ANNOTATIONS:
        assert annotation.actors or annotation.locations or annotation.people, annotation.id
        if annotation.source == "seed":
            assert (fe.SEEDS / annotation.ref).is_file(), annotation.ref
        if annotation.source in {"benchmark", "time"}:
            assert annotation.published is not None, annotation.id


def test_malformed_annotation_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: seed\nref: x\nactors: Iran\n", encoding="utf-8")
    with pytest.raises(ValueError, match="actors"):
        fe.load_annotation(bad)
    bad.write_text("source: blog\nref: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source"):
        fe.load_annotation(bad)


# --- the scoring ------------------------------------------------------------------------------


def test_facet_score_counts() -> None:
    score = fe.FacetScore()
    fp, fn = score.add({"Iran", "ISIS"}, ["iran", "Tehran", "Rome"], optional={"Rome"})
    assert (fp, fn) == (["Tehran"], ["ISIS"])
    score.add({"Iraq"}, [])
    assert (score.tp, score.fp, score.fn) == (1, 1, 2)
    assert score.micro_precision == pytest.approx(0.5)
    assert score.micro_recall == pytest.approx(1 / 3)
    assert score.macro_precision == pytest.approx(0.5)
    assert score.macro_recall == pytest.approx(0.25)


def test_evaluate_with_a_stub_extractor_reports_errors() -> None:
    seed = next(a for a in _of("seed") if a.published is not None)

    def stub(article: Any) -> Extraction:
        return Extraction(
            actors=(*sorted(seed.actors)[1:], "Atlantis Navy"),
            locations=tuple(seed.locations),
            people=(),
            published=dt.date(1999, 1, 1),
        )

    report = fe.evaluate([seed], fe.default_corpora(), extractor=stub)
    result = report.articles[0]
    assert result.errors["actor"] == {"fp": ["Atlantis Navy"], "fn": [sorted(seed.actors)[0]]}
    assert "location" not in result.errors
    assert result.errors["person"]["fn"] == sorted(seed.people)
    assert not result.date_ok
    assert report.date_accuracy == 0.0
    text = fe.format_report(report)
    assert "Atlantis Navy" in text and "expected" in text


def test_main_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "facets.json"
    assert fe.main(["--source", "seed", "--json", str(out)]) == 0
    assert "micro P" in capsys.readouterr().out
    data = __import__("json").loads(out.read_text(encoding="utf-8"))
    assert data["articles"] == 5
    assert set(data["facets"]) == {"actor", "location", "person"}


# --- targets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("facet", TARGET_FACETS)
def test_seed_targets(reports: dict[str, Any], facet: str) -> None:
    score = reports["seed"].facets[facet]
    assert score.micro_precision >= TARGET, fe.format_report(reports["seed"])
    assert score.micro_recall >= TARGET, fe.format_report(reports["seed"])


def test_seed_dates_all_right(reports: dict[str, Any]) -> None:
    wrong = [r for r in reports["seed"].articles if not r.date_ok]
    assert not wrong, [(r.id, r.published_expected, r.published_found) for r in wrong]


@pytest.mark.parametrize("source", ["benchmark", "time"])
@pytest.mark.parametrize("facet", TARGET_FACETS)
def test_corpus_targets(reports: dict[str, Any], source: str, facet: str) -> None:
    report = reports[source]
    _require(report, source)
    score = report.facets[facet]
    assert score.micro_precision >= TARGET, fe.format_report(report)
    assert score.micro_recall >= TARGET, fe.format_report(report)


@pytest.mark.parametrize("source", ["benchmark", "time"])
def test_corpus_dates(reports: dict[str, Any], source: str) -> None:
    report = reports[source]
    _require(report, source)
    assert report.date_accuracy >= TARGET, fe.format_report(report)
