"""A real three-node cluster with one replica keeps answering when a node is SIGKILLed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from oscluster import BuildInfo, Cluster, ExportedCorpus

opensearchpy = pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

INDEX = "news"
#: Bounds of the query loop after the kill (the test stops by itself).
LOOP_SECONDS = 90.0
QUERIES_AFTER_YELLOW = 40


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
