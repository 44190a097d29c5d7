"""The extraction fingerprint, and re-extraction when it changes (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

from searchlib import build_index, open_index
from searchlib.ingest.fingerprint import extraction_fingerprint

_EXTRA = "people:\n  - {name: Wilhelmina Quarterman, aliases: [Quarterman]}\n"


def test_fingerprint_follows_file_contents_not_paths(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "sub" / "b.yaml"
    b.parent.mkdir()
    a.write_text(_EXTRA, encoding="utf-8")
    b.write_text(_EXTRA, encoding="utf-8")
    base = extraction_fingerprint()
    assert base == extraction_fingerprint()
    assert extraction_fingerprint([a]) == extraction_fingerprint([b]) != base
    assert extraction_fingerprint(cleaning_rules=[a]) not in (base, extraction_fingerprint([a]))
    b.write_text(_EXTRA + "  - {name: Other Person}\n", encoding="utf-8")
    assert extraction_fingerprint([b]) != extraction_fingerprint([a])


def test_a_changed_gazetteer_re_extracts_every_article(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Rally\n\nThe crowd cheered when Quarterman spoke in Leeds.\n",
                                encoding="utf-8")
    (docs / "b.txt").write_text("Vote\n\nTurnout was high in Cardiff.\n", encoding="utf-8")
    index_dir = tmp_path / "ix"
    extra = tmp_path / "extra.yaml"
    extra.write_text(_EXTRA, encoding="utf-8")

    first = build_index([docs], index_dir, procs=1)
    assert (first.added, first.reextracted) == (2, 0)
    with open_index(index_dir) as ix:
        assert ix.search("Quarterman").hits[0].people == ()

    changed = build_index([docs], index_dir, procs=1, gazetteer=[extra])
    assert (changed.added, changed.updated, changed.unchanged, changed.reextracted) == (0, 0, 0, 2)
    with open_index(index_dir) as ix:
        assert ix.search("Quarterman").hits[0].people == ("Wilhelmina Quarterman",)
        assert ix.search("*", people=["Wilhelmina Quarterman"]).total == 1

    same = build_index([docs], index_dir, procs=1, gazetteer=[extra])
    assert (same.unchanged, same.reextracted) == (2, 0)
    meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["extraction"] == extraction_fingerprint([extra])


def test_an_index_without_a_fingerprint_is_re_extracted_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Title\n\nTurnout was high in Cardiff.\n", encoding="utf-8")
    index_dir = tmp_path / "ix"
    build_index([docs], index_dir, procs=1)
    meta_path = index_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    del meta["extraction"]  # as written by a release before the fingerprint existed
    meta.pop("sha256", None)  # ... and before meta.json carried its checksum
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert build_index([docs], index_dir, procs=1).reextracted == 1
    assert build_index([docs], index_dir, procs=1).reextracted == 0
