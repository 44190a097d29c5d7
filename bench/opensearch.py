"""Whoosh against OpenSearch (one node, three nodes) on the same corpus, in one run.

Usage (corpus made by ``bench/gen_corpus.py``; Java 17+ and Maven, as the tests)::

    python bench/gen_corpus.py --n 10000 --seed 17 --out /tmp/c10k
    python bench/opensearch.py --corpus /tmp/c10k [--rounds 5] [--procs 2] [--json OUT]

Measures, on the same files:

* ingest: ``searchlib.build_index`` (read, clean, extract, index into Whoosh: the pipeline
  both engines share), docs/s; then, for each cluster, ``ingest_opensearch`` into a copy of
  that folder, whose local part has nothing left to do, so its time is the cluster's part
  (records read from the local copy, compared with the fingerprints, ``_bulk`` in batches of
  500, refresh): send docs/s, and the end-to-end rate of a first ``search index --engine
  opensearch`` (pipeline + send);
* queries: the fixed mix of ``bench/scale.py`` (keywords, phrases, date ranges and sorts,
  actor/place filters), each with facet counts and 10 highlighted snippets, through
  ``open_index`` (the library a user calls; near-duplicates not collapsed, as the OpenSearch
  engine does not collapse them): warm p50/p95 over ``--rounds`` passes;
* the totals of every query, compared between the engines (a figure for a query one engine
  answered differently would compare different work).

The clusters are real nodes started from the test launcher (``tests/opensearch/oscluster.py``,
512 MB heap each): one node with one shard; three nodes with three shards and one replica,
the client knowing every node. Everything runs on this machine: the three nodes share its
cores with the client and the pipeline. Figures are printed as a table, with ratios to
Whoosh, and saved as JSON (default ``bench/results/opensearch-<corpus>.json``).
"""

from __future__ import annotations

# Run as ``python bench/opensearch.py``, bench/ is first on sys.path instead of the
# repository: swap them so ``bench.*`` and ``searchlib`` import from the checkout.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import datetime as dt
import importlib.util
import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.baselines import QueryOutcome, QuerySpec, build_query_mix, load_manifest, time_queries

REPO = Path(__file__).resolve().parents[1]


