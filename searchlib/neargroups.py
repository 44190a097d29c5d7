"""The near-duplicate groups an index holds (``neardup.json``), for searching.

Kept apart from :mod:`searchlib.neardup`, which computes signatures with numpy at index time:
a search only reads the groups, and a one-shot ``search query`` must not pay numpy's import.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GROUPS_FILE", "NearDuplicateGroup", "load_groups", "members_of", "read_groups_file"]

#: Beside the manifest: the groups, and each indexed text's signature (by content hash).
GROUPS_FILE = "neardup.json"


@dataclass(frozen=True)
class NearDuplicateGroup:
    """Articles whose texts are near-identical."""

    ids: tuple[str, ...]
    """Document ids, the representative (the earliest published, then the first indexed)
    first."""
    similarity: float
    """The lowest estimated similarity between a member and the representative."""


def load_groups(index_dir: str | os.PathLike[str]) -> list[NearDuplicateGroup]:
    """The near-duplicate groups the last build found (none for an index without the file)."""
    data = read_groups_file(Path(index_dir))
    out = []
    for item in data.get("groups", []):
        try:
            out.append(NearDuplicateGroup(tuple(str(i) for i in item["ids"]),
                                          float(item["similarity"])))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry loses its group, never the search
    return out


def read_groups_file(base: Path) -> dict[str, Any]:
    """The groups file of the index folder ``base`` as a dict (empty when absent or bad)."""
    try:
        with open(base / GROUPS_FILE, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def members_of(groups: Iterable[NearDuplicateGroup]) -> dict[str, NearDuplicateGroup]:
    """Document id -> its group, for every grouped id."""
    return {doc: g for g in groups for doc in g.ids}
