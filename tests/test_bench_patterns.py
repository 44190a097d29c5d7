"""bench/patterns.py on a few generated articles: every kind, every system, one report."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    """Import a bench script by path (bench/ is not an installed package)."""
    module_name = f"_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def test_queries_cover_the_vocabulary_and_every_kind() -> None:
    patterns = _load("patterns")
    terms = [*sorted(f"{a}{b}word" for a in "abcdefgh" for b in "xyz"), "a1b2c", "tiny"]
    words = patterns.sample_terms(terms, 6)
    assert len(words) == 6 and words[0] == "axword" and words[-1] > "g"
    assert all(w.isalpha() and len(w) >= 5 for w in words)
    assert patterns.queries(words, "term~2")[0] == "axword~2"
    assert patterns.queries(words, "pre*")[0] == "axw*"
    assert patterns.queries(words, "*fix") == ["*ord"]
    assert len(patterns.queries(words, "a*")) == 26


def test_a_small_run_reports_every_kind(tmp_path: Path) -> None:
    pytest.importorskip("tantivy")
    patterns = _load("patterns")
    gen = _load("gen_corpus")
    corpus = tmp_path / "n40"
    gen.generate(40, 2, corpus)
    assert patterns.main(["--corpus", str(corpus), "--work", str(tmp_path / "work"),
                          "--terms", "4", "--whoosh-terms", "2", "--whoosh-limit", "5",
                          "--cold-runs", "1"]) == 0
    report = json.loads((REPO / "bench" / "results" / "patterns-n40.json").read_text())
    assert report["documents"] == 40 and report["words"] == 4
    for system in ("ours", "whoosh", "tantivy"):
        for kind in patterns.KINDS:
            for which in ("first", "warm"):
                entry = report["systems"][system][kind][which]
                assert entry["n"] >= 1 and entry["p95"] >= entry["p50"] >= 0
    assert set(report["systems"]["fts5"]) == {"pre*", "a*"}
    assert report["cold"]["best"] > 0 and report["cold_plain"]["best"] > 0
    table = patterns.report_table(report)
    assert "term~2" in table and "cold `search query" in table
