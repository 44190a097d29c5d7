"""Reading files: formats, metadata sources, encodings and bad files."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.ingest.read import decode_bytes, is_binary, read_file, scan

SEEDS = Path(__file__).parents[1] / "seeds"


def test_scan_finds_seeds_sorted() -> None:
    infos, skipped = scan([SEEDS])
    assert [Path(i.path).name for i in infos] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert skipped == []
    assert all(os.path.isabs(i.path) and i.size > 0 for i in infos)


def test_unknown_extension_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "b.txt").write_text("Some text here.")
    infos, skipped = scan([tmp_path])
    assert [Path(i.path).name for i in infos] == ["b.txt"]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [("a.pdf", "unknown extension .pdf")]


def test_sidecar_is_metadata_not_a_document(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Body text of the article.")
    (tmp_path / "a.txt.yaml").write_text("title: Real title\npublished: 2017-06-21\n")
    infos, skipped = scan([tmp_path])
    assert len(infos) == 1 and skipped == []
    doc = read_file(infos[0].path).documents[0]
    assert doc.metadata["title"] == "Real title"
    assert str(doc.metadata["published"]) == "2017-06-21"


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: Hello\nactors: [IRGC]\n---\n# Hello\n\nBody.\n")
    doc = read_file(str(path)).documents[0]
    assert doc.format == "markdown"
    assert doc.metadata == {"title": "Hello", "actors": ["IRGC"]}
    assert doc.text.strip().startswith("# Hello")


def test_hostile_yaml_front_matter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.md"
    path.write_text("---\nx: !!python/object/apply:os.system ['echo pwned']\n---\nBody\n")
    result = read_file(str(path))
    assert result.documents == ()
    assert "evil.md:2" in result.skipped[0].reason and "invalid YAML" in result.skipped[0].reason


def test_json_object_list_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(
        {"headline": "H", "body": "Text one.", "date": "2020-01-02", "url": "http://x"}))
    (tmp_path / "many.json").write_text(json.dumps(
        [{"title": "A", "text": "Alpha."}, {"title": "B"}, {"title": "C", "content": "Gamma."}]))
    (tmp_path / "lines.jsonl").write_text('{"title": "L1", "text": "x"}\nnot json\n\n'
                                          '{"title": "L2", "text": "y"}\n')
    one = read_file(str(tmp_path / "one.json")).documents[0]
    assert (one.text, one.metadata["title"], one.metadata["date"]) == ("Text one.", "H",
                                                                       "2020-01-02")
    many = read_file(str(tmp_path / "many.json"))
    assert [d.metadata["title"] for d in many.documents] == ["A", "C"]
    assert [d.key.rsplit("#", 1)[1] for d in many.documents] == ["1", "3"]
    assert many.skipped[0].path.endswith("#2") and "no text field" in many.skipped[0].reason
    lines = read_file(str(tmp_path / "lines.jsonl"))
    assert [d.metadata["title"] for d in lines.documents] == ["L1", "L2"]
    assert lines.skipped[0].path.endswith("#2") and "invalid JSON" in lines.skipped[0].reason


def test_gzip_variants_and_bomb_bound(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(b"Compressed article text."))
    assert read_file(str(path)).documents[0].text == "Compressed article text."
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"a" * (3 * 1024 * 1024)))
    result = read_file(str(bomb), max_bytes=1024 * 1024)
    assert result.documents == () and "size limit" in result.skipped[0].reason
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(b"\x1f\x8b\x08garbage")
    assert "cannot read" in read_file(str(broken)).skipped[0].reason


def test_encodings_binary_and_empty(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café in Tehrān — résumé".encode("cp1252", errors="replace"))
    assert read_file(str(latin)).documents[0].text.startswith("Café")
    stray = tmp_path / "stray.txt"
    stray.write_bytes(b"Mostly utf-8 \xe2\x80\x94 then a stray \xff byte.")
    assert "stray" in read_file(str(stray)).documents[0].text
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02PNG" * 100)
    assert read_file(str(binary)).skipped[0].reason == "binary file (not text)"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    assert read_file(str(empty)).skipped[0].reason == "empty file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden")
    path.chmod(0)
    assert read_file(str(path)).skipped[0].reason == "permission denied"


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("Text.")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    infos, skipped = scan([tmp_path])
    assert [Path(i.path).name for i in infos] == ["a.txt"]
    assert any("broken link" in s.reason for s in skipped)


def test_decoding_helpers() -> None:
    assert decode_bytes("ok ✓".encode()) == "ok ✓"
    assert decode_bytes(b"\xef\xbb\xbfbom") == "bom"
    assert is_binary(b"\x00abc") and not is_binary(b"plain text\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_is_binary_counts_control_bytes(data: bytes) -> None:
    # The rule, written out: NUL anywhere in the first 8 KB, or over 10% control bytes
    # other than tab, newline, form feed, carriage return and escape.
    head = data[:8192]
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    expected = b"\x00" in head or (bool(head) and control / len(head) > 0.10)
    assert is_binary(data) == expected


@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 4096])
@pytest.mark.parametrize("limit", [1, 10, 11, 12, 100_000])
def test_read_at_most_reads_as_read_with_a_limit(tmp_path: Path, size: int, limit: int) -> None:
    """Sizing the read by the file's length gives what ``read(limit)`` gives."""
    from searchlib.ingest.read import _read_at_most

    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * (size // 256) + bytes(range(size % 256)))
    with path.open("rb") as fh:
        expected = fh.read(limit)
    with path.open("rb") as fh:
        assert _read_at_most(fh, limit) == expected


def test_read_at_most_reads_on_when_the_file_is_longer_than_its_size(tmp_path: Path) -> None:
    """A file that grew after its size was taken is still read up to the limit."""
    import io

    from searchlib.ingest.read import _read_at_most

    small = tmp_path / "small"
    small.write_bytes(b"x" * 5)
    fd = os.open(small, os.O_RDONLY)

    class Grown(io.BytesIO):
        def fileno(self) -> int:
            return fd  # fstat says 5 bytes; the stream holds 20

    try:
        assert _read_at_most(Grown(b"y" * 20), 12) == b"y" * 12
        assert _read_at_most(Grown(b"y" * 20), 100) == b"y" * 20
    finally:
        os.close(fd)
    assert _read_at_most(io.BytesIO(b"abc"), 2) == b"ab"  # no descriptor: read as asked
