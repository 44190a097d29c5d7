"""Relevance benchmark: our engine against SQLite FTS5 and tantivy on classic test collections.

Run from the repository root (``python -m bench.relevance``; see ``docs/relevance.md``)::

    python -m bench.relevance [--collections time,cranfield,cisi] [--json OUT]

Each collection is written as plain ``.txt`` files (title line first where the collection has
titles), indexed with ``searchlib.build_index`` and queried with ``Index.search`` exactly as a
user would paste each query. The same documents are ranked by FTS5 (bm25, porter tokenizer) and
tantivy (``en_stem`` tokenizer), both with an OR of the query's terms. MAP, nDCG@10 and P@10
come from ir-measures; the table ends with ours / best-baseline ratios.
"""

from __future__ import annotations

# Run as ``python bench/relevance.py``, bench/ is first on sys.path instead of the repository:
# swap them so ``bench.*`` and ``searchlib`` import from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import json
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ir_collections import COLLECTIONS, Collection, load_collection

__all__ = [
    "ENGINES",
    "METRICS",
    "EngineRun",
    "Report",
    "evaluate",
    "main",
    "run_benchmark",
    "run_collection",
    "run_fts5",
    "run_ours",
    "run_tantivy",
    "write_documents",
]

#: Metric names in ir-measures syntax, in table order.
METRICS: tuple[str, ...] = ("AP", "nDCG@10", "P@10")
#: How the table labels each metric.
METRIC_LABELS: Mapping[str, str] = {"AP": "MAP", "nDCG@10": "nDCG@10", "P@10": "P@10"}
#: Results kept per query (deep enough for MAP to be meaningful).
DEPTH = 1000

_WORD = re.compile(r"\w+")


@dataclass
class EngineRun:
    """What one engine returned for every query of a collection."""

    rankings: dict[str, list[str]] = field(default_factory=dict)
    """``{query id: document ids, best first}``."""
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    """``(query id, query text, error)`` for each query the engine refused."""
    index_seconds: float = 0.0
    """Time spent indexing."""
    query_seconds: float = 0.0
    """Time spent running all queries."""
    notes: list[str] = field(default_factory=list)
    """Anything worth printing (skipped or duplicate documents)."""


@dataclass
class Report:
    """Scores of every engine on every collection."""

    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """``{collection: {engine: {metric label: mean over judged queries}}}``."""
    runs: dict[str, dict[str, EngineRun]] = field(default_factory=dict)
    """``{collection: {engine: run}}``."""
    queries: dict[str, int] = field(default_factory=dict)
    """Number of judged queries per collection."""

    def ratios(self, collection: str) -> dict[str, float]:
        """Return ours / best baseline for each metric of ``collection`` (empty without ours)."""
        engines = self.scores[collection]
        if "ours" not in engines:
            return {}
        out = {}
        for label in METRIC_LABELS.values():
            best = max((s[label] for e, s in engines.items() if e != "ours"), default=0.0)
            out[label] = engines["ours"][label] / best if best else float("nan")
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-serialisable data."""
        return {
            name: {
                "queries": self.queries[name],
                "scores": engines,
                "ratios_ours_vs_best_baseline": self.ratios(name),
                "failures": {
                    e: [list(f) for f in run.failures] for e, run in self.runs[name].items()
                },
                "seconds": {
                    e: {"index": run.index_seconds, "query": run.query_seconds}
                    for e, run in self.runs[name].items()
                },
            }
            for name, engines in self.scores.items()
        }

    def table(self) -> str:
        """Return the collection x engine x metric table as Markdown."""
        labels = list(METRIC_LABELS.values())
        lines = [
            "| collection | engine | " + " | ".join(labels) + " |",
            "|---|---|" + "---:|" * len(labels),
        ]
        for name, engines in self.scores.items():
            for engine, scores in engines.items():
                cells = " | ".join(f"{scores[m]:.3f}" for m in labels)
                lines.append(f"| {name} ({self.queries[name]} q) | {engine} | {cells} |")
            ratios = self.ratios(name)
            if ratios:
                cells = " | ".join(f"**{ratios[m]:.3f}**" for m in labels)
                lines.append(f"| {name} | ours / best baseline | {cells} |")
        return "\n".join(lines)


def write_documents(collection: Collection, directory: Path) -> dict[str, str]:
    """Write each document as ``<id>.txt`` in ``directory``; return ``{resolved path: id}``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for doc in collection.documents:
        path = directory / f"{doc.id}.txt"
        path.write_text(doc.as_text(), encoding="utf-8")
        paths[str(path.resolve())] = doc.id
    return paths


