"""The preparation of one document: a record read from a file, cleaned and enriched.

:func:`prepare` runs the ingest stages on one :class:`~searchlib.models.SourceDocument`:
cleaning by the rules, the date manifest's url and source where the file gives none, the
extraction of people, places, actors and dates, and the roll-up of the entity values to their
ancestors (what a filter on a country matches). The result, a :class:`PreparedDocument`, names
no engine: each engine turns it into documents of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from searchlib.models import (
    ENTITY_FACETS,
    CleanedArticle,
    Extraction,
    FacetKind,
    SourceDocument,
)

from .clean import CleaningRules, clean_document
from .date_manifest import ManifestEntry
from .extract import extract
from .gazetteer import Gazetteer

__all__ = ["PreparedDocument", "prepare"]


@dataclass(frozen=True)
class PreparedDocument:
    """One cleaned, enriched record, ready for any engine."""

    source: SourceDocument
    """The record as read from its file."""
    article: CleanedArticle
    """The record cleaned: title, subtitle, authors, body."""
    metadata: Mapping[str, Any]
    """The cleaned article's metadata, overridden by the file's, completed by the manifest."""
    extraction: Extraction
    """People, places, actors and dates found in the article."""
    content_hash: str
    """SHA-1 of the cleaned title and body: identical texts are indexed once."""
    facets: Mapping[FacetKind, tuple[str, ...]]
    """Each entity kind's values followed by their ancestors, without repeats."""


def prepare(doc: SourceDocument, gazetteer: Gazetteer, rules: CleaningRules,
            manifest: Mapping[str, ManifestEntry] | None = None) -> PreparedDocument:
    """Clean ``doc`` by ``rules`` and extract its facets with ``gazetteer``.

    ``manifest`` (path -> entry) gives the publication date, url and source of files that do
    not state them.
    """
    article = clean_document(doc, rules=rules)
    meta = {**article.metadata, **doc.metadata}
    listed = (manifest or {}).get(doc.path)
    if listed is not None:
        # The file's own metadata wins; the manifest fills what it lacks.
        for key, value in (("url", listed.url), ("source", listed.source)):
            if value and not meta.get(key):
                meta[key] = value
    info: Extraction = extract(article.title, article.body, metadata=meta,
                               dateline=article.dateline, gazetteer=gazetteer,
                               path=doc.path,
                               manifest_date=listed.published if listed else None)
    content_hash = hashlib.sha1(
        (article.title + "\n\n" + article.body).encode("utf-8", "surrogatepass")).hexdigest()
    found = {"actor": info.actors, "location": info.locations, "person": info.people}
    facets = {kind: tuple(gazetteer.rolled_up(kind, found[kind])) for kind in ENTITY_FACETS}
    return PreparedDocument(doc, article, meta, info, content_hash, facets)
