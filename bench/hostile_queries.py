"""Hostile queries: every one answered or refused in one line, within 5 s and 500 MB.

Generates queries of every hostile family from the index's own words (deep nesting, up to
300 fuzzy or prefix terms, huge wildcards, pasted text of up to 1,500 words, a query over the
length limit, and random operator soup) and runs them one after another in this process,
through ``Index.search`` as the CLI and the TUI call it. Prints how many were answered and
refused, the latency percentiles (wall and CPU time), the slowest queries and the process's
peak RSS; with ``--json`` writes the same as JSON. Exit status 1 when a query outlasted
``--limit`` seconds, a refusal was not one line, or the peak RSS passed ``--max-rss`` MB.
``--clock cpu`` applies the limit to each query's CPU time instead of its wall time: on a
machine shared with other work a query waits for a core as long as the load makes it, and
the engine's own 4 s budget is wall time, so only CPU time tells what the query itself cost.

    python bench/gen_corpus.py --n 10000 --seed 1 --out bench/corpora/n10000
    search index bench/corpora/n10000/docs --index bench/results/ix10k
    python bench/hostile_queries.py --index bench/results/ix10k [--soup 2000] [--seed 14]

``tests/test_query_budget.py`` runs it on a generated 10,000-article index.
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
import random
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Seconds one query may take: the engine's 4 s budget plus parsing and snippets.
LIMIT_S = 5.0
#: Peak resident memory of the whole run, in MB.
MAX_RSS_MB = 500.0
_TOKENS = ["AND", "OR", "NOT", "(", ")", "-", "+", '"', "~", "*", "?", "^2", "title:",
           "actor:", "date:", "date:>2019", "[", "TO", "]", "{", "}"]


def hostile_queries(words: Sequence[str], rng: random.Random, soup: int = 1000) -> list[str]:
    """Queries of every hostile family made of ``words``, then ``soup`` random mixes of
    words, patterns and operators (half with spaces between the parts, half without)."""
    def word() -> str:
        return rng.choice(words)

    out: list[str] = []
    for depth in (10, 100, 500, 2000):
        out.append("(" * depth + word() + ")" * depth)
        out.append(" AND ".join(f"({word()} OR {word()}~" for _ in range(depth // 10))
                   + ")" * (depth // 10))
    for count in (5, 20, 32, 33, 100, 300):
        out.append(" ".join(f"{word()}~2" for _ in range(count)))
        out.append(" ".join(f"{word()[:2]}*" for _ in range(count)))
    out += ["*", "**", "*a*", "?" * 30, "*" + "?" * 8, "a*" * 4, "a*" * 9, "*e*e*e*e*",
            "title:*", "body:*a*", "*" * 500]
    for count in (50, 200, 800, 1500):
        out.append(" ".join(word() for _ in range(count))[:9_999])
    out.append("x " * 6000)  # over the length limit
    for _ in range(soup):
        parts = [rng.choice(_TOKENS) if rng.random() < 0.4 else
                 rng.choice([word(), word() + "*", word() + "~", word()[:3] + "?"])
                 for _ in range(rng.randint(1, 40))]
        out.append(" ".join(parts) if rng.random() < 0.5 else "".join(parts))
    return out


def _peak_rss_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` would not do: Linux carries it across
    exec, so run from a 500 MB pytest process this script would report 500 MB at least (see
    bench/childrss.py). ``VmHWM`` is the peak of this program's own memory map."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """The resident memory now (Linux), to tell a steady growth from one query's spike."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def run(index: Path, *, seed: int = 14, soup: int = 1000, limit_s: float = LIMIT_S,
        clock: str = "wall", words: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the hostile queries on ``index``; the figures and every failure found (a query
    over ``limit_s`` seconds of ``clock``, "wall" or "cpu" time). The queries are made of
    ``words``, by default the body words of ``index`` (a Whoosh index: another engine's
    index is given the words of a Whoosh index of the same articles); ``outcomes`` lists,
    query by query, the refusal's message or None for an answer."""
    from bench.baselines import percentile
    from searchlib import QueryError, open_index

    rng = random.Random(seed)
    failures: list[str] = []
    samples: list[tuple[float, str]] = []
    cpu: list[float] = []
    # Which queries raised the peak, and by how much: a peak over budget is a bug in one
    # query's working set or in a cache's accounting, and this says which.
    raisers: list[tuple[float, str]] = []
    rss_trace: list[float] = []
    answered = refused = 0
    with open_index(index) as ix:
        documents = ix.doc_count
        if words is None:
            words = [t for t in ix._engine._lexicon().field("body").terms if t.isalpha()]
        queries = hostile_queries(words, rng, soup)
        outcomes: list[str | None] = []
        for text in queries:
            peak_before = _peak_rss_mb()
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                ix.search(text, limit=5)
            except QueryError as exc:
                refused += 1
                message = str(exc)
                outcomes.append(message)
                if not message or "\n" in message or len(message) >= 400:
                    failures.append(f"refusal not one line for {text[:60]!r}: {message[:200]!r}")
            else:
                answered += 1
                outcomes.append(None)
            elapsed = time.perf_counter() - started
            cpu.append(time.process_time() - cpu_started)
            samples.append((elapsed, text))
            if _peak_rss_mb() > peak_before:
                raisers.append((_peak_rss_mb() - peak_before, text))
            if len(samples) % 100 == 0:
                rss_trace.append(round(_rss_mb()))
            spent = elapsed if clock == "wall" else cpu[-1]
            if spent > limit_s:
                failures.append(f"{spent:.2f} s ({clock}) for {text[:60]!r}")
    times = [s for s, _ in samples]
    slowest = sorted(samples, reverse=True)[:5]
    return {"documents": documents, "queries": len(queries), "answered": answered,
            "refused": refused, "p50_ms": percentile(times, 50) * 1000,
            "p99_ms": percentile(times, 99) * 1000, "max_s": max(times),
            "total_s": sum(times), "cpu_p99_ms": percentile(cpu, 99) * 1000,
            "cpu_max_s": max(cpu), "cpu_total_s": sum(cpu), "clock": clock,
            "peak_rss_mb": _peak_rss_mb(), "limit_s": limit_s,
            "slowest": [{"s": round(s, 3), "query": t[:80]} for s, t in slowest],
            "peak_raisers": [{"mb": round(mb, 1), "query": t[:80]}
                             for mb, t in sorted(raisers, reverse=True)[:5]],
            "rss_every_100_mb": rss_trace,
            "failures": failures, "outcomes": outcomes}


