"""The ingest's resend rounds, made to fire by a real node that goes away mid-load.

One node (no replica to fail over to, a single address the client can try) is SIGKILLed while
``search index --engine opensearch`` (the CLI, in a process of its own) is sending, and
started again a few seconds later on the same data path and ports. In between every bulk
request fails on a refused connection, past the client's own retries: those documents must
come back in searchlib's resend rounds (back-off 1, 2, 4... s) and reach the index exactly
once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from oscluster import INGEST_CORPUS_SIZE, BuildInfo, Cluster, http_json

pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

INDEX = "resend-test"
#: Documents on the node before it is killed: the load is well under way, most of it to come.
KILL_AT = 300
#: Seconds the node stays down: longer than the client's immediate retries, within the
#: resend rounds' 31 s of back-off.
DOWN_S = 3.0


@pytest.fixture()
def node(opensearch_build: BuildInfo, tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(classpath=opensearch_build.classpath, root=tmp_path / "os1", size=1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _indexed(url: str) -> int:
    """Documents the index's primaries took so far (no refresh needed); -1 before it exists."""
    try:
        stats = http_json(f"{url}/{INDEX}/_stats/indexing", timeout=5)
    except OSError:  # urllib's HTTPError (404 before the index exists) is an OSError
        return -1
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


def test_documents_lost_with_the_node_are_resent_exactly_once(
        node: Cluster, ingest_corpus: Path, tmp_path: Path) -> None:
    from searchlib.layout import doc_id, load_manifest

    url = node.url
    folder = tmp_path / "ix"
    load = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "index", str(ingest_corpus), "--index", str(folder),
         "--procs", "1", "--engine", "opensearch", "--opensearch-url", url,
         "--opensearch-index", INDEX, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.perf_counter() + 600
        seen = -1
        while load.poll() is None and time.perf_counter() < deadline:
            seen = _indexed(url)
            if seen >= KILL_AT:
                break
            time.sleep(0.1)
        assert load.poll() is None, f"the load ended before the kill ({seen} indexed)"
        node.kill(0)
        killed = time.perf_counter()
        time.sleep(DOWN_S)
        node.restart(0)
        back = time.perf_counter() - killed
        out, err = load.communicate(timeout=600)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert load.returncode == 0, err[-2000:]
    summary = json.loads(out)
    expected = {doc_id(key) for entry in load_manifest(folder)["files"].values()
                for key in entry.get("indexed", ())}
    print(f"\nresend: killed the node after {seen} documents, answering again {back:.1f} s "
          f"later; {summary['resent']} resends (a document counted once per round it was "
          f"sent again in), {len(summary['failed'])} failed, {summary['sent']} sent")
    assert len(expected) >= INGEST_CORPUS_SIZE * 0.9  # a few articles share one file
    assert summary["failed"] == [] and summary["sent"] == len(expected)
    assert summary["resent"] > 0  # the rounds did fire: the client alone did not cope

    # Exactly once: the count after a refresh, and the same ids as the engine record.
    node.wait_for(status="green", nodes=1, timeout=120)
    http_json(f"{url}/{INDEX}/_refresh", method="POST")
    assert http_json(f"{url}/{INDEX}/_count")["count"] == len(expected)
    check = subprocess.run(
        [sys.executable, "-m", "searchlib", "check", "--index", str(folder), "--json"],
        capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    report = json.loads(check.stdout)
    assert report["problems"] == [] and report["documents"] == len(expected)
