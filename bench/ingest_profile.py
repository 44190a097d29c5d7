"""Where a whole build's seconds go: wall-clock phases of the parent and of every worker.

Runs ``searchlib.build_index`` on a corpus in this process with timers wrapped around its
phases (start-up imports, gazetteer and rule loading, scanning, worker start, each batch's
processing and commit, manifest writes, alias table, arrival stamps, near-duplicate
grouping, facet data, term list, every ``fsync``), and inside each forked worker around
reading + cleaning + extraction, Whoosh's ``add_document`` and the segment flush, the rest
being time spent waiting for work. ``--cprofile`` also profiles each worker and the parent
with cProfile (slower: read the shares, not the seconds) and prints their top functions.
``--fixed N`` measures the fixed cost of a build the way a user meets it: ``search index``
on the first N files of the corpus, process start to exit, a fresh index each run.

    python bench/ingest_profile.py --corpus bench/corpora/real10000 [--procs 2] [--cprofile]
    python bench/ingest_profile.py --corpus bench/corpora/real10000 --fixed 100 --runs 5

Timers cost microseconds per file and do not change what is built.
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/ingest_profile.py``, bench/ is first on sys.path instead of the
# repository: swap them so ``searchlib`` imports from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import functools
import importlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["Timers", "fixed_cost", "main", "profile_build"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


class Timers:
    """Inclusive wall time, CPU time of this process and call counts per label.

    On a shared machine the wall time of a phase grows with the load; its CPU time does not
    (much), so both are kept: CPU shows the work, wall what a user waits.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, label: str, seconds: float, cpu: float = 0.0) -> None:
        """Count one call of ``label`` that took ``seconds`` (``cpu`` of them on a CPU)."""
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds
        self.cpu[label] = self.cpu.get(label, 0.0) + cpu
        self.calls[label] = self.calls.get(label, 0) + 1

    @contextmanager
    def time(self, label: str) -> Iterator[None]:
        """Time the body of a ``with`` block under ``label``."""
        started, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.add(label, time.perf_counter() - started, time.process_time() - cpu)

    def wrap(self, owner: Any, attr: str, label: str | Callable[..., str]) -> None:
        """Replace ``owner.attr`` by a timed version (``label`` may depend on the arguments)."""
        original = getattr(owner, attr)
        if isinstance(original, classmethod):  # pragma: no cover - looked up via getattr
            original = original.__func__

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started, time.process_time() - cpu)

        setattr(owner, attr, timed)

    def json(self) -> dict[str, Any]:
        """``{label: {"s": wall seconds, "cpu": CPU seconds, "calls": n}}``."""
        return {k: {"s": v, "cpu": self.cpu[k], "calls": self.calls[k]}
                for k, v in self.seconds.items()}


