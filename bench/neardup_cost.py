"""The near-duplicate work's share of an ingest: index a corpus, time the grouping pass in
the parent during the build, then the signatures (computed by the workers during the build)
on their own over the same bodies.

    python bench/gen_corpus.py --n 10000 --seed 1 --out bench/corpora/n10000
    python bench/neardup_cost.py bench/corpora/n10000 bench/results/neardup-ix
"""

import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import searchlib  # noqa: E402
import searchlib.build as index_mod  # noqa: E402
from searchlib import neardup  # noqa: E402

corpus, target = sys.argv[1], Path(sys.argv[2])
shutil.rmtree(target, ignore_errors=True)
spent = {}
original = index_mod._refresh_near_duplicates


def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
    """The grouping pass, timed."""
    t0 = time.perf_counter()
    original(*args, **kwargs)
    spent["post"] = time.perf_counter() - t0


index_mod._refresh_near_duplicates = timed
t0 = time.perf_counter()
summary = searchlib.build_index([corpus], target, procs=2)
ingest = time.perf_counter() - t0
print(f"ingest {summary.added} docs in {ingest:.1f}s", flush=True)
with searchlib.open_index(target) as ix:
    bodies = [a.text for a in ix.articles()]
t0 = time.perf_counter()
for b in bodies:
    neardup.signature(b)
sign = time.perf_counter() - t0
print(f"signatures: {sign:.2f}s CPU for {len(bodies)} bodies "
      f"({1000 * sign / len(bodies):.3f} ms each); over 2 workers ~{sign / 2:.2f}s wall")
print(f"groups pass in the parent: {spent['post']:.2f}s; {len(neardup.load_groups(target))} groups")
total = sign / 2 + spent["post"]
print(f"near-duplicate cost: {total:.2f}s of {ingest:.1f}s ingest = {100*total/ingest:.1f}%")
