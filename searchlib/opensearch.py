"""searchlib's articles in an OpenSearch cluster: connect, load, search.

A first piece of OpenSearch as a second engine (issue 17): a small client over the official
``opensearch-py`` (``pip install 'searchlib[opensearch]'``) that

* connects from a URL (argument or ``$SEARCH_OPENSEARCH_URL``) with credentials from the
  environment only (``$SEARCH_OPENSEARCH_USER`` / ``$SEARCH_OPENSEARCH_PASSWORD``) and TLS
  certificates verified by default (``$SEARCH_OPENSEARCH_CA_CERTS`` names a CA bundle);
* creates the index with :func:`searchlib.export.opensearch_mapping` and loads export records
  in bounded batches, retrying rejected batches (429) with back-off and reporting every
  document that still failed;
* searches with the README's translation of searchlib's features (``multi_match``, rolled-up
  ``terms`` filters, disjunctive counts through aggregations and ``post_filter``, date
  histograms, highlighted snippets) and answers with searchlib's own :class:`SearchResults`.

Every failure a user can cause or meet (cluster down, wrong credentials, bad certificate,
missing index) is a :class:`SearchlibError` with a one-line message. Not wired into the CLI yet.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import QueryError, SearchlibError
from .export import index_records, opensearch_mapping
from .ingest.dates import parse_date_bound
from .models import Hit, SearchResults

if TYPE_CHECKING:
    from .search import Index

__all__ = [
    "ENV_CA_CERTS",
    "ENV_PASSWORD",
    "ENV_URL",
    "ENV_USER",
    "FACETS",
    "MORE_LIKE_THIS",
    "ClusterUnavailableError",
    "ConnectionSettings",
    "LoadSummary",
    "OpenSearchIndex",
    "facet_request",
]

ENV_URL = "SEARCH_OPENSEARCH_URL"
ENV_USER = "SEARCH_OPENSEARCH_USER"
ENV_PASSWORD = "SEARCH_OPENSEARCH_PASSWORD"
ENV_CA_CERTS = "SEARCH_OPENSEARCH_CA_CERTS"

#: Entity facets: the index field holding rolled-up values -> the search() argument.
FACETS = {"actor": "actors", "location": "locations", "person": "people"}
#: Query-time field weights, as searchlib's (``ranking.FIELD_BOOSTS``).
_FIELDS = ["title^0.7", "body"]
#: More than any facet's number of distinct values: each shard returns every value, so the
#: counts are exact, not OpenSearch's approximate top-N default.
_AGG_SIZE = 65_536
_EM = re.compile(r"<em>(.*?)</em>", re.DOTALL)


#: ``more_like_this`` as searchlib's ``similar``: Whoosh's ``more_like`` is an OR of the
#: article's 25 key terms, so any one of them may match.
MORE_LIKE_THIS = {"fields": ["body"], "min_term_freq": 1, "min_doc_freq": 2,
                  "max_query_terms": 25, "minimum_should_match": "1"}
_SOURCE = ["id", "path", "title", "published", "actors", "locations", "people", "body"]


class ClusterUnavailableError(SearchlibError):
    """The OpenSearch cluster cannot be reached or refused the connection."""


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the cluster is and how to authenticate; never from the command line."""

    url: str
    """The cluster's address, e.g. ``https://search.example.org:9200``."""
    username: str | None = None
    """Basic-auth user (``$SEARCH_OPENSEARCH_USER``)."""
    password: str | None = field(default=None, repr=False)
    """Basic-auth password (``$SEARCH_OPENSEARCH_PASSWORD``); kept out of ``repr``."""
    verify_certs: bool = True
    """Verify the server's TLS certificate (always, unless a caller turns it off)."""
    ca_certs: str | None = None
    """A CA bundle to verify against (``$SEARCH_OPENSEARCH_CA_CERTS``)."""
    timeout: float = 30.0
    """Seconds to wait for one request."""

    @classmethod
    def from_env(cls, url: str | None = None, env: Mapping[str, str] | None = None
                 ) -> ConnectionSettings:
        """Settings from ``url`` (else ``$SEARCH_OPENSEARCH_URL``) and the environment."""
        env = os.environ if env is None else env
        url = url or env.get(ENV_URL)
        if not url:
            raise SearchlibError(f"no OpenSearch URL: pass one or set ${ENV_URL}")
        if not re.match(r"^https?://[^/\s]+", url):
            raise SearchlibError(f"not an http(s) URL: {url!r}")
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        if bool(user) != bool(password):
            raise SearchlibError(f"set both ${ENV_USER} and ${ENV_PASSWORD}, or neither")
        return cls(url=url.rstrip("/"), username=user or None, password=password or None,
                   ca_certs=env.get(ENV_CA_CERTS) or None)


