"""Public value types. Every stage of the pipeline exchanges these frozen dataclasses.

The data flows read -> clean -> extract -> index -> search; each stage's output type lives here
so that stages depend on this module, not on each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DATE_FACETS",
    "ENTITY_FACETS",
    "FACET_KINDS",
    "SORT_ORDERS",
    "Article",
    "CleanedArticle",
    "EntityMention",
    "Extraction",
    "Hit",
    "IndexStats",
    "IndexSummary",
    "QueryFilter",
    "SearchResults",
    "SkippedFile",
    "SortOrder",
    "SourceDocument",
    "article_dict",
]

SourceFormat = Literal["text", "markdown", "html", "json"]
FacetKind = Literal["actor", "location", "person"]

ENTITY_FACETS: tuple[FacetKind, ...] = ("actor", "location", "person")
"""The facets of named entities, in display order."""

DATE_FACETS = ("year", "month", "mentioned")
"""The date facets: the publication-date histogram (per year and per month) and the months of
event dates the articles mention."""

FACET_KINDS = (*ENTITY_FACETS, *DATE_FACETS)
"""Facet kinds reported in :attr:`SearchResults.facets`."""

SortOrder = Literal["relevance", "date", "newest", "oldest"]
"""Orders of a search's hits (``date`` is ``newest``)."""

SORT_ORDERS: tuple[SortOrder, ...] = ("relevance", "date", "newest", "oldest")


@dataclass(frozen=True)
class SourceDocument:
    """One article as read from disk, before cleaning."""

    path: str
    """The file it came from (absolute, resolved)."""
    key: str
    """Unique key: the path, plus ``#N`` for the N-th article of a JSON list or JSONL file."""
    format: SourceFormat
    """How the raw text is to be interpreted."""
    text: str
    """Raw text: plain text, markdown without front matter, HTML markup, or a JSON body field."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Metadata from front matter, a sidecar ``.yaml`` or JSON fields; it wins over extraction."""


@dataclass(frozen=True)
class CleanedArticle:
    """An article after boilerplate removal: what gets indexed and shown in the reader."""

    title: str
    """Headline (collapsed if repeated), or a short title derived from the first sentence."""
    body: str
    """Clean article text, paragraphs separated by blank lines, NFC-normalised."""
    subtitle: str | None = None
    """Standfirst / deck line under the headline, if any."""
    authors: tuple[str, ...] = ()
    """Byline names ("By Patrick Henningsen" gives ``("Patrick Henningsen",)``)."""
    dateline: str | None = None
    """The raw date line found in the header ("Global Research, June 21, 2017"), if any."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Metadata found in the markup itself (HTML meta: title, published, author, url, site)."""
    title_derived: bool = False
    """True when there was no headline and ``title`` was made from the first sentence."""


@dataclass(frozen=True)
class EntityMention:
    """One place in the text where a gazetteer entry (or a person name) was recognised."""

    facet: FacetKind
    """Which facet the entity belongs to."""
    name: str
    """Canonical name ("ISIS" for "Daesh")."""
    surface: str
    """The text as it appears in the article."""
    start: int
    """Character offset of the match in the searchable text (title + blank line + body)."""
    end: int
    """End offset (exclusive)."""


@dataclass(frozen=True)
class Extraction:
    """Facets extracted from one article."""

    actors: tuple[str, ...] = ()
    """Canonical actor names mentioned (not rolled up to their parents)."""
    locations: tuple[str, ...] = ()
    """Canonical place names mentioned (not rolled up)."""
    people: tuple[str, ...] = ()
    """Named persons mentioned."""
    mentions: tuple[EntityMention, ...] = ()
    """Provenance: every match with its span."""
    published: dt.date | None = None
    """Publication date, or None when the article is undated."""
    published_source: str | None = None
    """Where ``published`` came from: "metadata", "manifest", "dateline", "url", "path", or None
    when the article is undated."""
    mentioned_dates: tuple[dt.date, ...] = ()
    """Event dates the text mentions, years inferred from ``published`` when omitted."""


