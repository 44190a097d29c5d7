"""Baseline engines for the scale benchmark: naive Whoosh, SQLite FTS5 and tantivy.

Each baseline indexes the same generated files as our indexer and answers the same query mix
(keywords, phrases, actor/location/date filters, date sort), each query returning the total,
the top 10 hits with a highlighted snippet, and facet counts on actor, location and year.

Fairness rules (see ``bench/README.md``):

* Ingest: baselines read the raw files and index them as they are: no cleaning, no date or
  entity extraction. A ``.json``/``.jsonl`` file is split into its records (title + text),
  so every engine indexes the same articles; any other file is one document whose title is
  its first non-blank line and whose body is the whole raw text (HTML markup included).
* Facets: the values of actor, location and year come from the generator's ground truth
  (``manifest.jsonl``), not from any extraction, and are indexed as keyword fields.
* Naive Whoosh is used the way its tutorial shows: default writer (one process),
  ``StemmingAnalyzer`` on title and body, ``MultifieldParser``, ``groupedby`` facets with
  ``FieldFacet``, ``hit.highlights`` from the stored body.

Standalone use (normally ``bench/scale.py`` drives this module in child processes)::

    python bench/baselines.py build --system whoosh --corpus DIR --index OUT
    python bench/baselines.py query --system whoosh --corpus DIR --index OUT [--rounds 3]
    python bench/baselines.py once  --system whoosh --corpus DIR --index OUT --query N
"""

from __future__ import annotations

# Run as ``python bench/baselines.py``, bench/ is first on sys.path instead of the repository:
# swap them so ``bench.*`` and ``searchlib`` import from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import abc
import argparse
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BASELINES",
    "DOC_EXTENSIONS",
    "Baseline",
    "Fts5Baseline",
    "QueryOutcome",
    "QuerySpec",
    "RawDocument",
    "TantivyBaseline",
    "WhooshBaseline",
    "build_query_mix",
    "corpus_files",
    "dir_size",
    "load_manifest",
    "main",
    "percentile",
    "read_raw_documents",
    "time_queries",
]

DOC_EXTENSIONS = (".txt", ".md", ".json", ".jsonl", ".html", ".htm")
SNIPPETS = 10
"""Hits per page, each with a highlighted snippet."""


# ---------------------------------------------------------------------------------------------
# Corpus access


@dataclass(frozen=True)
class RawDocument:
    """One article as a baseline indexes it: raw text plus ground-truth facet values."""

    key: str
    """Manifest key: ``docs/...`` path relative to the corpus, ``#N`` for a JSONL record."""
    title: str
    """First non-blank line (or the JSON record's title)."""
    body: str
    """Whole raw file text (or the JSON record's text)."""
    actors: tuple[str, ...]
    """Ground-truth actors from the manifest."""
    locations: tuple[str, ...]
    """Ground-truth places from the manifest."""
    published: dt.date | None
    """Ground-truth publication date."""


def load_manifest(corpus: Path) -> dict[str, dict[str, Any]]:
    """The generator's ground truth, keyed by article key."""
    entries: dict[str, dict[str, Any]] = {}
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            entries[entry["key"]] = entry
    return entries


def corpus_files(corpus: Path) -> list[Path]:
    """Every article file of a generated corpus, in a stable order."""
    docs = corpus / "docs"
    return sorted(p for p in docs.rglob("*") if p.is_file() and p.suffix in DOC_EXTENSIONS)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def read_raw_documents(
    corpus: Path, manifest: Mapping[str, Mapping[str, Any]]
) -> Iterator[RawDocument]:
    """Read the corpus files as a naive indexer would: raw text, JSON split into records."""
    for path in corpus_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        text = path.read_bytes().decode("utf-8", errors="replace")
        if path.suffix in (".json", ".jsonl"):
            if path.suffix == ".jsonl":
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
                keys = [f"{rel}#{i}" for i in range(1, len(records) + 1)]
            else:
                records = [json.loads(text)]
                keys = [rel]
            for key, record in zip(keys, records, strict=True):
                yield _raw(key, str(record.get("title", "")), str(record.get("text", "")), manifest)
        else:
            yield _raw(rel, _first_line(text), text, manifest)


