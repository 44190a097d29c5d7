"""Export the cleaned, enriched articles for other tools.

``opensearch``: an index mapping (``mapping.json``) matching searchlib's schema and facets,
and NDJSON bulk files (``bulk-0001.ndjson``...) of at most ``chunk_bytes`` each, ready for
``curl -H 'Content-Type: application/x-ndjson' --data-binary @bulk-0001.ndjson
http://localhost:9200/INDEX/_bulk``. Each document is an action line
(``{"index": {"_id": ...}}``) followed by its source line, and a chunk never splits a pair.

``jsonl``: one JSON object per article with the same fields, for any other tool.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import ENTITY_FACETS, Article, article_dict

if TYPE_CHECKING:
    from .search import Index

__all__ = ["BM25_B", "BM25_K1", "WHOOSH_STOP_WORDS", "WORD_PATTERN", "ExportSummary",
           "article_record", "export_jsonl", "export_opensearch", "index_records",
           "opensearch_mapping"]

#: Bulk files stay under this size (OpenSearch's default http.max_content_length is 100 MB;
#: 10 MB requests are the commonly advised sweet spot).
DEFAULT_CHUNK_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    documents: int
    """Articles written."""
    files: tuple[str, ...]
    """Files written (mapping first for OpenSearch)."""
    bytes: int
    """Total size written."""


#: Whoosh's English stop words (``whoosh.analysis.filters.STOP_WORDS``), which searchlib's
#: analyzer drops; repeated here because this module must not import Whoosh, and checked
#: against Whoosh's list by tests/test_export.py.
WHOOSH_STOP_WORDS = ("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from",
                     "have", "if", "in", "is", "it", "may", "not", "of", "on", "or", "tbd",
                     "that", "the", "this", "to", "us", "we", "when", "will", "with", "yet",
                     "you", "your")
#: searchlib's tokenizer expression (``analysis._WORD``); Java's ``\\w`` needs the
#: UNICODE_CHARACTER_CLASS flag to match letters beyond ASCII, as Python's does.
WORD_PATTERN = r"[\w\*]+(\.?[\w\*]+)*"
#: searchlib's BM25 parameters (``ranking.BM25_K1``/``BM25_B``), tuned on Cranfield and CISI.
BM25_K1 = 2.0
BM25_B = 1.0


def opensearch_mapping() -> dict[str, Any]:
    """Index settings and mappings equivalent to the searchlib schema.

    Text fields use ``searchlib_english``, searchlib's own analysis rebuilt from OpenSearch's
    parts (same word pattern, lowercase, Whoosh's stop words, tokens of at least 2 characters,
    Porter stemming), so a word matches the same articles in both engines; the ``english``
    analyzer differs in its tokenizer and stop list ("war" matched 55 articles there, 54 in
    searchlib, on the 200-article test corpus). Ranking uses BM25 with searchlib's k1 and b.
    ``spell`` gathers the title and body words unstemmed for the term suggester, whose
    suggestions must be words a user can type, not stems. Facets are ``keyword`` fields
    holding the rolled-up values (a parent is stored with its children, as in searchlib), so
    ``terms`` aggregations give the same counts.
    """
    keyword = {"type": "keyword"}
    text = {"type": "text", "analyzer": "searchlib_english", "similarity": "searchlib_bm25"}
    return {
        "settings": {
            "index": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "similarity": {"searchlib_bm25": {"type": "BM25", "k1": BM25_K1, "b": BM25_B}},
            },
            "analysis": {
                "tokenizer": {"searchlib_words": {
                    "type": "pattern", "pattern": WORD_PATTERN, "group": 0,
                    "flags": "UNICODE_CHARACTER_CLASS"}},
                "filter": {
                    "searchlib_stop": {"type": "stop", "stopwords": list(WHOOSH_STOP_WORDS)},
                    "searchlib_min_length": {"type": "length", "min": 2},
                },
                "analyzer": {
                    "searchlib_english": {
                        "type": "custom", "tokenizer": "searchlib_words",
                        "filter": ["lowercase", "searchlib_stop", "searchlib_min_length",
                                   "porter_stem"]},
                    "searchlib_words": {
                        "type": "custom", "tokenizer": "searchlib_words",
                        "filter": ["lowercase", "searchlib_stop", "searchlib_min_length"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": keyword,
                "path": keyword,
                "title": {**text, "copy_to": ["spell"],
                          "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
                "subtitle": text,
                "body": {**text, "copy_to": ["spell"], "term_vector": "with_positions_offsets"},
                "spell": {"type": "text", "analyzer": "searchlib_words", "index_options": "freqs",
                          "norms": False},
                "published": {"type": "date", "format": "strict_date"},
                "mentioned_dates": {"type": "date", "format": "strict_date"},
                "authors": keyword,
                "url": keyword,
                "source": keyword,
                "actors": keyword,
                "locations": keyword,
                "people": keyword,
                "actor": keyword,
                "location": keyword,
                "person": keyword,
                "duplicates": keyword,
                "entities": {"type": "object", "enabled": False},
            },
        },
    }


def article_record(article: Article, rollup: dict[str, list[str]] | None = None
                   ) -> dict[str, Any]:
    """The exported form of one article (the OpenSearch ``_source`` and the JSONL line).

    ``actors``/``locations``/``people`` are the values the text mentions; ``actor``/
    ``location``/``person`` (from ``rollup``) add their parents, for filters and counts.
    """
    rollup = rollup or {}
    full = article_dict(article)
    record = {name: full[name] for name in _RECORD_FIELDS}
    record["body"] = full["text"]
    record.update({"actor": rollup.get("actor", full["actors"]),
                   "location": rollup.get("location", full["locations"]),
                   "person": rollup.get("person", full["people"])})
    # The order of the mapping's documentation (and of the records already exported).
    return {name: record[name] for name in _RECORD_ORDER}


#: The fields of :func:`~searchlib.models.article_dict` an export record keeps as they are.
_RECORD_FIELDS = ("id", "path", "title", "subtitle", "published", "mentioned_dates",
                  "authors", "url", "source", "actors", "locations", "people", "duplicates",
                  "entities")
_RECORD_ORDER = ("id", "path", "title", "subtitle", "body", "published", "mentioned_dates",
                 "authors", "url", "source", "actors", "locations", "people", "actor",
                 "location", "person", "duplicates", "entities")


def index_records(index: Index) -> Iterator[dict[str, Any]]:
    """Every article of ``index`` as an export record, facets rolled up like the index's."""
    gazetteer = index.gazetteer
    for article in index.articles():
        rollup: dict[str, list[str]] = {facet: gazetteer.rolled_up(facet, names)
                  for facet, names in zip(ENTITY_FACETS, (article.actors, article.locations,
                                                          article.people), strict=True)}
        yield article_record(article, rollup)