def _oscluster() -> ModuleType:
    """tests/opensearch/oscluster.py (the tests' node launcher), imported by path."""
    spec = importlib.util.spec_from_file_location(
        "_bench_oscluster", REPO / "tests" / "opensearch" / "oscluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _runner(index: Any) -> Callable[[QuerySpec], QueryOutcome]:
    """One query of the mix through ``Index.search``, as a user's program calls it."""
    def run(spec: QuerySpec) -> QueryOutcome:
        results = index.search(spec.text, limit=10, collapse=False,
                               sort="date" if spec.sort == "date" else "relevance",
                               actors=spec.actors, locations=spec.locations,
                               date_from=spec.date_from, date_to=spec.date_to)
        return QueryOutcome(total=results.total, snippets=[h.snippet for h in results.hits],
                            facets={k: dict(v) for k, v in results.facets.items()})
    return run


def _queries(folder: Path, mix: Sequence[QuerySpec], rounds: int) -> dict[str, Any]:
    import searchlib

    with searchlib.open_index(folder) as index:
        return time_queries(_runner(index), mix, rounds)


def _cluster_run(oscluster: ModuleType, classpath: str, work: Path, whoosh: Path,
                 docs: Path, size: int, mix: Sequence[QuerySpec], rounds: int,
                 documents: int) -> dict[str, Any]:
    """Start ``size`` nodes, send the corpus, time the mix; the nodes are stopped after."""
    from searchlib.engine.opensearch import connection_settings
    from searchlib.engine.opensearch.ingest import ingest_opensearch

    cluster = oscluster.Cluster(classpath=classpath, root=work / f"os{size}", size=size)
    try:
        cluster.start()
        shards, replicas = (1, 0) if size == 1 else (3, 1)
        if size > 1:
            cluster.wait_for(status="green", nodes=size, timeout=300)
        folder = work / f"os{size}-ix"
        shutil.copytree(whoosh, folder)  # the pipeline's part is done: time the cluster's
        settings = connection_settings(",".join(cluster.urls), env={})
        started = time.perf_counter()
        summary = ingest_opensearch([docs], folder, settings, f"bench{size}", shards=shards,
                                    replicas=replicas, procs=1)
        wall = time.perf_counter() - started
        if summary.failed or summary.sent != documents:
            raise SystemExit(f"{size} node(s): sent {summary.sent} of {documents}, "
                             f"{len(summary.failed)} failed: {summary.failed[:3]}")
        stats = oscluster.http_json(f"{cluster.url}/bench{size}/_stats/store,docs")
        totals = stats["_all"]
        return {"nodes": size, "shards": shards, "replicas": replicas,
                "store_bytes_primaries": totals["primaries"]["store"]["size_in_bytes"],
                "store_bytes_total": totals["total"]["store"]["size_in_bytes"],
                "formed_s": cluster.formed_seconds, "send_s": summary.send_seconds,
                "ingest_call_s": wall, "send_docs_per_s": documents / summary.send_seconds,
                "queries": _queries(folder, mix, rounds)}
    finally:
        cluster.stop()


def _table(report: dict[str, Any]) -> str:
    base = report["whoosh"]
    rows = [("engine", "ingest docs/s", "x Whoosh", "send docs/s", "p50 ms", "x Whoosh",
             "p95 ms", "x Whoosh")]
    rows.append(("Whoosh", f"{base['ingest_docs_per_s']:.0f}", "1.00", "-",
                 f"{base['queries']['p50_ms']:.1f}", "1.00",
                 f"{base['queries']['p95_ms']:.1f}", "1.00"))
    for run in report["opensearch"]:
        q = run["queries"]
        rows.append((f"OpenSearch {run['nodes']} node(s), {run['shards']}x{run['replicas'] + 1}",
                     f"{run['end_to_end_docs_per_s']:.0f}",
                     f"{run['end_to_end_docs_per_s'] / base['ingest_docs_per_s']:.2f}",
                     f"{run['send_docs_per_s']:.0f}", f"{q['p50_ms']:.1f}",
                     f"{q['p50_ms'] / base['queries']['p50_ms']:.2f}", f"{q['p95_ms']:.1f}",
                     f"{q['p95_ms'] / base['queries']['p95_ms']:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                     for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison; print the table; save the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="a folder written by bench/gen_corpus.py")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the mix")
    parser.add_argument("--procs", type=int, default=2, help="pipeline worker processes")
    parser.add_argument("--json", type=Path, default=None, help="where to save the report")
    args = parser.parse_args(argv)
    docs = args.corpus / "docs"
    if not docs.is_dir():
        parser.error(f"{args.corpus} has no docs/ folder: make it with bench/gen_corpus.py")
    oscluster = _oscluster()
    try:
        build = oscluster.build_launcher()
    except oscluster.ClusterUnavailable as exc:
        print(f"opensearch: skipped: {exc}", file=sys.stderr)
        return 0

    from searchlib import build_index

    mix = build_query_mix(load_manifest(args.corpus))
    work = Path(tempfile.mkdtemp(prefix="bench-opensearch-"))
    try:
        whoosh = work / "whoosh-ix"
        started = time.perf_counter()
        built = build_index([docs], whoosh, procs=args.procs)
        build_s = time.perf_counter() - started
        documents = built.added
        report: dict[str, Any] = {
            "corpus": str(args.corpus), "documents": documents, "rounds": args.rounds,
            "procs": args.procs, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg(),
                        "python": platform.python_version()},
            "corpus_bytes": sum(p.stat().st_size for p in docs.rglob("*") if p.is_file()),
            "whoosh": {"ingest_s": build_s, "ingest_docs_per_s": documents / build_s,
                       "index_bytes": sum(p.stat().st_size for p in (whoosh / "whoosh").rglob("*")
                                          if p.is_file()),
                       "queries": _queries(whoosh, mix, args.rounds)},
            "opensearch": []}
        for size in (1, 3):
            run = _cluster_run(oscluster, build.classpath, work, whoosh, docs, size, mix,
                               args.rounds, documents)
            run["end_to_end_docs_per_s"] = documents / (build_s + run["send_s"])
            report["opensearch"].append(run)
        report["machine"]["load_after"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    want = report["whoosh"]["queries"]["totals"]
    report["totals_differ"] = {
        f"{run['nodes']} node(s)": sorted(k for k, v in run["queries"]["totals"].items()
                                          if want.get(k) != v)
        for run in report["opensearch"]}
    out = args.json or REPO / "bench" / "results" / f"opensearch-{args.corpus.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"{documents} articles ({args.corpus}), {len(mix)} queries x {args.rounds} rounds, "
          f"{os.cpu_count()} cores, load {report['machine']['load_before'][0]:.1f} before")
    print(_table(report))
    print(f"files {report['corpus_bytes'] / 1e6:.1f} MB; Whoosh index "
          f"{report['whoosh']['index_bytes'] / 1e6:.1f} MB")
    for run in report["opensearch"]:
        print(f"OpenSearch {run['nodes']} node(s): store {run['store_bytes_primaries'] / 1e6:.1f}"
              f" MB primaries, {run['store_bytes_total'] / 1e6:.1f} MB with replicas")
        print(f"OpenSearch {run['nodes']} node(s): cluster formed in {run['formed_s']:.1f} s; "
              f"queries whose total differs from Whoosh's: "
              f"{report['totals_differ'][str(run['nodes']) + ' node(s)'] or 'none'}")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
