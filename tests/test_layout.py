"""The checksummed JSON of meta.json and the manifest (layout.py): the digest checked on the
file's bytes in place says what the check on its text says, for any content."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.errors import IndexCorruptError
from searchlib.layout import checked_json, index_paths, load_manifest, verify_json

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(max_size=10), _VALUES, max_size=5),
       flip=st.integers(min_value=0), indent=st.sampled_from([None, 1]))
def test_bytes_and_text_agree_intact_or_damaged(data: dict[str, object], flip: int,
                                                indent: int | None) -> None:
    text = checked_json(data, indent=indent)
    raw = text.encode("utf-8")
    assert verify_json(raw) is True and verify_json(text) is True
    damaged = bytearray(raw)
    damaged[flip % len(damaged)] ^= 0x01
    try:
        damaged_text = bytes(damaged).decode("utf-8")
    except UnicodeDecodeError:  # the file would not even read as text
        return
    assert verify_json(bytes(damaged)) == verify_json(damaged_text)
    assert verify_json(b'{"files": {}}') is None


def test_a_damaged_manifest_is_refused_and_an_intact_one_read(tmp_path: Path) -> None:
    manifest = index_paths(tmp_path)[1]
    files = {"/a/é.txt": {"records": {"k": "h"}, "indexed": ["k"], "mtime_ns": 1, "size": 2}}
    manifest.write_text(checked_json({"version": 1, "sources": [], "files": files}),
                        encoding="utf-8")
    assert load_manifest(tmp_path)["files"] == files
    raw = bytearray(manifest.read_bytes())
    raw[raw.index(b'"h"') + 1] = ord("g")
    manifest.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="fails its checksum"):
        load_manifest(tmp_path)