def _raw(key: str, title: str, body: str, manifest: Mapping[str, Mapping[str, Any]]) -> RawDocument:
    truth = manifest.get(key, {})
    published = truth.get("published")
    return RawDocument(
        key=key,
        title=title,
        body=body,
        actors=tuple(truth.get("actors", ())),
        locations=tuple(truth.get("locations", ())),
        published=dt.date.fromisoformat(published) if published else None,
    )


def dir_size(path: Path) -> int:
    """Bytes on disk under ``path`` (a file or a directory)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------
# The query mix


@dataclass(frozen=True)
class QuerySpec:
    """One query of the benchmark mix, in engine-neutral terms."""

    name: str
    """Short label for tables."""
    kind: str
    """"keyword", "phrase", "filter" or "date-sort"."""
    text: str
    """Query text: words and ``"quoted phrases"``, all terms required."""
    actors: tuple[str, ...] = ()
    """Actor filter (documents must mention all)."""
    locations: tuple[str, ...] = ()
    """Location filter."""
    date_from: dt.date | None = None
    """Earliest publication date, inclusive."""
    date_to: dt.date | None = None
    """Latest publication date, inclusive."""
    sort: str = "relevance"
    """"relevance" or "date" (newest first)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuerySpec:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            text=str(data["text"]),
            actors=tuple(data.get("actors") or ()),
            locations=tuple(data.get("locations") or ()),
            date_from=dt.date.fromisoformat(data["date_from"]) if data.get("date_from") else None,
            date_to=dt.date.fromisoformat(data["date_to"]) if data.get("date_to") else None,
            sort=str(data.get("sort", "relevance")),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        data = asdict(self)
        data["actors"] = list(self.actors)
        data["locations"] = list(self.locations)
        for key in ("date_from", "date_to"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass
class QueryOutcome:
    """What an engine answered to one query (checked so no engine can skip the work)."""

    total: int
    """Matching documents."""
    snippets: list[str] = field(default_factory=list)
    """One highlighted snippet per hit on the page."""
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    """Counts per facet ("actor", "location", "year")."""


def build_query_mix(manifest: Mapping[str, Mapping[str, Any]]) -> list[QuerySpec]:
    """The fixed query mix; filter values are the corpus's most frequent actor and place.

    The words all occur in the generator's source texts (TIME news, Cranfield aeronautics,
    CISI library science, the seeds), so every query has matches at any corpus size.
    """
    actors: Counter[str] = Counter()
    locations: Counter[str] = Counter()
    for entry in manifest.values():
        actors.update(entry.get("actors", ()))
        locations.update(entry.get("locations", ()))
    top_actor = sorted(actors.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if actors else ""
    second_actor = (
        sorted(actors.items(), key=lambda kv: (-kv[1], kv[0]))[1][0] if len(actors) > 1 else ""
    )
    top_place = sorted(locations.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if locations else ""
    mix = [
        QuerySpec("kw-1", "keyword", "government"),
        QuerySpec("kw-2", "keyword", "missile attack"),
        QuerySpec("kw-3", "keyword", "nuclear weapons"),
        QuerySpec("kw-4", "keyword", "library classification"),
        QuerySpec("kw-5", "keyword", "supersonic flow"),
        QuerySpec("kw-6", "keyword", "border troops"),
        QuerySpec("phrase-1", "phrase", '"boundary layer"'),
        QuerySpec("phrase-2", "phrase", '"information retrieval"'),
        QuerySpec("phrase-3", "phrase", '"prime minister"'),
        QuerySpec(
            "date-1",
            "filter",
            "president",
            date_from=dt.date(2015, 1, 1),
            date_to=dt.date(2017, 12, 31),
        ),
        QuerySpec("sort-1", "date-sort", "election", sort="date"),
        QuerySpec(
            "sort-2", "date-sort", "communist party", sort="date", date_from=dt.date(2012, 1, 1)
        ),
    ]
    if top_actor:
        mix.append(QuerySpec("actor-1", "filter", "attack", actors=(top_actor,)))
    if second_actor:
        mix.append(
            QuerySpec("actor-2", "filter", "government", actors=(second_actor,), sort="date")
        )
    if top_place:
        mix.append(QuerySpec("place-1", "filter", "war", locations=(top_place,)))
    if top_actor and top_place:
        mix.append(
            QuerySpec(
                "combo-1",
                "filter",
                "forces",
                actors=(top_actor,),
                locations=(top_place,),
                date_from=dt.date(2010, 1, 1),
                date_to=dt.date(2020, 12, 31),
            )
        )
    return mix


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0-100) by linear interpolation; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


#: The query each engine answers before the mix: a word of the corpora that no query of the
#: mix uses. With its matches it pays what an engine does once per session (opening readers,
#: loading tables and facet structures, imports), so that the first pass over the mix
#: measures queries whose terms have not been read yet, not the session's start.
PRIME = QuerySpec(name="prime", kind="keyword", text="report")


def time_queries(run: Any, mix: Sequence[QuerySpec], rounds: int) -> dict[str, Any]:
    """Run :data:`PRIME`, the mix once (each query's first time in the session: its terms
    are read from the index), then ``rounds`` times timed (warm); latency figures in ms.

    ``run`` takes a :class:`QuerySpec` and returns a :class:`QueryOutcome`. A query that
    raises during the first pass is reported under ``errors`` and left out of the timings, so
    one engine bug does not hide every other figure; the tables flag it.
    """
    outcomes: dict[str, QueryOutcome] = {}
    errors: dict[str, str] = {}
    firsts: list[float] = []
    try:
        run(PRIME)
    except Exception as exc:  # reported like a failing query of the mix
        errors[PRIME.name] = f"{type(exc).__name__}: {exc}"
    for spec in mix:
        try:
            started = time.perf_counter()
            outcomes[spec.name] = run(spec)
            firsts.append((time.perf_counter() - started) * 1000.0)
        except Exception as exc:  # any engine failure is a finding to report, not a crash
            errors[spec.name] = f"{type(exc).__name__}: {exc}"
    timed = [spec for spec in mix if spec.name in outcomes]
    samples: list[float] = []
    per_query: dict[str, list[float]] = {spec.name: [] for spec in timed}
    for _ in range(rounds):
        for spec in timed:
            started = time.perf_counter()
            run(spec)
            elapsed = (time.perf_counter() - started) * 1000.0
            samples.append(elapsed)
            per_query[spec.name].append(elapsed)
    return {
        "samples": len(samples),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "first_p50_ms": percentile(firsts, 50),
        "first_p95_ms": percentile(firsts, 95),
        "mean_ms": statistics.fmean(samples) if samples else 0.0,
        "per_query_median_ms": {k: statistics.median(v) for k, v in per_query.items() if v},
        "totals": {k: o.total for k, o in outcomes.items()},
        "snippets": {k: len(o.snippets) for k, o in outcomes.items()},
        "facet_values": {k: sum(len(f) for f in o.facets.values()) for k, o in outcomes.items()},
        "errors": errors,
    }


# ---------------------------------------------------------------------------------------------
# Engines


class Baseline(abc.ABC):
    """A baseline engine: build an index from the raw corpus, then answer query specs."""

    name: str = ""
    """Registry name (``--system``)."""
    label: str = ""
    """Name in tables."""

    @abc.abstractmethod
    def build(self, docs: Iterator[RawDocument], index: Path) -> int:
        """Index every document into ``index`` (created); return the number indexed."""

    @abc.abstractmethod
    def open(self, index: Path) -> None:
        """Open a built index for querying."""

    @abc.abstractmethod
    def run(self, spec: QuerySpec) -> QueryOutcome:
        """Answer one query: total, 10 highlighted snippets, facet counts."""


class WhooshBaseline(Baseline):
    """Whoosh used naively: tutorial schema, default writer, ``groupedby`` facets."""

    name = "whoosh"
    label = "naive Whoosh"

    def __init__(self) -> None:
        self._ix: Any = None
        self._searcher: Any = None
        self._parser: Any = None

    @staticmethod
    def _schema() -> Any:
        from whoosh import fields
        from whoosh.analysis import StemmingAnalyzer

        return fields.Schema(
            key=fields.ID(stored=True, unique=True),
            title=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
            body=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
            actor=fields.KEYWORD(stored=True, commas=True),
            location=fields.KEYWORD(stored=True, commas=True),
            year=fields.ID(stored=True),
            published=fields.DATETIME(stored=True, sortable=True),
        )

    def build(self, docs: Iterator[RawDocument], index: Path) -> int:
        """Index with ``ix.writer()`` defaults: one process, one commit at the end."""
        from whoosh import index as windex

        index.mkdir(parents=True, exist_ok=True)
        ix = windex.create_in(str(index), self._schema())
        count = 0
        with ix.writer() as writer:
            for doc in docs:
                fields_: dict[str, Any] = {
                    "key": doc.key,
                    "title": doc.title,
                    "body": doc.body,
                    "actor": ",".join(doc.actors),
                    "location": ",".join(doc.locations),
                }
                if doc.published is not None:
                    fields_["year"] = str(doc.published.year)
                    fields_["published"] = dt.datetime.combine(doc.published, dt.time())
                writer.add_document(**fields_)
                count += 1
        return count

    def open(self, index: Path) -> None:
        """Open the index and one searcher kept for every query (warm)."""
        from whoosh import index as windex
        from whoosh.qparser import MultifieldParser

        self._ix = windex.open_dir(str(index))
        self._searcher = self._ix.searcher()
        self._parser = MultifieldParser(["title", "body"], self._ix.schema)

    def run(self, spec: QuerySpec) -> QueryOutcome:
        """Search with filters, ``groupedby`` facets, ``sortedby`` for date order, highlights."""
        from whoosh import query as wq
        from whoosh import sorting

        q = self._parser.parse(spec.text)
        filters: list[Any] = [wq.Term("actor", a) for a in spec.actors]
        filters += [wq.Term("location", loc) for loc in spec.locations]
        if spec.date_from or spec.date_to:
            filters.append(
                wq.DateRange(
                    "published",
                    dt.datetime.combine(spec.date_from, dt.time()) if spec.date_from else None,
                    dt.datetime.combine(spec.date_to, dt.time.max) if spec.date_to else None,
                )
            )
        facets = {
            "actor": sorting.FieldFacet("actor", allow_overlap=True),
            "location": sorting.FieldFacet("location", allow_overlap=True),
            "year": sorting.FieldFacet("year"),
        }
        kwargs: dict[str, Any] = {"limit": SNIPPETS, "groupedby": facets}
        if filters:
            kwargs["filter"] = wq.And(filters) if len(filters) > 1 else filters[0]
        if spec.sort == "date":
            kwargs["sortedby"] = "published"
            kwargs["reverse"] = True
        results = self._searcher.search(q, **kwargs)
        # With groupedby, Whoosh keeps every match in the results: only the page is shown.
        snippets = [hit.highlights("body") for hit in results[:SNIPPETS]]
        counts = {
            name: {str(k): len(v) for k, v in results.groups(name).items() if k is not None}
            for name in facets
        }
        return QueryOutcome(total=len(results), snippets=snippets, facets=counts)


class Fts5Baseline(Baseline):
    """SQLite FTS5 (porter stemmer, bm25), facets from plain tables joined to the matches."""

    name = "fts5"
    label = "SQLite FTS5"

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def build(self, docs: Iterator[RawDocument], index: Path) -> int:
        """One transaction: FTS5 rows, a metadata row and facet rows per document."""
        index.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(index / "fts5.db")
        db.executescript(
            """
            CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61');
            CREATE TABLE meta(id INTEGER PRIMARY KEY, key TEXT, published TEXT);
            CREATE TABLE facet(id INTEGER, kind TEXT, value TEXT);
            """
        )
        count = 0
        with db:
            for doc in docs:
                count += 1
                db.execute(
                    "INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                    (count, doc.title, doc.body),
                )
                published = doc.published.isoformat() if doc.published else None
                db.execute("INSERT INTO meta VALUES (?, ?, ?)", (count, doc.key, published))
                rows = [(count, "actor", a) for a in doc.actors]
                rows += [(count, "location", loc) for loc in doc.locations]
                if doc.published:
                    rows.append((count, "year", str(doc.published.year)))
                db.executemany("INSERT INTO facet VALUES (?, ?, ?)", rows)
            db.execute("CREATE INDEX facet_kv ON facet(kind, value, id)")
            db.execute("CREATE INDEX facet_id ON facet(id)")
            db.execute("CREATE INDEX meta_published ON meta(published)")
        db.close()
        return count

    def open(self, index: Path) -> None:
        """Open the database file."""
        self._db = sqlite3.connect(index / "fts5.db")

    def run(self, spec: QuerySpec) -> QueryOutcome:
        """Match once into a temporary table, then page, ``snippet()`` and ``GROUP BY`` on it.

        Materialising the matches keeps SQLite's planner from re-running the full-text match
        inside the facet and filter sub-queries (which made filtered queries take seconds).
        """
        db = self._db
        assert db is not None, "open() first"
        db.execute("CREATE TEMP TABLE IF NOT EXISTS hits(id INTEGER PRIMARY KEY, score, published)")
        db.execute("DELETE FROM hits")
        where = ["docs MATCH ?"]
        params: list[Any] = [spec.text]
        if spec.date_from:
            where.append("meta.published >= ?")
            params.append(spec.date_from.isoformat())
        if spec.date_to:
            where.append("meta.published <= ?")
            params.append(spec.date_to.isoformat())
        db.execute(
            "INSERT INTO hits SELECT docs.rowid, bm25(docs), meta.published "
            "FROM docs JOIN meta ON meta.id = docs.rowid WHERE " + " AND ".join(where),
            params,
        )
        for kind, values in (("actor", spec.actors), ("location", spec.locations)):
            for value in values:
                db.execute(
                    "DELETE FROM hits WHERE id NOT IN "
                    "(SELECT id FROM facet WHERE kind = ? AND value = ?)",
                    (kind, value),
                )
        total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
        order = "published DESC" if spec.sort == "date" else "score"
        page = [r[0] for r in db.execute(f"SELECT id FROM hits ORDER BY {order} LIMIT {SNIPPETS}")]
        snippet_of = (
            dict(
                db.execute(
                    "SELECT rowid, snippet(docs, 1, '<b>', '</b>', '…', 24) FROM docs "
                    f"WHERE docs MATCH ? AND rowid IN ({','.join('?' * len(page))})",
                    [spec.text, *page],
                ).fetchall()
            )
            if page
            else {}
        )
        facets: dict[str, dict[str, int]] = {"actor": {}, "location": {}, "year": {}}
        for kind, value, n in db.execute(
            "SELECT kind, value, count(*) FROM facet JOIN hits USING (id) GROUP BY kind, value"
        ):
            facets[kind][value] = n
        return QueryOutcome(total=int(total), snippets=[snippet_of[i] for i in page], facets=facets)


class TantivyBaseline(Baseline):
    """tantivy (Rust, ``en_stem``), facets by terms aggregations on fast fields."""

    name = "tantivy"
    label = "tantivy"

    def __init__(self) -> None:
        self._index: Any = None
        self._searcher: Any = None

    @staticmethod
    def _schema() -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("key", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("actor", stored=True, fast=True, tokenizer_name="raw")
        builder.add_text_field("location", stored=True, fast=True, tokenizer_name="raw")
        builder.add_integer_field("year", stored=True, indexed=True, fast=True)
        builder.add_date_field("published", stored=True, indexed=True, fast=True)
        return builder.build()

    def build(self, docs: Iterator[RawDocument], index: Path) -> int:
        """Default writer (its own threads), one commit, merges waited for."""
        import tantivy

        index.mkdir(parents=True, exist_ok=True)
        ix = tantivy.Index(self._schema(), path=str(index))
        writer = ix.writer()
        count = 0
        for doc in docs:
            fields_: dict[str, Any] = {
                "key": doc.key,
                "title": doc.title,
                "body": doc.body,
                "actor": list(doc.actors),
                "location": list(doc.locations),
            }
            if doc.published is not None:
                fields_["year"] = doc.published.year
                fields_["published"] = dt.datetime.combine(doc.published, dt.time())
            writer.add_document(tantivy.Document(**fields_))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        return count

    def open(self, index: Path) -> None:
        """Open the index and keep one searcher."""
        import tantivy

        self._index = tantivy.Index.open(str(index))
        self._searcher = self._index.searcher()

    def run(self, spec: QuerySpec) -> QueryOutcome:
        """Parsed query AND filters, top 10 (or by date), snippets, terms aggregations."""
        import tantivy

        schema = self._index.schema
        q = self._index.parse_query(spec.text, ["title", "body"], conjunction_by_default=True)
        must: list[Any] = [(tantivy.Occur.Must, q)]
        for field_name, values in (("actor", spec.actors), ("location", spec.locations)):
            for value in values:
                must.append(
                    (tantivy.Occur.Must, tantivy.Query.term_query(schema, field_name, value))
                )
        if spec.date_from or spec.date_to:
            must.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        schema,
                        "published",
                        tantivy.FieldType.Date,
                        # tantivy dates are nanoseconds in an i64: keep open ends in range.
                        dt.datetime.combine(spec.date_from or dt.date(1700, 1, 1), dt.time()),
                        dt.datetime.combine(spec.date_to or dt.date(2200, 12, 31), dt.time()),
                    ),
                )
            )
        query = tantivy.Query.boolean_query(must) if len(must) > 1 else q
        if spec.sort == "date":
            result = self._searcher.search(query, SNIPPETS, order_by_field="published")
        else:
            result = self._searcher.search(query, SNIPPETS)
        generator = tantivy.SnippetGenerator.create(self._searcher, query, schema, "body")
        snippets = [
            generator.snippet_from_doc(self._searcher.doc(address)).to_html()
            for _score, address in result.hits
        ]
        aggs = self._searcher.aggregate(
            query,
            {
                "actor": {"terms": {"field": "actor", "size": 1000}},
                "location": {"terms": {"field": "location", "size": 1000}},
                "year": {"terms": {"field": "year", "size": 1000}},
            },
        )
        facets = {
            name: {str(b["key"]): int(b["doc_count"]) for b in aggs[name]["buckets"]}
            for name in ("actor", "location", "year")
        }
        return QueryOutcome(total=int(result.count or 0), snippets=snippets, facets=facets)


BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (WhooshBaseline, Fts5Baseline, TantivyBaseline)
}


# ---------------------------------------------------------------------------------------------
# Command line (also the child-process protocol of scale.py: one JSON object on stdout)


def _build(system: Baseline, corpus: Path, index: Path) -> dict[str, Any]:
    if index.exists():
        shutil.rmtree(index)
    manifest = load_manifest(corpus)
    started = time.perf_counter()
    count = system.build(read_raw_documents(corpus, manifest), index)
    return {"seconds": time.perf_counter() - started, "documents": count}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``build``, ``query`` or ``once`` for one baseline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "query", "once"))
    parser.add_argument("--system", choices=sorted(BASELINES), required=True)
    parser.add_argument("--corpus", type=Path, required=True, help="generated corpus folder")
    parser.add_argument("--index", type=Path, required=True, help="index folder")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the mix")
    parser.add_argument(
        "--spec", help="for 'once': the query as QuerySpec JSON (default: first of the mix)"
    )
    args = parser.parse_args(argv)
    system = BASELINES[args.system]()
    if args.command == "build":
        report = _build(system, args.corpus, args.index)
    elif args.command == "query":
        mix = build_query_mix(load_manifest(args.corpus))
        system.open(args.index)
        report = time_queries(system.run, mix, args.rounds)
    else:
        # Cold run: no manifest read, so only process start, imports, open and one query count.
        spec = (
            QuerySpec.from_json(json.loads(args.spec))
            if args.spec
            else build_query_mix(load_manifest(args.corpus))[0]
        )
        system.open(args.index)
        outcome = system.run(spec)
        report = {"total": outcome.total, "snippets": len(outcome.snippets)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