def _lines(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, bytes]]:
    for record in records:
        action = json.dumps({"index": {"_id": record["id"]}}, ensure_ascii=False)
        source = json.dumps(record, ensure_ascii=False, default=str)
        yield record["id"], (action + "\n" + source + "\n").encode("utf-8")


def export_opensearch(records: Iterable[dict[str, Any]], out_dir: str | os.PathLike[str], *,
                      chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> ExportSummary:
    """Write ``mapping.json`` and chunked ``bulk-NNNN.ndjson`` files into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mapping_path = out / "mapping.json"
    mapping_path.write_text(json.dumps(opensearch_mapping(), indent=2) + "\n", encoding="utf-8")
    files = [str(mapping_path)]
    total = mapping_path.stat().st_size
    count = 0
    chunk: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal chunk, size, total
        if not chunk:
            return
        path = out / f"bulk-{len(files):04d}.ndjson"
        path.write_bytes(b"".join(chunk))
        files.append(str(path))
        total += size
        chunk, size = [], 0

    for _id, pair in _lines(records):
        if chunk and size + len(pair) > chunk_bytes:
            flush()
        chunk.append(pair)
        size += len(pair)
        count += 1
    flush()
    return ExportSummary(documents=count, files=tuple(files), bytes=total)


def export_jsonl(records: Iterable[dict[str, Any]], out_path: str | os.PathLike[str]
                 ) -> ExportSummary:
    """Write one JSON object per article to ``out_path``."""
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return ExportSummary(documents=count, files=(str(path),), bytes=path.stat().st_size)
