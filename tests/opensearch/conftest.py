"""Fixtures that start real OpenSearch nodes (see ``oscluster.py`` and docs/opensearch.md).

Without Java 17+ or Maven the tests that need a node skip with the reason; with
``SEARCHLIB_REQUIRE_OPENSEARCH=1`` (set by ``.ci/run``) they fail instead, so CI can never
pass by skipping them. The launcher is built once per checkout (Maven resolves the OpenSearch
jars into ``~/.m2`` or ``$SEARCHLIB_MAVEN_REPO``); each cluster lives in a temporary folder and
its nodes are stopped when the fixture ends, whatever the tests did.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from oscluster import (
    INGEST_CORPUS_SIZE,
    BuildInfo,
    Cluster,
    ClusterUnavailable,
    ExportedCorpus,
    build_launcher,
)

from searchlib.cli import cli

REPO = Path(__file__).resolve().parents[2]
#: Articles in the generated corpus the OpenSearch tests load.
CORPUS_SIZE = 200

#: What the fixtures measured, printed at the end of the run (docs/opensearch.md quotes it).
TIMINGS: dict[str, float] = {}


def _unavailable(reason: str) -> None:
    if os.environ.get("SEARCHLIB_REQUIRE_OPENSEARCH") == "1":
        pytest.fail(f"{reason} (SEARCHLIB_REQUIRE_OPENSEARCH=1: these tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def opensearch_build() -> BuildInfo:
    """The launcher, built now if its sources changed since the last build."""
    try:
        info = build_launcher()
    except ClusterUnavailable as exc:
        _unavailable(str(exc))
        raise  # unreachable: _unavailable always raises
    if info.built:
        TIMINGS["launcher build (mvn package) s"] = info.seconds
    return info


def _start(build: BuildInfo, root: Path, size: int) -> Cluster:
    cluster = Cluster(classpath=build.classpath, root=root, size=size)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    assert cluster.formed_seconds is not None
    TIMINGS.setdefault(f"{size}-node cluster formed s", cluster.formed_seconds)
    slowest = max(n.started_seconds or 0.0 for n in cluster.nodes)
    TIMINGS.setdefault(f"{size}-node cluster, slowest node answering HTTP s", slowest)
    return cluster


@pytest.fixture(scope="session")
def opensearch_node(opensearch_build: BuildInfo, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Cluster]:
    """One real node (single-node discovery), shared by the tests of the session."""
    cluster = _start(opensearch_build, tmp_path_factory.mktemp("os1"), 1)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture()
def opensearch_cluster3(opensearch_build: BuildInfo, tmp_path: Path) -> Iterator[Cluster]:
    """Three real nodes discovering each other on loopback; fresh for each test (tests kill
    nodes)."""
    cluster = _start(opensearch_build, tmp_path / "os3", 3)
    try:
        yield cluster
    finally:
        cluster.stop()


def _gen_corpus() -> ModuleType:
    """bench/gen_corpus.py, imported by path (bench/ is not an installed package)."""
    name = "_bench_gen_corpus"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "gen_corpus.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def exported_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExportedCorpus]:
    """200 generated articles with dates and entity facets (real sentences from the shared
    test collections when present, else from the seeds), indexed and exported once."""
    from searchlib import build_index

    root = tmp_path_factory.mktemp("os-corpus")
    gen = _gen_corpus()
    corpora = gen.DEFAULT_CORPORA if (gen.DEFAULT_CORPORA / "time").is_dir() else None
    gen.generate(CORPUS_SIZE, 1, root / "corpus", corpora=corpora)
    build_index([root / "corpus" / "docs"], root / "ix", procs=1)
    out = root / "export"
    result = CliRunner().invoke(cli, ["export", str(out), "--format", "opensearch",
                                      "--index", str(root / "ix")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield ExportedCorpus(index_dir=root / "ix", export_dir=out, from_corpora=corpora is not None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def ingest_corpus(tmp_path: Path) -> Path:
    """The files of INGEST_CORPUS_SIZE generated articles: enough for a load to be in flight
    for several seconds on a three-node cluster."""
    gen = _gen_corpus()
    corpora = gen.DEFAULT_CORPORA if (gen.DEFAULT_CORPORA / "time").is_dir() else None
    gen.generate(INGEST_CORPUS_SIZE, 3, tmp_path / "big", corpora=corpora)
    return tmp_path / "big" / "docs"


@pytest.fixture(scope="session")
def news_corpus(exported_corpus: ExportedCorpus) -> ExportedCorpus:
    """The exported corpus, when it was built from the shared test collections: the tests
    that query particular words ("oil", "election") and people need their sentences."""
    if not exported_corpus.from_corpora:
        _unavailable("the shared test corpora are not present ($SEARCHLIB_CORPORA or "
                     "../shared/corpora)")
    return exported_corpus


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the build and start-up times measured in this run."""
    if TIMINGS:
        terminalreporter.section("OpenSearch test cluster")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f}")
