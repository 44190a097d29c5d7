"""Ingest into OpenSearch: searchlib's pipeline, then ``_bulk`` to the cluster.

For now the documents reach the cluster through the pipeline's existing output: the index
folder is built (or updated) by :func:`searchlib.build.build_index` as a local staging copy,
with the same reading, cleaning, extraction, alias resolution, near-duplicate grouping,
incremental bookkeeping (the manifest) and skipped-file reasons as a Whoosh index; its
articles then go to the cluster as records (:func:`engine_record`). The engine record
(:mod:`.record`) keeps a fingerprint of every record the cluster acknowledged, so that

* a re-index with nothing changed sends nothing;
* a changed article is sent again, a removed one deleted from the cluster;
* a document the cluster refused stays out of the fingerprints and is sent on the next run.

Once the engine ``Writer`` protocol lands (issue 16), the workers' prepared documents should
go to an OpenSearch writer directly, and the staging copy (``whoosh/`` in the folder) goes:
what must move then is :func:`ingest_opensearch`'s middle part (records from the staging
index) — the mapping, the records, the diffing against fingerprints and the loader stay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import SearchlibError
from ...export import article_record, opensearch_mapping
from ...models import ENTITY_FACETS, Article, IndexSummary
from ...opensearch import ConnectionSettings, LoadSummary, OpenSearchIndex
from .record import EngineRecord, read_engine_record, write_engine_record

__all__ = ["IngestSummary", "check_index_name", "engine_mapping", "engine_record", "fingerprint",
           "ingest_opensearch"]


@dataclass(frozen=True)
class IngestSummary:
    """What ``search index --engine opensearch`` did, locally and in the cluster."""

    build: IndexSummary
    """The pipeline's summary (files added, updated, removed, skipped...)."""
    sent: int
    """Documents sent to the cluster and acknowledged."""
    deleted: int
    """Documents deleted from the cluster (their files were removed)."""
    failed: tuple[tuple[str, str], ...]
    """``(id, reason)`` of each document the cluster still refused after the retries."""
    url: str
    """The cluster's address."""
    index: str
    """The OpenSearch index name."""
    resent: int = 0
    """Documents sent again after a passing failure (a node that left, a lost connection)."""
    send_seconds: float = 0.0
    """Wall time of the cluster part: records read from the local copy, compared with the
    fingerprints, sent with ``_bulk``, deletions, refresh."""


