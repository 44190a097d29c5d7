"""A prepared document laid out as the Whoosh index's fields.

The searched fields (title, body), the keyword fields of the facets and mentioned dates
(comma-separated), the publication date, and ``info``: one JSON text of what the results show
and an export needs (authors, url, source, the facets, the mentions, the source's metadata, the
MinHash signature), so that a hit reads one stored field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from ...ingest.prepare import PreparedDocument
from ...layout import doc_id
from ...models import searchable_title

__all__ = ["index_fields"]


def _keyword(values: Iterable[str]) -> str:
    # KEYWORD fields split on commas; a comma inside a name would split it in two.
    return ",".join(v.replace(",", " ") for v in values)


def index_fields(prepared: PreparedDocument, minhash: str | None) -> dict[str, Any]:
    """The fields of ``prepared`` as the index stores them, with its text's MinHash
    signature (``None``: not computed)."""
    doc = prepared.source
    article, meta, info = prepared.article, prepared.metadata, prepared.extraction
    published = (dt.datetime(info.published.year, info.published.month, info.published.day)
                 if info.published else None)
    stored = {
        "subtitle": article.subtitle,
        "authors": list(article.authors),
        "url": meta.get("url") or meta.get("link"),
        "source": meta.get("source") or meta.get("site"),
        "published": info.published.isoformat() if info.published else None,
        "published_source": info.published_source,
        "actors": list(info.actors),
        "locations": list(info.locations),
        "people": list(info.people),
        "mentioned": [d.isoformat() for d in info.mentioned_dates],
        "mentions": [[m.facet, m.name, m.surface, m.start, m.end] for m in info.mentions],
        "metadata": _jsonable(doc.metadata),
    }
    if article.title_derived:  # what the title field holds (an export needs it)
        stored["title_derived"] = True
    stored["minhash"] = minhash
    fields: dict[str, Any] = {
        "id": doc_id(doc.key),
        "path": doc.key,
        "title": searchable_title(article.title, article.subtitle, article.title_derived),
        "_stored_title": article.title,
        "body": article.body,
        "mentioned": _keyword(d.isoformat() for d in info.mentioned_dates),
        "actor": _keyword(prepared.facets["actor"]),
        "location": _keyword(prepared.facets["location"]),
        "person": _keyword(prepared.facets["person"]),
        "info": json.dumps(stored, ensure_ascii=False, default=str),
    }
    if published is not None:
        fields["date"] = published
    return fields


def _jsonable(value: Any) -> Any:
    """Metadata from YAML may hold dates and other types; keep it JSON-safe and small."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
