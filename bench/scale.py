"""Scale benchmark: our indexer and searcher against naive Whoosh, SQLite FTS5 and tantivy.

Usage (corpus made by ``bench/gen_corpus.py``)::

    python bench/scale.py --corpus bench/corpora/n10000 [--json OUT] [--profile]

Measures, on the same files and in the same run:

* ingest: read + clean + extract + index with ``searchlib.build_index`` (docs/s, MB/s), and
  each baseline's own build of the raw files; peak RSS of the indexing process (each build
  runs in a child process; its peak RSS, children included, is measured by bench/childrss.py);
  index size on disk;
* re-index with nothing changed, and after 1% of the files changed (ours only: the baselines
  have no incremental update, so their figure is a full rebuild, their ingest time);
* warm query latency p50/p95/p99 over a fixed mix (keywords, phrases, actor/location/date
  filters, date sort), each query with facet counts and 10 highlighted snippets;
* cold query: wall time of a fresh process answering one query (``search query ... --json``
  for ours), process start to exit.

Every figure of ours is also given as a ratio to each baseline: the machine is shared and
noisy, so ratios measured in one run mean more than absolute times. Results are printed as
tables and saved as JSON (``--json``, default ``bench/results/scale-<corpus>.json``).
"""

from __future__ import annotations

# Run as ``python bench/scale.py``, bench/ is first on sys.path instead of the repository:
# swap them so ``bench.*`` and ``searchlib`` import from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
import os
import sys

if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import datetime as dt
import importlib.util
import io
import json
import math
import platform
import random
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import childrss
from bench.baselines import (
    QueryOutcome,
    QuerySpec,
    build_query_mix,
    corpus_files,
    dir_size,
    load_manifest,
    time_queries,
)

__all__ = [
    "ChildRun",
    "agreement",
    "available_systems",
    "change_files",
    "format_ingest",
    "main",
    "measure",
    "measure_ingest",
    "ratio_table",
    "run_child",
    "warm_cache",
]

REPO = Path(__file__).resolve().parent.parent
ENGINE_ENV = "SCALE_BENCH_ENGINE"
"""Environment variable naming a folder whose ``searchlib`` package children import first."""
RESULTS = REPO / "bench" / "results"
SYSTEMS = ("ours", "whoosh", "fts5", "tantivy")
LABELS = {
    "ours": "searchlib",
    "whoosh": "naive Whoosh",
    "fts5": "SQLite FTS5",
    "tantivy": "tantivy",
}
COLD_QUERIES = ("kw-2", "phrase-1", "combo-1")
"""Mix entries timed cold (a keyword pair, a phrase, a filtered query)."""

# Which way each ratio points: for "higher" metrics a ratio above 1 means we are better.
METRICS: dict[str, tuple[str, str]] = {
    "ingest_docs_per_s": ("ingest docs/s", "higher"),
    "ingest_mb_per_s": ("ingest MB/s", "higher"),
    "peak_rss_mb": ("peak RSS MB (indexing)", "lower"),
    "index_mb": ("index size MB", "lower"),
    "noop_reindex_s": ("re-index, nothing changed (s)", "lower"),
    "change_reindex_s": ("re-index, 1% changed (s)", "lower"),
    "p50_ms": ("query p50 ms (warm)", "lower"),
    "p95_ms": ("query p95 ms (warm)", "lower"),
    "p99_ms": ("query p99 ms (warm)", "lower"),
    "first_p50_ms": ("query p50 ms (terms' first use)", "lower"),
    "first_p95_ms": ("query p95 ms (terms' first use)", "lower"),
    "cold_ms": ("cold query ms (process)", "lower"),
}


# ---------------------------------------------------------------------------------------------
# Child processes


@dataclass(frozen=True)
class ChildRun:
    """A finished child process."""

    wall: float
    """Seconds from spawn to exit."""
    maxrss_kb: int
    """Peak resident set size of the child and its waited-for descendants, in KiB."""
    returncode: int
    """Exit status."""
    stdout: str
    """Everything it printed on stdout."""
    stderr: str
    """Everything it printed on stderr."""

    def json(self) -> dict[str, Any]:
        """The JSON object the child printed last (the child protocol)."""
        if self.returncode != 0:
            raise RuntimeError(f"child failed ({self.returncode}): {self.stderr.strip()[-2000:]}")
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        data = json.loads(lines[-1])
        if not isinstance(data, dict):
            raise RuntimeError(f"child printed {type(data).__name__}, not an object")
        return data


