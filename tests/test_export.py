"""Export for OpenSearch bulk loading and JSONL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from searchlib import open_index
from searchlib.cli import cli
from searchlib.export import export_opensearch, opensearch_mapping


def test_opensearch_bulk_files_follow_the_bulk_format(seed_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "os"
    result = CliRunner().invoke(cli, ["export", str(out), "--index", str(seed_index)])
    assert result.exit_code == 0, result.output
    mapping = json.loads((out / "mapping.json").read_text())
    props = mapping["mappings"]["properties"]
    bulk = sorted(out.glob("bulk-*.ndjson"))
    assert bulk
    lines = [json.loads(line) for f in bulk for line in f.read_text().splitlines()]
    assert len(lines) % 2 == 0
    actions, sources = lines[0::2], lines[1::2]
    assert all(set(a) == {"index"} and a["index"]["_id"] == s["id"]
               for a, s in zip(actions, sources, strict=True))
    with open_index(seed_index) as ix:
        assert len(sources) == ix.doc_count
        for source in sources:
            # Strict mapping: every field must be declared, with a matching type.
            assert set(source) <= set(props)
            article = ix.get(source["id"])
            assert source["body"] == article.text and source["title"] == article.title
            assert source["actors"] == list(article.actors)
            assert set(article.actors) <= set(source["actor"])  # roll-up adds parents
            if source["published"]:
                dt.date.fromisoformat(source["published"])
    deir = [s for s in sources if "Deir ez-Zor province" in s["locations"]
            or "Deir ez-Zor" in s["locations"]]
    assert deir and all("Syria" in s["location"] for s in deir)


def test_chunks_stay_under_the_limit_and_never_split_pairs(tmp_path: Path) -> None:
    records = [{"id": f"d{i}", "body": "x" * 300} for i in range(100)]
    summary = export_opensearch(records, tmp_path, chunk_bytes=4096)
    bulk = [Path(f) for f in summary.files[1:]]
    assert len(bulk) > 5 and summary.documents == 100
    for f in bulk:
        assert f.stat().st_size <= 4096
        assert len(f.read_text().splitlines()) % 2 == 0
    assert opensearch_mapping()["mappings"]["dynamic"] == "strict"


def test_jsonl_export(seed_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    result = CliRunner().invoke(cli, ["export", str(out), "--format", "jsonl", "--index",
                                      str(seed_index)])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and all(r["body"] and r["id"] for r in rows)


def test_opensearch_analysis_repeats_searchlibs() -> None:
    # export.py may not import Whoosh, so it repeats these values; they must not drift.
    from whoosh.analysis.filters import STOP_WORDS

    from searchlib.engine.whoosh import analysis, ranking
    from searchlib.export import BM25_B, BM25_K1, WHOOSH_STOP_WORDS, WORD_PATTERN

    assert set(WHOOSH_STOP_WORDS) == set(STOP_WORDS)
    assert analysis._WORD.pattern == WORD_PATTERN
    assert (BM25_K1, BM25_B) == (ranking.BM25_K1, ranking.BM25_B)
    settings = opensearch_mapping()["settings"]
    assert settings["analysis"]["tokenizer"]["searchlib_words"]["pattern"] == WORD_PATTERN
    assert analysis.NewsAnalyzer().minsize == settings["analysis"]["filter"][
        "searchlib_min_length"]["min"]
