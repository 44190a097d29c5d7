"""Parallel ingest: worker processes that read, clean, extract *and* index, one segment each.

Whoosh's multi-process writer (``MpWriter``) has its parent pickle every document into job
files that sub-processes load and analyse. With reading, cleaning and extraction in a separate
process pool in front of it, every article crossed process boundaries twice (pool -> parent
-> writer), and the pool phase and the writer phase of a batch took turns instead of
overlapping: a build spent about as long moving and waiting as indexing.

Here each worker process takes file paths from a shared queue and runs the whole chain for
them, writing the documents into a Whoosh segment of its own (a ``SegmentWriter`` that does
not take the index lock, as ``MpWriter``'s sub-writers do). The parent receives only small
per-file records (keys, content hashes, document numbers inside the worker's segment) for
its manifest and progress bar, and when a batch is done it commits the finished segments
with a single table-of-contents write (:func:`commit_segments`), the same commit point as
any Whoosh commit. Segment files of a batch that never gets committed (a crash, Ctrl-C) are
named by no table of contents; Whoosh deletes such files at the next commit. The same
workers (:class:`SegmentWorkers`) serve every batch of a build, each starting a new segment
per batch, so their caches stay warm; they die with their parent.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from whoosh.codec.whoosh3 import W3Codec
from whoosh.writing import SegmentWriter

from ...errors import SearchlibError
from ...gcsettings import INDEXING_THRESHOLDS, fewer_collections
from ...models import SkippedFile
from .. import DocHandle, FileResult

__all__ = ["FieldProcessor", "SegmentBuilder", "SegmentWorkers", "WorkerError",
           "build_segments", "commit_segments"]

#: Turns one file into ``(documents, skipped)``: each document is ``(key, content hash,
#: Whoosh fields)``. Runs in the worker processes.
FieldProcessor = Callable[[str], tuple[list[tuple[str, str, dict[str, Any]]], list[SkippedFile]]]

# Memory for each writer's in-memory posting buffer before it spills a sorted run to disk
# (Whoosh's estimate, about 1.4x what the postings really take). Enough for a default batch
# of a 10k-article build (about 1,200 articles per worker) not to spill; two workers and
# their parent stay well under the 500 MB a 100k-article build may use.
_LIMIT_MB = 128
# zlib level of posting blocks. Whoosh's default, 3, costs a quarter more time than 1 for
# posting lists about 3% smaller; each block records its level, so any reader reads either.
_COMPRESSION = 1
# prctl option: a signal sent to this process when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
# The most paths handed to a worker at once (see _chunk_size).
_MAX_CHUNK = 16
# How long the parent waits for a message before checking that its workers are alive.
_POLL_SECONDS = 0.5


class SegmentBuilder:
    """Writes the documents of the files it is given into one new, uncommitted segment."""

    def __init__(self, ix: Any, process: FieldProcessor, part: int = 0,
                 limitmb: int = _LIMIT_MB) -> None:
        # _lk=False: the parent holds the index (and our own write lock) for the whole batch.
        self.writer = SegmentWriter(ix, _lk=False, limitmb=limitmb,
                                    codec=W3Codec(compression=_COMPRESSION))
        self.process = process
        self.part = part

    def add_file(self, path: str) -> FileResult:
        """Process ``path`` and add its documents to the segment."""
        docs, skipped = self.process(path)
        records = []
        for key, content_hash, fields in docs:
            records.append((key, content_hash, DocHandle(self.part, self.writer.docnum)))
            self.writer.add_document(**fields)
        return FileResult(path, tuple(records), tuple(skipped))

    def finish(self) -> Any | None:
        """Write the segment's files; return the segment, or ``None`` if it holds nothing."""
        if not self.writer._added:
            self.writer._close_segment()
            return None
        # Not writer.commit(): the parent commits every worker's segment at once.
        return self.writer._finalize_segment()

    def cancel(self) -> None:
        """Drop the segment (its temporary files go; written files wait for clean-up)."""
        self.writer._close_segment()


def build_segments(ix: Any, paths: Sequence[str], process: FieldProcessor, procs: int,
                   on_file: Callable[[FileResult], None]) -> list[Any | None]:
    """Index ``paths`` into new segments with ``procs`` worker processes (in-process for 1).

    ``on_file`` is called in this process for every file as it is done, in completion order.
    Returns the segments, indexed by the ``part`` of the records' handles (``None`` for a
    worker that wrote nothing). Nothing is committed. A worker's error is raised here; if a
    worker dies, a :class:`SearchlibError` says so. On any error or interrupt the workers
    are stopped.
    """
    with SegmentWorkers(ix, process, procs) as workers:
        return workers.build(paths, on_file)


def _discard_uncommitted(ix: Any) -> None:
    """Delete segment files no table of contents names (a batch that will not be committed).

    Whoosh would delete them at the next commit; an interrupted build of a large batch can
    leave hundreds of megabytes, so they go now. The caller holds the write lock.
    """
    from whoosh.index import clean_files

    try:
        toc = ix._read_toc()
        clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
        ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()
    except Exception:  # best effort: the next commit cleans up anyway
        pass