@dataclass(frozen=True)
class Article:
    """A stored article as returned by :meth:`searchlib.Index.get`."""

    id: str
    """Stable document id (same across re-index of the same file)."""
    path: str
    """Source file (plus ``#N`` for a record of a multi-article file)."""
    title: str
    """Cleaned headline."""
    text: str
    """Full cleaned body."""
    published: dt.date | None
    """Publication date, or None."""
    actors: tuple[str, ...]
    """Actors mentioned."""
    locations: tuple[str, ...]
    """Places mentioned."""
    people: tuple[str, ...]
    """People mentioned."""
    subtitle: str | None = None
    """Standfirst."""
    authors: tuple[str, ...] = ()
    """Byline."""
    url: str | None = None
    """Original URL when known."""
    source: str | None = None
    """Publisher / site when known."""
    mentioned_dates: tuple[dt.date, ...] = ()
    """Event dates in the text."""
    mentions: tuple[EntityMention, ...] = ()
    """Entity provenance spans (offsets into ``title + "\\n\\n" + text``)."""
    duplicates: tuple[str, ...] = ()
    """Other paths whose cleaned text is identical; indexed once, recorded here."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Every other metadata field from the source."""
    published_source: str | None = None
    """Where ``published`` came from ("metadata", "manifest", "dateline", "url", "path"), or
    None when the article is undated."""
    title_derived: bool = False
    """True when there was no headline and ``title`` was made from the first sentence."""

    @property
    def headline(self) -> str:
        """The text searched as the title: see :func:`searchable_title`."""
        return searchable_title(self.title, self.subtitle, self.title_derived)
    near_duplicates: tuple[str, ...] = ()
    """Ids of the other articles of its near-duplicate group (near-identical text)."""


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    """Document id, usable with ``Index.get`` and ``search show``."""
    path: str
    """Source file."""
    title: str
    """Headline."""
    published: dt.date | None
    """Publication date or None."""
    actors: tuple[str, ...]
    """Actors mentioned in the article."""
    locations: tuple[str, ...]
    """Places mentioned."""
    people: tuple[str, ...]
    """People mentioned."""
    score: float
    """Relevance score (BM25F); 0 for match-all queries."""
    snippet: str
    """Best passage(s) of the body, fragments joined with an ellipsis."""
    highlights: tuple[tuple[int, int], ...]
    """Character ranges ``[start, end)`` in ``snippet`` that matched the query."""
    rank: int = 0
    """1-based position in the whole result list."""
    published_source: str | None = None
    """Where ``published`` came from (see :attr:`Article.published_source`)."""
    copies: tuple[str, ...] = ()
    """Ids of near-duplicates of this article that also match, folded into this hit (see
    :mod:`searchlib.neardup`); empty when the search was not collapsed."""


@dataclass(frozen=True)
class QueryFilter:
    """A filter typed in the query text: a top-level ``actor:``, ``location:``, ``person:`` or
    ``date:`` clause, which filters as its option does (``actor:IRGC`` is ``--actor IRGC``)."""

    kind: Literal["actor", "location", "person", "date"]
    """The facet it filters on (aliases such as ``place:`` are given by their own name)."""
    value: str
    """The value as typed, without quotes: ``Daesh``, ``Deir ez-Zor``, ``Hez*``, ``>2020``,
    ``[2014 TO 2017-06]``."""
    clause: str
    """The clause's text in the query (``+actor:IRGC``, ``location:"Deir ez-Zor"``): what to
    take out of the query to drop this filter."""
    start: int
    """Where ``clause`` starts in the query (0-based), to tell apart two equal clauses."""
    name: str | None = None
    """The facet value it selects as the index holds it (``ISIS`` for ``actor:Daesh``);
    None for a date, a pattern (``actor:Hez*``) or a value the index does not hold."""


