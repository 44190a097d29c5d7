"""``search check`` on an index folder whose documents live in OpenSearch.

The folder holds the engine record (what the cluster acknowledged, as id -> fingerprint) and
the local staging copy the pipeline builds (manifest, Whoosh files). :func:`check_opensearch`

* checks the local part as the Whoosh check does (every segment read back, the manifest, the
  sources on disk: :func:`searchlib.engine.whoosh.check.check_index`);
* asks the cluster for its health, the index's mapping, its document count and every id, and
  compares them with the engine record and the manifest.

A cluster that cannot be reached is not a finding about the index: it raises
:class:`~searchlib.opensearch.ClusterUnavailableError` (one line), as every other command on
such a folder does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import SearchlibError
from ...layout import doc_id, load_manifest
from ...opensearch import OpenSearchIndex
from ..whoosh.check import CheckReport, check_index
from . import connection_settings
from .ingest import engine_mapping
from .record import EngineRecord

__all__ = ["OpenSearchCheckReport", "check_opensearch"]

_REBUILD = "run `search index --rebuild`"
_SEND = "run `search index` to send them again"
#: Ids per request when reading every id of the cluster index.
_ID_PAGE = 5000
#: Mapping parameters compared field by field (what decides how a field is searched).
_COMPARED = ("type", "analyzer", "search_analyzer", "index", "term_vector", "index_options",
             "copy_to", "enabled")


@dataclass(frozen=True)
class OpenSearchCheckReport(CheckReport):
    """:class:`CheckReport` of an OpenSearch-engine folder: ``documents`` counts the cluster
    index's documents, ``problems`` and ``notes`` cover the cluster and the local copy."""

    url: str = ""
    """The cluster's address."""
    opensearch_index: str = ""
    """The OpenSearch index name."""
    cluster_status: str = ""
    """The cluster's health: ``green``, ``yellow`` or ``red``."""
    recorded_documents: int = 0
    """Documents the engine record says the cluster acknowledged."""
    local_documents: int = 0
    """Documents in the folder's local staging copy."""


def _mapping_problems(served: dict[str, Any], expected: dict[str, Any], name: str) -> list[str]:
    """How the served mapping's fields differ from ``expected`` (one line at most)."""
    differences: list[str] = []
    if str(served.get("dynamic")) != str(expected.get("dynamic")):
        differences.append(f"dynamic is {served.get('dynamic')}, expected "
                           f"{expected.get('dynamic')}")
    have = served.get("properties", {})
    for field, want in expected.get("properties", {}).items():
        got = have.get(field)
        if got is None:
            differences.append(f"no field {field}")
            continue
        for key in _COMPARED:
            if key in want and str(got.get(key)) != str(want[key]):
                differences.append(f"{field}.{key} is {got.get(key)}, expected {want[key]}")
    if not differences:
        return []
    more = f" and {len(differences) - 1} more" if len(differences) > 1 else ""
    return [f"the mapping of OpenSearch index {name!r} is not searchlib's ({differences[0]}"
            f"{more}); {_REBUILD}"]


def _cluster_ids(remote: OpenSearchIndex) -> Iterator[str]:
    """Every document id of the index, page by page in id order (``search_after``: nothing
    to clean up if the caller stops)."""
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": _ID_PAGE, "_source": False, "track_total_hits": False,
                                "query": {"match_all": {}}, "sort": [{"id": "asc"}]}
        if after is not None:
            body["search_after"] = after
        answer = remote._call("read the document ids", remote._client.search,
                              index=remote.index, body=body)
        page = answer["hits"]["hits"]
        yield from (str(raw["_id"]) for raw in page)
        if len(page) < _ID_PAGE:
            return
        after = page[-1]["sort"]


def _manifest_ids(index_dir: Path) -> set[str]:
    """The ids of the documents the folder's manifest lists (empty when it is unreadable:
    the local check reports that)."""
    try:
        files = load_manifest(index_dir)["files"]
    except SearchlibError:
        return set()
    ids: set[str] = set()
    for entry in files.values():
        indexed = entry.get("indexed") if isinstance(entry, dict) else None
        ids.update(doc_id(k) for k in (indexed if isinstance(indexed, list) else ())
                   if isinstance(k, str))
    return ids


