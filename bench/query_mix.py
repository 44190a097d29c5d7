"""The scale benchmark's query mix on an index that already exists: each query's first use
in a fresh session, then warm rounds.

``bench/scale.py`` builds its own indexes; this answers the mix (``baselines.build_query_mix``,
after the same priming query) on any index built from a corpus of ``gen_corpus.py`` or
``real_corpus.py``, so that two indexes of the same files (two versions, two schemas) can be
compared in alternation:

    python bench/query_mix.py --corpus bench/corpora/n10000 --index IX [--rounds 5]

Prints each query's first use (wall and CPU ms, matches), then the first-use p50/p95 and the
warm p50/p95 over ``--rounds`` rounds of the whole mix.
"""

from __future__ import annotations

# Run as ``python bench/query_mix.py``, bench/ is first on sys.path instead of the
# repository: swap them so ``bench.*`` and ``searchlib`` import from the checkout.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import time
from pathlib import Path

from bench.baselines import PRIME, build_query_mix, load_manifest, percentile
from bench.scale import _ours_run


def main(argv: list[str] | None = None) -> int:
    """Run the mix on ``--index`` and print the figures; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="the corpus the index was built from (its manifest picks the "
                             "filter values)")
    parser.add_argument("--index", type=Path, required=True, help="the index folder")
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds of the mix")
    args = parser.parse_args(argv)
    import searchlib

    mix = build_query_mix(load_manifest(args.corpus))
    with searchlib.open_index(args.index) as ix:
        run = _ours_run(ix)
        run(PRIME)
        firsts = []
        for spec in mix:
            wall, cpu = time.perf_counter(), time.process_time()
            outcome = run(spec)
            wall = (time.perf_counter() - wall) * 1000.0
            cpu = (time.process_time() - cpu) * 1000.0
            firsts.append(wall)
            print(f"{spec.name:10s} first use {wall:7.1f} ms wall {cpu:7.1f} ms CPU "
                  f"{outcome.total:8d} matches")
        warm = []
        for _ in range(args.rounds):
            for spec in mix:
                started = time.perf_counter()
                run(spec)
                warm.append((time.perf_counter() - started) * 1000.0)
    print(f"first use p50 {percentile(firsts, 50):.1f} ms, p95 {percentile(firsts, 95):.1f} ms")
    print(f"warm ({args.rounds} rounds) p50 {percentile(warm, 50):.1f} ms, "
          f"p95 {percentile(warm, 95):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