def _terms(text: str) -> list[str]:
    """Return the distinct lower-cased words of ``text`` in order of first occurrence."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))


def run_fts5(collection: Collection, workdir: Path) -> EngineRun:
    """Rank with SQLite FTS5: porter tokenizer, bm25, OR of the query's quoted terms."""
    run = EngineRun()
    db = sqlite3.connect(":memory:")
    try:
        db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')"
        )
        start = time.perf_counter()
        db.executemany(
            "INSERT INTO docs (id, title, body) VALUES (?, ?, ?)",
            ((d.id, d.title or "", d.body) for d in collection.documents),
        )
        run.index_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for query in collection.queries:
            # Quoting each term (doubling embedded quotes) makes FTS5 treat it as a string,
            # never as an operator (AND, OR, NOT, NEAR) or column filter.
            terms = ['"' + t.replace('"', '""') + '"' for t in _terms(query.text)]
            if not terms:
                run.rankings[query.id] = []
                continue
            try:
                rows = db.execute(
                    "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                    (" OR ".join(terms), DEPTH),
                ).fetchall()
            except sqlite3.Error as exc:
                run.failures.append((query.id, query.text, str(exc)))
                continue
            run.rankings[query.id] = [r[0] for r in rows]
        run.query_seconds = time.perf_counter() - start
    finally:
        db.close()
    return run


