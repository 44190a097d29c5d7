"""The OpenSearch engine's reader: :class:`searchlib.engine.Reader` over one cluster index.

It talks to the cluster through :class:`searchlib.opensearch.OpenSearchIndex` (the official
``opensearch-py`` client, TLS verified, credentials from the environment or the config file,
every client error a one-line :class:`~searchlib.errors.SearchlibError`) and answers with
searchlib's own models. Queries are parsed by :mod:`searchlib.query` and translated by
:mod:`searchlib._query_opensearch`: disjunctive facet counts (``filter`` + ``terms``
aggregations beside a ``post_filter``), exact totals and counts, year/month histograms, fvh
highlighting turned into snippets with character offsets.

Searches are bounded as the Whoosh engine's (:mod:`searchlib.query.limits`): the same
pattern caps and refusals, and the time budget sent to the cluster as the request's
``timeout``; an answer the cluster cut at it is refused (:meth:`OpenSearchIndex.timed_search`).

Near-duplicates are folded into one hit as by the Whoosh reader (field ``collapse``, see
:meth:`OpenSearchReader._collapse`). What the Whoosh reader does that this one does not
(yet): warnings about cut pattern expansions.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._query_opensearch import AGG_SIZE, FACETS, SOURCE_FIELDS
from ...errors import IndexClosedError, SearchCancelled
from ...models import (
    DATE_FACETS,
    FACET_KINDS,
    Article,
    EntityMention,
    Hit,
    IndexStats,
    SearchResults,
    SkippedFile,
)
from ...opensearch import ConnectionSettings, OpenSearchIndex, _counts, _hit, facet_request
from .. import SearchRequest
from ..facetnames import FacetNames
from .record import EngineRecord

if TYPE_CHECKING:
    from ...ingest.gazetteer import Gazetteer

__all__ = ["OpenSearchReader"]

#: Documents per page when reading the whole index (``articles``, near-duplicate groups).
_SCAN_PAGE = 500
#: The inner hits of a collapsed group (its matching members, in group order).
_COPIES = "near_members"
#: Members of a group a hit lists: OpenSearch's ``index.max_inner_result_window`` (100).
_GROUP_HITS = 100
#: The aggregation counting the groups among the matching articles.
_GROUPED = "near_grouped"
#: The aggregation names of the date facets in a search answer.
_DATE_AGGS = dict(zip(DATE_FACETS, ("year", "month", "mentioned"), strict=True))


class OpenSearchReader:
    """An index folder whose documents live in an OpenSearch index (see its engine record).

    Thread-safe as the client is (``opensearch-py`` pools its connections); ``close`` is
    idempotent, and any other use after it raises :class:`IndexClosedError`.
    """

    def __init__(self, path: str | os.PathLike[str], record: EngineRecord,
                 settings: ConnectionSettings, *,
                 gazetteer: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.path = Path(path)
        self.record = record
        self._names = FacetNames(self.path, gazetteer)
        self._lower: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._has_near_key: bool | None = None
        self._remote = OpenSearchIndex(settings, record.index, resolve=self._facet_value)

    # --- life -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the client's connections (twice is harmless)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._remote.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError("the index is closed")

    # --- facet names ----------------------------------------------------------------------

    def _facet_value(self, facet: str, value: str) -> str:
        """The indexed name a typed facet value stands for (see :class:`FacetNames`)."""
        return self._names.resolve(facet, value, self._lowercased)

    def _lowercased(self, facet: str) -> dict[str, str]:
        """The facet's indexed names by their lowercase form (read once per reader)."""
        if facet not in self._lower:
            self._lower[facet] = {name.lower(): name for name in self.facet_values(facet)}
        return self._lower[facet]

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer that resolves facet aliases for this index (loaded on first use)."""
        return self._names.gazetteer

    # --- searching ------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResults:
        """One page of ``request``'s hits with exact totals and disjunctive facet counts.

        ``request.ids`` restricts the query itself, so the total and every count see only
        those articles; ``request.facets=False`` leaves the aggregations out of the request.
        With ``request.collapse`` the near-duplicates of a group are one hit (see
        :meth:`_collapse`): the total counts groups, the facets count articles, as on the
        Whoosh engine.
        """
        self._check_open()
        remote = self._remote
        if request.cancel is not None and request.cancel.is_set():
            raise SearchCancelled("search cancelled")
        selections = {"actor": request.actors, "location": request.locations,
                      "person": request.people}
        body = facet_request(request.query, selections, date_from=request.date_from,
                             date_to=request.date_to, size=request.limit,
                             offset=(request.page - 1) * request.limit,
                             snippets=request.snippets, sort=request.sort,
                             translator=remote._translator)
        if request.ids is not None:
            body["query"] = {"bool": {"must": [body["query"]],
                                      "filter": [{"terms": {"id": sorted(request.ids)}}]}}
        if not request.facets:
            del body["aggs"]
        collapse = request.collapse and self._collapsible()
        if collapse:
            self._collapse(body)
        started = dt.datetime.now()
        answer = remote._search_query(request.query, body)
        if request.cancel is not None and request.cancel.is_set():
            raise SearchCancelled("search cancelled")
        first = (request.page - 1) * request.limit + 1
        total = int(answer["hits"]["total"]["value"])
        if collapse:
            hits = tuple(_collapsed_hit(raw, rank, request.snippets)
                         for rank, raw in enumerate(answer["hits"]["hits"], start=first))
            grouped = answer["aggregations"][_GROUPED]
            # Articles in groups count once per group; the others once each.
            total += len(grouped["keys"]["buckets"]) - int(grouped["doc_count"])
        else:
            hits = tuple(_hit(raw, rank, request.snippets)
                         for rank, raw in enumerate(answer["hits"]["hits"], start=first))
        stripped = request.query.strip()
        suggestion = (remote._suggest(stripped, total)
                      if total < 3 and stripped not in ("", "*") else None)
        facets: dict[str, Mapping[str, int]] = {}
        if request.facets:
            facets = {kind: _counts(answer, _DATE_AGGS.get(kind, kind)) for kind in FACET_KINDS}
        return SearchResults(query=request.query, total=total, hits=hits, facets=facets,
                             suggestion=suggestion, page=request.page, limit=request.limit,
                             elapsed=(dt.datetime.now() - started).total_seconds())

    def _collapsible(self) -> bool:
        """Whether the index has the fields hits collapse on (an index made before them
        gains them on its next ``search index``; until then hits are not collapsed)."""
        if self._has_near_key is None:
            remote = self._remote
            served = remote._call("read the mapping", remote._client.indices.get_field_mapping,
                                  index=remote.index, fields="near_key")
            self._has_near_key = any(entry.get("mappings", {}).get("near_key")
                                     for entry in served.values())
        return self._has_near_key

    @staticmethod
    def _collapse(body: dict[str, Any]) -> None:
        """Make ``body`` answer one hit per near-duplicate group, as the Whoosh engine does.

        OpenSearch's field ``collapse`` on ``near_key`` (the group's representative; the
        article itself when in no group) keeps one hit per group, placed by its best member;
        its ``inner_hits`` list the group's matching members in group order, the first of
        which is shown (the Whoosh engine's choice: the first matching member) and the
        others are its ``copies``. The total of groups is exact: a ``terms`` aggregation on
        ``near_key`` over the grouped articles the post filter keeps counts the groups.
        """
        inner: dict[str, Any] = {"name": _COPIES, "size": _GROUP_HITS,
                                 "sort": [{"near_rank": "asc"}], "_source": SOURCE_FIELDS}
        if "highlight" in body:
            inner["highlight"] = body["highlight"]
        body["collapse"] = {"field": "near_key", "inner_hits": inner}
        body.setdefault("aggs", {})[_GROUPED] = {
            "filter": {"bool": {"filter": [body["post_filter"],
                                           {"exists": {"field": "near_group"}}]}},
            "aggs": {"keys": {"terms": {"field": "near_key", "size": AGG_SIZE}}}}

    def facet_values(self, kind: str) -> dict[str, int]:
        """Every value of facet ``kind`` with its document count over the whole index,
        most frequent first (ties by name), as the Whoosh reader orders them."""
        self._check_open()
        remote = self._remote
        if kind in FACETS:
            agg: dict[str, Any] = {"terms": {"field": kind, "size": 65_536}}
        else:
            field = "mentioned_dates" if kind == "mentioned" else "published"
            interval, fmt = ("year", "yyyy") if kind == "year" else ("month", "yyyy-MM")
            agg = {"date_histogram": {"field": field, "calendar_interval": interval,
                                      "format": fmt, "min_doc_count": 1}}
        answer = remote.exact_search(
            "count facet values",
            {"size": 0, "aggs": {"every": {"filter": {"match_all": {}},
                                           "aggs": {"values": agg}}}},
            lambda budget: f"counting the {kind} values took longer than {budget:g} s")
        buckets = answer["aggregations"]["every"]["values"]["buckets"]
        counts = {str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in buckets
                  if b["doc_count"]}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` (``more_like_this`` on its body terms), excluding
        itself and exact copies; ``KeyError`` for an unknown id."""
        self._check_open()
        return self._remote.similar(doc_id, limit=limit)

    # --- documents ------------------------------------------------------------------------

    def get(self, doc_id: str) -> Article:
        """The stored article with id ``doc_id`` (``KeyError`` when there is none)."""
        self._check_open()
        remote = self._remote
        answer = remote._call("look up the article", remote._client.search, index=remote.index,
                              body={"size": 1, "query": {"ids": {"values": [doc_id]}}})
        found = answer["hits"]["hits"]
        if not found:
            raise KeyError(doc_id)
        return article_from_source(found[0]["_source"])

    def _scan(self, query: dict[str, Any], fields: Sequence[str] | None = None
              ) -> Iterator[dict[str, Any]]:
        """The ``_source`` of every document matching ``query``, in id order, page by page
        (``search_after`` on the id: no scroll context to leak if the caller stops)."""
        remote = self._remote
        after: list[Any] | None = None
        while True:
            self._check_open()
            body: dict[str, Any] = {"size": _SCAN_PAGE, "query": query, "sort": [{"id": "asc"}]}
            if fields is not None:
                body["_source"] = list(fields)
            if after is not None:
                body["search_after"] = after
            answer = remote._call("read the articles", remote._client.search,
                                  index=remote.index, body=body)
            page = answer["hits"]["hits"]
            for raw in page:
                yield raw["_source"]
            if len(page) < _SCAN_PAGE:
                return
            after = page[-1]["sort"]

    def articles(self) -> Iterator[Article]:
        """Every article of the index, in id order."""
        for source in self._scan({"match_all": {}}):
            yield article_from_source(source)

    def near_duplicate_groups(self) -> list[tuple[str, ...]]:
        """Every near-duplicate group as recorded at ingest, representative first."""
        groups: dict[tuple[str, ...], None] = {}
        for source in self._scan({"exists": {"field": "near_group"}}, ["near_group"]):
            groups.setdefault(tuple(source["near_group"]), None)
        return sorted(groups)

    # --- the index as a whole -------------------------------------------------------------

    def stats(self) -> IndexStats:
        """Documents and store size as the cluster reports them; last update, sources and
        skipped files from the engine record."""
        self._check_open()
        remote = self._remote
        answer = remote._call("read the index statistics", remote._client.indices.stats,
                              index=remote.index, metric="store")
        size = int(answer["_all"]["primaries"]["store"]["size_in_bytes"])
        return IndexStats(path=f"{remote.settings.url}/{remote.index}",
                          documents=self.doc_count, size_bytes=size,
                          last_update=self.record.last_update, skipped=len(self.skipped),
                          sources=self.record.sources)

    @property
    def skipped(self) -> tuple[SkippedFile, ...]:
        """Files skipped by the last build (from the engine record)."""
        return self.record.skipped

    @property
    def doc_count(self) -> int:
        """Number of documents in the cluster index."""
        self._check_open()
        return self._remote.count()


def _collapsed_hit(raw: Mapping[str, Any], rank: int, snippets: bool) -> Hit:
    """The hit of one collapsed group: its first matching member (ranked where the group's
    best member ranked), with the others' ids as ``copies``."""
    members = raw.get("inner_hits", {}).get(_COPIES, {}).get("hits", {}).get("hits") or [raw]
    shown = _hit({**members[0], "_score": raw.get("_score")}, rank, snippets)
    return replace(shown, copies=tuple(str(m["_id"]) for m in members[1:]))


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def article_from_source(source: Mapping[str, Any]) -> Article:
    """searchlib's Article from a document's ``_source`` as the ingest wrote it."""
    own = source.get("id", "")
    return Article(
        id=own, path=source.get("path", ""), title=source.get("title", ""),
        text=source.get("body", ""), published=_date(source.get("published")),
        actors=tuple(source.get("actors", ())), locations=tuple(source.get("locations", ())),
        people=tuple(source.get("people", ())), subtitle=source.get("subtitle"),
        authors=tuple(source.get("authors", ())), url=source.get("url"),
        source=source.get("source"),
        mentioned_dates=tuple(d for d in (_date(x) for x in source.get("mentioned_dates", ()))
                              if d),
        mentions=tuple(EntityMention(facet=e["facet"], name=e["name"], surface=e["text"],
                                     start=e["start"], end=e["end"])
                       for e in source.get("entities", ())),
        duplicates=tuple(source.get("duplicates", ())),
        metadata=source.get("metadata") or {},
        published_source=source.get("published_source"),
        near_duplicates=tuple(i for i in source.get("near_group", ()) if i != own),
        title_derived=bool(source.get("title_derived")))
