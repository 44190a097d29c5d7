"""Crash safety and concurrency: kills at random points, durable commits, locks, readers.

The fault-injection test runs the indexer in a subprocess and SIGKILLs it (with its worker
processes) many times; after every kill the index must open, answer queries and hold every
document of the last commit the manifest records, and a final run must finish the job with
the exact document count and no duplicates. ``SEARCHLIB_CRASH_KILLS=N`` runs N kills instead
of the default 10 (``SEARCHLIB_CRASH_DOCS`` sets the corpus size).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from searchlib import build_index, open_index
from searchlib.cli import cli
from searchlib.engine.whoosh.check import check_index
from searchlib.engine.whoosh.storage import DurableFileStorage, open_storage
from searchlib.errors import IndexNotFoundError

REPO = Path(__file__).resolve().parents[1]

# The indexer run in a subprocess. Modes: "run" (plain), "file N" (SIGKILL itself once N files
# are processed), "manifest N" (SIGKILL itself just before writing a manifest that lists N or
# more files, i.e. after Whoosh committed them), "rebuild N" (as "file N" with rebuild=True).
_CHILD = r"""
import os, signal, sys
import searchlib.build as index_mod

src, ix, batch, procs, mode, arg = sys.argv[1:7]
batch, procs, arg = int(batch), int(procs), int(arg)
if mode == "manifest":
    name = "write_atomic" if hasattr(index_mod, "write_atomic") else "_write_atomic"
    real_write = getattr(index_mod, name)

    def write(path, data):
        if path.name == "manifest.json" and data.count('"mtime_ns"') >= arg:
            os.kill(os.getpid(), signal.SIGKILL)
        real_write(path, data)

    setattr(index_mod, name, write)
if mode == "swap":
    real_exchange = index_mod._exchange

    def exchange(new, current):
        real_exchange(new, current)
        os.kill(os.getpid(), signal.SIGKILL)

    index_mod._exchange = exchange


def progress(done, total):
    print(f"progress {done} {total}", flush=True)
    if mode in ("file", "rebuild") and done == arg:
        os.kill(os.getpid(), signal.SIGKILL)


index_mod.build_index([src], ix, procs=procs, batch_size=batch, progress=progress,
                      rebuild=mode in ("rebuild", "swap", "slow-rebuild"))
