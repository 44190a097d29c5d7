"""Building and updating an index: read -> clean -> extract -> write, incrementally.

Layout of an index directory::

    whoosh/         the Whoosh segments and table of contents
    manifest.json   per source file: mtime, size and the content hash of each record in it
    meta.json       schema version, sources, last update, skipped files
    rebuild.tmp/    while ``--rebuild`` runs: the new index, swapped in once complete
    rebuild.json    while the new index is being swapped in (see :func:`_swap_in`)

Only added, changed and removed files are touched on a re-run. Identical cleaned texts are
indexed once; the other paths are recorded in the manifest and shown on the kept document.
The engine is reached through its :class:`~searchlib.engine.Writer` only (the Whoosh engine's:
worker processes read, clean, extract and index files into segments of their own,
:mod:`searchlib.engine.whoosh.segments`); commits happen in batches so that an interrupted build
keeps what it committed, and the manifest is rewritten atomically after each commit so it never
claims more than the index holds.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import arrivals, neardup
from .atomic import fsync_directory, write_atomic
from .budget import DEFAULT_FILE_MEMORY, DEFAULT_FILE_SECONDS, FileBudget, OverBudget
from .engine import BatchWriter, DocHandle, FileResult, IndexDocument, Writer
from .engine.whoosh.writer import SCHEMA_VERSION, STORE_FILES, has_store, open_writer
from .errors import DependencyError, IndexCorruptError, IndexLockedError, SearchlibError
from .gcsettings import fewer_collections
from .ingest.clean import CleaningRules
from .ingest.date_manifest import ManifestEntry, load_date_manifest
from .ingest.fingerprint import extraction_fingerprint
from .ingest.gazetteer import Gazetteer
from .ingest.geodata import common_english_words
from .ingest.prepare import prepare
from .ingest.read import DEFAULT_MAX_BYTES, FileInfo, may_hold_html, read_file, scan
from .layout import (
    ALIASES,
    JOURNAL,
    LOCK,
    MANIFEST,
    META,
    STAGING,
    WHOOSH_DIR,
    checked_json,
    doc_id,
    index_paths,
    load_manifest,
    read_meta,
)
from .models import (
    ENTITY_FACETS,
    IndexSummary,
    SkippedFile,
    SourceDocument,
    searchable_title,
)

# index_paths, load_manifest and read_meta are re-exported for callers written before
# searchlib.layout existed.
__all__ = ["ProgressCallback", "build_index", "doc_id", "index_paths", "load_manifest",
           "read_meta"]

#: Called with (files done, files to process) as a build advances.
ProgressCallback = Callable[[int, int], None]

# Below this many files in a batch, worker processes cost more than they save.
_POOL_THRESHOLD = 40
# Default commit interval in files, and the number of commits a large build is split into.
# Each commit costs every worker a segment flush whose per-term work is repeated in every
# segment, and the readers' files (facet data, term list) read every segment: on 10,000 real
# articles, 5,000-file batches took 5% less CPU and 8% less time than 2,000-file ones (two
# commits instead of five), for a larger loss if a build dies (the last batch's files, some
# 15 s of work on two cores) and workers' posting buffers up to their 128 MB spill limit.
_BATCH_FILES = 5000
_MAX_COMMITS = 8


@dataclass
class _FileEntry:
    mtime_ns: int
    size: int
    records: dict[str, str]  # key -> content hash
    indexed: list[str]  # keys whose document is in the index (the kept one of its group)
    skipped: str | None = None  # reason, when the whole file was skipped

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mtime_ns": self.mtime_ns, "size": self.size,
                               "records": self.records, "indexed": self.indexed}
        if self.skipped:
            out["skipped"] = self.skipped
        return out


# --- worker side -------------------------------------------------------------------------



def _prepare(doc: SourceDocument, gazetteer: Gazetteer, rules: CleaningRules,
             manifest: Mapping[str, ManifestEntry] | None = None,
             signatures: Path | None = None) -> IndexDocument:
    prepared = prepare(doc, gazetteer, rules, manifest)
    published = prepared.extraction.published
    # Computed here, in the worker processes, not in the parent's serial pass after the
    # commits (see _refresh_near_duplicates).
    minhash = _minhash(prepared.article.body, prepared.content_hash,
                       published.isoformat() if published else None, signatures)
    return IndexDocument(doc.key, prepared.content_hash, prepared, minhash)


_SIGNATURES = "neardup.parts"


def _minhash(body: str, content_hash: str, published: str | None,
             folder: Path | None) -> str | None:
    """The text's MinHash signature, also noted for the parent in this worker's file in
    ``folder`` (if given).

    Reading 10,000 signatures back from the stored fields after the commits took the
    parent ~7% of a build; each worker appends ``hash, signature, date`` lines to a file
    of its own instead, which the parent reads in a moment (_refresh_near_duplicates).
    """
    sig = neardup.signature(body)
    encoded = neardup.encode(sig) if sig is not None else None
    if encoded is not None and folder is not None:
        # One unbuffered append per article, to a file kept open (opening and closing it
        # for every article, with a mkdir, was 1.5% of a build's CPU).
        os.write(_notes_file(folder),
                 f"{content_hash}\t{encoded}\t{published or ''}\n".encode())
    return encoded


# This process's open signature notes, by folder: (pid, descriptor, path).
_NOTES: dict[Path, tuple[int, int, str]] = {}


def _notes_file(folder: Path) -> int:
    """A descriptor appending to this process's notes file in ``folder`` (made if need be).

    Opened once per process and folder; opened again when the open file is no longer the
    one at that path (the parent removes the folder after each build, and a rebuild moves
    its folder into place: a later build in this process must not write into those) or
    when this process is a fork of the one that opened it.
    """
    pid = os.getpid()
    held = _NOTES.get(folder)
    if held is not None and held[0] == pid:
        try:
            if os.path.samestat(os.fstat(held[1]), os.stat(held[2])):
                return held[1]
        except OSError:  # the file (or its folder) is gone
            pass
        os.close(held[1])
    folder.mkdir(exist_ok=True)
    path = os.path.join(folder, f"{pid}.tsv")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
    _NOTES[folder] = (pid, fd, path)
    return fd


def _close_notes(folder: Path) -> None:
    """Close this process's notes file in ``folder``, if open (its build is over)."""
    held = _NOTES.pop(folder, None)
    if held is not None and held[0] == os.getpid():
        os.close(held[1])