def run_child(cmd: Sequence[str], *, cwd: Path = REPO, bytecode: bool = False) -> ChildRun:
    """Run ``cmd`` to completion and return its wall time, peak RSS and output.

    The peak RSS is the child's own, including descendants it waited for (the indexer's
    worker pool), measured through ``bench/childrss.py``: started from this process directly,
    the child would report this process's peak (the corpora it holds) as its own.
    ``bytecode`` lets the child cache compiled modules as Python
    does by default, even where the environment says not to (``PYTHONDONTWRITEBYTECODE``).
    """
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    paths = [env.get(ENGINE_ENV), str(REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    started = time.perf_counter()
    done = childrss.run(list(cmd), cwd=cwd, env=env)
    return ChildRun(
        wall=time.perf_counter() - started,
        maxrss_kb=done.maxrss_kb,
        returncode=done.returncode,
        stdout=done.stdout.decode("utf-8", "replace"),
        stderr=done.stderr.decode("utf-8", "replace"),
    )


def _py(*args: str) -> list[str]:
    return [sys.executable, *args]


def _search_command() -> list[str]:
    """The ``search`` console script beside this interpreter, else ``python -m searchlib``."""
    script = Path(sys.executable).with_name("search")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return _py("-m", "searchlib")


def _spec_cli_args(spec: QuerySpec) -> list[str]:
    args = [spec.text]
    for actor in spec.actors:
        args += ["--actor", actor]
    for place in spec.locations:
        args += ["--location", place]
    if spec.date_from:
        args += ["--from", spec.date_from.isoformat()]
    if spec.date_to:
        args += ["--to", spec.date_to.isoformat()]
    if spec.sort == "date":
        args += ["--sort", "date"]
    return args


# ---------------------------------------------------------------------------------------------
# Our engine, driven the way a user's program would


def _ours_run(index: Any) -> Callable[[QuerySpec], QueryOutcome]:
    def run(spec: QuerySpec) -> QueryOutcome:
        results = index.search(
            spec.text,
            limit=10,
            sort="date" if spec.sort == "date" else "relevance",
            actors=spec.actors,
            locations=spec.locations,
            date_from=spec.date_from,
            date_to=spec.date_to,
        )
        return QueryOutcome(
            total=results.total,
            snippets=[hit.snippet for hit in results.hits],
            facets={k: dict(v) for k, v in results.facets.items()},
        )

    return run


def _child_main(argv: Sequence[str]) -> int:
    """Child side: ``_child build|query`` for our engine; prints one JSON object."""
    parser = argparse.ArgumentParser(prog="scale.py _child")
    parser.add_argument("command", choices=("build", "query", "agreement"))
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--procs", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    engine = os.environ.get(ENGINE_ENV)
    if engine:
        sys.path.insert(0, engine)
    import searchlib

    if args.command == "build":
        started = time.perf_counter()
        if args.profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            summary = profiler.runcall(
                searchlib.build_index, [args.corpus / "docs"], args.index, procs=args.procs
            )
            profiler.dump_stats(str(args.profile))
        else:
            summary = searchlib.build_index([args.corpus / "docs"], args.index, procs=args.procs)
        seconds = time.perf_counter() - started
        report: dict[str, Any] = {
            "seconds": seconds,
            "added": summary.added,
            "updated": summary.updated,
            "removed": summary.removed,
            "unchanged": summary.unchanged,
            "duplicates": summary.duplicates,
            "skipped": len(summary.skipped),
            "documents": summary.added + summary.updated + summary.unchanged,
        }
    elif args.command == "query":
        mix = build_query_mix(load_manifest(args.corpus))
        with searchlib.open_index(args.index) as index:
            report = time_queries(_ours_run(index), mix, args.rounds)
    else:
        with searchlib.open_index(args.index) as index:
            report = agreement(index.articles(), args.corpus, load_manifest(args.corpus))
    print(json.dumps(report))
    return 0


def agreement(
    articles: Iterable[Any], corpus: Path, manifest: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """How well our cleaning and extraction recover the generator's ground truth.

    ``articles`` are :class:`searchlib.Article` objects. Recall per facet counts the entities
    the generator deliberately mentioned; "extra" values per article are not errors as such,
    since the real sentences mention places and groups of their own (TIME 1963 names many).
    """
    root = corpus.resolve()
    seen = 0
    unmatched = 0
    dated = dated_ok = undated = undated_given = title_ok = 0
    found: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    for article in articles:
        path, _, record = str(article.path).partition("#")
        try:
            rel = Path(path).resolve().relative_to(root).as_posix()
        except ValueError:
            unmatched += 1
            continue
        truth = manifest.get(f"{rel}#{record}" if record else rel)
        if truth is None:
            unmatched += 1
            continue
        seen += 1
        title_ok += article.title.strip() == str(truth["title"]).strip()
        if truth["published"]:
            dated += 1
            dated_ok += article.published is not None and (
                article.published.isoformat() == truth["published"]
            )
        else:
            undated += 1
            undated_given += article.published is not None
        for facet, ours in (
            ("actors", article.actors),
            ("locations", article.locations),
            ("people", article.people),
        ):
            expected = set(truth.get(facet, ()))
            got = set(ours)
            wanted[facet] += len(expected)
            found[facet] += len(expected & got)
            extra[facet] += len(got - expected)
    return {
        "articles": seen,
        "manifest_articles": len(manifest),
        "unmatched": unmatched,
        "title_exact": title_ok / seen if seen else 0.0,
        "date_exact": dated_ok / dated if dated else 0.0,
        "date_on_undated": undated_given / undated if undated else 0.0,
        "recall": {f: found[f] / wanted[f] if wanted[f] else 1.0 for f in wanted},
        "extra_per_article": {f: extra[f] / seen if seen else 0.0 for f in wanted},
    }


def _ours_build(
    corpus: Path, index: Path, procs: int | None, profile: Path | None = None
) -> ChildRun:
    cmd = _py(
        str(Path(__file__).resolve()),
        "_child",
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
    )
    if procs:
        cmd += ["--procs", str(procs)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    return run_child(cmd)


# ---------------------------------------------------------------------------------------------
# Measures


def change_files(
    corpus: Path, fraction: float, seed: int = 0
) -> dict[Path, tuple[bytes, int, int]]:
    """Edit ``fraction`` of the files (text and markdown) the way a corrected article changes.

    A sentence is added to the first long paragraph, inside the article body, so that the
    cleaned text really changes (a line appended after a copyright footer would be cut by the
    cleaner and leave the content unchanged). Returns what is needed to undo it: original
    bytes, atime and mtime in ns per file. The choice is deterministic; JSON and HTML files
    are left alone so that every file stays valid.
    """
    files = corpus_files(corpus)
    candidates = [p for p in files if p.suffix in (".txt", ".md")]
    count = max(1, math.ceil(len(files) * fraction))
    chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))
    saved: dict[Path, tuple[bytes, int, int]] = {}
    for path in chosen:
        stat = path.stat()
        data = path.read_bytes()
        saved[path] = (data, stat.st_atime_ns, stat.st_mtime_ns)
        path.write_bytes(_corrected(data.decode("utf-8")).encode("utf-8"))
        # Some file systems keep whole-second mtimes: move it visibly forward.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    return saved


def _corrected(text: str) -> str:
    correction = " This paragraph was corrected after publication to fix a casualty figure."
    paragraphs = text.split("\n\n")
    for i, paragraph in enumerate(paragraphs):
        if len(paragraph.split()) >= 25 and not paragraph.startswith(("---", "#")):
            paragraphs[i] = paragraph.rstrip() + correction
            return "\n\n".join(paragraphs)
    return text.rstrip() + "\n\n" + correction.strip() + "\n"


def _restore(saved: Mapping[Path, tuple[bytes, int, int]]) -> None:
    for path, (data, atime, mtime) in saved.items():
        path.write_bytes(data)
        os.utime(path, ns=(atime, mtime))


def available_systems(requested: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The requested systems that can run here, and why the others cannot."""
    missing: dict[str, str] = {}
    ok: list[str] = []
    for name in requested:
        if name not in SYSTEMS:
            raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
        module = {"tantivy": "tantivy", "whoosh": "whoosh", "ours": "searchlib"}.get(name)
        if module and importlib.util.find_spec(module) is None:
            missing[name] = f"python package {module!r} is not installed"
        else:
            ok.append(name)
    return ok, missing


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    corpus: Path,
    work: Path,
    *,
    systems: Sequence[str] = SYSTEMS,
    rounds: int = 3,
    cold_runs: int = 3,
    cold_queries: int = len(COLD_QUERIES),
    procs: int | None = None,
    change_fraction: float = 0.01,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run every measure on ``corpus`` with indexes under ``work``; return the report."""
    corpus = corpus.resolve()
    manifest = load_manifest(corpus)
    files = corpus_files(corpus)
    corpus_bytes = sum(p.stat().st_size for p in files)
    articles = len(manifest)
    mix = build_query_mix(manifest)
    runnable, missing = available_systems(systems)
    info = (
        json.loads((corpus / "corpus.json").read_text())
        if (corpus / "corpus.json").is_file()
        else {}
    )
    report: dict[str, Any] = {
        "meta": {
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_start": list(os.getloadavg()),
            "git": _git_head(),
            "rounds": rounds,
            "cold_runs": cold_runs,
            "cold_queries": list(COLD_QUERIES[:cold_queries]),
            "procs": procs,
        },
        "corpus": {
            "path": str(corpus),
            "articles": articles,
            "files": len(files),
            "bytes": corpus_bytes,
            "generator": info,
        },
        "query_mix": [spec.to_json() for spec in mix],
        "skipped_systems": missing,
        "systems": {},
    }
    work.mkdir(parents=True, exist_ok=True)
    for name in runnable:
        index = work / name
        if index.exists():
            shutil.rmtree(index)
        _log(f"[{name}] building index of {articles} articles ...")
        if name == "ours":
            build = _ours_build(corpus, index, procs)
        else:
            build = run_child(
                _py(
                    str(REPO / "bench" / "baselines.py"),
                    "build",
                    "--system",
                    name,
                    "--corpus",
                    str(corpus),
                    "--index",
                    str(index),
                )
            )
        built = build.json()
        seconds = float(built["seconds"])
        entry: dict[str, Any] = {
            "label": LABELS[name],
            "ingest": {
                **built,
                "wall_s": build.wall,
                "docs_per_s": articles / seconds,
                "mb_per_s": corpus_bytes / 1e6 / seconds,
                "peak_rss_mb": build.maxrss_kb / 1024,
            },
            "index_bytes": dir_size(index),
        }
        if name == "ours":
            _log("[ours] re-index, nothing changed ...")
            entry["noop_reindex"] = {**_ours_build(corpus, index, procs).json()}
            saved = change_files(corpus, change_fraction)
            try:
                _log(f"[ours] re-index after changing {len(saved)} files ...")
                changed = _ours_build(corpus, index, procs).json()
            finally:
                _restore(saved)
            entry["change_reindex"] = {**changed, "files_changed": len(saved)}
            entry["index_bytes"] = dir_size(index)
        _log(f"[{name}] warm queries ({len(mix)} queries x {rounds} rounds) ...")
        if name == "ours":
            query = run_child(
                _py(
                    str(Path(__file__).resolve()),
                    "_child",
                    "query",
                    "--corpus",
                    str(corpus),
                    "--index",
                    str(index),
                    "--rounds",
                    str(rounds),
                )
            )
        else:
            query = run_child(
                _py(
                    str(REPO / "bench" / "baselines.py"),
                    "query",
                    "--system",
                    name,
                    "--corpus",
                    str(corpus),
                    "--index",
                    str(index),
                    "--rounds",
                    str(rounds),
                )
            )
        entry["query"] = query.json()
        if name == "ours" and info.get("ground_truth", True):
            _log("[ours] agreement with the ground truth ...")
            entry["agreement"] = run_child(
                _py(
                    str(Path(__file__).resolve()),
                    "_child",
                    "agreement",
                    "--corpus",
                    str(corpus),
                    "--index",
                    str(index),
                )
            ).json()
        _log(f"[{name}] cold queries ...")
        entry["cold"] = _cold(name, corpus, index, mix, cold_runs, COLD_QUERIES[:cold_queries])
        report["systems"][name] = entry
    if profile is not None and "ours" in runnable:
        report["profile"] = _profile(corpus, work / "ours-profile", profile)
    report["meta"]["loadavg_end"] = list(os.getloadavg())
    report["ratios"] = ratio_table(report)
    return report


def measure_ingest(
    corpus: Path,
    work: Path,
    *,
    systems: Sequence[str] = ("ours", "whoosh"),
    repeat: int = 3,
    procs: int | None = None,
) -> dict[str, Any]:
    """Full builds only, ``repeat`` rounds, the systems taking turns within each round.

    On a shared machine the load changes from minute to minute; builds of every system in
    the same round see about the same load, so each round gives one ratio, and the spread
    of the ratios over the rounds is the honest error bar.
    """
    corpus = corpus.resolve()
    articles = len(load_manifest(corpus))
    runnable, missing = available_systems(systems)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in runnable}
    loads: list[list[float]] = []
    work.mkdir(parents=True, exist_ok=True)
    for round_ in range(repeat):
        loads.append(list(os.getloadavg()))
        for name in runnable:
            index = work / name
            if index.exists():
                shutil.rmtree(index)
            _log(f"[{name}] build {round_ + 1}/{repeat} of {articles} articles ...")
            if name == "ours":
                child = _ours_build(corpus, index, procs)
            else:
                child = run_child(_py(str(REPO / "bench" / "baselines.py"), "build", "--system",
                                      name, "--corpus", str(corpus), "--index", str(index)))
            built = child.json()
            runs[name].append({"seconds": float(built["seconds"]), "wall_s": child.wall,
                               "docs_per_s": articles / float(built["seconds"]),
                               "peak_rss_mb": child.maxrss_kb / 1024})
            shutil.rmtree(index, ignore_errors=True)
    loads.append(list(os.getloadavg()))
    ratios: dict[str, list[float]] = {}
    if "ours" in runs:
        for name in runnable:
            if name != "ours":
                ratios[name] = [o["docs_per_s"] / t["docs_per_s"]
                                for o, t in zip(runs["ours"], runs[name], strict=True)]
    return {"corpus": str(corpus), "articles": articles, "repeat": repeat, "runs": runs,
            "ratios": ratios, "loadavg": loads, "skipped_systems": missing}


def format_ingest(report: Mapping[str, Any]) -> str:
    """The ingest-only report: docs/s per system and round, and the ratio spread."""
    rows = []
    for name, runs in report["runs"].items():
        rates = [r["docs_per_s"] for r in runs]
        rows.append([LABELS[name], *(_fmt(x) for x in rates), _fmt(statistics.median(rates))])
    header = ["ingest docs/s", *(f"round {i + 1}" for i in range(report["repeat"])), "median"]
    out = [f"Corpus {report['corpus']}: {report['articles']:,} articles; load average "
           + ", ".join(f"{la[0]:.1f}" for la in report["loadavg"]) + " (round starts, end)",
           _table(header, rows)]
    for name, values in report["ratios"].items():
        out.append(f"ours ÷ {LABELS[name]}: " + ", ".join(f"{v:.2f}x" for v in values)
                   + f" (median {statistics.median(values):.2f}x, "
                   f"{min(values):.2f}-{max(values):.2f}x)")
    return "\n".join(out)


def _cold(
    name: str,
    corpus: Path,
    index: Path,
    mix: Sequence[QuerySpec],
    runs: int,
    queries: Sequence[str],
) -> dict[str, Any]:
    # ``python -m searchlib`` imports from the working directory first.
    engine = os.environ.get(ENGINE_ENV) if name == "ours" else None

    def once(spec: QuerySpec) -> ChildRun:
        if name == "ours":
            cmd = [*_search_command(), "query", *_spec_cli_args(spec), "--index", str(index),
                   "--json"]
        else:
            cmd = _py(str(REPO / "bench" / "baselines.py"), "once", "--system", name,
                      "--corpus", str(corpus), "--index", str(index),
                      "--spec", json.dumps(spec.to_json()))
        return run_child(cmd, cwd=Path(engine or REPO), bytecode=True)

    walls: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    specs = [s for s in mix if s.name in queries]
    if specs:
        # One untimed run first leaves what an installed program has on its second start:
        # compiled bytecode (compiling searchlib's modules is ~60 ms of a cold query where
        # caching is off, as this machine's environment sets it) and its files in the OS
        # cache. Every system gets the same.
        once(specs[0])
    for spec in specs:
        for _ in range(runs):
            child = once(spec)
            # ``search query`` exits 1 when nothing matched: still a valid answer.
            if child.returncode not in (0, 1) or not child.stdout.strip():
                errors[spec.name] = child.stderr.strip()[-500:] or f"exit {child.returncode}"
                break
            walls.setdefault(spec.name, []).append(child.wall * 1000.0)
    every = [w for ws in walls.values() for w in ws]
    return {
        "errors": errors,
        "median_ms": statistics.median(every) if every else 0.0,
        "min_ms": min(every, default=0.0),
        "per_query_median_ms": {k: statistics.median(v) for k, v in walls.items()},
        "runs": len(every),
    }


def _profile(corpus: Path, index: Path, out: Path) -> dict[str, Any]:
    """Profile our ingest in one process (procs=1) so that cProfile sees all the work."""
    import pstats

    if index.exists():
        shutil.rmtree(index)
    _log("[ours] profiling a single-process ingest ...")
    out.parent.mkdir(parents=True, exist_ok=True)
    _ours_build(corpus, index, 1, profile=out).json()
    stats = pstats.Stats(str(out))
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({func})",
                "calls": ncalls,
                "tottime_s": tottime,
                "cumtime_s": cumtime,
                "tottime_pct": 100.0 * tottime / total,
            }
        )
    shutil.rmtree(index, ignore_errors=True)
    return {
        "file": str(out),
        "total_s": total,
        "by_tottime": sorted(rows, key=lambda r: -r["tottime_s"])[:25],
        "by_cumtime": sorted(rows, key=lambda r: -r["cumtime_s"])[:25],
    }