def run_tantivy(collection: Collection, workdir: Path) -> EngineRun:
    """Rank with tantivy: ``en_stem`` tokenizer on title and body, BM25, OR of quoted terms."""
    import tantivy

    run = EngineRun()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    start = time.perf_counter()
    writer = index.writer()
    for doc in collection.documents:
        writer.add_document(tantivy.Document(id=doc.id, title=doc.title or "", body=doc.body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    run.index_seconds = time.perf_counter() - start
    searcher = index.searcher()
    start = time.perf_counter()
    for query in collection.queries:
        # A quoted single word is a term query on the analysed word; quoting keeps words such
        # as AND/OR/NOT from being read as operators. Words contain no quotes (\w+).
        terms = [f'"{t}"' for t in _terms(query.text)]
        if not terms:
            run.rankings[query.id] = []
            continue
        try:
            parsed = index.parse_query(" ".join(terms), ["title", "body"])
            hits = searcher.search(parsed, DEPTH).hits
        except ValueError as exc:
            run.failures.append((query.id, query.text, str(exc)))
            continue
        run.rankings[query.id] = [searcher.doc(addr)["id"][0] for _score, addr in hits]
    run.query_seconds = time.perf_counter() - start
    return run


def run_ours(collection: Collection, workdir: Path) -> EngineRun:
    """Index the collection's files with searchlib and run each raw query through it."""
    import searchlib

    run = EngineRun()
    ids = write_documents(collection, workdir / "docs")
    index_dir = workdir / "index"
    start = time.perf_counter()
    summary = searchlib.build_index(sorted(ids), index_dir, rebuild=True)
    run.index_seconds = time.perf_counter() - start
    if summary.skipped:
        run.notes.append(f"{len(summary.skipped)} files skipped, e.g. {summary.skipped[0]}")
    if summary.duplicates:
        run.notes.append(f"{summary.duplicates} documents indexed once as duplicates")
    index = searchlib.open_index(index_dir)
    # Identical texts are indexed once; the hit stands for every copy, as it does for a user.
    copies = {a.path: a.duplicates for a in index.articles() if a.duplicates}
    start = time.perf_counter()
    for query in collection.queries:
        try:
            # Snippets are presentation only; leaving them out does not change the ranking.
            results = index.search(query.text, limit=DEPTH, snippets=False)
        except Exception as exc:  # any refusal of a pasted query is reported)
            run.failures.append((query.id, query.text, f"{type(exc).__name__}: {exc}"))
            continue
        ranking = []
        for hit in results.hits:
            for path in (hit.path, *copies.get(hit.path, ())):
                doc_id = ids.get(str(Path(path).resolve()))
                ranking.append(doc_id if doc_id is not None else Path(path).stem)
        run.rankings[query.id] = ranking
    run.query_seconds = time.perf_counter() - start
    close = getattr(index, "close", None)
    if callable(close):
        close()
    return run


#: Engines by name, in table order.
ENGINES: Mapping[str, Callable[[Collection, Path], EngineRun]] = {
    "ours": run_ours,
    "fts5": run_fts5,
    "tantivy": run_tantivy,
}


def evaluate(collection: Collection, rankings: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Return the mean of each metric over the collection's judged queries.

    Scores given to ir-measures are derived from rank (not the engines' own scores) so that
    ties are never re-broken by document id. A judged query missing from ``rankings`` (no
    results, or the engine failed on it) counts as 0, as ``trec_eval -c`` does.
    """
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in METRICS]
    judged = [q.id for q in collection.judged_queries()]
    qrels = {q: dict(collection.qrels[q]) for q in judged}
    run = {
        q: {doc: float(len(docs) - i) for i, doc in enumerate(docs)}
        for q, docs in rankings.items()
        if q in qrels and docs
    }
    per_query: dict[str, dict[str, float]] = {str(m): {} for m in measures}
    for metric in ir_measures.iter_calc(measures, qrels, run):
        per_query[str(metric.measure)][metric.query_id] = float(metric.value)
    return {
        METRIC_LABELS[str(m)]: sum(per_query[str(m)].get(q, 0.0) for q in judged) / len(judged)
        for m in measures
    }


def run_collection(
    collection: Collection,
    workdir: Path,
    engines: Sequence[str] = tuple(ENGINES),
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[dict[str, dict[str, float]], dict[str, EngineRun]]:
    """Run ``engines`` on one collection; return ``({engine: scores}, {engine: run})``."""
    scores: dict[str, dict[str, float]] = {}
    runs: dict[str, EngineRun] = {}
    name = collection.name
    for engine in engines:
        log(f"{name}: {engine} ...")
        run = ENGINES[engine](collection, workdir / name / engine)
        runs[engine] = run
        scores[engine] = evaluate(collection, run.rankings)
        log(
            f"{name}: {engine} indexed {len(collection.documents)} docs in "
            f"{run.index_seconds:.1f}s, ran {len(collection.queries)} queries in "
            f"{run.query_seconds:.1f}s, {len(run.failures)} failed"
        )
        for note in run.notes:
            log(f"{name}: {engine}: {note}")
    return scores, runs


def run_benchmark(
    collections: Sequence[str],
    corpora: Path,
    workdir: Path,
    engines: Sequence[str] = tuple(ENGINES),
    log: Callable[[str], None] = lambda _msg: None,
) -> Report:
    """Run every engine on every named collection and return the scores."""
    report = Report()
    for name in collections:
        collection = load_collection(name, corpora)
        report.queries[name] = len(collection.judged_queries())
        report.scores[name], report.runs[name] = run_collection(collection, workdir, engines, log)
    return report


def default_corpora() -> Path:
    """Return ``$SEARCHLIB_CORPORA`` or ``shared/corpora`` beside the repository."""
    env = os.environ.get("SEARCHLIB_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--collections",
        default=",".join(COLLECTIONS),
        help="comma-separated subset of: " + ", ".join(COLLECTIONS),
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of: " + ", ".join(ENGINES),
    )
    parser.add_argument("--corpora", type=Path, default=None, help="test collections directory")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to write files and indexes (temp dir)"
    )
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="save results")
    args = parser.parse_args(argv)
    collections = [c.strip() for c in args.collections.split(",") if c.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for name, known in (("collection", COLLECTIONS), ("engine", tuple(ENGINES))):
        chosen = collections if name == "collection" else engines
        unknown = [c for c in chosen if c not in known]
        if unknown:
            parser.error(f"unknown {name}(s): {', '.join(unknown)}")
    corpora = args.corpora or default_corpora()
    if not corpora.is_dir():
        parser.error(f"test collections not found in {corpora} (set SEARCHLIB_CORPORA)")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="searchlib-relevance-") as tmp:
        workdir = args.workdir or Path(tmp)
        report = run_benchmark(collections, corpora, workdir, engines, log)
    print(report.table())
    failed = [
        (name, engine, f)
        for name, runs in report.runs.items()
        for engine, run in runs.items()
        for f in run.failures
    ]
    if failed:
        print(f"\n{len(failed)} queries failed:")
        for name, engine, (qid, text, error) in failed:
            print(f"  {name} {engine} q{qid}: {error}\n    query: {text!r}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
