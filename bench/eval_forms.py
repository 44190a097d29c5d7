"""The two forms of query evaluation, timed against each other on one index.

:mod:`searchlib.engine.whoosh.evaluate` carries out a query plan either on per-segment dicts
and Python-int bitsets (standard library only) or on numpy arrays. The dict form exists for
one case: the first search of a process on an index below ``DENSE_MIN_DOCS`` documents, where
importing numpy (~0.15 s) would cost more than the query. This script measures both sides of
that trade on the benchmark's query mix (``bench/baselines.py``):

* one-shot: a fresh interpreter opens the index and runs one query (wall time of the whole
  process, as ``search query`` pays it), with the form the index picks by itself (dicts
  below the threshold) and with numpy forced;
* warm: per-query latency in an open index, each form pinned, p50/p95 over ``--rounds``.

Usage: ``python bench/eval_forms.py --corpus bench/corpora/c1k --index /tmp/ix [--runs 5]``
(the index is built from the corpus when missing). Prints a JSON report.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.baselines import QuerySpec, build_query_mix, load_manifest  # noqa: E402

_ONE_SHOT = r"""
import json, sys, time
started = time.perf_counter()
import searchlib
spec = json.loads(sys.argv[2])
with searchlib.open_index(sys.argv[1]) as ix:
    if sys.argv[3] == "numpy":
        ix._engine._dense_pinned = True
    ix.search(spec["text"], actors=spec["actors"], locations=spec["locations"],
              sort=spec["sort"], date_from=spec["date_from"], date_to=spec["date_to"],
              limit=10)
print(json.dumps({"s": time.perf_counter() - started,
                  "numpy": "numpy" in sys.modules}))
"""


def _spec_json(spec: QuerySpec) -> str:
    return json.dumps({"text": spec.text, "actors": list(spec.actors),
                       "locations": list(spec.locations), "sort": _sort(spec),
                       "date_from": spec.date_from.isoformat() if spec.date_from else None,
                       "date_to": spec.date_to.isoformat() if spec.date_to else None})


def _sort(spec: QuerySpec) -> str:
    return "date" if spec.sort == "date" else "relevance"


def _search(ix: Any, spec: QuerySpec) -> None:
    ix.search(spec.text, actors=spec.actors, locations=spec.locations, sort=_sort(spec),
              date_from=spec.date_from, date_to=spec.date_to, limit=10)


def _one_shot(index: Path, spec: QuerySpec, form: str) -> tuple[float, bool]:
    done = subprocess.run([sys.executable, "-c", _ONE_SHOT, str(index), _spec_json(spec), form],
                          capture_output=True, text=True, check=True, cwd=REPO)
    out = json.loads(done.stdout)
    return float(out["s"]), bool(out["numpy"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    """Run the measurement and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="from bench/gen_corpus.py")
    parser.add_argument("--index", type=Path, required=True, help="built here if missing")
    parser.add_argument("--runs", type=int, default=5, help="one-shot processes per query/form")
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds of the query mix")
    args = parser.parse_args()
    import searchlib

    if not args.index.exists():
        searchlib.build_index([args.corpus / "docs"], args.index, procs=2)
    mix = build_query_mix(load_manifest(args.corpus))
    one_shot: dict[str, list[float]] = {"auto": [], "numpy": []}
    loaded: dict[str, set[bool]] = {"auto": set(), "numpy": set()}
    for _ in range(args.runs):
        for spec in mix:
            for form in ("auto", "numpy"):  # alternated, so load drifts hit both alike
                seconds, numpy_loaded = _one_shot(args.index, spec, form)
                one_shot[form].append(seconds)
                loaded[form].add(numpy_loaded)
    warm: dict[str, list[float]] = {"dicts": [], "numpy": []}
    with searchlib.open_index(args.index) as ix:
        engine = ix._engine
        for pinned in (False, True):
            engine._dense_pinned = pinned
            for spec in mix:  # one untimed pass: caches warm for both forms alike
                _search(ix, spec)
        for _ in range(args.rounds):
            for form, pinned in (("dicts", False), ("numpy", True)):
                engine._dense_pinned = pinned
                for spec in mix:
                    started = time.perf_counter()
                    _search(ix, spec)
                    warm[form].append(time.perf_counter() - started)
        documents = ix.doc_count
    report = {
        "documents": documents, "queries": len(mix), "runs": args.runs, "rounds": args.rounds,
        "one_shot_ms": {form: {"median": 1000 * statistics.median(v),
                               "p10": 1000 * _percentile(v, 0.1),
                               "p90": 1000 * _percentile(v, 0.9),
                               "numpy_loaded": sorted(loaded[form])}
                        for form, v in one_shot.items()},
        "warm_ms": {form: {"p50": 1000 * _percentile(v, 0.5), "p95": 1000 * _percentile(v, 0.95)}
                    for form, v in warm.items()},
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