@dataclass(frozen=True)
class LoadSummary:
    """What a load sent and what the cluster kept."""

    indexed: int
    """Documents the cluster acknowledged."""
    failed: tuple[tuple[str, str], ...]
    """``(id, reason)`` of each document that still failed after the retries."""
    seconds: float
    """Wall time of the load."""


def _client_module() -> Any:
    try:
        import opensearchpy
    except ImportError:
        raise SearchlibError("OpenSearch support needs opensearch-py: "
                             "pip install 'searchlib[opensearch]'") from None
    return opensearchpy


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _day(value: str | dt.date, *, end: bool) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return parse_date_bound(value, end=end).isoformat()
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def facet_request(text: str, selections: Mapping[str, Sequence[str]], *,
                  date_from: str | dt.date | None = None, date_to: str | dt.date | None = None,
                  size: int = 10, offset: int = 0, snippets: bool = True,
                  sort: str = "relevance") -> dict[str, Any]:
    """The search request for one page of ``text`` with searchlib's disjunctive facets.

    The text query selects what every count sees. Each facet's selection narrows the hits
    through ``post_filter`` and counts of the *other* facets through a ``filter``
    aggregation, never its own (searchlib's disjunctive counts). The date range narrows the
    hits and the entity counts; the year/month histograms ignore it, as searchlib's timeline.
    ``sort``: ``relevance`` (newest first for a match-all, where every score is equal),
    ``newest``/``date`` or ``oldest``; undated articles come last either way.
    """
    if sort not in ("relevance", "date", "newest", "oldest"):
        raise QueryError(f"unknown sort {sort!r}; choose relevance, newest or oldest")
    date_filter: list[dict[str, Any]] = []
    if date_from or date_to:
        bounds = {}
        if date_from:
            bounds["gte"] = _day(date_from, end=False)
        if date_to:
            bounds["lte"] = _day(date_to, end=True)
        date_filter.append({"range": {"published": bounds}})

    def selected(except_facet: str | None) -> list[dict[str, Any]]:
        return [{"terms": {f: list(values)}} for f, values in selections.items()
                if values and f != except_facet]

    aggs: dict[str, Any] = {}
    for facet in FACETS:
        aggs[facet] = {"filter": {"bool": {"filter": selected(facet) + date_filter}},
                       "aggs": {"values": {"terms": {"field": facet, "size": _AGG_SIZE}}}}
    for name, fieldname, interval, fmt, filters in (
            ("year", "published", "year", "yyyy", []),
            ("month", "published", "month", "yyyy-MM", []),
            # The dates an article mentions are counted within the date range, as searchlib's.
            ("mentioned", "mentioned_dates", "month", "yyyy-MM", date_filter)):
        aggs[name] = {"filter": {"bool": {"filter": selected(None) + filters}},
                      "aggs": {"values": {"date_histogram": {
                          "field": fieldname, "calendar_interval": interval, "format": fmt,
                          "min_doc_count": 1}}}}
    stripped = text.strip()
    query: dict[str, Any] = ({"match_all": {}} if stripped in ("", "*") else
                             {"multi_match": {"query": stripped, "fields": _FIELDS}})
    body: dict[str, Any] = {
        "query": query,
        "post_filter": {"bool": {"filter": selected(None) + date_filter}},
        "aggs": aggs,
        "size": size,
        "from": offset,
        "track_total_hits": True,
        "_source": _SOURCE,
    }
    if sort == "relevance" and stripped in ("", "*"):
        sort = "newest"  # every article scores the same: newest first, as searchlib does
    if sort != "relevance":
        order = "asc" if sort == "oldest" else "desc"
        body["sort"] = [{"published": {"order": order, "missing": "_last"}}, {"id": "asc"}]
    if snippets:
        body["highlight"] = {"fields": {"body": {
            "type": "fvh", "fragment_size": 240, "number_of_fragments": 2,
            "no_match_size": 240}}}
    return body