class SegmentWorkers:
    """Worker processes that build the segments of one batch after another.

    The workers are forked at the first batch of more than one process and kept until the
    context ends, so what they learn stays warm from batch to batch: the analyzer's stems,
    the gazetteer's memos, imported modules (a new process per batch started each cold, a
    few percent of a build). Between batches each worker waits for the parent's go-ahead,
    so that each one takes exactly one end-of-batch marker from the shared queue.
    """

    def __init__(self, ix: Any, process: FieldProcessor, procs: int) -> None:
        self.ix = ix
        self.process = process
        self.procs = max(1, procs)
        self._workers: list[Any] = []
        self._controls: list[Any] = []
        self._tasks: Any = None
        self._results: Any = None
        self._batches = 0

    def __enter__(self) -> SegmentWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build(self, paths: Sequence[str], on_file: Callable[[FileResult], None],
              procs: int | None = None) -> list[Any | None]:
        """Index ``paths`` into new, uncommitted segments (see :func:`build_segments`).

        ``procs=1`` runs this batch in this process (not worth waking the workers for a few
        files). After an error or interrupt the workers are gone and the batch's files too.
        """
        try:
            if (procs or self.procs) <= 1:
                return self._build_here(paths, on_file)
            return self._build_in_workers(paths, on_file)
        except BaseException:
            self._stop()
            _discard_uncommitted(self.ix)
            raise

    def close(self) -> None:
        """Let the workers finish and exit."""
        for control in self._controls:
            control.put(False)
        for worker in self._workers:
            worker.join(timeout=10)
        self._stop()

    def _build_here(self, paths: Sequence[str],
                    on_file: Callable[[FileResult], None]) -> list[Any | None]:
        builder = SegmentBuilder(self.ix, self.process)
        with fewer_collections():
            try:
                for path in paths:
                    on_file(builder.add_file(path))
            except BaseException:
                builder.cancel()
                raise
            return [builder.finish()]

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._tasks = ctx.Queue()
        self._results = ctx.Queue()
        self._controls = [ctx.Queue() for _ in range(self.procs)]
        self._workers = [ctx.Process(target=_work, daemon=True, args=(
            self.ix, self.process, part, self._tasks, self._controls[part], self._results,
            os.getpid()))
            for part in range(self.procs)]
        # Objects alive now (the gazetteer, the rules) are frozen out of the workers' garbage
        # collections, which would otherwise walk them and copy their pages on write. No
        # collection first: walking the loaded gazetteer took 0.3 s of every build's start,
        # and the few cycles it would free stay frozen only for the workers' lifetime.
        gc.freeze()
        try:
            for worker in self._workers:
                worker.start()
        finally:
            gc.unfreeze()  # in this process only: each worker keeps its frozen copy

    def _build_in_workers(self, paths: Sequence[str],
                          on_file: Callable[[FileResult], None]) -> list[Any | None]:
        if not self._workers:
            self._start()
        elif self._batches:
            for control in self._controls:  # the previous batch is done: go on
                control.put(True)
        self._batches += 1
        tasks, results, procs = self._tasks, self._results, self.procs
        step = _chunk_size(len(paths), procs)
        for start in range(0, len(paths), step):
            tasks.put(paths[start:start + step])
        for _ in range(procs):
            tasks.put(None)
        segments: list[Any | None] = [None] * procs
        finished = 0
        dead_seen = False
        while finished < procs:
            try:
                message = results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                # A worker that failed sent its error before exiting: read for one more
                # round before blaming its death alone.
                dead = _dead(self._workers)
                if dead is not None and dead_seen:
                    raise WorkerError(
                        f"an indexing worker process died ({_exit_reason(dead)}); "
                        "nothing of this batch was committed") from None
                dead_seen = dead is not None
                continue
            if message[0] == "files":
                for result in message[1]:
                    on_file(result)
            elif message[0] == "segment":
                segments[message[1]] = message[2]
                finished += 1
            else:
                _, _part, cause, details = message
                log = _write_log(self.ix, details)
                where = f"details in {log}" if log else "no log file could be written"
                raise WorkerError(f"an indexing worker failed: {cause}; nothing of this batch "
                                  f"was committed ({where})") from None
        return segments

    def _stop(self) -> None:
        """Stop the workers at once (whatever they are doing) and close the queues."""
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        if self._tasks is not None:
            # Paths still buffered for stopped workers are dropped: without this the process
            # would wait at exit for someone to read them (after Ctrl-C, forever).
            self._tasks.cancel_join_thread()
            for channel in (self._tasks, self._results, *self._controls):
                channel.close()
        self._workers, self._controls = [], []
        self._tasks = self._results = None
        self._batches = 0