@dataclass(frozen=True)
class SearchResults:
    """A page of results plus what describes the whole result set."""

    query: str
    """The query as given."""
    total: int
    """Number of matching documents (after filters)."""
    hits: tuple[Hit, ...]
    """This page's hits."""
    facets: Mapping[str, Mapping[str, int]]
    """Counts per facet kind ("actor", "location", "person", "year", "month"), disjunctive."""
    suggestion: str | None = None
    """A better-spelled query when this one finds little, else None."""
    page: int = 1
    """1-based page number."""
    limit: int = 10
    """Hits per page."""
    elapsed: float = 0.0
    """Seconds spent searching."""
    warnings: tuple[str, ...] = ()
    """Problems worth telling the user that did not stop the search (an unknown filter value)."""
    filters: tuple[QueryFilter, ...] = ()
    """The filters the query text states, in the order typed (see :class:`QueryFilter`)."""


@dataclass(frozen=True)
class SkippedFile:
    """A file the indexer did not index, and why."""

    path: str
    """The file."""
    reason: str
    """One-line reason ("binary file", "empty file", "unknown extension .pdf", ...)."""

    @classmethod
    def failed(cls, path: str, exc: BaseException) -> SkippedFile:
        """``path`` skipped because processing it raised ``exc`` unexpectedly: the reason
        names the error in one line."""
        if isinstance(exc, RecursionError):
            return cls(path, "nested too deeply to process (RecursionError)")
        text = " ".join(str(exc).split())[:200]
        return cls(path, f"could not be processed "
                         f"({type(exc).__name__}{': ' + text if text else ''})")


@dataclass(frozen=True)
class IndexSummary:
    """What one ``build_index`` run did."""

    added: int
    """New documents."""
    updated: int
    """Documents whose source changed."""
    removed: int
    """Documents whose source disappeared."""
    unchanged: int
    """Documents left as they were."""
    skipped: tuple[SkippedFile, ...]
    """Files not indexed, with reasons."""
    duplicates: int = 0
    """Documents not indexed because an identical text was already indexed."""
    elapsed: float = 0.0
    """Seconds the run took."""
    reextracted: int = 0
    """Documents whose file did not change but whose facets were extracted again, because the
    gazetteer files, cleaning rules or extraction code changed since the last build."""


@dataclass(frozen=True)
class IndexStats:
    """Facts about an index, for ``search stats``."""

    path: str
    """Index directory."""
    documents: int
    """Number of indexed documents."""
    size_bytes: int
    """Size on disk."""
    last_update: dt.datetime | None
    """When the last build finished (UTC)."""
    skipped: int
    """Files skipped in the last build."""
    sources: tuple[str, ...] = ()
    """The paths the index was built from."""


def searchable_title(title: str, subtitle: str | None, derived: bool) -> str:
    """The text an article's title field holds in an index: the headline and the standfirst.

    The standfirst is searched with the headline's weight but not shown as the title. A
    title made from the first sentence (``derived``) is only a label: its words are already
    in the body, and searching them as a headline too would count that sentence twice.
    """
    return " ".join(t for t in ("" if derived else title, subtitle or "") if t)


def article_dict(article: Article) -> dict[str, Any]:
    """``article`` as plain JSON values (``search show --json``; the export builds its
    records from it), entities as ``{"facet", "name", "text", "start", "end"}``."""
    return {
        "id": article.id, "path": article.path, "title": article.title,
        "subtitle": article.subtitle, "authors": list(article.authors),
        "published": article.published.isoformat() if article.published else None,
        "published_source": article.published_source,
        "url": article.url, "source": article.source,
        "actors": list(article.actors), "locations": list(article.locations),
        "people": list(article.people),
        "mentioned_dates": [d.isoformat() for d in article.mentioned_dates],
        "entities": [{"facet": m.facet, "name": m.name, "text": m.surface,
                      "start": m.start, "end": m.end} for m in article.mentions],
        "duplicates": list(article.duplicates),
        "near_duplicates": list(article.near_duplicates), "metadata": dict(article.metadata),
        "text": article.text,
    }
