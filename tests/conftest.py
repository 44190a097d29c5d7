"""Shared fixtures: the seed index is built once per session (indexing takes seconds)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

# Property tests check answers, not speed: Hypothesis's default 200 ms deadline per example
# failed an unchanged test (437 ms) when three suites shared the two cores. Speed is measured
# by the benchmarks in bench/.
settings.register_profile("searchlib", deadline=None)
settings.load_profile("searchlib")

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"

# Derived data (GeoNames, compiled gazetteers) goes to a cache of this checkout's, never the
# user's ~/.cache/searchlib (nor a $SEARCHLIB_CACHE_DIR of the developer's): tests must not
# evict or replace a real install's cache files. Set at import so that subprocesses and index
# workers inherit it.
TEST_CACHE = REPO / ".pytest_cache" / "searchlib-cache"
os.environ["SEARCHLIB_CACHE_DIR"] = str(TEST_CACHE)


def corpora_dir() -> Path | None:
    """The shared test corpora, when present (``$SEARCHLIB_CORPORA`` or ``../shared/corpora``)."""
    env = os.environ.get("SEARCHLIB_CORPORA")
    path = Path(env) if env else REPO.parent / "shared" / "corpora"
    return path if path.is_dir() else None


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                     ) -> None:
    """Keep the developer's own config file, state folder and $SEARCH_INDEX out of the tests."""
    monkeypatch.delenv("SEARCH_INDEX", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    empty = tmp_path_factory.getbasetemp() / "empty-config.yaml"
    empty.write_text("")
    monkeypatch.setenv("SEARCHLIB_CONFIG", str(empty))
    # Saved searches and query history go to a fresh folder, never the developer's own.
    monkeypatch.setenv("SEARCHLIB_STATE_DIR", str(tmp_path_factory.mktemp("state")))


def _mirror(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly ``source``'s files, never removing or emptying it.

    Several test sessions (parallel worktrees) share the fixed copy: each file is replaced
    atomically and only when it differs, so a concurrent session never sees it missing.
    """
    target.mkdir(exist_ok=True)
    wanted = {path.name for path in source.iterdir() if path.is_file()}
    for name in wanted:
        data = (source / name).read_bytes()
        dest = target / name
        if dest.is_file() and dest.read_bytes() == data:
            continue
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, dest)
    for extra in target.iterdir():
        if extra.name not in wanted and not extra.name.startswith(".tmp-"):
            if extra.is_dir():
                shutil.rmtree(extra, ignore_errors=True)
            else:
                extra.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An index of the five seeds, built once; tests must not modify it."""
    from searchlib import build_index

    # Document ids derive from absolute paths: index a copy at a fixed place so ids (and the
    # TUI snapshots that show them) are the same wherever the repository is checked out.
    fixed = Path(tempfile.gettempdir()) / "searchlib-test-seeds"
    _mirror(SEEDS, fixed)
    directory = tmp_path_factory.mktemp("seed-index")
    build_index([fixed], directory, procs=1)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _bench_module(name: str) -> ModuleType:
    """bench/NAME.py, loaded by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen_corpus() -> ModuleType:
    """bench/gen_corpus.py: generated test corpora."""
    return _bench_module("gen_corpus")


@pytest.fixture(scope="session")
def childrss() -> ModuleType:
    """bench/childrss.py: a command's own peak memory, whatever the size of this process."""
    return _bench_module("childrss")


@pytest.fixture(scope="session")
def postlists_backfill() -> ModuleType:
    """bench/postlists_backfill.py: posting lists written from a segment's blocks."""
    return _bench_module("postlists_backfill")


@pytest.fixture(scope="session")
def hostile_queries() -> ModuleType:
    """bench/hostile_queries.py: generated hostile queries, and their runner."""
    return _bench_module("hostile_queries")


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    """A private, writable copy of the seeds folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
