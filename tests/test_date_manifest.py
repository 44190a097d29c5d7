"""Date manifests: CSV/JSONL files that date the articles of a folder in bulk (issue 15)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from searchlib import build_index, open_index
from searchlib.errors import ConfigError
from searchlib.ingest.date_manifest import ManifestEntry, load_date_manifest


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "wire").mkdir(parents=True)
    (docs / "wire" / "a.txt").write_text(
        "Port strike\n\nDockers walked out in Antwerp after talks failed.\n", encoding="utf-8")
    (docs / "wire" / "b.txt").write_text(
        "Budget vote\n\nGlobal Research, June 21, 2017\n\nThe council met in Ghent.\n",
        encoding="utf-8")
    (docs / "c.txt").write_text("Storm\n\nWind closed the roads near Bruges.\n",
                                encoding="utf-8")
    return docs


def test_csv_and_jsonl_manifests(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    csv_file = docs / "dates.csv"
    csv_file.write_text("path,published,url,source\nwire/a.txt,2019-03-04,https://x.test/a,"
                        "Wire\nc.txt,,,\n", encoding="utf-8")
    entries = load_date_manifest(csv_file)
    assert entries[str(docs / "wire" / "a.txt")] == ManifestEntry(
        dt.date(2019, 3, 4), "https://x.test/a", "Wire")
    assert entries[str(docs / "c.txt")] == ManifestEntry()
    jsonl = tmp_path / "dates.jsonl"
    jsonl.write_text(json.dumps({"path": str(docs / "c.txt"), "date": "5 May 2020"}) + "\n\n",
                     encoding="utf-8")
    assert load_date_manifest(jsonl)[str(docs / "c.txt")].published == dt.date(2020, 5, 5)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "file,published\na.txt,2019-01-01\n", "dates.*1: .*'path' column"),
        ("m.csv", "path,published\na.txt,soon\n", r"m\.csv:2: cannot read the date 'soon'"),
        ("m.csv", "path,published\n,2019-01-01\n", r"m\.csv:2: row has no path"),
        ("m.jsonl", '{"path": "a.txt"}\n[1]\n', r"m\.jsonl:2: not a JSON object"),
    ],
)
def test_malformed_manifests_name_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("dates.*1", r"m\.csv:1")):
        load_date_manifest(path)


def test_index_dates_files_from_the_manifest(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    manifest = tmp_path / "dates.csv"
    manifest.write_text("path,published,url,source\ndocs/wire/a.txt,2019-03-04,"
                        "https://x.test/a,Wire\ndocs/wire/b.txt,2018-01-01,,\n",
                        encoding="utf-8")
    index_dir = tmp_path / "ix"
    build_index([docs], index_dir, procs=1, manifest=manifest)
    with open_index(index_dir) as ix:
        found = {Path(a.path).name: a for a in ix.articles()}
    assert (found["a.txt"].published, found["a.txt"].published_source) == (
        dt.date(2019, 3, 4), "manifest")
    assert (found["a.txt"].url, found["a.txt"].source) == ("https://x.test/a", "Wire")
    # The manifest comes after the file's own metadata, before its dateline.
    assert (found["b.txt"].published, found["b.txt"].published_source) == (
        dt.date(2018, 1, 1), "manifest")
    assert found["c.txt"].published is None
    # A changed manifest re-extracts; the same one leaves everything as it is.
    manifest.write_text("path,published\ndocs/c.txt,2020-02-02\n", encoding="utf-8")
    summary = build_index([docs], index_dir, procs=1, manifest=manifest)
    assert summary.reextracted == 3
    with open_index(index_dir) as ix:
        found = {Path(a.path).name: a for a in ix.articles()}
    assert found["c.txt"].published == dt.date(2020, 2, 2)
    assert (found["b.txt"].published, found["b.txt"].published_source) == (
        dt.date(2017, 6, 21), "dateline")
    assert build_index([docs], index_dir, procs=1, manifest=manifest).reextracted == 0