print("done", flush=True)
"""

_WORDS = ["officials", "said", "the", "convoy", "moved", "along", "the", "road", "toward",
          "border", "crossing", "while", "observers", "reported", "shelling", "near", "airport",
          "and", "talks", "on", "a", "ceasefire", "resumed", "in", "capital", "after", "aid",
          "agencies", "warned", "of", "shortages"]


def _make_corpus(folder: Path, count: int, start: int = 0) -> None:
    """``count`` small articles, each with a unique word ``markerNNNNN`` (numbered from start)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        rng = random.Random(i)
        body = " ".join(rng.choice(_WORDS) for _ in range(60))
        (folder / f"doc{i:05d}.txt").write_text(
            f"Field report {i}\n\nThe marker{i:05d} dispatch: {body}.\n", encoding="utf-8")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(src: Path, index_dir: Path, *, batch: int = 100, procs: int = 1,
           mode: str = "run", arg: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(src), str(index_dir), str(batch), str(procs), mode,
         str(arg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        start_new_session=True)


def _run(src: Path, index_dir: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = _start(src, index_dir, **kwargs)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """Read the child's stdout in a thread so the test can wait with a timeout."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _committed_keys(index_dir: Path) -> set[str]:
    """Keys the manifest says are in the index: what the last completed commit holds."""
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    return {k for entry in manifest["files"].values() for k in entry["indexed"]}


def _indexed_paths(index_dir: Path) -> list[str]:
    with open_index(index_dir) as ix:
        return [a.path for a in ix.articles()]


# --- durable storage ------------------------------------------------------------------------

class _CommitOrder:
    """Watch fsync, rename and remove under a folder and note every commit-point rule broken.

    A crash of the machine is survived only if, when a TOC is renamed into place, every file
    then in the folder has been fsynced (segment files and the TOC data), and if the folder is
    fsynced after that rename before any file is deleted or another TOC is switched.
    """

    _TOC = re.compile(r"^_MAIN_\d+\.toc$")

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        self.folder = folder
        self.violations: list[str] = []
        self.synced: set[str] = set()
        self.removed = 0
        self.dir_durable = True
        real_fsync, real_rename, real_remove = os.fsync, os.rename, os.remove

        def fsync(fd: int) -> None:
            real_fsync(fd)
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target == str(folder):
                self.dir_durable = True
            self.synced.add(os.path.basename(target))

        def rename(src: str, dst: str) -> None:
            name = os.path.basename(dst)
            if self._TOC.match(name):
                if not self.dir_durable:
                    self.violations.append(f"{name} switched before the last switch was synced")
                if os.path.basename(src) not in self.synced:
                    self.violations.append(f"{name} data not fsynced before the switch")
                for other in os.listdir(folder):
                    if other.endswith(".seg") and other not in self.synced:
                        self.violations.append(f"{other} not fsynced before {name}")
            real_rename(src, dst)
            if self._TOC.match(name):
                self.dir_durable = False

        def remove(path: str) -> None:
            if not self.dir_durable:
                self.violations.append(f"{os.path.basename(path)} deleted before the new TOC "
                                       "name was durable")
            real_remove(path)
            self.removed += 1

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "rename", rename)
        monkeypatch.setattr(os, "remove", remove)

    def exercise(self, storage: Any) -> None:
        """Create an index, commit three times (the last one merging) and read it back."""
        from whoosh import fields

        ix = storage.create_index(fields.Schema(id=fields.ID(stored=True, unique=True),
                                                body=fields.TEXT(stored=True)))
        for round_ in range(3):
            writer = ix.writer()
            for i in range(200):
                writer.add_document(id=f"{round_}-{i}", body=f"report {i} from round {round_}")
            writer.commit(optimize=round_ == 2)  # merges, then deletes the old segments
        assert storage.open_index().doc_count() == 600


def test_durable_storage_syncs_data_before_the_toc_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "whoosh"
    storage = open_storage(folder, create=True)
    assert isinstance(storage, DurableFileStorage)
    order = _CommitOrder(monkeypatch, folder)
    order.exercise(storage)
    assert order.violations == []
    assert order.removed > 0  # the merge really deleted files after a switch


def test_plain_whoosh_storage_breaks_the_commit_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why storage.py exists: Whoosh alone switches the TOC over data never synced."""
    from whoosh.filedb.filestore import FileStorage

    folder = tmp_path / "whoosh"
    storage = FileStorage(str(folder)).create()
    order = _CommitOrder(monkeypatch, folder)
    order.exercise(storage)
    assert any("not fsynced" in v for v in order.violations)
    assert any("deleted before" in v for v in order.violations)


# --- deterministic crash points -------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-corpus")
    _make_corpus(folder, 250)
    return folder


def test_first_build_killed_after_a_commit_opens_and_resumes(corpus: Path, tmp_path: Path
                                                              ) -> None:
    index_dir = tmp_path / "ix"
    killed = _run(corpus, index_dir, batch=100, mode="file", arg=150)
    assert killed.returncode == -signal.SIGKILL
    committed = _committed_keys(index_dir)
    assert len(committed) == 100
    assert set(_indexed_paths(index_dir)) >= committed
    assert check_index(index_dir).ok
    summary = build_index([corpus], index_dir, procs=1)
    assert summary.added == 150 and summary.unchanged == 100
    assert sorted(_indexed_paths(index_dir)) == sorted(str(p) for p in corpus.iterdir())


def test_crash_after_commit_of_changed_files_is_redone_cleanly(corpus: Path, tmp_path: Path
                                                               ) -> None:
    index_dir = tmp_path / "ix"
    build_index([corpus], index_dir, procs=1, batch_size=100)
    for path in sorted(corpus.iterdir())[:120]:
        path.write_text(path.read_text(encoding="utf-8") + "Updated.\n", encoding="utf-8")
    # Killed after Whoosh committed the first 100 changed files, before the manifest says so.
    killed = _run(corpus, index_dir, batch=100, mode="manifest", arg=0)
    assert killed.returncode == -signal.SIGKILL
    summary = build_index([corpus], index_dir, procs=1, batch_size=100)
    assert summary.updated == 120
    paths = _indexed_paths(index_dir)
    assert len(paths) == len(set(paths)) == 250
    assert check_index(index_dir).ok


def test_crash_after_commit_of_new_files_leaves_no_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    _make_corpus(src, 50)
    index_dir = tmp_path / "ix"
    build_index([src], index_dir, procs=1)
    _make_corpus(src, 200, start=50)
    # Killed once Whoosh holds 150 documents and the manifest still lists only the first 50.
    killed = _run(src, index_dir, batch=100, mode="manifest", arg=150)
    assert killed.returncode == -signal.SIGKILL
    assert len(_committed_keys(index_dir)) == 50 and len(_indexed_paths(index_dir)) == 150
    build_index([src], index_dir, procs=1, batch_size=100)
    paths = _indexed_paths(index_dir)
    assert len(paths) == len(set(paths)) == 250
    assert check_index(index_dir).ok


def test_crash_after_commit_of_an_update_that_deletes_is_an_interruption_not_damage(
        tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    _make_corpus(src, 60)
    index_dir = tmp_path / "ix"
    build_index([src], index_dir, procs=1)
    for path in sorted(src.iterdir())[:10]:
        path.unlink()
    # The final commit deletes the 10 documents; killed before the manifest says so.
    killed = _run(src, index_dir, batch=100, mode="manifest", arg=0)
    assert killed.returncode == -signal.SIGKILL
    assert len(_indexed_paths(index_dir)) == 50 and len(_committed_keys(index_dir)) == 60
    report = check_index(index_dir)
    assert report.ok, report.problems  # not "damaged": the next run finishes the update
    assert any("interrupted update" in n and "run `search index`" in n for n in report.notes)
    build_index([src], index_dir, procs=1)
    report = check_index(index_dir)
    assert report.ok and not report.notes, (report.problems, report.notes)


def test_interrupted_rebuild_is_finished_by_the_next_run(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([corpus], index_dir, procs=1)
    killed = _run(corpus, index_dir, batch=100, mode="rebuild", arg=130)  # after a commit
    assert killed.returncode == -signal.SIGKILL
    # The rebuild was writing beside the index: the old one is whole until it is replaced.
    assert len(_indexed_paths(index_dir)) == 250
    assert check_index(index_dir).ok
    build_index([corpus], index_dir, procs=1)
    assert len(_indexed_paths(index_dir)) == 250
    assert check_index(index_dir).ok
    assert not (index_dir / "rebuild.tmp").exists()


def test_rebuild_killed_during_the_swap_is_finished_by_the_next_writer(
        corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(corpus, src)
    index_dir = tmp_path / "ix"
    build_index([src], index_dir, procs=1)
    (src / "doc00000.txt").unlink()  # the rebuild has one file fewer
    killed = _run(src, index_dir, batch=100, mode="swap")
    assert killed.returncode == -signal.SIGKILL
    # Killed right after the new Whoosh folder went in, before its manifest and meta: the
    # index opens and holds the new documents, each once.
    paths = _indexed_paths(index_dir)
    assert len(paths) == len(set(paths)) == 249
    build_index([src], index_dir, procs=1)  # finishes the swap, then updates
    assert not (index_dir / "rebuild.json").exists()
    assert not (index_dir / "rebuild.tmp").exists()
    assert len(_indexed_paths(index_dir)) == 249
    assert check_index(index_dir, [src]).ok


def test_readers_see_the_old_index_until_a_rebuild_is_swapped_in(corpus: Path,
                                                                 tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build_index([corpus], index_dir, procs=1)
    kept = open_index(index_dir)  # kept open across the rebuild, as the TUI does
    before = kept.search("*", limit=300)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text("Fresh report\n\nA new convoy reached the border crossing.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "index", str(corpus), str(extra), "--index",
         str(index_dir), "--rebuild", "--procs", "1"], env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    seen: list[int] = []
    while proc.poll() is None:
        with open_index(index_dir) as ix:
            seen.append(ix.search("*", limit=1).total)
        total = kept.search("*", limit=1).total
        assert total in (250, 251), total
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert seen and set(seen) <= {250, 251} and seen[0] == 250
    after = kept.search("*", limit=300)
    ids = [h.id for h in after.hits]
    # The kept Index noticed the new folder and reopened: each document once, never mixed.
    assert after.total == 251 == len(set(ids)) and before.total == 250
    assert kept.search("fresh convoy").total >= 1
    assert sum(after.facets["year"].values()) <= 251
    kept.close()


# --- random kills ---------------------------------------------------------------------------

_BATCH = 100


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def _kill_at_random_point(proc: subprocess.Popen[str], rng: random.Random) -> str:
    """SIGKILL the indexer and its workers at a random point; say where it was."""
    lines = _lines(proc)
    if rng.random() < 0.2:
        delay = rng.uniform(0.0, 2.0)  # start-up: opening, scanning, creating the index
        time.sleep(delay)
        _kill_group(proc)
        return f"{delay:.2f}s after start"
    target: int | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            continue
        if line is None:
            break
        parts = line.split()
        if parts[:1] != ["progress"]:
            continue
        done, total = int(parts[1]), int(parts[2])
        if target is None:
            target = rng.randint(1, total)
            if rng.random() < 0.35:
                # Just after a batch boundary: the kill lands in or near that batch's commit.
                target = min(total, _BATCH * rng.randint(1, max(1, total // _BATCH)))
        if done >= target:
            # A short random delay lands some kills inside the commit that follows a batch.
            time.sleep(rng.uniform(0.0, 0.4))
            break
    _kill_group(proc)
    return f"file {target}"


def test_random_kills_lose_no_committed_document(tmp_path: Path) -> None:
    kills = int(os.environ.get("SEARCHLIB_CRASH_KILLS", "10"))
    docs = int(os.environ.get("SEARCHLIB_CRASH_DOCS", "1000"))
    seed = int(os.environ.get("SEARCHLIB_CRASH_SEED", str(time.time_ns() % 10_000)))
    rng = random.Random(seed)
    src = tmp_path / "corpus"
    _make_corpus(src, docs)
    index_dir = tmp_path / "ix"
    committed_ever: set[str] = set()
    log = []
    survived = in_window = runs = 0
    while survived < kills and runs < 3 * kills:
        n = runs
        runs += 1
        proc = _start(src, index_dir, batch=_BATCH, procs=2)
        where = _kill_at_random_point(proc, rng)
        if proc.returncode == 0:
            # The job got done: give the next runs new files and changed ones to work on.
            _make_corpus(src, 200, start=docs)
            for path in rng.sample(sorted(src.iterdir()), 50):
                path.write_text(path.read_text(encoding="utf-8") + f"Revised {n}.\n",
                                encoding="utf-8")
            docs += 200
            log.append(f"run {n} finished before the kill ({where}); 200 files added, "
                       "50 changed")
            continue
        committed = _committed_keys(index_dir)
        committed_ever |= committed
        try:
            paths = set(_indexed_paths(index_dir))
        except IndexNotFoundError:
            assert not committed, f"seed {seed}: index gone after kill {n} at {where}"
            paths = set()
        lost = committed_ever - paths
        assert not lost, f"seed {seed}: {len(lost)} committed documents lost at {where}"
        if paths:
            report = check_index(index_dir)
            assert report.ok, f"seed {seed}, kill {n} at {where}: {report.problems}"
            with open_index(index_dir) as ix:
                key = min(committed or paths)
                marker = re.search(r"doc(\d+)", key)
                assert marker and ix.search(f"marker{marker.group(1)}").total == 1
        survived += 1
        # More documents than the manifest lists: killed between Whoosh's commit and the
        # manifest write, the window the delete-before-add on the next run exists for.
        in_window += len(paths) > len(committed)
        log.append(f"kill {n} at {where}: {len(committed)} committed, {len(paths)} indexed")
    final = _run(src, index_dir, batch=_BATCH, procs=2)
    assert final.returncode == 0, final.stderr[-2000:]
    final_paths = _indexed_paths(index_dir)
    assert len(final_paths) == len(set(final_paths)) == docs, f"seed {seed}"
    report = check_index(index_dir)
    assert report.ok and report.documents == docs and report.up_to_date, report
    print(f"\nseed {seed}: {survived} kills survived ({in_window} between a Whoosh commit and "
          f"its manifest), documents lost: 0, final count {docs} with no duplicates")
    print("\n".join(log))


# --- locks and concurrent readers -----------------------------------------------------------

def _wait_for_lock_holder(index_dir: Path, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            text = (index_dir / "write.lock").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        if text.startswith(f"process {proc.pid} "):
            return text
        assert proc.poll() is None, "writer ended before taking the lock"
        time.sleep(0.05)
    raise AssertionError("writer never took the lock")


@pytest.fixture()
def busy_writer(tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen[str]]]:
    """An index of 200 documents being updated by a subprocess adding 800 more."""
    src = tmp_path / "corpus"
    _make_corpus(src, 200)
    index_dir = tmp_path / "ix"
    build_index([src], index_dir, procs=1)
    _make_corpus(src, 800, start=200)
    proc = _start(src, index_dir, batch=100, procs=1)
    try:
        yield src, index_dir, proc
    finally:
        _kill_group(proc)


def test_second_writer_is_told_who_holds_the_index(
        busy_writer: tuple[Path, Path, subprocess.Popen[str]]) -> None:
    src, index_dir, proc = busy_writer
    holder = _wait_for_lock_holder(index_dir, proc)
    result = CliRunner().invoke(cli, ["index", str(src), "--index", str(index_dir)])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert f"is being updated by process {proc.pid} since" in message
    assert holder in message and "--wait" in message


def test_wait_flag_waits_for_the_writer_then_runs(
        busy_writer: tuple[Path, Path, subprocess.Popen[str]]) -> None:
    src, index_dir, proc = busy_writer
    _wait_for_lock_holder(index_dir, proc)
    result = CliRunner().invoke(cli, ["index", str(src), "--index", str(index_dir), "--wait",
                                      "--json"])
    assert result.exit_code == 0, result.output
    # It ran after the first writer: everything that one added is already there.
    summary = json.loads(result.stdout)
    assert summary["added"] == 0 and summary["unchanged"] == 1000
    assert proc.wait(timeout=60) == 0


def test_readers_keep_working_while_a_writer_commits(
        busy_writer: tuple[Path, Path, subprocess.Popen[str]]) -> None:
    _src, index_dir, proc = busy_writer
    failures: list[str] = []
    counts: list[int] = []
    runner = CliRunner()
    queries = 0
    with open_index(index_dir) as long_lived:
        while proc.poll() is None:
            # A reader that stays open (the TUI) and one that opens per query (the CLI).
            total = long_lived.search("marker00042 OR dispatch").total
            counts.append(total)
            result = runner.invoke(cli, ["query", "dispatch", "--index", str(index_dir),
                                         "--limit", "3"])
            if result.exit_code != 0:
                failures.append(result.output.strip())
            queries += 2
    assert proc.returncode == 0
    assert failures == []
    assert queries >= 4
    assert counts == sorted(counts) and counts[0] >= 200  # never fewer than already committed
    with open_index(index_dir) as ix:
        assert ix.search("dispatch").total == 1000


def test_killed_writer_does_not_block_the_next(tmp_path: Path) -> None:
    """kill -9 of the indexer alone (its pool workers are not signalled) frees the lock."""
    src = tmp_path / "corpus"
    _make_corpus(src, 400)
    index_dir = tmp_path / "ix"
    proc = _start(src, index_dir, batch=100, procs=2)
    lines = _lines(proc)
    _wait_for_lock_holder(index_dir, proc)
    while (line := lines.get(timeout=300)) is not None and not line.startswith("progress 50 "):
        pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # The lock file still names the dead process; flock itself died with it.
    assert (index_dir / "write.lock").read_text().startswith(f"process {proc.pid} ")
    try:
        summary = build_index([src], index_dir, procs=1, batch_size=100)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # orphaned workers, if any survived
    assert summary.added + summary.unchanged == 400