def _noted_signatures(folder: Path) -> dict[str, tuple[str, str | None]]:
    """Content hash -> (signature, date) from the workers' files (a torn line is skipped)."""
    out: dict[str, tuple[str, str | None]] = {}
    for part in sorted(folder.glob("*.tsv")) if folder.is_dir() else ():
        with open(part, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.rstrip("\n").split("\t")
                if len(fields) == 3 and neardup.decode(fields[1]) is not None:
                    out[fields[0]] = (fields[1], fields[2] or None)
    return out


def _refresh_near_duplicates(base: Path, writer: Writer, files: Mapping[str, Any]) -> None:
    """Regroup near-duplicate articles after a build, from the manifest's ``files``.

    Signatures of new texts come from the workers' notes; a text without one (a note lost
    to a crash) is read back from its stored fields.
    """
    documents = {doc_id(key): content
                 for entry in files.values()
                 for key, content in entry.get("records", {}).items()
                 if key in entry.get("indexed", ())}
    folder = base / _SIGNATURES
    _close_notes(folder)  # a build in this process (one worker) wrote them here
    noted = _noted_signatures(folder)
    with writer.stored_signatures() as read_back:
        def stored(doc: str, content: str) -> tuple[str | None, str | None]:
            return noted[content] if content in noted else read_back(doc)

        # Of equally dated copies, the one indexed first stands for the group.
        neardup.refresh(base, documents, stored,
                        {d: t.isoformat() for d, t in arrivals.arrival_times(base).items()})
    shutil.rmtree(folder, ignore_errors=True)


# A missing or broken package: the build must stop with the message, never skip file after
# file (or worse, index weaker text) as if the files were at fault.
_BROKEN_INSTALL = (DependencyError, ImportError)


@dataclass(frozen=True)
class _FileWork:
    """The work of an indexing worker on one file, with all it needs: the worker processes
    receive it as an argument (forked: the loaded gazetteer and rules are inherited, not
    loaded again)."""

    gazetteer: Gazetteer
    rules: CleaningRules
    max_bytes: int = DEFAULT_MAX_BYTES
    budget: FileBudget = field(default_factory=FileBudget)
    follow_symlinks: bool = False
    manifest: Mapping[str, ManifestEntry] = field(default_factory=dict)
    signatures: Path | None = None
    """Where the workers note each text's MinHash signature for the parent (see
    :func:`_minhash`); None: nowhere."""

    def __call__(self, path: str) -> tuple[list[IndexDocument], list[SkippedFile]]:
        """Read, clean and enrich one file: its documents, ready for the engine.

        Per-file isolation: whatever goes wrong with this file (a hostile input, a bug in a
        step, the file's CPU or memory budget running out) skips it, or the one record of it,
        with a reason naming the error; the build goes on with the next file.
        """
        budget = self.budget
        try:
            with budget.limits():
                return _process_records(self, path)
        except _BROKEN_INSTALL:
            raise  # not this file's fault: every later file would fail alike, so stop loudly
        except OverBudget as exc:
            return [], [SkippedFile(path, str(exc))]
        except MemoryError:
            return [], [SkippedFile(path, f"needed more than the memory budget "
                                          f"({(budget.memory_bytes or 0) // 2**20} MiB) to "
                                          "process; skipped")]
        except Exception as exc:  # isolation: reported as the reason
            return [], [SkippedFile.failed(path, exc)]


def _process_records(work: _FileWork, path: str
                     ) -> tuple[list[IndexDocument], list[SkippedFile]]:
    result = read_file(path, max_bytes=work.max_bytes, follow_symlinks=work.follow_symlinks)
    docs: list[IndexDocument] = []
    skipped = list(result.skipped)
    for doc in result.documents:
        try:
            item = _prepare(doc, work.gazetteer, work.rules, work.manifest, work.signatures)
        except (OverBudget, MemoryError, *_BROKEN_INSTALL):
            raise  # the whole file's budget, or a broken install: not this record's fault
        except Exception as exc:  # one bad record of many: the rest stay
            skipped.append(SkippedFile.failed(doc.key, exc))
            continue
        article = item.prepared.article
        if not (searchable_title(article.title, article.subtitle, article.title_derived).strip()
                or article.body.strip()):
            # Markup with no readable text (or nested past the parser's depth limit): say
            # so rather than index an empty document nobody can find.
            skipped.append(SkippedFile(doc.key, "no text found after cleaning"))
            continue
        docs.append(item)
    return docs, skipped


# --- build --------------------------------------------------------------------------------

class _WriteLock:
    """An exclusive lock on the index directory, released by the kernel if we die.

    The lock is ``fcntl.flock`` on an open descriptor of the index directory itself, not on
    a file inside it: deleting ``write.lock`` (or replacing it with a directory) used to let a
    second writer in, and a directory cannot be deleted while it holds an index. A killed
    writer's lock vanishes with its process (and its workers, which share the descriptor),
    so it never goes stale. ``write.lock`` only holds "process N since T" for the message a
    second writer gets and for ``search check``; if it cannot be written, nothing depends on it.
    """

    def __init__(self, index_dir: Path, wait: bool) -> None:
        self.dir = index_dir
        self.path = index_dir / LOCK
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> _WriteLock:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise IndexLockedError(
                f"index {self.dir} is being updated by {self._holder()}; "
                "try again later or pass --wait") from None
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        started = dt.datetime.now().isoformat(timespec="seconds")
        self._note(f"process {os.getpid()} since {started}")
        return self

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text or "another process"

    def _note(self, text: str) -> None:
        try:
            if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
                return  # not ours to write through (a link) or over (a directory)
            self.path.write_text(text, encoding="utf-8")
        except OSError:
            pass  # only informative: the lock is the directory's

    def verify(self) -> None:
        """Raise :class:`IndexLockedError` unless this lock still covers the index directory.

        Called before each commit: if the directory was deleted or replaced while we built
        (and so another writer may have taken a lock on the new one), we must not commit.
        """
        if self.fd is None:
            return
        try:
            same = os.path.samestat(os.fstat(self.fd), os.stat(self.dir))
        except OSError:
            same = False
        if not same:
            raise IndexLockedError(f"index directory {self.dir} was removed or replaced during "
                                   "the update; nothing more was committed. Run `search index` "
                                   "again")

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            self._note("")
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _meta(sources: Sequence[str], skipped: Sequence[SkippedFile], documents: int,
          finished: bool, extraction: str | None) -> str:
    return checked_json({
        "schema_version": SCHEMA_VERSION,
        # The fingerprint of the rules every indexed article was extracted with (None while a
        # first build is unfinished: then nothing is known to be current).
        "extraction": extraction,
        "sources": list(sources),
        "last_update": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "complete": finished,
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "documents": documents,
    }, indent=1)


def build_index(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    index_dir: str | os.PathLike[str],
    *,
    rebuild: bool = False,
    procs: int | None = None,
    gazetteer: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
    cleaning_rules: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    wait: bool = False,
    max_seconds: float | None = DEFAULT_FILE_SECONDS,
    max_memory: int | None = DEFAULT_FILE_MEMORY,
    follow_symlinks: bool = False,
    manifest: str | os.PathLike[str] | None = None,
) -> IndexSummary:
    """Build or incrementally update the index at ``index_dir`` from files under ``paths``
    (a path or a list of paths).

    Only files added, changed (size or mtime) or removed since the last run are processed;
    ``rebuild=True`` starts over. ``gazetteer`` and ``cleaning_rules`` name extra YAML files
    layered over the shipped ones. ``procs`` worker processes read, clean, extract and index
    (default: the number of CPUs). Documents are committed every ``batch_size`` files
    (default: 5,000, or an eighth of the files to index when that is more).
    Each file may take ``max_seconds`` of CPU time and ``max_memory`` bytes to be read,
    cleaned and extracted (``None``: unlimited); a file over either, or one that fails in any
    other way, is skipped with its reason and the build goes on. Symbolic links to files
    outside the folders given are skipped unless ``follow_symlinks``.
    ``manifest`` names a CSV or JSONL file giving files' publication dates, URLs and sources
    (:mod:`searchlib.ingest.date_manifest`). Raises :class:`IndexLockedError` when another process
    is
    writing (unless ``wait``), :class:`ConfigError` for a malformed manifest.
    """
    # Loading the gazetteer and the rules and indexing keep many objects alive: collecting
    # less often saves a tenth of a second at every start (see searchlib.gcsettings).
    with fewer_collections():
        return _build_index(paths, index_dir, rebuild=rebuild, procs=procs,
                            gazetteer=gazetteer, cleaning_rules=cleaning_rules,
                            max_bytes=max_bytes, batch_size=batch_size, progress=progress,
                            wait=wait, max_seconds=max_seconds, max_memory=max_memory,
                            follow_symlinks=follow_symlinks, manifest=manifest)


def _build_index(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    index_dir: str | os.PathLike[str],
    *,
    rebuild: bool,
    procs: int | None,
    gazetteer: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    cleaning_rules: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    max_bytes: int,
    batch_size: int | None,
    progress: ProgressCallback | None,
    wait: bool,
    max_seconds: float | None,
    max_memory: int | None,
    follow_symlinks: bool,
    manifest: str | os.PathLike[str] | None,
) -> IndexSummary:
    started = time.monotonic()
    # One path given as a string is one path, not a sequence of one-letter paths.
    paths = _path_list(paths, "paths")
    gazetteer = _path_list(gazetteer, "gazetteer")
    cleaning_rules = _path_list(cleaning_rules, "cleaning_rules")
    if not isinstance(index_dir, (str, os.PathLike)):
        raise SearchlibError(f"index_dir must be a path, not {type(index_dir).__name__}")
    base = Path(index_dir)
    whoosh_dir, manifest_path, meta_path = index_paths(base)
    procs = procs or os.cpu_count() or 1
    # Loaded before any work, so a malformed user file fails first, with its message.
    work = _FileWork(Gazetteer.load([Path(os.fspath(p)) for p in gazetteer]),
                     CleaningRules.load([Path(os.fspath(p)) for p in cleaning_rules]),
                     max_bytes, FileBudget(max_seconds, max_memory), follow_symlinks,
                     load_date_manifest(manifest) if manifest is not None else {})
    # Loaded here, once, so that the forked workers share them (each loaded its own).
    common_english_words()
    work.gazetteer.warm()
    fingerprint = extraction_fingerprint(gazetteer, cleaning_rules,
                                         [manifest] if manifest is not None else ())

    with _WriteLock(base, wait) as lock:
        finish_interrupted_rebuild(base)
        # A rebuild over an existing index builds beside it and swaps the new one in only
        # once it is complete: readers see the old index meanwhile, and a rebuild that is
        # killed or fails leaves it whole.
        staged = rebuild and any(p.exists() for p in (whoosh_dir, manifest_path, meta_path))
        target = base / STAGING if staged else base
        if staged:
            if target.exists():
                shutil.rmtree(target)
            target.mkdir()
            if (base / arrivals.ARRIVALS).exists():
                # Arrival stamps outlive a rebuild: an unchanged text keeps its stamp.
                shutil.copy2(base / arrivals.ARRIVALS, target / arrivals.ARRIVALS)
        counts, skipped = _build_into(
            target, paths, rebuild=rebuild, procs=procs, batch_size=batch_size,
            progress=progress, follow_symlinks=follow_symlinks, lock=lock,
            fingerprint=fingerprint, work=work)
        if staged:
            _swap_in(base)
    return IndexSummary(
        added=counts["added"], updated=counts["updated"], removed=counts["removed"],
        unchanged=counts["unchanged"], skipped=tuple(skipped),
        duplicates=counts["duplicates"], elapsed=time.monotonic() - started,
        reextracted=counts["reextracted"])


def _build_into(base: Path, paths: Sequence[str | os.PathLike[str]], *, rebuild: bool,
                procs: int, batch_size: int | None, progress: ProgressCallback | None,
                follow_symlinks: bool, lock: _WriteLock, fingerprint: str, work: _FileWork
                ) -> tuple[dict[str, int], list[SkippedFile]]:
    """Build or update the index files in ``base`` (the index itself, or a staging folder
    for a rebuild); the caller holds the write lock."""
    whoosh_dir, manifest_path, meta_path = index_paths(base)
    sources = _sources(paths)
    work = replace(work, signatures=base / _SIGNATURES)
    old_fingerprint: str | None = None
    if rebuild or not whoosh_dir.is_dir():
        old_files: dict[str, Any] = {}
    else:
        old_files = load_manifest(base)["files"]
        # An index from an incompatible release cannot be updated in place.
        if old_files or meta_path.exists():
            old_fingerprint = read_meta(base).get("extraction")
        if old_files and not has_store(base):
            raise IndexCorruptError(f"index at {base} has lost its table of contents; "
                                    "run `search index --rebuild`")
    # Scanned before anything is written: a broken install or a killed scan leaves the
    # index as it was.
    infos, scan_skipped = scan(paths, follow_symlinks=follow_symlinks)
    fresh_start = rebuild or not whoosh_dir.is_dir() or not meta_path.exists()
    # Other gazetteer files, cleaning rules or extraction code: every article's facets may
    # differ, so every file is processed again, changed or not.
    plan = _Plan(old_files, infos, sources, lock.verify,
                 reextract=not fresh_start and old_fingerprint != fingerprint)
    if any(may_hold_html(path) for path in plan.changed):
        # A broken extractor must stop the build before anything is written, not show up
        # later as weaker text (or as one skipped file per page).
        from .ingest.htmltext import htmldate_finder, trafilatura_extractor

        trafilatura_extractor()
        htmldate_finder()
    if fresh_start:
        # Forget the old manifest first: if this run dies, the next one must not trust
        # a manifest that describes documents the new, empty index does not hold.
        write_atomic(manifest_path, _manifest_json({}, sources))
        # Written before the Whoosh folder exists, so that an index interrupted at any
        # point after it appears opens, and records what it is built from.
        write_atomic(meta_path, _meta(sources, (), 0, finished=False, extraction=fingerprint))
    writer = open_writer(base, create=rebuild)
    if batch_size is None:
        # Each commit adds a segment per worker. Eight commits at most keep a large
        # build at a few segments (fast queries) that Whoosh's merge policy leaves
        # alone: smaller batches made it merge tens of thousands of documents in this
        # process, single-threaded, while the workers waited.
        batch_size = max(_BATCH_FILES, -(-len(plan.changed) // _MAX_COMMITS))
    counts = plan.run(writer, procs, batch_size, progress, manifest_path, work)
    skipped = scan_skipped + sorted(plan.skipped, key=lambda s: s.path)
    lock.verify()
    write_atomic(meta_path, _meta(sources, skipped, writer.doc_count(), finished=True,
                                  extraction=fingerprint))
    if plan.touched or not (base / ALIASES).exists():
        write_atomic(base / ALIASES, json.dumps(_alias_table(writer, work.gazetteer),
                                                ensure_ascii=False))
    stamp = plan.touched or not (base / arrivals.ARRIVALS).exists()
    regroup = plan.touched or not (base / neardup.GROUPS_FILE).exists()
    if stamp or regroup:  # (a build that changed nothing has nothing to stamp or regroup)
        # The manifest as last written, from the plan's memory: parsing the file again
        # (27 MB at 100,000 articles) held a few hundred MB at the build's peak.
        files = plan.files()
        if stamp:
            # After the last commit, so no document is stamped before it can be found;
            # before grouping, which takes the first arrived of equally dated copies.
            arrivals.record(base, files, doc_id)
        if regroup:
            _refresh_near_duplicates(base, writer, files)
        del files
    # The engine's files for its readers (the facet data and term list of the Whoosh engine).
    writer.finish(refresh=plan.touched)
    return counts, skipped


def _sources(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    return sorted({os.path.abspath(os.fspath(p)) for p in paths})


def _manifest_json(files: Mapping[str, Any], sources: Sequence[str]) -> str:
    # The sources are recorded here as well as in meta.json, so that `search index
    # --rebuild` still knows what to rebuild from when either file is damaged.
    return checked_json({"version": 1, "sources": list(sources), "files": files})


# --- atomic rebuild ------------------------------------------------------------------------

# Files moved from the staging folder into the index after the Whoosh folder (the engine's
# files and alias table first: readers check them against the Whoosh index they belong to).
_STAGED_FILES = (*STORE_FILES, neardup.GROUPS_FILE, ALIASES, arrivals.ARRIVALS, MANIFEST, META)


def _swap_in(base: Path) -> None:
    """Make the complete index staged in ``base/STAGING`` the index at ``base``."""
    staging = base / STAGING
    fsync_directory(staging)
    new = os.stat(staging / WHOOSH_DIR)
    write_atomic(base / JOURNAL, json.dumps({"whoosh": [new.st_dev, new.st_ino]}))
    _roll_forward(base)


def finish_interrupted_rebuild(base: str | os.PathLike[str]) -> bool:
    """Complete or discard a rebuild that a previous writer did not finish; the caller holds
    the write lock. Returns True when there was one.

    With a journal the staged index was complete: it is swapped in. Without one the rebuild
    died before it was: its folder is deleted and the old index, never touched, stays.
    """
    base = Path(base)
    if (base / JOURNAL).exists():
        _roll_forward(base)
        return True
    if (base / STAGING).exists():
        shutil.rmtree(base / STAGING)
        return True
    return False


def _roll_forward(base: Path) -> None:
    """Move the staged index into place; safe to repeat after dying at any step."""
    staging = base / STAGING
    try:
        with open(base / JOURNAL, encoding="utf-8") as fh:
            new_id = tuple(json.load(fh)["whoosh"])
    except (OSError, ValueError, KeyError, TypeError):
        new_id = ()  # written atomically, so only tampering gets here: use what is staged
    current = base / WHOOSH_DIR
    try:
        here = os.stat(current)
        swapped = (here.st_dev, here.st_ino) == new_id
    except FileNotFoundError:
        swapped = False
    if not swapped and (staging / WHOOSH_DIR).is_dir():
        _exchange(staging / WHOOSH_DIR, current)
    for name in _STAGED_FILES:
        if (staging / name).exists():
            os.replace(staging / name, base / name)
    fsync_directory(base)
    os.unlink(base / JOURNAL)
    fsync_directory(base)
    shutil.rmtree(staging, ignore_errors=True)  # the old Whoosh folder is in it now


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(new: Path, current: Path) -> None:
    """Put directory ``new`` at ``current`` and the old ``current`` at ``new``, atomically.

    Linux's ``renameat2(RENAME_EXCHANGE)`` swaps the two names in one step: a reader opening
    ``current`` finds the old index or the new one, never neither. Where it is missing
    (other systems, some file systems) two renames leave ``current`` absent for a moment.
    """
    if not current.exists():
        os.rename(new, current)
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current),
                                _RENAME_EXCHANGE)
        if result == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(current))
    except AttributeError:
        pass  # no renameat2 in this C library
    aside = new.with_name(new.name + ".old")
    os.rename(current, aside)
    os.rename(new, current)
    os.rename(aside, new)


def _path_list(value: Any, name: str) -> list[str | os.PathLike[str]]:
    """``value`` as a list of paths: a single ``str`` or path is one path."""
    if isinstance(value, (str, bytes, os.PathLike)):
        value = [value]
    try:
        items = list(value)
    except TypeError:
        raise SearchlibError(f"{name} must be a path or a list of paths, not "
                             f"{type(value).__name__}") from None
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise SearchlibError(f"{name} must be paths (str or os.PathLike); got "
                                 f"{type(item).__name__} {item!r}")
    return items


def _alias_table(writer: Writer, gazetteer: Gazetteer) -> dict[str, dict[str, str]]:
    """Every alias of every facet value in the index, so queries resolve ``actor:Daesh``
    without loading the whole gazetteer (which would slow every CLI start)."""
    table: dict[str, dict[str, str]] = {}
    terms = writer.facet_terms(ENTITY_FACETS)
    for facet in ENTITY_FACETS:
        out: dict[str, str] = {}
        for name in terms[facet]:
            out[name.lower()] = name
            for alias in gazetteer.aliases(facet, name):
                out.setdefault(alias.lower(), name)
        table[facet] = out
    return table


class _Plan:
    """Works out and applies the difference between the manifest and the files on disk."""

    def __init__(self, old_files: Mapping[str, Any], infos: Sequence[FileInfo],
                 sources: Sequence[str], before_commit: Callable[[], None],
                 reextract: bool = False) -> None:
        self.sources = sources
        self.before_commit = before_commit
        self.old: dict[str, _FileEntry] = {}
        for path, entry in old_files.items():
            try:
                records = dict(entry.get("records", {}))
                indexed = list(entry.get("indexed", []))
                skipped = entry.get("skipped")
                if not (all(isinstance(k, str) and isinstance(h, str) for k, h in records.items())
                        and all(isinstance(k, str) for k in indexed)
                        and (skipped is None or isinstance(skipped, str))):
                    raise TypeError("manifest entry of the wrong shape")
                self.old[path] = _FileEntry(int(entry["mtime_ns"]), int(entry["size"]),
                                            records, indexed, skipped)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # a damaged entry is simply re-read
        self.infos = {i.path: i for i in infos}
        self.reextract = reextract
        self.changed = [p for p, i in self.infos.items()
                        if reextract or p not in self.old or (self.old[p].mtime_ns,
                                                              self.old[p].size)
                        != (i.mtime_ns, i.size)]
        self.skipped: list[SkippedFile] = []
        self.touched = True  # whether run() wrote anything
        changed = set(self.changed)
        self.new: dict[str, _FileEntry] = {
            p: e for p, e in self.old.items() if p in self.infos and p not in changed}
        for entry_path, entry in self.new.items():
            if entry.skipped:
                self.skipped.append(SkippedFile(entry_path, entry.skipped))
            # Records skipped inside a multi-record file are kept as part of its entry.
            for key, content in entry.records.items():
                if content.startswith("skipped:"):
                    self.skipped.append(SkippedFile(key, content[len("skipped:"):]))

    def files(self) -> dict[str, dict[str, Any]]:
        """The manifest's ``files`` as last committed (as :func:`load_manifest` reads them
        back; the entries share their record tables with the plan)."""
        return {path: entry.to_json() for path, entry in sorted(self.old.items())}

    def run(self, writer: Writer, procs: int, batch_size: int,
            progress: ProgressCallback | None, manifest_path: Path,
            work: _FileWork) -> dict[str, int]:
        """Index changed files in batches of ``batch_size``, one commit each, keeping the
        manifest in step with what is committed; ``work`` is what the workers do to each
        file."""
        total = len(self.changed)
        counts = {"added": 0, "updated": 0, "removed": 0, "duplicates": 0, "reextracted": 0}
        counts["unchanged"] = sum(1 for e in self.new.values() for h in e.records.values()
                                  if not h.startswith("skipped:"))
        old_records = {k: h for e in self.old.values() for k, h in e.records.items()}

        removed_files = [p for p in self.old if p not in self.infos]
        for key in (k for p in removed_files for k in self.old[p].records):
            if not old_records[key].startswith("skipped:"):
                counts["removed"] += 1
        if not self.changed and not removed_files:
            # Nothing to write: leave the index, its manifest and alias table as they are.
            self.touched = False
            counts["duplicates"] = sum(
                sum(1 for h in e.records.values() if not h.startswith("skipped:"))
                - len(e.indexed) for e in self.new.values())
            return counts

        done = 0
        written: dict[str, DocHandle] = {}  # key -> where the batch holds its document

        def on_file(result: FileResult) -> None:
            nonlocal done
            path = result.path
            info = self.infos[path]
            records = {key: content for key, content, _handle in result.records}
            whole_skip = None
            if not records and len(result.skipped) == 1 and result.skipped[0].path == path:
                whole_skip = result.skipped[0].reason
            else:
                for s in result.skipped:
                    records[s.path] = "skipped:" + s.reason
            self.skipped.extend(result.skipped)
            old_keys = set(self.old[path].records) if path in self.old else set()
            for key, content, handle in result.records:
                written[key] = handle
                if key not in old_keys or old_records.get(key, "").startswith("skipped:"):
                    counts["added"] += 1
                elif old_records[key] != content:
                    counts["updated"] += 1
                elif self.reextract:
                    counts["reextracted"] += 1
                else:
                    counts["unchanged"] += 1
            counts["removed"] += sum(1 for k in old_keys - set(records)
                                     if not old_records[k].startswith("skipped:"))
            self.new[path] = _FileEntry(info.mtime_ns, info.size, records, [], whole_skip)
            done += 1
            if progress:
                progress(done, total)

        # The same worker processes serve every batch (their caches stay warm).
        with writer.batches(work, procs) as batches:
            for start in range(0, max(total, 1), batch_size):
                batch = self.changed[start:start + batch_size]
                written.clear()
                batches.write(batch, on_file, procs if len(batch) >= _POOL_THRESHOLD else 1)
                counts["duplicates"] = self._commit(batches, written, manifest_path,
                                                    final=start + batch_size >= total)
        return counts

    def _commit(self, batches: BatchWriter, written: dict[str, DocHandle], manifest_path: Path,
                *, final: bool) -> int:
        """Commit the batch being written by ``batches`` and apply the changes of everything
        processed so far; return the duplicate count.

        ``written`` maps each record key indexed in this batch to where the batch holds it.
        Records are grouped by content hash; the kept record of a group is the one already
        indexed (so ids stay stable) or else the smallest key, and the other written copies
        are left out of the commit. Only when ``final`` are removed files dropped: until then
        the manifest must still describe them, as their docs remain.
        """
        entries = dict(self.new)
        if not final:
            # Files not yet processed in this run keep their old entries for now.
            for path, entry in self.old.items():
                entries.setdefault(path, entry)
        key_file: dict[str, str] = {}
        groups: dict[str, list[str]] = {}
        for path, entry in entries.items():
            for key, content in entry.records.items():
                if content.startswith("skipped:"):
                    continue
                key_file[key] = path
                groups.setdefault(content, []).append(key)
        previously = {k for e in self.old.values() for k in e.indexed}
        old_hash = {k: h for e in self.old.values() for k, h in e.records.items()}
        keep: dict[str, str] = {}  # kept key -> hash
        for content, keys in groups.items():
            keys.sort()
            stable = [k for k in keys if k in previously and old_hash.get(k) == content]
            keep[stable[0] if stable else keys[0]] = content
        to_delete = [k for k in previously
                     if k not in keep or old_hash.get(k) != keep[k] or k in written]
        to_add = {k for k in keep if k in written or k not in previously
                  or old_hash.get(k) != keep[k]}
        # A kept record may come from a file not indexed in this batch (an unchanged file
        # whose indexed twin just went away, or a duplicate dropped by an earlier batch):
        # index that file again into the batch.
        missing = sorted({key_file[k] for k in to_add if k not in written})
        if missing:
            def place(result: FileResult) -> None:
                for key, _content, handle in result.records:
                    written.setdefault(key, handle)

            batches.write_more(missing, place)
        drop = [handle for key, handle in written.items() if key not in to_add]
        # The ids of new documents are deleted from the old segments too: after a crash
        # between a Whoosh commit and the manifest write, they may already be there.
        self.before_commit()
        batches.commit(drop, (doc_id(k) for k in dict.fromkeys([*to_delete, *sorted(to_add)])))
        for entry in entries.values():
            entry.indexed = [k for k in entry.records if k in keep]
        # The old state is now what has been committed.
        self.old = {p: _FileEntry(e.mtime_ns, e.size, dict(e.records), list(e.indexed),
                                  e.skipped) for p, e in entries.items()}
        write_atomic(manifest_path, _manifest_json(
            {p: e.to_json() for p, e in sorted(entries.items())}, self.sources))
        return sum(len(keys) - 1 for keys in groups.values())