def engine_mapping(*, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """The export mapping (:func:`searchlib.export.opensearch_mapping`) plus what the engine
    stores for ``search show`` to print what the Whoosh engine prints: where the date came
    from, the file's metadata, whether the title was derived, and the near-duplicate group."""
    body = opensearch_mapping()
    body["settings"]["index"].update(number_of_shards=shards, number_of_replicas=replicas)
    body["mappings"]["properties"].update({
        "published_source": {"type": "keyword"},
        "metadata": {"type": "object", "enabled": False},
        "title_derived": {"type": "boolean"},
        # The article's near-duplicate group, representative first (absent: in none).
        "near_group": {"type": "keyword"},
        # What search collapses hits on: the group's representative (the article itself
        # when in no group), and the article's place in its group (0: the representative).
        "near_key": {"type": "keyword"},
        "near_rank": {"type": "integer"},
    })
    return body


def engine_record(article: Article, rollup: dict[str, list[str]],
                  group: Sequence[str] = ()) -> dict[str, Any]:
    """The document the engine stores for ``article`` (the export record and the fields of
    :func:`engine_mapping`)."""
    record = article_record(article, rollup)
    record.update(published_source=article.published_source,
                  metadata=dict(article.metadata), title_derived=article.title_derived)
    if group:
        record["near_group"] = list(group)
    record["near_key"] = group[0] if group else article.id
    record["near_rank"] = list(group).index(article.id) if article.id in group else 0
    return record


def fingerprint(record: dict[str, Any]) -> str:
    """A digest of ``record``'s content: equal digests, nothing to send."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _records(staging: Any) -> Iterator[dict[str, Any]]:
    """Every article of the staging index as an engine record."""
    groups = {i: g for g in staging.near_duplicate_groups() for i in g}
    gazetteer = staging.gazetteer
    for article in staging.articles():
        rollup: dict[str, list[str]] = {facet: gazetteer.rolled_up(facet, names)
                  for facet, names in zip(ENTITY_FACETS, (article.actors, article.locations,
                                                          article.people), strict=True)}
        yield engine_record(article, rollup, groups.get(article.id, ()))


def _delete(remote: OpenSearchIndex, ids: Iterable[str], *, batch_docs: int, retries: int
            ) -> tuple[list[str], list[tuple[str, str]]]:
    """Delete ``ids`` in bounded batches (429s and passing failures retried with back-off);
    a document already gone counts as deleted."""
    actions = ({"_op_type": "delete", "_index": remote.index, "_id": i} for i in ids)
    outcome = remote.bulk(actions, batch_docs=batch_docs, retries=retries, gone_is_done=True)
    return outcome.done, outcome.failed


def ingest_opensearch(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                      index_dir: str | os.PathLike[str], settings: ConnectionSettings,
                      index_name: str, *, rebuild: bool = False, batch_docs: int = 500,
                      retries: int = 5, shards: int = 1, replicas: int = 0,
                      **build_options: Any) -> IngestSummary:
    """Build or update the index folder ``index_dir`` from ``paths`` with its documents in
    the OpenSearch index ``index_name`` of the cluster at ``settings.url``.

    ``build_options`` go to :func:`searchlib.build.build_index` (gazetteer, cleaning rules,
    procs, limits, progress...). Documents go in batches of at most ``batch_docs``; a batch
    the cluster rejects as overloaded (429) is retried with back-off up to ``retries`` times,
    and each document still refused is listed in :attr:`IngestSummary.failed` (and sent again
    by the next run). The cluster index is created with :func:`engine_mapping` when missing,
    and replaced when ``rebuild``; an existing index this folder did not fill is refused
    (without ``rebuild``). Raises :class:`ClusterUnavailableError` (one line) when the
    cluster cannot be reached: the cluster is checked before anything is built.
    """
    from ...build import build_index
    from ...search import Index

    with OpenSearchIndex(settings, index_name) as remote:
        remote.health()  # a cluster that is down: one line, before anything is built
        previous = read_engine_record(index_dir)
        same_target = (previous is not None and previous.url == settings.url
                       and previous.index == index_name)
        sent = dict(previous.sent) if same_target and not rebuild and previous else {}
        indices = remote._client.indices
        exists = remote._call("check the index", indices.exists, index=index_name)
        if exists and not same_target and not rebuild:
            # Never overwrite an index this folder did not fill: it may be someone's data.
            raise SearchlibError(
                f"OpenSearch index {index_name!r} at {settings.url} exists and was not built "
                "from this index folder; choose another --opensearch-index, or pass "
                "--rebuild to replace it")
        summary = build_index(paths, index_dir, rebuild=rebuild, **build_options)
        if exists and rebuild:
            remote._call("delete the index", indices.delete, index=index_name)
            exists = False
        if not exists:
            remote._call("create the index", indices.create, index=index_name,
                         body=engine_mapping(shards=shards, replicas=replicas))
            sent = {}
        else:
            # An index made by an earlier searchlib gains the fields added since (adding a
            # field is the one mapping change OpenSearch allows on a live index); its
            # documents' fingerprints changed with their records, so they are all sent.
            remote._call("add the new fields to the mapping", indices.put_mapping,
                         index=index_name, body=engine_mapping()["mappings"])
            if remote.count() != len(sent):
                sent = {}  # the cluster index was changed behind our back: send everything

        send_started = time.perf_counter()
        staging = Index(index_dir)
        try:
            current: dict[str, str] = {}
            changed: list[dict[str, Any]] = []
            for record in _records(staging):
                digest = fingerprint(record)
                current[record["id"]] = digest
                if sent.get(record["id"]) != digest:
                    changed.append(record)
            skipped, sources = staging.skipped, staging.stats().sources
        finally:
            staging.close()
        loaded = (remote.load(changed, batch_docs=batch_docs, retries=retries) if changed
                  else LoadSummary(indexed=0, failed=(), seconds=0.0))
        refused = {doc_id for doc_id, _ in loaded.failed}
        gone = sorted(set(sent) - set(current))
        deleted, undeleted = _delete(remote, gone, batch_docs=batch_docs, retries=retries)
        if deleted:
            remote._call("refresh the index", indices.refresh, index=index_name)
        kept = {doc_id: digest for doc_id, digest in current.items() if doc_id not in refused}
        # A refused update leaves the old version in the cluster: keep its fingerprint, so
        # the next run sends this document again (and only it).
        kept.update({doc_id: sent[doc_id] for doc_id in refused if doc_id in sent})
        # A document whose deletion failed stays recorded, so the next run deletes it again.
        kept.update({doc_id: sent[doc_id] for doc_id, _ in undeleted})
        write_engine_record(index_dir, EngineRecord(
            engine="opensearch", url=settings.url, index=index_name,
            last_update=dt.datetime.now(dt.UTC), sources=sources, skipped=skipped,
            sent=kept))
        send_seconds = time.perf_counter() - send_started
    return IngestSummary(build=summary, sent=loaded.indexed, deleted=len(deleted),
                         failed=(*loaded.failed, *undeleted), url=settings.url,
                         index=index_name, resent=loaded.resent,
                         send_seconds=send_seconds)


def check_index_name(name: str) -> str:
    """``name`` if OpenSearch accepts it as an index name, else a one-line error."""
    if (not name or name != name.lower() or name.startswith(("-", "_", "+"))
            or name in (".", "..") or any(c in name for c in ' "*\\<|,>/?#:')
            or len(name.encode()) > 255):
        raise SearchlibError(f"not a valid OpenSearch index name: {name!r} (lowercase, no "
                             "spaces or \\/*?\"<>|,#:, not starting with -, _ or +)")
    return name