def _module(*names: str) -> ModuleType:
    """The first of ``names`` that imports (modules move between releases)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {', '.join(names)} found")


def _write_label(path: Any, *_args: Any, **_kwargs: Any) -> str:
    return f"write {Path(path).name}"


def profile_build(corpus: Path, index: Path, procs: int | None, cprofile: bool,
                  out: Path) -> dict[str, Any]:
    """Build ``corpus/docs`` into ``index`` with every phase timed; return the report."""
    timers = Timers()
    with timers.time("import searchlib (build modules)"):
        build = _module("searchlib.build", "searchlib.index")
        segments = _module("searchlib.engine.whoosh.segments", "searchlib.segments")
        # The engine's writer (before it existed, build called the segments' commit itself).
        writer = _module("searchlib.engine.whoosh.writer", "searchlib.build", "searchlib.index")
        gazetteer = _module("searchlib.ingest.gazetteer", "searchlib.gazetteer")
        clean = _module("searchlib.ingest.clean", "searchlib.clean")
        facetstore = _module("searchlib.engine.whoosh.facetstore", "searchlib.facetstore")
        lexicon = _module("searchlib.engine.whoosh.lexicon", "searchlib.lexicon")
        arrivals = _module("searchlib.arrivals", "searchlib.ingest.arrivals")
    # The compiled gazetteer cached as any build after a user's first finds it (timed
    # separately: load it once before the timed build).
    with timers.time("warm-up: gazetteer compiled or read from the cache (not in the build)"):
        gazetteer.Gazetteer.load()
    parts = out.with_suffix("")
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)

    timers.wrap(gazetteer.Gazetteer, "load", "load gazetteer")
    timers.wrap(clean.CleaningRules, "load", "load cleaning rules")
    for attr, label in (("scan", "scan the folders"),
                        ("extraction_fingerprint", "extraction fingerprint"),
                        ("_open_or_create", "open/create the Whoosh index"),  # before 16
                        ("open_writer", "open/create the Whoosh index"),
                        ("_alias_table", "alias table"),
                        ("_refresh_near_duplicates", "near-duplicate grouping"),
                        ("load_manifest", "read manifest"),
                        ("write_atomic", _write_label),
                        ("_swap_in", "swap in a rebuild")):
        if hasattr(build, attr):
            timers.wrap(build, attr, label)
    # Called by its module's global name: wrapped where the caller looks it up (the builder
    # itself in releases before the engine's writer).
    timers.wrap(build if hasattr(build, "commit_segments") else writer, "commit_segments",
                "commit (TOC write, merges)")
    timers.wrap(arrivals, "record", "arrival stamps")
    timers.wrap(facetstore, "write", "facet data (facets.bin)")
    timers.wrap(lexicon, "write", "term list (terms.bin)")
    timers.wrap(segments.SegmentWorkers, "_start", "start workers (fork)")
    timers.wrap(segments.SegmentWorkers, "build", "batch: workers read/clean/extract/index")
    timers.wrap(segments.SegmentWorkers, "close", "stop workers")
    # fsyncs are counted wherever they happen in this process (files and directories).
    real_fsync = os.fsync

    def fsync(fd: Any) -> None:
        with timers.time("fsync (parent)"):
            real_fsync(fd)

    setattr(os, "fsync", fsync)  # noqa: B010 - the storage module calls os.fsync

    # Worker side: timers (and a profiler) installed around the worker's loop, written to a
    # file of its own when the loop ends.
    worker_timers = Timers()
    timers_in_worker = worker_timers
    # What a worker does to one file: a _FileWork called with the path (earlier releases: a
    # module function).
    owner, attr = ((build._FileWork, "__call__") if hasattr(build, "_FileWork")
                   else (build, "_process_file"))
    process_file = getattr(owner, attr)

    def timed_process(*args: Any) -> Any:
        with timers_in_worker.time("read + clean + extract"):
            return process_file(*args)

    setattr(owner, attr, timed_process)
    worker_timers.wrap(segments.SegmentWriter, "add_document", "Whoosh add_document")
    worker_timers.wrap(segments.SegmentBuilder, "finish", "segment flush (write postings)")
    work_loop = segments._work_loop

    def timed_loop(*args: Any, **kwargs: Any) -> Any:
        import cProfile

        timers_in_worker.seconds.clear()
        timers_in_worker.calls.clear()
        profiler = cProfile.Profile() if cprofile else None
        started, cpu = time.perf_counter(), time.process_time()
        try:
            if profiler is not None:
                return profiler.runcall(work_loop, *args, **kwargs)
            return work_loop(*args, **kwargs)
        finally:
            timers_in_worker.add("worker total", time.perf_counter() - started,
                                 time.process_time() - cpu)
            (parts / f"worker-{os.getpid()}.json").write_text(
                json.dumps(timers_in_worker.json()), encoding="utf-8")
            if profiler is not None:
                profiler.dump_stats(str(parts / f"worker-{os.getpid()}.prof"))

    setattr(segments, "_work_loop", timed_loop)  # noqa: B010

    if index.exists():
        shutil.rmtree(index)
    import cProfile

    parent_profiler = cProfile.Profile() if cprofile else None
    started, cpu = time.perf_counter(), time.process_time()
    if parent_profiler is not None:
        summary = parent_profiler.runcall(build.build_index, [corpus / "docs"], index,
                                          procs=procs)
        parent_profiler.dump_stats(str(parts / "parent.prof"))
    else:
        summary = build.build_index([corpus / "docs"], index, procs=procs)
    total = time.perf_counter() - started
    parent_cpu = time.process_time() - cpu
    workers = [json.loads(p.read_text()) for p in sorted(parts.glob("worker-*.json"))]
    report: dict[str, Any] = {
        "corpus": str(corpus),
        "procs": procs or os.cpu_count(),
        "cprofile": cprofile,
        "loadavg": list(os.getloadavg()),
        "build_index_s": total,
        "parent_cpu_s": parent_cpu,
        "documents": summary.added + summary.updated + summary.unchanged,
        "duplicates": summary.duplicates,
        "parent": timers.json(),
        "workers": workers,
        "profiles": str(parts) if cprofile else None,
    }
    return report


def fixed_cost(corpus: Path, files: int, runs: int) -> dict[str, Any]:
    """``search index`` on the first ``files`` files of ``corpus``: wall time, start to exit."""
    docs = sorted(p for p in (corpus / "docs").rglob("*") if p.is_file())[:files]
    search = Path(sys.executable).with_name("search")
    cmd = [str(search)] if search.is_file() else [sys.executable, "-m", "searchlib"]
    walls: list[float] = []
    # As an installed program runs: with compiled bytecode cached (pip compiles on install;
    # this machine's environment turns the cache off, which adds ~0.3 s of compiling).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for i, path in enumerate(docs):
            shutil.copyfile(path, src / f"{i:05d}-{path.name}")
        bare = _wall([sys.executable, "-c", "pass"], runs, env)
        # The first run (untimed) also compiles the gazetteer into the cache if needed.
        for run in range(runs + 1):
            index = Path(tmp) / f"ix{run}"
            started = time.perf_counter()
            done = subprocess.run([*cmd, "index", str(src), "--index", str(index)],
                                  capture_output=True, text=True, check=False, env=env)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"search index failed: {done.stderr.strip()[-500:]}")
            if run:  # the first run writes bytecode and warms the page cache
                walls.append(wall)
    return {"files": len(docs), "runs": runs, "walls_s": walls,
            "median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "python_start_median_s": statistics.median(bare), "loadavg": list(os.getloadavg())}


def _wall(cmd: Sequence[str], runs: int, env: dict[str, str]) -> list[float]:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(list(cmd), check=True, env=env)
        walls.append(time.perf_counter() - started)
    return walls


def _print_build(report: dict[str, Any]) -> None:
    total = report["build_index_s"]
    print(f"Build of {report['corpus']} with {report['procs']} workers: {total:.2f} s inside "
          f"build_index, parent CPU {report['parent_cpu_s']:.2f} s ({report['documents']} "
          f"documents live, {report['duplicates']} duplicates dropped); load average "
          f"{report['loadavg'][0]:.1f}" + (" (cProfile on: times inflated)"
                                            if report["cprofile"] else ""))
    print(f"  {'parent phase (inclusive)':<50} {'wall s':>8} {'CPU s':>7} {'calls':>6} "
          f"{'wall %':>6}")
    for label, item in sorted(report["parent"].items(), key=lambda kv: -kv[1]["s"]):
        print(f"  {label[:50]:<50} {item['s']:8.3f} {item['cpu']:7.3f} {item['calls']:6d} "
              f"{item['s'] / total:6.1%}")
    for n, worker in enumerate(report["workers"]):
        whole = worker.get("worker total", {"s": 0.0, "cpu": 0.0})
        busy = sum(v["s"] for k, v in worker.items() if k != "worker total")
        busy_cpu = sum(v["cpu"] for k, v in worker.items() if k != "worker total")
        print(f"  worker {n}: {whole['s']:.2f} s alive, {whole['cpu']:.2f} s CPU; " + "; ".join(
            f"{k} {v['s']:.2f} s wall / {v['cpu']:.2f} s CPU ({v['calls']})"
            for k, v in worker.items() if k != "worker total")
            + f"; rest (queues, waiting) {max(whole['s'] - busy, 0):.2f} s wall / "
              f"{max(whole['cpu'] - busy_cpu, 0):.2f} s CPU")


def _print_profiles(folder: Path, top: int) -> None:
    import pstats

    workers = sorted(str(p) for p in folder.glob("worker-*.prof"))
    for title, files in (("workers (merged)", workers),
                         ("parent", [str(folder / "parent.prof")])):
        files = [f for f in files if Path(f).is_file()]
        if not files:
            continue
        print(f"\ncProfile, {title}, top {top} by own time:")
        stats = pstats.Stats(*files)
        stats.sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="corpus folder (gen_corpus.py or real_corpus.py)")
    parser.add_argument("--procs", type=int, default=None, help="worker processes")
    parser.add_argument("--cprofile", action="store_true", help="cProfile parent and workers")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile")
    parser.add_argument("--fixed", type=int, default=0, metavar="N",
                        help="instead: time `search index` on the first N files")
    parser.add_argument("--runs", type=int, default=5, help="runs for --fixed")
    parser.add_argument("--json", type=Path, default=None, help="where to save the report")
    args = parser.parse_args(argv)
    # A cache of the benchmark's own: other checkouts on this machine evict the user-wide
    # one's compiled gazetteers (see bench/scale.py's CACHE).
    os.environ.setdefault("SEARCHLIB_CACHE_DIR", str(RESULTS / "cache"))
    if not (args.corpus / "docs").is_dir():
        print(f"skipped: no corpus at {args.corpus} (make it with bench/gen_corpus.py or "
              "bench/real_corpus.py)", file=sys.stderr)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.corpus.resolve().name
    if args.fixed:
        report = fixed_cost(args.corpus, args.fixed, args.runs)
        print(f"search index, {report['files']} files, fresh index, {report['runs']} runs: "
              f"median {report['median_s']:.2f} s ({report['min_s']:.2f}-{report['max_s']:.2f})"
              f"; bare `python -c pass` {report['python_start_median_s']:.3f} s; load average "
              f"{report['loadavg'][0]:.1f}")
    else:
        out = args.json or RESULTS / f"ingest-profile-{name}.json"
        with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
            report = profile_build(args.corpus.resolve(), Path(tmp) / "index", args.procs,
                                   args.cprofile, out)
        _print_build(report)
        if args.cprofile:
            _print_profiles(out.with_suffix(""), args.top)
    out = args.json or RESULTS / f"ingest-profile-{name}{'-fixed' if args.fixed else ''}.json"
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"Saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
