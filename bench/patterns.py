"""Fuzzy, wildcard and prefix queries: our latency against Whoosh's own, FTS5 and tantivy.

For terms spread over the whole body vocabulary of a generated corpus (every n-th term of the
index), five query kinds: ``term~`` (one edit), ``term~2``, ``pre*`` (the term's first three
letters), ``*fix`` (its last three) and ``a*`` (each single letter, the broadest prefixes).
Each system answers each query in two passes, in one process: the first pass reads the terms
for the first time (after one priming query), the second is warm.

* ours: ``Index.search`` with facet counts and 10 highlighted snippets, as the CLI and the TUI
  ask for them;
* Whoosh's own: ``FuzzyTerm``/``Prefix``/``Wildcard`` on title and body of the same index,
  top 10 only (no facets, no snippets), through a plain Whoosh searcher; each query is
  stopped after ``--whoosh-limit`` seconds (reported as that figure, a lower bound), and it
  answers a smaller sample (``--whoosh-terms``);
* SQLite FTS5: ``MATCH 'pre*'`` on title and body, count and top 10 by bm25 (FTS5 has
  prefix queries only: no fuzzy, no leading wildcard);
* tantivy: ``fuzzy_term_query`` (transpositions cost one, as ours and Whoosh's) and
  ``regex_query`` on title and body, count and top 10.

Cold: ``search query 'term~'`` as a new process, best and median of ``--cold-runs``.

    python bench/patterns.py --corpus bench/corpora/n10000 [--index DIR] [--work DIR]

Baseline indexes (FTS5, tantivy) are built in ``--work`` (default bench/results/patterns-NAME)
and kept for the next run. Prints one table and writes ``bench/results/patterns-NAME.json``.
"""

from __future__ import annotations

import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import json
import sqlite3
import statistics
import string
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.baselines import (
    Fts5Baseline,
    TantivyBaseline,
    load_manifest,
    percentile,
    read_raw_documents,
)

REPO = Path(__file__).resolve().parents[1]
KINDS = ("term~", "term~2", "pre*", "*fix", "a*")
#: The issue's targets at 10,000 articles: warm p95 per kind, and a cold one-fuzzy query.
TARGET_WARM_P95_MS = 100.0
TARGET_COLD_S = 0.6