def _example(ids: set[str]) -> str:
    return f"{len(ids)} document(s) (e.g. {min(ids)})"


def check_opensearch(index_dir: str | os.PathLike[str], record: EngineRecord,
                     sources: Sequence[str | os.PathLike[str]] | None = None
                     ) -> OpenSearchCheckReport:
    """Check the OpenSearch-engine folder ``index_dir`` (engine record ``record``) against its
    cluster index and its sources.

    Problems (each one line naming its fix): the index is missing, its mapping is not
    searchlib's, the cluster is red, documents the record says were acknowledged are missing
    from the cluster, documents in the cluster were not sent from this folder, documents of
    the manifest never reached the cluster, or the local copy is damaged. A yellow cluster
    (a replica unassigned) is a note. Raises
    :class:`~searchlib.opensearch.ClusterUnavailableError` when the cluster cannot be reached.
    """
    base = Path(index_dir)
    settings = connection_settings(os.environ.get("SEARCH_OPENSEARCH_URL") or record.url)
    with OpenSearchIndex(settings, record.index) as remote:
        health = remote.health()  # down: ClusterUnavailableError, one line
        local = check_index(base, sources)
        problems: list[str] = []
        notes: list[str] = []
        status = str(health.get("status", "unknown"))
        if status == "red":
            problems.append(f"the OpenSearch cluster at {settings.url} is red (some shards "
                            "have no copy on any node): searches miss documents until the "
                            "nodes holding them are back")
        elif status == "yellow":
            notes.append(f"the OpenSearch cluster at {settings.url} is yellow (some replicas "
                         "are not assigned): a node is missing or the cluster is too small "
                         "for the replicas asked")
        recorded = set(record.sent)
        cluster: set[str] = set()
        indices = remote._client.indices
        if not remote._call("check the index", indices.exists, index=record.index):
            problems.append(f"OpenSearch at {settings.url} has no index {record.index!r}; "
                            f"{_REBUILD}")
        else:
            served: dict[str, Any] = remote._call("read the mapping", indices.get_mapping,
                                                  index=record.index)
            empty: dict[str, Any] = {}
            mapping = next(iter(served.values()), empty).get("mappings", empty)
            problems += _mapping_problems(mapping, engine_mapping()["mappings"], record.index)
            # Searches see refreshed documents only: compare with what they see.
            remote._call("refresh the index", indices.refresh, index=record.index)
            cluster = set(_cluster_ids(remote))
            missing = recorded - cluster
            if missing:
                problems.append(f"{_example(missing)} acknowledged by OpenSearch are missing "
                                f"from index {record.index!r}; {_SEND}")
            extra = cluster - recorded
            if extra:
                problems.append(f"{_example(extra)} in OpenSearch index {record.index!r} were "
                                f"not sent from this folder; {_REBUILD}")
        listed = _manifest_ids(base)
        unsent = listed - recorded
        if listed and unsent:
            problems.append(f"{_example(unsent)} of this folder never reached OpenSearch (the "
                            f"cluster refused them at the last update); {_SEND}")
        undeleted = recorded - listed if listed else set()
        if undeleted:
            problems.append(f"{_example(undeleted)} of removed files are still in OpenSearch "
                            f"(their deletion failed); run `search index` to delete them")
    return OpenSearchCheckReport(
        index_dir=str(base), ok=not (problems or local.problems), documents=len(cluster),
        segments=local.segments, problems=(*problems, *local.problems),
        notes=(*notes, *local.notes), manifest_documents=local.manifest_documents,
        missing_sources=local.missing_sources, unindexed_sources=local.unindexed_sources,
        changed_sources=local.changed_sources, sources=local.sources, url=settings.url,
        opensearch_index=record.index, cluster_status=status,
        recorded_documents=len(recorded), local_documents=local.documents)
