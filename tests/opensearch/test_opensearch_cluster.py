"""A real three-node cluster with one replica keeps answering when a node is SIGKILLed."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from oscluster import INGEST_CORPUS_SIZE, BuildInfo, Cluster, ExportedCorpus

opensearchpy = pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

INDEX = "news"
#: Bounds of the query loop after the kill (the test stops by itself).
LOOP_SECONDS = 90.0
QUERIES_AFTER_YELLOW = 40
#: Documents indexed (on their primaries) when a node is killed during a load.
INGEST_KILL_AT = 300


def _load(client: Any, corpus: ExportedCorpus, *, shards: int, replicas: int) -> int:
    """Create the index from the exported mapping with ``shards``/``replicas``; bulk-load it."""
    mapping = json.loads((corpus.export_dir / "mapping.json").read_text())
    mapping["settings"]["index"].update(number_of_shards=shards, number_of_replicas=replicas)
    client.indices.create(index=INDEX, body=mapping)
    count = 0
    for bulk in sorted(corpus.export_dir.glob("bulk-*.ndjson")):
        answer = client.bulk(body=bulk.read_bytes(), index=INDEX)
        assert not answer["errors"]
        count += len(answer["items"])
    client.indices.refresh(index=INDEX)
    return count


def _probe(client: Any, expected: int) -> str | None:
    """One round of the queries a user runs; None when all answered in full, else why not."""
    try:
        every = client.search(index=INDEX, body={"size": 0, "track_total_hits": True,
                                                 "query": {"match_all": {}}})
        text = client.search(index=INDEX, body={
            "size": 10, "query": {"multi_match": {"query": "attack",
                                                  "fields": ["title^0.7", "body"]}},
            "aggs": {"location": {"terms": {"field": "location", "size": 10_000}}}})
    except opensearchpy.exceptions.OpenSearchException as exc:
        return f"{type(exc).__name__}: {exc}"
    for answer in (every, text):
        if answer["_shards"]["failed"] or answer["timed_out"]:
            return f"partial answer: {answer['_shards']}"
    if every["hits"]["total"]["value"] != expected:
        return f"total {every['hits']['total']['value']} != {expected}"
    return None


def test_three_nodes_with_a_replica_survive_a_sigkill(opensearch_cluster3: Cluster,
                                                      exported_corpus: ExportedCorpus) -> None:
    cluster = opensearch_cluster3
    # Every node's address: the client moves on to the next one when a node is gone.
    client = opensearchpy.OpenSearch(hosts=cluster.urls, timeout=30, max_retries=5,
                                     retry_on_timeout=True)
    nodes = client.cat.nodes(format="json", h="name")
    assert sorted(n["name"] for n in nodes) == ["node-0", "node-1", "node-2"]
    expected = _load(client, exported_corpus, shards=3, replicas=1)
    assert expected == 200
    cluster.wait_for(status="green", nodes=3, timeout=120)
    assert _probe(client, expected) is None

    # Kill the elected cluster manager: the harder case (an election follows).
    manager = client.cat.cluster_manager(format="json")[0]["node"]
    victim = int(manager.split("-")[1])
    killed_at = time.perf_counter()
    cluster.kill(victim)

    errors_before_yellow: list[str] = []
    errors_after_yellow: list[str] = []
    yellow_after: float | None = None
    answered_after_yellow = 0
    while (answered_after_yellow < QUERIES_AFTER_YELLOW
           and time.perf_counter() - killed_at < LOOP_SECONDS):
        problem = _probe(client, expected)
        if yellow_after is None:
            if problem:
                errors_before_yellow.append(problem)
            try:
                health = client.cluster.health()
            except opensearchpy.exceptions.OpenSearchException:  # no manager elected yet
                continue
            if health["number_of_nodes"] == 2 and health["status"] in ("yellow", "green"):
                yellow_after = time.perf_counter() - killed_at
        else:
            answered_after_yellow += 1
            if problem:
                errors_after_yellow.append(problem)
    print(f"killed {manager}; cluster yellow with 2 nodes after "
          f"{yellow_after if yellow_after is None else round(yellow_after, 1)} s; "
          f"failed rounds before: {len(errors_before_yellow)}, after: "
          f"{len(errors_after_yellow)} of {answered_after_yellow}")
    assert yellow_after is not None, "the cluster did not settle on 2 nodes"
    assert answered_after_yellow == QUERIES_AFTER_YELLOW
    assert errors_after_yellow == []

    # Nothing was lost (each shard had a copy elsewhere) and the cluster still takes writes.
    assert client.count(index=INDEX)["count"] == expected
    client.index(index=INDEX, id="after-kill", refresh=True,
                 body={"id": "after-kill", "title": "Written after the kill", "body": "ok"})
    assert client.get(index=INDEX, id="after-kill")["found"]
    client.close()


def test_a_node_stops_when_the_process_that_started_it_is_gone(
        opensearch_build: BuildInfo, tmp_path: Path) -> None:
    # The fixture's end of the node's stdin pipe closes when pytest dies: the node must not
    # linger on the machine. Closing it here does what the kernel does then.
    cluster = Cluster(classpath=opensearch_build.classpath, root=tmp_path / "orphan", size=1)
    try:
        cluster.start()
        node = cluster.nodes[0]
        assert node.process is not None and node.process.stdin is not None
        node.process.stdin.close()
        assert node.process.wait(timeout=60) == 0
        assert "closed" in node.log_tail()
    finally:
        cluster.stop()


def test_ingest_finishes_exactly_once_when_a_node_is_killed_mid_load(
        opensearch_cluster3: Cluster, ingest_corpus: Path, tmp_path: Path) -> None:
    from searchlib.engine.opensearch import connection_settings
    from searchlib.engine.opensearch.check import check_opensearch
    from searchlib.engine.opensearch.ingest import ingest_opensearch
    from searchlib.engine.opensearch.record import read_engine_record
    from searchlib.layout import doc_id, load_manifest

    cluster = opensearch_cluster3
    cluster.wait_for(status="green", nodes=3, timeout=120)
    # The library call a user makes, with every node's address (as --opensearch-url a,b,c).
    settings = connection_settings(",".join(cluster.urls), env={})
    folder = tmp_path / "ix"
    outcome: dict[str, Any] = {}

    def ingest() -> None:
        try:
            outcome["summary"] = ingest_opensearch(
                [ingest_corpus], folder, settings, "ingest-kill", shards=3, replicas=1,
                batch_docs=50, procs=1)
        except BaseException as exc:  # reported by the assertion below, with its type
            outcome["error"] = exc

    watcher = opensearchpy.OpenSearch(hosts=cluster.urls, timeout=30, max_retries=5,
                                      retry_on_timeout=True)
    worker = threading.Thread(target=ingest, name="ingest")
    started = time.perf_counter()
    worker.start()
    # Kill the elected cluster manager once a tenth of the documents reached their primaries
    # (the indexing counter sees them before any refresh).
    indexed_at_kill = 0
    victim = ""
    deadline = started + 600
    while worker.is_alive() and time.perf_counter() < deadline:
        try:
            stats = watcher.indices.stats(index="ingest-kill", metric="indexing")
        except opensearchpy.exceptions.NotFoundError:  # the local build is still running
            time.sleep(0.2)
            continue
        indexed_at_kill = stats["_all"]["primaries"]["indexing"]["index_total"]
        if indexed_at_kill >= INGEST_KILL_AT:
            victim = watcher.cat.cluster_manager(format="json")[0]["node"]
            cluster.kill(int(victim.split("-")[1]))
            killed_at = time.perf_counter()
            break
        time.sleep(0.1)
    assert victim, f"the load ended before {INGEST_KILL_AT} documents were indexed"
    assert worker.is_alive(), "the load ended before the kill"
    worker.join(timeout=600)
    assert not worker.is_alive(), "the load did not finish"
    assert "error" not in outcome, repr(outcome.get("error"))
    summary = outcome["summary"]
    expected = {doc_id(key) for entry in load_manifest(folder)["files"].values()
                for key in entry.get("indexed", ())}
    print(f"killed {victim} after {indexed_at_kill} documents; the load of {len(expected)} "
          f"ended {time.perf_counter() - killed_at:.1f} s later, {summary.resent} document(s) "
          f"sent again, {len(summary.failed)} failed")
    assert len(expected) >= INGEST_CORPUS_SIZE * 0.9  # a few articles share one file
    assert summary.failed == () and summary.sent == len(expected)

    # Every document exactly once: the count (ids are unique within an index, so a
    # document sent twice is still one) and the ids themselves.
    watcher.indices.refresh(index="ingest-kill")
    assert watcher.count(index="ingest-kill")["count"] == len(expected)
    record = read_engine_record(folder)
    assert record is not None and set(record.sent) == expected
    report = check_opensearch(folder, record)
    assert report.ok and report.problems == (), report.problems
    assert (report.documents, report.recorded_documents) == (len(expected), len(expected))
    assert report.cluster_status in ("yellow", "green")
    watcher.close()