def sample_terms(terms: Sequence[str], count: int) -> list[str]:
    """Every n-th alphabetic term of five letters or more: the whole vocabulary's spread."""
    usable = [t for t in terms if t.isalpha() and len(t) >= 5]
    step = max(1, len(usable) // count)
    return usable[::step][:count]


def queries(words: Sequence[str], kind: str) -> list[str]:
    """The query texts of ``kind`` for ``words`` (``a*``: every letter)."""
    if kind == "a*":
        return [f"{c}*" for c in string.ascii_lowercase]
    if kind == "term~":
        return [f"{w}~" for w in words]
    if kind == "term~2":
        return [f"{w}~2" for w in words]
    if kind == "pre*":
        return list(dict.fromkeys(f"{w[:3]}*" for w in words))
    return list(dict.fromkeys(f"*{w[-3:]}" for w in words))


def two_passes(run: Callable[[str], Any], texts: Sequence[str]) -> dict[str, Any]:
    """Latencies (ms) of a first and a second pass over ``texts``."""
    out: dict[str, Any] = {}
    for name in ("first", "warm"):
        samples = []
        for text in texts:
            started = time.perf_counter()
            run(text)
            samples.append((time.perf_counter() - started) * 1000)
        out[name] = {"p50": percentile(samples, 50), "p95": percentile(samples, 95),
                     "max": max(samples), "n": len(samples)}
    return out


def ours(index: Path, words: list[str]) -> dict[str, Any]:
    """Our latency per kind, with the warnings (cut expansions) counted."""
    from searchlib import QueryError, open_index

    ix = open_index(index)
    ix.search("report")  # the session's start: readers, facet data, numpy
    cut = refused = 0

    def run(text: str) -> None:
        nonlocal cut, refused
        try:
            cut += bool(ix.search(text).warnings)
        except QueryError:
            refused += 1

    out = {kind: two_passes(run, queries(words, kind)) for kind in KINDS}
    out["cut_expansions"], out["refused"] = cut, refused
    ix.close()
    return out


def whoosh_own(index: Path, words: list[str], limit_s: float) -> dict[str, Any]:
    """Whoosh's FuzzyTerm/Prefix/Wildcard on the same index, top 10, time-limited."""
    from whoosh import collectors
    from whoosh import query as wq

    from searchlib import open_index

    ix = open_index(index)
    searcher = ix._engine._fresh()
    searcher.search(wq.Term("body", "report"), limit=10)
    stopped = 0

    def whoosh_query(text: str) -> Any:
        if text.endswith("~2") or text.endswith("~"):
            word, dist = text.rstrip("~2"), 2 if text.endswith("~2") else 1
            return wq.Or([wq.FuzzyTerm(f, word, maxdist=dist, prefixlength=0)
                          for f in ("title", "body")])
        if text.startswith("*"):
            return wq.Or([wq.Wildcard(f, text) for f in ("title", "body")])
        return wq.Or([wq.Prefix(f, text[:-1]) for f in ("title", "body")])

    def run(text: str) -> None:
        nonlocal stopped
        limited = collectors.TimeLimitCollector(searcher.collector(limit=10), limit_s)
        try:
            searcher.search_with_collector(whoosh_query(text), limited)
        except collectors.TimeLimit:
            stopped += 1

    out = {kind: two_passes(run, queries(words, kind)[:len(words)]) for kind in KINDS}
    out["stopped"] = stopped
    ix.close()
    return out


def fts5(db_dir: Path, words: list[str]) -> dict[str, Any]:
    """FTS5 prefix queries: count and top 10 by bm25 (no fuzzy, no suffix)."""
    db = sqlite3.connect(db_dir / "fts5.db")
    db.execute("SELECT count(*) FROM docs WHERE docs MATCH 'report'").fetchone()

    def run(text: str) -> None:
        match = "{title body}: " + text
        db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()
        db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10",
                   (match,)).fetchall()

    return {kind: two_passes(run, queries(words, kind)) for kind in ("pre*", "a*")}


def tantivy_run(index_dir: Path, words: list[str]) -> dict[str, Any]:
    """tantivy fuzzy and regex queries on title and body: count and top 10."""
    import re

    import tantivy

    ix = tantivy.Index.open(str(index_dir))
    searcher = ix.searcher()
    schema = ix.schema

    def both(make: Callable[[str], Any]) -> Any:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, make(f))
                                            for f in ("title", "body")])

    def run(text: str) -> None:
        if text.endswith("~") or text.endswith("~2"):
            word, dist = text.rstrip("~2"), 2 if text.endswith("~2") else 1
            q = both(lambda f: tantivy.Query.fuzzy_term_query(schema, f, word, distance=dist))
        elif text.startswith("*"):
            q = both(lambda f: tantivy.Query.regex_query(schema, f, ".*" + re.escape(text[1:])))
        else:
            q = both(lambda f: tantivy.Query.regex_query(schema, f, re.escape(text[:-1]) + ".*"))
        searcher.search(q, limit=10, count=True)

    searcher.search(ix.parse_query("report", ["title", "body"]), limit=10)
    return {kind: two_passes(run, queries(words, kind)) for kind in KINDS}


def cold(index: Path, text: str, runs: int) -> dict[str, float]:
    """Seconds of ``search query TEXT`` in a new process (after one untimed run)."""
    cmd = [sys.executable, "-m", "searchlib", "query", text, "--index", str(index)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, capture_output=True, env=env, check=False, cwd=REPO)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, env=env, check=False, cwd=REPO)
        samples.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"search query failed: {done.stderr.decode()[-300:]}")
    return {"best": min(samples), "median": statistics.median(samples)}


def _cell(entry: dict[str, Any] | None, kind: str, which: str) -> str:
    if not entry or kind not in entry:
        return "n/a"
    return f"{entry[kind][which]['p50']:.0f} / {entry[kind][which]['p95']:.0f}"