def report(figures: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    lines = [f"{figures['queries']:,} hostile queries on {figures['documents']:,} articles: "
             f"{figures['answered']:,} answered, {figures['refused']:,} refused",
             f"latency p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, "
             f"max {figures['max_s']:.2f} s, all {figures['total_s']:.0f} s; CPU time p99 "
             f"{figures['cpu_p99_ms']:.0f} ms, max {figures['cpu_max_s']:.2f} s, all "
             f"{figures['cpu_total_s']:.0f} s (limit {figures['limit_s']:g} s of "
             f"{figures['clock']} time); peak RSS {figures['peak_rss_mb']:.0f} MB",
             "slowest: " + "; ".join(f"{s['s']:.2f} s {s['query'][:40]!r}"
                                     for s in figures["slowest"][:3]),
             "raised the peak most: " + "; ".join(f"+{r['mb']:.0f} MB {r['query'][:40]!r}"
                                                  for r in figures["peak_raisers"][:3]),
             "RSS every 100 queries, MB: " + " ".join(map(str, figures["rss_every_100_mb"]))]
    lines += [f"FAILED: {f}" for f in figures["failures"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the queries, print the figures; 1 when any query failed its bounds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--soup", type=int, default=1000, help="random operator mixes")
    parser.add_argument("--limit", type=float, default=LIMIT_S, help="seconds per query")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="which time --limit bounds")
    parser.add_argument("--max-rss", type=float, default=MAX_RSS_MB, help="peak RSS, MB")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args.index, seed=args.seed, soup=args.soup, limit_s=args.limit,
                  clock=args.clock)
    if figures["peak_rss_mb"] > args.max_rss:
        figures["failures"].append(f"peak RSS {figures['peak_rss_mb']:.0f} MB "
                                   f"(limit {args.max_rss:g} MB)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(report(figures))
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
