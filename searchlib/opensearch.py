"""searchlib's articles in an OpenSearch cluster: connect, load, search.

A first piece of OpenSearch as a second engine (issue 17): a small client over the official
``opensearch-py`` (``pip install 'searchlib[opensearch]'``) that

* connects from a URL (argument or ``$SEARCH_OPENSEARCH_URL``) with credentials from the
  environment only (``$SEARCH_OPENSEARCH_USER`` / ``$SEARCH_OPENSEARCH_PASSWORD``) and TLS
  certificates verified by default (``$SEARCH_OPENSEARCH_CA_CERTS`` names a CA bundle);
* creates the index with :func:`searchlib.export.opensearch_mapping` and loads export records
  in bounded batches, retrying rejected batches (429) with back-off and reporting every
  document that still failed;
* searches in searchlib's query language (parsed into :mod:`searchlib.query`'s AST and
  translated by :mod:`searchlib._query_opensearch`: rolled-up ``terms`` filters, disjunctive
  counts through aggregations and ``post_filter``, date histograms, highlighted snippets) and
  answers with searchlib's own :class:`SearchResults`.

Every failure a user can cause or meet (cluster down, wrong credentials, bad certificate,
missing index) is a :class:`SearchlibError` with a one-line message. Every search is bounded
as on the Whoosh engine (:meth:`OpenSearchIndex.timed_search`, :mod:`searchlib.query.limits`).
The engine's reader (:mod:`searchlib.engine.opensearch.reader`) builds on this module.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._query_opensearch import FACETS, OpenSearchTranslator, Resolver
from ._query_opensearch import SOURCE_FIELDS as _SOURCE
from .errors import QueryError, SearchlibError
from .export import index_records, opensearch_mapping
from .ingest.dates import parse_date_bound
from .models import Hit, SearchResults
from .query import limits as _limits
from .query import parse_query
from .query.parser import TOO_DEEP

if TYPE_CHECKING:
    from .search import Index

__all__ = [
    "ENV_CA_CERTS",
    "ENV_PASSWORD",
    "ENV_URL",
    "ENV_USER",
    "FACETS",
    "MORE_LIKE_THIS",
    "BulkOutcome",
    "ClusterUnavailableError",
    "ConnectionSettings",
    "LoadSummary",
    "OpenSearchIndex",
    "TooManyBucketsError",
    "facet_request",
]

ENV_URL = "SEARCH_OPENSEARCH_URL"
ENV_USER = "SEARCH_OPENSEARCH_USER"
ENV_PASSWORD = "SEARCH_OPENSEARCH_PASSWORD"
ENV_CA_CERTS = "SEARCH_OPENSEARCH_CA_CERTS"

#: Seconds the client waits for a search past the budget the cluster was given: the cluster
#: stops the query phase at the budget, then still fetches the page's documents, highlights
#: them and merges the shards' answers.
SEARCH_SLACK = 6.0
#: The error type of a shard that ran out of its search ``timeout``.
_TIME_EXCEEDED = "time_exceeded_exception"
#: The error type of a request over the cluster's ``search.max_buckets``.
_TOO_MANY_BUCKETS = "too_many_buckets_exception"
_TOO_MANY_BUCKETS_TEXT = ("the facet counts need more buckets than the cluster's "
                          "search.max_buckets allows")
#: The date formats of searchlib's histograms, as Python writes them.
_DATE_FORMATS = {"yyyy": "%Y", "yyyy-MM": "%Y-%m"}
#: Buckets per page of a ``composite`` aggregation, at first (halved while over the limit).
COMPOSITE_PAGE = 10_000
#: How the cluster says a query holds more clauses than it allows.
_TOO_MANY_CLAUSES = ("too_many_clauses", "too_many_nested_clauses", "maxClauseCount")

#: Query-time field weights, as searchlib's (``ranking.FIELD_BOOSTS``).
_FIELDS = ["headline^0.7", "body"]
_EM = re.compile(r"<em>(.*?)</em>", re.DOTALL)


#: ``more_like_this`` as searchlib's ``similar``: Whoosh's ``more_like`` is an OR of the
#: article's 25 key terms, so any one of them may match.
MORE_LIKE_THIS = {"fields": ["body"], "min_term_freq": 1, "min_doc_freq": 2,
                  "max_query_terms": 25, "minimum_should_match": "1"}


class TooManyBucketsError(SearchlibError):
    """A request asked for more aggregation buckets than the cluster's ``search.max_buckets``
    (handled by :meth:`OpenSearchIndex.exact_search`; seen by a user only when one bucket
    is over the limit)."""


class ClusterUnavailableError(SearchlibError):
    """The OpenSearch cluster cannot be reached or refused the connection."""


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the cluster is and how to authenticate; never from the command line."""

    url: str
    """The cluster's address, e.g. ``https://search.example.org:9200``; several nodes'
    addresses separated by commas (the client moves on to the next when one is down)."""
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

    @property
    def hosts(self) -> list[str]:
        """The node addresses of :attr:`url`."""
        return self.url.split(",")

    @classmethod
    def from_env(cls, url: str | None = None, env: Mapping[str, str] | None = None
                 ) -> ConnectionSettings:
        """Settings from ``url`` (else ``$SEARCH_OPENSEARCH_URL``) and the environment."""
        env = os.environ if env is None else env
        url = url or env.get(ENV_URL)
        if not url:
            raise SearchlibError(f"no OpenSearch URL: pass one or set ${ENV_URL}")
        hosts = [h.strip().rstrip("/") for h in url.split(",")]
        for host in hosts:
            if not re.match(r"^https?://[^/\s,]+", host):
                raise SearchlibError(f"not an http(s) URL: {host!r}")
        url = ",".join(hosts)
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        if bool(user) != bool(password):
            raise SearchlibError(f"set both ${ENV_USER} and ${ENV_PASSWORD}, or neither")
        return cls(url=url, username=user or None, password=password or None,
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
    resent: int = 0
    """Documents sent again after a passing failure (a node that left, a lost connection)."""


@dataclass(frozen=True)
class BulkOutcome:
    """What :meth:`OpenSearchIndex.bulk` did."""

    done: list[str]
    """Ids of the actions the cluster acknowledged."""
    failed: list[tuple[str, str]]
    """``(id, reason)`` of each action that still failed after the retries."""
    resent: int
    """Actions sent again after a passing failure (each counted once per round)."""


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


def _transient(status: object) -> bool:
    """Whether a bulk item that failed with ``status`` may succeed when sent again: the
    cluster overloaded (429) or without a node it needed (5xx: a primary shard on a node that
    left), or no answer at all (``N/A``: the connection was lost or timed out)."""
    return status == 429 or status == "N/A" or (isinstance(status, int) and status >= 500)


def _reason(info: Mapping[str, Any]) -> str:
    """A failed bulk item's reason, on one line."""
    reason = info.get("error", "unknown error")
    if isinstance(reason, dict):
        reason = f"{reason.get('type')}: {reason.get('reason')}"
    return _one_line(Exception(reason))


def _day(value: str | dt.date, *, end: bool) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date_bound(value, end=end)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def facet_request(text: str, selections: Mapping[str, Sequence[str]], *,
                  date_from: str | dt.date | None = None, date_to: str | dt.date | None = None,
                  size: int = 10, offset: int = 0, snippets: bool = True,
                  sort: str = "relevance",
                  translator: OpenSearchTranslator | None = None) -> dict[str, Any]:
    """The search request for one page of ``text`` (searchlib's query language) with
    searchlib's disjunctive facets: see :meth:`OpenSearchTranslator.request`.

    ``selections``: facet (``actor``, ``location``, ``person``) -> values, as the options.
    """
    lo = _day(date_from, end=False) if date_from else None
    hi = _day(date_to, end=True) if date_to else None
    if lo and hi and lo > hi:
        raise QueryError("--from is after --to")
    parsed = parse_query(text)
    try:
        return (translator or OpenSearchTranslator()).request(
            parsed, actors=selections.get("actor", ()),
            locations=selections.get("location", ()), people=selections.get("person", ()),
            date_from=lo, date_to=hi, sort=sort, size=size, offset=offset, snippets=snippets)
    except RecursionError:  # an AST the parser built, too deep to translate
        raise QueryError(TOO_DEEP) from None


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

    def __init__(self, settings: ConnectionSettings, index: str = "news", *,
                 resolve: Resolver | None = None, budget: float | None = None) -> None:
        self.settings = settings
        self.index = index
        self._page_size = COMPOSITE_PAGE
        #: Seconds one search may run on the cluster; None: searchlib's
        #: :data:`searchlib.query.limits.QUERY_TIME_BUDGET`, as the Whoosh engine's.
        self.budget = budget
        # Fuzzy, wildcard and prefix text is stemmed by the index's own stemmer; facet values
        # go through ``resolve(facet, value)`` (searchlib's aliases and case), if given.
        self._translator = OpenSearchTranslator(stem_patterns=self._stem_patterns,
                                                resolve=resolve)
        module = _client_module()
        self._errors = module.exceptions
        auth = ((settings.username, settings.password)
                if settings.username and settings.password else None)
        self._client = module.OpenSearch(
            hosts=settings.hosts, http_auth=auth, verify_certs=settings.verify_certs,
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
        except errors.ConnectionTimeout:
            raise SearchlibError(f"OpenSearch at {self.settings.url} did not answer in time "
                                 f"to {what} (is the cluster overloaded?)") from None
        except errors.ConnectionError:
            raise ClusterUnavailableError(
                f"cannot reach OpenSearch at {self.settings.url}: is the cluster running?"
            ) from None
        except errors.NotFoundError:
            raise SearchlibError(f"OpenSearch has no index {self.index!r} at "
                                 f"{self.settings.url}") from None
        except errors.TransportError as exc:
            raise SearchlibError(f"OpenSearch could not {what}: {_one_line(exc)}") from None

    def timed_search(self, what: str, body: Mapping[str, Any],
                     refusal: Callable[[float], str]) -> dict[str, Any]:
        """Run one search of ``body`` within the budget (:attr:`budget`): the cluster is told
        to stop at it (``timeout``) and the client waits a little longer
        (``request_timeout``). An answer the cluster cut at the budget (``timed_out``: the
        hits, totals and counts of only part of the index) is refused with
        :class:`QueryError` (``refusal(budget)``), as the Whoosh engine refuses a query past its
        budget: partial counts would pass for exact ones."""
        budget = _limits.QUERY_TIME_BUDGET if self.budget is None else self.budget
        request = {**body, "timeout": f"{max(1, round(budget * 1000))}ms"}
        transport_error = self._errors.TransportError

        def send() -> dict[str, Any]:
            try:
                return dict(self._client.search(index=self.index, body=request,
                                                request_timeout=budget + SEARCH_SLACK))
            except transport_error as exc:
                # A shard that ran out of time while rewriting the query (expanding a
                # pattern) fails instead of answering in part: every shard failing so is a
                # 500 whose cause says so.
                info = str(getattr(exc, "info", ""))
                if _TIME_EXCEEDED in info:
                    return {"timed_out": True}
                if _TOO_MANY_BUCKETS in info:
                    raise TooManyBucketsError(_TOO_MANY_BUCKETS_TEXT) from None
                if any(marker in info for marker in _TOO_MANY_CLAUSES):
                    raise QueryError("query too large for OpenSearch (more clauses than the "
                                     "cluster's indices.query.bool.max_clause_count); use "
                                     "fewer words or patterns") from None
                if getattr(exc, "status_code", None) == 400:
                    # The query's own fault (a pattern the cluster cannot run on a field).
                    raise QueryError(f"OpenSearch refused the query: {_one_line(exc)}") from None
                raise

        answer: dict[str, Any] = self._call(what, send)
        failures = answer.get("_shards", {}).get("failures", ())
        if answer.get("timed_out") or _TIME_EXCEEDED in str(failures):
            raise QueryError(refusal(budget))
        if _TOO_MANY_BUCKETS in str(failures):
            raise TooManyBucketsError(_TOO_MANY_BUCKETS_TEXT)
        return answer

    def exact_search(self, what: str, body: Mapping[str, Any],
                     refusal: Callable[[float], str]) -> dict[str, Any]:
        """:meth:`timed_search` of ``body`` whose aggregations are each a ``filter`` with one
        ``terms`` or ``date_histogram`` below it, with every bucket count exact.

        One request answers while the buckets of all the aggregations fit in the cluster's
        ``search.max_buckets`` (65,535 by default; each ``terms`` asks for every value, see
        ``AGG_SIZE``). Past it the cluster refuses the request; the hits and each filter's
        document count are then asked without the buckets, and each aggregation's buckets
        are read page by page with a ``composite`` aggregation (its ``after_key``): exact,
        as each shard returns every key of a page in key order.
        """
        try:
            return self.timed_search(what, body, refusal)
        except TooManyBucketsError:
            pass
        aggs: Mapping[str, Any] = body.get("aggs", {})
        lean = {**body, "aggs": {name: {"filter": agg["filter"]} for name, agg in aggs.items()}}
        answer = self.timed_search(what, lean, refusal)
        for name, agg in aggs.items():
            ((sub, spec),) = agg["aggs"].items()
            scope = {"bool": {"must": [body.get("query", {"match_all": {}})],
                              "filter": [agg["filter"]]}}
            answer["aggregations"][name][sub] = {
                "buckets": self._paged_buckets(what, scope, spec, refusal)}
        return answer

    def _paged_buckets(self, what: str, query: Mapping[str, Any], spec: Mapping[str, Any],
                       refusal: Callable[[float], str]) -> list[dict[str, Any]]:
        """Every non-empty bucket of ``spec`` (a ``terms`` or ``date_histogram``) over the
        documents of ``query``, read in ``composite`` pages that fit in ``max_buckets``."""
        ((kind, params),) = spec.items()
        source = {kind: {k: v for k, v in params.items() if k in ("field", "calendar_interval")}}
        # Dates are keyed by their epoch milliseconds and formatted here (a formatted
        # ``after`` key such as "2024" is not read back).
        strftime = _DATE_FORMATS.get(params.get("format", ""))
        buckets: list[dict[str, Any]] = []
        after: Any = None
        while True:
            size = self._page_size
            page: dict[str, Any] = {"composite": {"size": size, "sources": [{"key": source}]}}
            if after is not None:
                page["composite"]["after"] = after
            if strftime is not None:
                # OpenSearch 2.19 rewrites a lone date source into range filters and fails
                # (500, "Index 0 out of bounds") on a page after the last date; a
                # sub-aggregation turns that rewrite off.
                page["aggs"] = {"dated": {"value_count": {"field": params["field"]}}}
            try:
                answer = self.timed_search(what, {"size": 0, "query": query,
                                                  "aggs": {"page": page}}, refusal)
            except TooManyBucketsError:
                if self._page_size == 1:
                    raise
                # The page itself is over the limit: halve it, for the rest of this client.
                self._page_size = max(1, self._page_size // 2)
                continue
            found = answer["aggregations"]["page"]
            for b in found["buckets"]:
                key = b["key"]["key"]
                if strftime is not None:
                    key = dt.datetime.fromtimestamp(key / 1000, dt.UTC).strftime(strftime)
                buckets.append({"key": key, "doc_count": b["doc_count"]})
            after = found.get("after_key")
            if len(found["buckets"]) < size or after is None:
                return buckets

    def _search_query(self, query: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`exact_search` of a user's query (refused as the Whoosh engine refuses)."""
        return self.exact_search("search", body,
                                 lambda budget: _limits.too_broad(query, budget))

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
        cluster slows the load instead of losing documents. Documents that failed for a
        passing reason (a node that left: 5xx, a connection lost or timed out) are sent again
        after the others, with the same back-off, up to ``retries`` rounds; each document is
        indexed under its own id, so sending one twice still leaves it once. Documents that
        fail on their own (a mapping error, a write block) are returned in
        :attr:`LoadSummary.failed`, never dropped silently.
        """
        started = time.perf_counter()
        self.health()  # a cluster that is down: one message, not one failure per document
        actions = ({"_index": self.index, "_id": r["id"], "_source": r} for r in records)
        outcome = self.bulk(actions, batch_docs=batch_docs, batch_bytes=batch_bytes,
                            retries=retries)
        self._call("refresh the index", self._client.indices.refresh, index=self.index)
        return LoadSummary(indexed=len(outcome.done), failed=tuple(outcome.failed),
                           seconds=time.perf_counter() - started, resent=outcome.resent)

    def bulk(self, actions: Iterable[dict[str, Any]], *, batch_docs: int = 500,
             batch_bytes: int = 5 * 1024 * 1024, retries: int = 5, gone_is_done: bool = False
             ) -> BulkOutcome:
        """Send bulk ``actions`` (each with its ``_id``) in bounded batches: the ids done, and
        ``(id, reason)`` of each action that still failed.

        429s are retried within their batch (opensearch-py's ``streaming_bulk``); actions
        that failed for a passing reason (:func:`_transient`) are sent again in later rounds
        after a back-off of 1, 2, 4... s (at most 30 s), up to ``retries`` rounds. With
        ``gone_is_done`` a 404 counts as done (a deletion of a document already gone).
        """
        done: list[str] = []
        failed: list[tuple[str, str]] = []
        resent = 0
        batch: Iterable[dict[str, Any]] = actions
        options = {"chunk_size": batch_docs, "max_chunk_bytes": batch_bytes,
                   "max_retries": retries}
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(min(30, 2 ** (attempt - 1)))
            again = self._call("send documents", self._bulk_round, batch, options,
                               retry=attempt < retries, gone_is_done=gone_is_done,
                               done=done, failed=failed)
            if not again:
                break
            resent += len(again)
            batch = again
        return BulkOutcome(done=done, failed=failed, resent=resent)

    def _bulk_round(self, actions: Iterable[dict[str, Any]], options: dict[str, Any], *,
                    retry: bool, gone_is_done: bool, done: list[str],
                    failed: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """One pass of :meth:`bulk` over ``actions``: appends to ``done`` and ``failed``;
        returns the actions to send again (failed for a passing reason, when ``retry``)."""
        # The actions in flight, by id: what a failed one is sent again from. Outcomes come
        # back batch by batch, so this holds one batch (plus the ones kept to retry).
        inflight: dict[str, dict[str, Any]] = {}
        again: list[dict[str, Any]] = []

        def remember() -> Iterator[dict[str, Any]]:
            for action in actions:
                inflight[str(action["_id"])] = action
                yield action

        stream = self._helpers.streaming_bulk(
            self._client, remember(), initial_backoff=1, max_backoff=30, raise_on_error=False,
            raise_on_exception=False, yield_ok=True, **options)
        for ok, item in stream:
            info = next(iter(item.values()))  # {op_type: details}
            doc_id = str(info.get("_id"))
            action = inflight.pop(doc_id, None)
            status = info.get("status")
            if ok or (gone_is_done and status == 404):
                done.append(doc_id)
            elif retry and action is not None and _transient(status):
                again.append(action)
            else:
                failed.append((doc_id, _reason(info)))
        return again

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

        ``query`` is searchlib's query language (:mod:`searchlib.query`), translated by
        :class:`searchlib._query_opensearch.OpenSearchTranslator`; its top-level
        ``actor:``... and ``date:`` clauses filter like the options.
        """
        if limit < 1 or page < 1:
            raise QueryError("limit and page must be positive")
        started = time.perf_counter()
        selections = {"actor": actors, "location": locations, "person": people}
        body = facet_request(query, selections, date_from=date_from, date_to=date_to,
                             size=limit, offset=(page - 1) * limit, snippets=snippets,
                             sort=sort, translator=self._translator)
        answer = self._search_query(query, body)
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

    def _stem_patterns(self, texts: Sequence[str]) -> list[str]:
        """``texts`` lowercased and stemmed as the index stems its words (one request)."""
        answer = self._call("analyze query patterns", self._client.indices.analyze,
                            index=self.index, body={"tokenizer": "keyword",
                                                    "filter": ["lowercase", "porter_stem"],
                                                    "text": list(texts)})
        tokens = [str(t["token"]) for t in answer["tokens"]]
        # The keyword tokenizer makes exactly one token of each non-empty text.
        return tokens if len(tokens) == len(texts) else [t.lower() for t in texts]

    def _suggest(self, text: str, total: int) -> str | None:
        """A better-spelled query from the ``spell`` field's words, if it finds more.

        Each word the index lacks is replaced by the term suggester's first option; the
        result is offered, as searchlib's did-you-mean, only if it finds at least as much.
        """
        answer = self._search_query(text, {
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
        found = self._search_query(text, {
            "size": 0, "track_total_hits": True,
            "query": {"multi_match": {"query": better, "fields": _FIELDS}}})
        return better if int(found["hits"]["total"]["value"]) >= max(total, 1) else None

    def similar(self, doc_id: str, *, limit: int = 10) -> list[Hit]:
        """Articles most like ``doc_id`` by its key terms (``more_like_this``), excluding
        itself and exact copies; raises ``KeyError`` for an unknown id, as ``Index.similar``.
        """
        if not self._call("look up the article", self._client.exists, index=self.index,
                          id=doc_id):
            raise KeyError(doc_id)
        answer = self.timed_search(
            "find similar articles", {"size": limit + 5, "_source": _SOURCE, "query": {
                "more_like_this": {**MORE_LIKE_THIS, "like": [
                    {"_index": self.index, "_id": doc_id}]}}},
            lambda budget: f"finding articles like {doc_id} took longer than {budget:g} s")
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