def _chunk_size(files: int, procs: int) -> int:
    """How many paths go to a worker at a time, and how many files' records come back in one
    message.

    One queue message per file cost each worker 1.2-1.35 s of CPU outside its work per 1,000
    real articles (the queue's lock, its feeder thread waking for every record, pickling),
    0.23-0.28 s in chunks of 16: about 5% of a worker's CPU (``bench/ingest_profile.py``).
    They stay small enough that each worker takes at least eight of them, so the two
    workers of a batch still finish within a chunk or so of each other.
    """
    return max(1, min(_MAX_CHUNK, files // (procs * 8)))


def _dead(workers: Sequence[Any]) -> int | None:
    """The exit code of a worker that has stopped, if any (during a batch none should)."""
    for worker in workers:
        if worker.exitcode is not None:
            return int(worker.exitcode)
    return None


class WorkerError(SearchlibError):
    """An indexing worker process failed or died; the message names the root cause."""


def _root_cause(exc: BaseException) -> str:
    """One line for the innermost cause of ``exc`` (``No space left on device``, say)."""
    while exc.__cause__ is not None or (exc.__context__ is not None
                                        and not exc.__suppress_context__):
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}{f' ({exc.filename})' if exc.filename else ''}"
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}{': ' + text if text else ''}"


def _exit_reason(code: int) -> str:
    """Words for a worker's exit code (negative: the signal that killed it)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def _write_log(ix: Any, details: str) -> str | None:
    """Append a worker's traceback to ``indexing-errors.log`` beside the index (or, when
    that cannot be written, a full disk say, to one in the temporary directory); its path."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    candidates = [os.path.join(os.path.dirname(os.path.abspath(ix.storage.folder)),
                               "indexing-errors.log"),
                  os.path.join(tempfile.gettempdir(), f"searchlib-indexing-errors-{os.getuid()}"
                                                      ".log")]
    for path in candidates:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {stamp} process {os.getpid()}\n{details}\n")
            return path
        except OSError:
            continue
    return None


def _work(ix: Any, process: FieldProcessor, part: int, tasks: Any, control: Any,
          results: Any, parent: int) -> None:
    """Worker main loop. Whatever goes wrong is sent to the parent as one message, with the
    traceback for the log; nothing is printed here (a worker's traceback used to run to 98
    lines on a full disk and hide the cause)."""
    try:
        _work_loop(ix, process, part, tasks, control, results, parent)
    except BaseException as exc:  # the loop reports its own errors; this is its last resort
        try:
            results.put(("error", part, _root_cause(exc), traceback.format_exc()))
            results.close()
            results.join_thread()
        finally:
            os._exit(1)


def _work_loop(ix: Any, process: FieldProcessor, part: int, tasks: Any, control: Any,
               results: Any, parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers,
    # so a worker must not die half-way through a message of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.set_threshold(*INDEXING_THRESHOLDS)  # see fewer_collections; this process ends after
    _die_with_parent(parent)
    while True:
        # A new writer per batch: it starts from the table of contents the parent has just
        # committed.
        builder = SegmentBuilder(ix, process, part)
        try:
            while (chunk := tasks.get()) is not None:
                results.put(("files", [builder.add_file(path) for path in chunk]))
            results.put(("segment", part, builder.finish()))
        except BaseException as exc:  # reported to the parent, which raises it
            details = traceback.format_exc()
            try:
                builder.cancel()
            except BaseException:  # a full disk can fail the clean-up too; the cause is above
                details += "\nwhile cancelling the segment:\n" + traceback.format_exc()
            results.put(("error", part, _root_cause(exc), details))
            results.close()
            results.join_thread()  # the message must leave before the process does
            os._exit(1)
        if not _wait_for_next_batch(control, parent):
            return


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent (pid ``parent``) dies.

    A worker inherits the index's write lock (an open file description) and has no use
    once its parent is gone: it must not keep the next indexer out (``kill -9`` of the
    indexer alone). Linux only; elsewhere :func:`_wait_for_next_batch` notices instead.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _wait_for_next_batch(control: Any, parent: int) -> bool:
    """Wait for the parent's word: True to take another batch, False to stop."""
    while True:
        try:
            return bool(control.get(timeout=_POLL_SECONDS))
        except queue.Empty:
            if os.getppid() != parent:
                return False


def commit_segments(ix: Any, segments: Sequence[Any | None],
                    drop: Mapping[int, Iterable[int]], delete_ids: Iterable[str]) -> None:
    """Commit new ``segments`` into ``ix`` in one table-of-contents write.

    ``drop`` maps a segment's position to document numbers in it that must not be live
    (duplicates of a document kept elsewhere); ``delete_ids`` are ``id`` values deleted from
    the segments already committed (replaced or removed documents). Small old segments are
    merged as in any Whoosh commit.
    """
    writer = ix.writer()  # takes Whoosh's own lock too
    try:
        for value in delete_ids:
            writer.delete_by_term("id", value)
        final = writer._merge_segments(None, None, None)
        for position, segment in enumerate(segments):
            if segment is None:
                continue
            for docnum in drop.get(position, ()):
                segment.delete_document(docnum)
            if segment.doc_count():
                final.append(segment)
        if writer._added:  # the merge policy folded old segments into this writer
            final.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(final)
    except BaseException:
        writer.cancel()
        raise
    writer._finish()