def _short(filename: str) -> str:
    for marker in ("/engine/", "site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _export_engine(rev: str, dest: Path) -> dict[str, str]:
    """Extract ``searchlib/`` as committed at ``rev`` into ``dest``.

    Other engineers edit the working tree while a long run goes on; a committed snapshot keeps
    one run on one version of the engine.
    """
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if commit.returncode != 0:
        raise ValueError(f"unknown revision {rev!r}: {commit.stderr.strip()}")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit.stdout.strip(), "searchlib"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return {"source": f"commit {commit.stdout.strip()}", "path": str(dest)}


def _git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


# ---------------------------------------------------------------------------------------------
# Figures, ratios, tables


def _figures(entry: Mapping[str, Any]) -> dict[str, float]:
    """The comparable figures of one system (re-index figures of a baseline are rebuilds)."""
    ingest = entry["ingest"]
    figures = {
        "ingest_docs_per_s": ingest["docs_per_s"],
        "ingest_mb_per_s": ingest["mb_per_s"],
        "peak_rss_mb": ingest["peak_rss_mb"],
        "index_mb": entry["index_bytes"] / 1e6,
        "noop_reindex_s": entry.get("noop_reindex", ingest)["seconds"],
        "change_reindex_s": entry.get("change_reindex", ingest)["seconds"],
        "p50_ms": entry["query"]["p50_ms"],
        "p95_ms": entry["query"]["p95_ms"],
        "p99_ms": entry["query"]["p99_ms"],
        "first_p50_ms": entry["query"]["first_p50_ms"],
        "first_p95_ms": entry["query"]["first_p95_ms"],
        "cold_ms": entry["cold"]["median_ms"],
    }
    return {k: float(v) for k, v in figures.items()}


def ratio_table(report: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """``{metric: {baseline: ours / baseline}}`` for every baseline that ran."""
    systems = report["systems"]
    if "ours" not in systems:
        return {}
    ours = _figures(systems["ours"])
    table: dict[str, dict[str, float | None]] = {}
    for metric in METRICS:
        row: dict[str, float | None] = {}
        for name, entry in systems.items():
            if name == "ours":
                continue
            theirs = _figures(entry)[metric]
            # A figure of 0 means the measure failed (its errors are listed): no ratio.
            row[name] = ours[metric] / theirs if theirs and ours[metric] else None
        table[metric] = row
    return table


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{_fmt(value)}x"


def _fmt(value: float) -> str:
    if value == 0 or math.isinf(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(report: Mapping[str, Any]) -> str:
    """The report as plain-text tables."""
    corpus = report["corpus"]
    systems = report["systems"]
    names = list(systems)
    out = [
        f"Corpus {corpus['path']}: {corpus['articles']:,} articles in {corpus['files']:,} files, "
        f"{corpus['bytes'] / 1e6:.1f} MB. CPUs {report['meta']['cpus']}, load average "
        f"{report['meta']['loadavg_start'][0]:.1f} at start, "
        f"{report['meta'].get('loadavg_end', [0.0])[0]:.1f} at end. searchlib from "
        f"{report['meta'].get('engine', {}).get('source', 'working tree')}.",
        "",
    ]
    figures = {n: _figures(systems[n]) for n in names}
    header = ["measure", *(systems[n]["label"] for n in names)]
    rows = [[METRICS[m][0], *(_fmt(figures[n][m]) for n in names)] for m in METRICS]
    out += [_table(header, rows), ""]
    if "ours" in systems:
        ours = systems["ours"]
        out.append(
            "Re-index (ours): nothing changed {:.2f}s ({} unchanged); {} files changed "
            "{:.2f}s ({} updated). Baselines have no incremental update: their re-index "
            "figures are full rebuilds.".format(
                ours["noop_reindex"]["seconds"],
                ours["noop_reindex"]["unchanged"],
                ours["change_reindex"]["files_changed"],
                ours["change_reindex"]["seconds"],
                ours["change_reindex"]["updated"],
            )
        )
        agree = ours.get("agreement")
        if agree:
            recall = ", ".join(f"{k} {v:.0%}" for k, v in agree["recall"].items())
            extra = ", ".join(f"{k} {v:.1f}" for k, v in agree["extra_per_article"].items())
            out.append(
                f"Ground truth (ours, {agree['articles']} of {agree['manifest_articles']} "
                f"articles matched): title exact {agree['title_exact']:.0%}, publication date "
                f"exact {agree['date_exact']:.0%}, a date given to undated articles "
                f"{agree['date_on_undated']:.0%}; entity recall {recall}; extra values per "
                f"article {extra}."
            )
        out.append("")
    ratios = report.get("ratios") or {}
    if ratios:
        baselines = [n for n in names if n != "ours"]
        header = ["ours ÷ baseline", "better if", *(systems[n]["label"] for n in baselines)]
        rows = [
            [METRICS[m][0], METRICS[m][1], *(_ratio_cell(ratios[m][n]) for n in baselines)]
            for m in METRICS
        ]
        out += [_table(header, rows), ""]
    header = ["query", *(systems[n]["label"] for n in names)]
    rows = [
        [
            spec["name"] + " " + _describe(spec),
            *(_cell(systems[n]["query"], spec["name"]) for n in names),
        ]
        for spec in report["query_mix"]
    ]
    out += ["Per query: matches / median warm latency", _table(header, rows), ""]
    for n in names:
        for query, error in systems[n]["query"].get("errors", {}).items():
            out.append(f"FAILED {systems[n]['label']} {query}: {error}")
        for query, error in systems[n]["cold"].get("errors", {}).items():
            out.append(f"FAILED cold {systems[n]['label']} {query}: {error}")
    if report.get("skipped_systems"):
        out += [f"Not run: {n} ({why})" for n, why in report["skipped_systems"].items()]
    profile = report.get("profile")
    if profile:
        out += [
            "",
            f"Profile of a single-process ingest (total {profile['total_s']:.1f}s), "
            "top functions by own time:",
        ]
        out.append(
            _table(
                ["function", "calls", "own s", "own %", "cum s"],
                [
                    [
                        r["function"][:90],
                        str(r["calls"]),
                        _fmt(r["tottime_s"]),
                        f"{r['tottime_pct']:.1f}",
                        _fmt(r["cumtime_s"]),
                    ]
                    for r in profile["by_tottime"][:20]
                ],
            )
        )
        out += ["", "Top functions by cumulative time:"]
        out.append(
            _table(
                ["function", "cum s"],
                [[r["function"][:90], _fmt(r["cumtime_s"])] for r in profile["by_cumtime"][:20]],
            )
        )
    return "\n".join(out)


def _cell(query: Mapping[str, Any], name: str) -> str:
    if name in query.get("errors", {}):
        return "FAILED"
    return f"{query['totals'].get(name, 0)} / {_fmt(query['per_query_median_ms'].get(name, 0.0))}ms"


def _describe(spec: Mapping[str, Any]) -> str:
    parts = [spec["text"]]
    parts += [f"actor={a}" for a in spec["actors"]]
    parts += [f"location={loc}" for loc in spec["locations"]]
    if spec["date_from"] or spec["date_to"]:
        parts.append(f"date={spec['date_from'] or ''}..{spec['date_to'] or ''}")
    if spec["sort"] == "date":
        parts.append("sort=date")
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        required=True,
        help="corpus from gen_corpus.py or real_corpus.py; repeat to measure several in one run",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to save the JSON report (default bench/results/scale-NAME.json; with "
        "several corpora, each goes to its default)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for the indexes (default: a temporary folder in bench/results)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="comma-separated subset of " + ",".join(SYSTEMS),
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the query mix")
    parser.add_argument("--cold-runs", type=int, default=3, help="runs per cold query")
    parser.add_argument(
        "--cold-queries",
        type=int,
        default=len(COLD_QUERIES),
        choices=range(1, len(COLD_QUERIES) + 1),
        help=f"how many of {', '.join(COLD_QUERIES)} to time cold (default all)",
    )
    parser.add_argument("--procs", type=int, default=None, help="our indexer's worker processes")
    parser.add_argument(
        "--change",
        type=float,
        default=0.01,
        help="fraction of files changed before the second re-index",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile a single-process ingest of ours (cProfile)",
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="only full builds, --repeat rounds with the systems taking turns (ratio spreads)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of --ingest-only builds")
    parser.add_argument(
        "--engine-commit",
        metavar="REV",
        default=None,
        help="benchmark searchlib as committed at REV (e.g. HEAD) instead of the working tree",
    )
    args = parser.parse_args(argv)
    corpora: list[Path] = []
    for corpus in args.corpus:
        if (corpus / "manifest.jsonl").is_file():
            corpora.append(corpus)
        elif not corpus.exists():
            # The real-length corpus needs the shared corpora; without them it is not made.
            _log(f"skipped: no corpus at {corpus} (make it with bench/gen_corpus.py, or "
                 "bench/real_corpus.py, which needs the shared corpora)")
        else:
            parser.error(f"{corpus} has no manifest.jsonl: make it with bench/gen_corpus.py "
                         "or bench/real_corpus.py")
    if not corpora:
        return 0
    status = 0
    summary: list[str] = []
    for corpus in corpora:
        status = max(status, _run_corpus(args, corpus, len(corpora) == 1, summary))
    if len(summary) > 1:
        print("\nIngest, ours ÷ naive Whoosh, per corpus: " + "; ".join(summary))
    return status


CACHE = RESULTS / "cache"
"""searchlib's cache folder for the benchmark's children (unless ``SEARCHLIB_CACHE_DIR`` is
set): the user-wide one keeps the four newest compiled gazetteers, and other checkouts on the
same machine evict ours, so a timed build would compile it again (5-15 s)."""


def warm_cache(work: Path) -> None:
    """Compile the gazetteer into the benchmark's cache before anything is timed, as any
    build after a user's first finds it (an index of an empty folder loads it)."""
    os.environ.setdefault("SEARCHLIB_CACHE_DIR", str(CACHE))
    empty = work / "warm-corpus"
    (empty / "docs").mkdir(parents=True, exist_ok=True)
    _ours_build(empty, work / "warm-index", 1).json()
    shutil.rmtree(empty, ignore_errors=True)
    shutil.rmtree(work / "warm-index", ignore_errors=True)


def _run_corpus(args: argparse.Namespace, corpus: Path, single: bool, summary: list[str]) -> int:
    name = corpus.resolve().name
    kind = "ingest" if args.ingest_only else "scale"
    out = (args.json if single else None) or RESULTS / f"{kind}-{name}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Absolute: children run in other working directories.
    work = (args.work or Path(tempfile.mkdtemp(prefix=f"work-{name}-", dir=RESULTS))).resolve()
    profile = RESULTS / f"scale-{name}-ingest.prof" if args.profile else None
    engine: dict[str, str] = {"source": "working tree", "path": str(REPO)}
    systems = [s for s in args.systems.split(",") if s]
    try:
        if args.engine_commit:
            engine = _export_engine(args.engine_commit, work / "engine")
            os.environ[ENGINE_ENV] = engine["path"]
        if "ours" in systems:
            warm_cache(work)
        if args.ingest_only:
            report = measure_ingest(corpus, work, systems=systems, repeat=args.repeat,
                                    procs=args.procs)
        else:
            report = measure(
                corpus,
                work,
                systems=systems,
                rounds=args.rounds,
                cold_runs=args.cold_runs,
                cold_queries=args.cold_queries,
                procs=args.procs,
                change_fraction=args.change,
                profile=profile,
            )
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.ingest_only:
        report["engine"] = engine
        text = format_ingest(report)
        whoosh = report["ratios"].get("whoosh")
        if whoosh:
            summary.append(f"{name} {statistics.median(whoosh):.2f}x "
                           f"({min(whoosh):.2f}-{max(whoosh):.2f}x)")
    else:
        report["meta"]["engine"] = engine
        text = format_report(report)
        ratio = (report.get("ratios") or {}).get("ingest_docs_per_s", {}).get("whoosh")
        if ratio:
            summary.append(f"{name} {ratio:.2f}x")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(text)
    print(f"\nSaved {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