def _snippet(fragments: Sequence[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join highlighted fragments with an ellipsis; the marked ranges in the joined text."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    for i, fragment in enumerate(fragments):
        if i:
            out.append(" … ")
            length += 3
        pos = 0
        for m in _EM.finditer(fragment):
            plain = fragment[pos:m.start()]
            out.append(plain)
            length += len(plain)
            spans.append((length, length + len(m.group(1))))
            out.append(m.group(1))
            length += len(m.group(1))
            pos = m.end()
        out.append(fragment[pos:])
        length += len(fragment) - pos
    return "".join(out), tuple(spans)


def _hit(raw: Mapping[str, Any], rank: int, snippets: bool) -> Hit:
    """searchlib's Hit from one OpenSearch hit (its snippet from the highlighted fragments)."""
    source = raw["_source"]
    text: str = ""
    spans: tuple[tuple[int, int], ...] = ()
    if snippets:
        fragments = raw.get("highlight", {}).get("body") or [source.get("body", "")[:240]]
        text, spans = _snippet(fragments)
    published = source.get("published")
    return Hit(id=raw["_id"], path=source.get("path", ""), title=source.get("title", ""),
               published=dt.date.fromisoformat(published) if published else None,
               actors=tuple(source.get("actors", ())),
               locations=tuple(source.get("locations", ())),
               people=tuple(source.get("people", ())),
               score=float(raw.get("_score") or 0.0), snippet=text, highlights=spans,
               rank=rank)


def _counts(answer: Mapping[str, Any], name: str) -> dict[str, int]:
    buckets = answer["aggregations"][name]["values"]["buckets"]
    counts = {str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in buckets
              if b["doc_count"]}
    if name in FACETS:
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return dict(sorted(counts.items()))


class OpenSearchIndex:
    """searchlib's articles in one OpenSearch index.

    Use as a context manager or call :meth:`close`. Nothing is sent until a method needs it.
    """

    def __init__(self, settings: ConnectionSettings, index: str = "news") -> None:
        self.settings = settings
        self.index = index
        module = _client_module()
        self._errors = module.exceptions
        auth = ((settings.username, settings.password)
                if settings.username and settings.password else None)
        self._client = module.OpenSearch(
            hosts=[settings.url], http_auth=auth, verify_certs=settings.verify_certs,
            ca_certs=settings.ca_certs, timeout=settings.timeout, max_retries=2,
            retry_on_timeout=True)
        self._helpers = module.helpers

    def __enter__(self) -> OpenSearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one client call; the client's exceptions become one-line SearchlibErrors."""
        errors = self._errors
        try:
            return fn(*args, **kwargs)
        except errors.AuthenticationException:
            raise SearchlibError(f"OpenSearch at {self.settings.url} refused the credentials "
                                 f"(${ENV_USER} / ${ENV_PASSWORD})") from None
        except errors.AuthorizationException as exc:
            raise SearchlibError(f"OpenSearch at {self.settings.url}: not allowed to "
                                 f"{what}: {_one_line(exc)}") from None
        except errors.SSLError as exc:
            raise ClusterUnavailableError(
                f"TLS with OpenSearch at {self.settings.url} failed ({_one_line(exc)}); "
                f"set ${ENV_CA_CERTS} to the cluster's CA bundle") from None
        except errors.ConnectionError:
            raise ClusterUnavailableError(
                f"cannot reach OpenSearch at {self.settings.url}: is the cluster running?"
            ) from None
        except errors.NotFoundError:
            raise SearchlibError(f"OpenSearch has no index {self.index!r} at "
                                 f"{self.settings.url}") from None
        except errors.TransportError as exc:
            raise SearchlibError(f"OpenSearch could not {what}: {_one_line(exc)}") from None

    def health(self) -> dict[str, Any]:
        """The cluster's health (raises :class:`ClusterUnavailableError` when it is down)."""
        return dict(self._call("read the cluster health", self._client.cluster.health))

    def create(self, *, replace: bool = False, shards: int = 1, replicas: int = 0) -> None:
        """Create the index with searchlib's mapping (deleting an old one if ``replace``)."""
        body = opensearch_mapping()
        body["settings"]["index"].update(number_of_shards=shards, number_of_replicas=replicas)
        indices = self._client.indices
        if replace and self._call("check the index", indices.exists, index=self.index):
            self._call("delete the index", indices.delete, index=self.index)
        self._call("create the index", indices.create, index=self.index, body=body)

    def load(self, records: Iterable[dict[str, Any]], *, batch_docs: int = 500,
             batch_bytes: int = 5 * 1024 * 1024, retries: int = 5) -> LoadSummary:
        """Bulk-index export records in batches of at most ``batch_docs``/``batch_bytes``.

        A batch the cluster rejects as overloaded (429) is sent again after a back-off
        (1, 2, 4... s, at most ``retries`` times) before the next one is read, so a slow
        cluster slows the load instead of losing documents. Documents that fail on their own
        (a mapping error, say) are returned in :attr:`LoadSummary.failed`, never dropped
        silently.
        """
        started = time.perf_counter()
        self.health()  # a cluster that is down: one message, not one failure per document
        indexed = 0
        failed: list[tuple[str, str]] = []

        def actions() -> Iterator[dict[str, Any]]:
            for record in records:
                yield {"_index": self.index, "_id": record["id"], "_source": record}

        def outcomes() -> list[tuple[bool, dict[str, Any]]]:
            stream = self._helpers.streaming_bulk(
                self._client, actions(), chunk_size=batch_docs, max_chunk_bytes=batch_bytes,
                max_retries=retries, initial_backoff=1, max_backoff=30, raise_on_error=False,
                raise_on_exception=False, yield_ok=True)
            return [(bool(ok), item) for ok, item in stream]

        for ok, item in self._call("load documents", outcomes):
            info = item.get("index", item)
            if ok:
                indexed += 1
                continue
            reason = info.get("error", "unknown error")
            if isinstance(reason, dict):
                reason = f"{reason.get('type')}: {reason.get('reason')}"
            failed.append((str(info.get("_id")), _one_line(Exception(reason))))
        self._call("refresh the index", self._client.indices.refresh, index=self.index)
        return LoadSummary(indexed=indexed, failed=tuple(failed),
                           seconds=time.perf_counter() - started)

    def load_index(self, whoosh: Index, **kwargs: Any) -> LoadSummary:
        """Load every article of a searchlib index (facets rolled up as in the index)."""
        return self.load(index_records(whoosh), **kwargs)

    def count(self) -> int:
        """Documents in the index."""
        return int(self._call("count documents", self._client.count, index=self.index)["count"])

    def search(self, query: str, *, limit: int = 10, page: int = 1,
               actors: Sequence[str] = (), locations: Sequence[str] = (),
               people: Sequence[str] = (), date_from: str | dt.date | None = None,
               date_to: str | dt.date | None = None, snippets: bool = True,
               sort: str = "relevance") -> SearchResults:
        """One page of hits for ``query`` with disjunctive facet counts, like ``Index.search``.

        The query text is matched as words (``multi_match``); searchlib's query language
        (phrases, fields, operators) is not translated yet.
        """
        if limit < 1 or page < 1:
            raise QueryError("limit and page must be positive")
        started = time.perf_counter()
        selections = {"actor": actors, "location": locations, "person": people}
        body = facet_request(query, selections, date_from=date_from, date_to=date_to,
                             size=limit, offset=(page - 1) * limit, snippets=snippets,
                             sort=sort)
        answer = self._call("search", self._client.search, index=self.index, body=body)
        first = (page - 1) * limit + 1
        hits = [_hit(raw, rank, snippets)
                for rank, raw in enumerate(answer["hits"]["hits"], start=first)]
        total = int(answer["hits"]["total"]["value"])
        stripped = query.strip()
        suggestion = (self._suggest(stripped, total)
                      if total < 3 and stripped not in ("", "*") else None)
        facets = {name: _counts(answer, name)
                  for name in (*FACETS, "year", "month", "mentioned")}
        return SearchResults(query=query, total=total, hits=tuple(hits), facets=facets,
                             suggestion=suggestion, page=page, limit=limit,
                             elapsed=time.perf_counter() - started)

    def _suggest(self, text: str, total: int) -> str | None:
        """A better-spelled query from the ``spell`` field's words, if it finds more.

        Each word the index lacks is replaced by the term suggester's first option; the
        result is offered, as searchlib's did-you-mean, only if it finds at least as much.
        """
        answer = self._call("suggest", self._client.search, index=self.index, body={
            "size": 0, "suggest": {"fix": {"text": text, "term": {
                "field": "spell", "suggest_mode": "missing", "max_edits": 2}}}})
        corrected, changed, pos = [], False, 0
        for entry in answer["suggest"]["fix"]:
            start, length = int(entry["offset"]), int(entry["length"])
            corrected.append(text[pos:start])
            word = text[start:start + length]
            if entry["options"]:
                fix = str(entry["options"][0]["text"])
                word = fix.capitalize() if word[:1].isupper() else fix
                changed = True
            corrected.append(word)
            pos = start + length
        corrected.append(text[pos:])
        if not changed:
            return None
        better = "".join(corrected)
        found = self._call("count", self._client.count, index=self.index,
                           body={"query": {"multi_match": {"query": better, "fields": _FIELDS}}})
        return better if int(found["count"]) >= max(total, 1) else None

    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` by its key terms (``more_like_this``), excluding
        itself and exact copies; raises ``KeyError`` for an unknown id, as ``Index.similar``.
        """
        if not self._call("look up the article", self._client.exists, index=self.index,
                          id=doc_id):
            raise KeyError(doc_id)
        answer = self._call("find similar articles", self._client.search, index=self.index,
                            body={"size": limit + 5, "_source": _SOURCE, "query": {
                                "more_like_this": {**MORE_LIKE_THIS, "like": [
                                    {"_index": self.index, "_id": doc_id}]}}})
        own = self._call("read the article", self._client.get, index=self.index, id=doc_id,
                         _source_includes=["body"])["_source"].get("body", "").strip()
        hits: list[Hit] = []
        for raw in answer["hits"]["hits"]:
            if raw["_source"].get("body", "").strip() == own:
                continue
            hits.append(_hit(raw, len(hits) + 1, False))
            if len(hits) >= limit:
                break
        return hits