def report_table(report: dict[str, Any]) -> str:
    """The figures as a text table (p50 / p95 ms) with ratios to ours at the p95."""
    systems = [s for s in ("ours", "whoosh", "fts5", "tantivy") if s in report["systems"]]
    lines = [f"{report['documents']:,} articles, {report['vocabulary']:,} body terms, "
             f"{report['words']} sampled terms; p50 / p95 ms"]
    header = ["kind", "pass", *systems, *[f"{s}/ours p95" for s in systems[1:]]]
    rows = [header]
    for kind in KINDS:
        for which in ("first", "warm"):
            row = [kind, which]
            row += [_cell(report["systems"][s], kind, which) for s in systems]
            ours_p95 = report["systems"]["ours"][kind][which]["p95"]
            for s in systems[1:]:
                entry = report["systems"][s]
                row.append(f"{entry[kind][which]['p95'] / ours_p95:.2f}x"
                           if kind in entry and ours_p95 else "n/a")
            rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    warm = max(report["systems"]["ours"][k]["warm"]["p95"] for k in KINDS)
    lines.append(f"ours: worst warm p95 {warm:.0f} ms (target {TARGET_WARM_P95_MS:.0f}); "
                 f"cut expansions {report['systems']['ours']['cut_expansions']}, "
                 f"refused {report['systems']['ours']['refused']}")
    if "cold" in report:
        lines.append(f"cold `search query '{report['cold_word']}~'`: best "
                     f"{report['cold']['best']:.2f} s, median {report['cold']['median']:.2f} s "
                     f"(target {TARGET_COLD_S} s); the plain word "
                 f"'{report['cold_word']}': best {report['cold_plain']['best']:.2f} s, "
                 f"median {report['cold_plain']['median']:.2f} s")
    if "whoosh" in report["systems"]:
        lines.append(f"Whoosh's own: {report['systems']['whoosh']['stopped']} queries stopped "
                     f"at {report['whoosh_limit']:.0f} s (counted as that: a lower bound)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, help="our index of the corpus (built if absent)")
    parser.add_argument("--work", type=Path, help="folder of the baseline indexes")
    parser.add_argument("--terms", type=int, default=40, help="sampled vocabulary terms")
    parser.add_argument("--whoosh-terms", type=int, default=6)
    parser.add_argument("--whoosh-limit", type=float, default=10.0)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--systems", default="ours,whoosh,fts5,tantivy")
    args = parser.parse_args(argv)
    name = args.corpus.name
    work = args.work or REPO / "bench" / "results" / f"patterns-{name}"
    work.mkdir(parents=True, exist_ok=True)
    index = args.index or work / "ours"
    if not (index / "meta.json").exists():
        from searchlib import build_index

        build_index([args.corpus / "docs"], index)
    from searchlib import open_index

    with open_index(index) as ix:
        vocabulary = ix._engine._lexicon().field("body").terms
        documents = ix.doc_count
    words = sample_terms(vocabulary, args.terms)
    systems = args.systems.split(",")
    report: dict[str, Any] = {"documents": documents, "vocabulary": len(vocabulary),
                              "words": len(words), "whoosh_limit": args.whoosh_limit,
                              "systems": {}}
    if "ours" in systems:
        report["systems"]["ours"] = ours(index, words)
        report["cold_word"] = words[len(words) // 2]
        report["cold"] = cold(index, report["cold_word"] + "~", args.cold_runs)
        # The same process start with a plain word: what the fuzzy term adds to it.
        report["cold_plain"] = cold(index, report["cold_word"], args.cold_runs)
    manifest = load_manifest(args.corpus)
    if "fts5" in systems:
        if not (work / "fts5" / "fts5.db").exists():
            Fts5Baseline().build(read_raw_documents(args.corpus, manifest), work / "fts5")
        report["systems"]["fts5"] = fts5(work / "fts5", words)
    if "tantivy" in systems:
        if not (work / "tantivy" / "meta.json").exists():
            TantivyBaseline().build(read_raw_documents(args.corpus, manifest), work / "tantivy")
        report["systems"]["tantivy"] = tantivy_run(work / "tantivy", words)
    if "whoosh" in systems:
        report["systems"]["whoosh"] = whoosh_own(index, words[:args.whoosh_terms],
                                                 args.whoosh_limit)
    out = REPO / "bench" / "results" / f"patterns-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(report_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
