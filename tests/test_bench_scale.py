"""The scale benchmark harness: corpus generator and a smoke run of bench/scale.py."""

from __future__ import annotations

import html
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
SEEDS = REPO / "seeds"


def _load(name: str) -> ModuleType:
    """Import a bench script by path (bench/ is not an installed package)."""
    module_name = f"_bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


gen_corpus = _load("gen_corpus")


def _corpora() -> Path | None:
    path: Path = gen_corpus.DEFAULT_CORPORA
    return path if (path / "time" / "TIME.ALL").is_file() else None


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _manifest(root: Path) -> list[dict[str, Any]]:
    lines = (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def seeds_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-article corpus built from the seeds alone (no shared corpora)."""
    out = tmp_path_factory.mktemp("seeds") / "c30"
    gen_corpus.generate(30, 7, out, corpora=None)
    return out


def test_generator_is_deterministic_from_seeds_alone(seeds_only: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    gen_corpus.generate(30, 7, again, corpora=None)
    assert _tree(again) == _tree(seeds_only)
    other = tmp_path / "other"
    gen_corpus.generate(30, 8, other, corpora=None)
    assert _tree(other) != _tree(seeds_only)
    info = json.loads((seeds_only / "corpus.json").read_text())
    assert info["n"] == 30
    assert set(info["sentence_sources"]) == {"seeds"}


def test_manifest_matches_files(seeds_only: Path) -> None:
    entries = _manifest(seeds_only)
    assert len(entries) == 30
    assert len({e["key"] for e in entries}) == 30
    for entry in entries:
        path = seeds_only / entry["key"].split("#")[0]
        assert path.is_file(), entry["key"]
        assert entry["key"].startswith("docs/")
        assert entry["actors"] or entry["locations"], entry["key"]
    # Nothing outside docs/ is an article: indexing docs/ never sees the ground truth.
    assert sorted(p.name for p in seeds_only.iterdir()) == ["corpus.json", "docs", "manifest.jsonl"]


def test_prefix_property(seeds_only: Path, tmp_path: Path) -> None:
    small = tmp_path / "c12"
    gen_corpus.generate(12, 7, small, corpora=None)
    assert _manifest(small) == _manifest(seeds_only)[:12]


@pytest.mark.skipif(_corpora() is None, reason="shared test corpora not present")
def test_format_mix_and_real_text(tmp_path: Path) -> None:
    out = tmp_path / "c150"
    gen_corpus.generate(150, 1, out)
    info = json.loads((out / "corpus.json").read_text())
    assert set(info["sentence_sources"]) == {"time", "cranfield", "cisi", "seeds"}
    assert set(info["articles_by_format"]) == {"txt", "md", "json", "jsonl", "html"}
    assert info["articles_by_format"]["txt"] > 150 // 2
    entries = _manifest(out)
    by_format = Counter(e["format"] for e in entries)
    assert set(by_format) == {"text", "markdown", "json", "html"}
    years = {e["published"][:4] for e in entries if e["published"]}
    assert len(years) >= 8, "dates must spread over years"
    assert any(e["published"] is None for e in entries) or len(entries) < 50
    words = [e["words"] for e in entries]
    assert min(words) >= gen_corpus.MIN_WORDS and max(words) <= gen_corpus.MAX_WORDS + 200
    assert max(words) > 3 * min(words), "lengths must vary"

    entities, _source = gen_corpus.load_entities(gen_corpus.DEFAULT_GAZETTEER, SEEDS)
    # A name may have entries in several facets (Turkey the state says "Turkish", Turkey the
    # place does not): any of its forms counts.
    forms: dict[str, set[str]] = {}
    for e in entities:
        forms.setdefault(e.name, set()).update((e.name, *e.aliases))
    for entry in entries:
        file = out / entry["key"].split("#")[0]
        text = file.read_text(encoding="utf-8")
        if file.suffix == ".jsonl":
            record = json.loads(text.splitlines()[int(entry["key"].split("#")[1]) - 1])
            text = record["title"] + "\n" + record["text"]
            assert record.get("published") == entry["published"]
        elif file.suffix == ".md":
            assert text.startswith("---\ntitle: ")
        elif file.suffix == ".html":
            assert "<article>" in text and "<footer>" in text
            text = html.unescape(text)
        elif file.suffix == ".json":
            assert json.loads(text)["title"] == entry["title"]
        # Ground truth is honest: every listed entity is written in the article somehow.
        for name in entry["actors"] + entry["locations"] + entry["people"]:
            assert any(form in text for form in forms[name]), (entry["key"], name)
        if entry["date_in"] == "dateline":
            assert entry["published"][:4] in text


def test_no_source_text_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no source sentences"):
        gen_corpus.generate(5, 1, tmp_path / "c", corpora=None, seeds=tmp_path / "empty")


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        gen_corpus.generate(5, 1, foreign, corpora=None)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_query_mix_uses_ground_truth_filters(seeds_only: Path) -> None:
    baselines = _load("baselines")
    manifest = baselines.load_manifest(seeds_only)
    mix = baselines.build_query_mix(manifest)
    kinds = Counter(spec.kind for spec in mix)
    assert set(kinds) == {"keyword", "phrase", "filter", "date-sort"}
    actor_counts = Counter(a for e in manifest.values() for a in e["actors"])
    top = max(actor_counts.values())
    filtered = [s for s in mix if s.actors]
    assert filtered and all(actor_counts[s.actors[0]] >= 1 for s in filtered)
    assert actor_counts[filtered[0].actors[0]] == top
    for spec in mix:
        assert baselines.QuerySpec.from_json(spec.to_json()) == spec
    assert baselines.percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert baselines.percentile([5.0], 99) == 5.0
    # The priming query shares no word with the mix: the mix's first pass reads every term
    # for the first time.
    words = {w for spec in mix for w in spec.text.lower().replace('"', " ").split()}
    assert not set(baselines.PRIME.text.lower().split()) & words


def test_scale_smoke(tmp_path: Path) -> None:
    """A whole run of bench/scale.py on 50 articles: the JSON report has every measure."""
    systems = ["ours", "whoosh", "fts5", "tantivy"]
    if importlib.util.find_spec("tantivy") is None:
        pytest.skip("tantivy is not installed (pip install -e '.[bench]')")
    corpus = tmp_path / "c50"
    gen_corpus.generate(50, 3, corpus, corpora=_corpora())
    out = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "scale.py"),
            "--corpus",
            str(corpus),
            "--json",
            str(out),
            "--work",
            str(tmp_path / "work"),
            "--rounds",
            "1",
            "--cold-runs",
            "1",
            "--cold-queries",
            "1",
            "--procs",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ours ÷ baseline" in done.stdout
    report = json.loads(out.read_text())
    assert report["corpus"]["articles"] == 50
    assert set(report["systems"]) == set(systems)
    scale = _load("scale")
    for name, entry in report["systems"].items():
        figures = scale._figures(entry)
        assert set(figures) == set(scale.METRICS), name
        assert entry["ingest"]["documents"] >= 45, name
        assert figures["ingest_docs_per_s"] > 0 and figures["peak_rss_mb"] > 0, name
        assert figures["index_mb"] > 0 and figures["cold_ms"] > 0, name
        assert entry["query"]["errors"] == {}, name
        assert entry["query"]["samples"] == len(report["query_mix"]), name
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"], name
        assert sum(entry["query"]["totals"].values()) > 0, name
        for query, total in entry["query"]["totals"].items():
            assert entry["query"]["snippets"][query] == min(total, 10), (name, query)
    ours = report["systems"]["ours"]
    assert ours["noop_reindex"]["added"] == ours["noop_reindex"]["updated"] == 0
    assert ours["noop_reindex"]["unchanged"] == ours["ingest"]["documents"]
    assert ours["change_reindex"]["files_changed"] >= 1
    assert ours["change_reindex"]["updated"] >= 1
    agreement = ours["agreement"]
    assert agreement["articles"] == ours["ingest"]["documents"]
    assert set(agreement["recall"]) == {"actors", "locations", "people"}
    assert 0.0 <= agreement["date_exact"] <= 1.0
    for metric in scale.METRICS:
        assert set(report["ratios"][metric]) == {"whoosh", "fts5", "tantivy"}, metric
    # The corpus was restored after the 1% change.
    assert "corrected after publication" not in "".join(
        p.read_text(encoding="utf-8") for p in (corpus / "docs").rglob("*.txt")
    )


real_corpus = _load("real_corpus")


def test_real_corpus_samples_whole_documents_at_news_length(tmp_path: Path) -> None:
    """Every file is one whole source document, unedited; lengths follow the target."""
    corpora = _corpora()
    if corpora is None:
        pytest.skip("shared corpora not found (set SEARCHLIB_CORPORA)")
    texts = {t.name: t.text for t in real_corpus.load_texts(corpora)}
    out = tmp_path / "real"
    info = real_corpus.generate(2000, 5, out, corpora=corpora)
    files = sorted((out / "docs").rglob("*.txt"))
    assert len(files) == info["files"] == 2000
    assert len({f.name for f in files}) == 2000
    for path in files:
        origin = path.stem.split("-", 1)[1]
        assert path.read_text(encoding="utf-8") == texts[origin], path
    # The sources' own median is ~150 words (mostly abstracts); the sample's is news-like.
    assert 400 <= info["words"]["median"] <= 600
    assert info["words"]["p95"] > 3 * info["words"]["median"]
    assert info["distinct_documents"] < 2000  # drawn with replacement: copies are expected
    entries = _manifest(out)
    assert [e["key"] for e in entries] == [f.relative_to(out).as_posix() for f in files]
    assert all(e["published"] is None and not e["actors"] for e in entries)
    again = tmp_path / "again"
    real_corpus.generate(2000, 5, again, corpora=corpora)
    assert _tree(again) == _tree(out)


def test_real_corpus_without_the_shared_corpora_skips_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "real"
    done = subprocess.run(
        [sys.executable, str(BENCH / "real_corpus.py"), "--n", "10", "--out", str(out),
         "--corpora", str(tmp_path / "nowhere")],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0
    assert "skipped: shared corpora not found" in done.stderr
    assert not out.exists()
    # scale.py then skips that corpus with a message instead of failing.
    done = subprocess.run(
        [sys.executable, str(BENCH / "scale.py"), "--corpus", str(out), "--ingest-only"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0
    assert f"skipped: no corpus at {out}" in done.stderr
