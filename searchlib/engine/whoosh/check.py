"""Checking an index: does every part of it read back, and does it match the files on disk?

:func:`check_index` opens every segment, reads every stored document and the term lists of
every field, counts the documents, and compares the index with its manifest and the manifest
with the source files. It never raises for a damaged index: whatever it finds becomes a
one-line problem naming the fix, so ``search check`` can print it and exit non-zero.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import SearchlibError
from ...ingest.read import scan
from ...layout import JOURNAL, LOCK, STAGING, doc_id, index_paths, load_manifest, read_meta
from . import facetstore, postlists
from .storage import open_storage

__all__ = ["CheckReport", "check_index"]

_REBUILD = "run `search index --rebuild`"
_UPDATE = "run `search index` to finish it"


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_index` found. ``ok`` is about integrity, not freshness."""

    index_dir: str
    """The index directory checked."""
    ok: bool
    """True when the index opened, every segment and stored document read back, and the
    index agrees with its manifest (no ``problems``)."""
    documents: int
    """Live documents counted by reading every segment (0 when the index could not open)."""
    segments: int
    """Number of segments in the current table of contents."""
    problems: tuple[str, ...] = ()
    """One line per integrity problem, each naming its fix."""
    notes: tuple[str, ...] = ()
    """Harmless observations (leftovers of an interrupted write, a writer at work)."""
    manifest_documents: int = 0
    """Documents the manifest says are in the index."""
    missing_sources: tuple[str, ...] = ()
    """Files the manifest lists that are no longer on disk (``search index`` drops them)."""
    unindexed_sources: tuple[str, ...] = ()
    """Files on disk under the sources that the manifest does not know."""
    changed_sources: tuple[str, ...] = ()
    """Files whose size or modification time differ from the manifest's record of them."""
    sources: tuple[str, ...] = ()
    """The source paths the files on disk were compared with."""

    @property
    def up_to_date(self) -> bool:
        """True when no source file was added, changed or removed since the last update."""
        return not (self.missing_sources or self.unindexed_sources or self.changed_sources)


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _writer_note(index_dir: Path) -> str | None:
    """Name the process updating the index, if one is alive.

    The lock file holds "process N since T" while a writer runs and is emptied when it ends;
    a writer that was killed leaves its text behind, so the process must also be alive.
    Taking the lock to test it could make a concurrent ``search index`` fail, so we do not.
    """
    try:
        text = (index_dir / LOCK).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    parts = text.split()
    if len(parts) < 2 or parts[0] != "process" or not parts[1].isdigit():
        return None
    pid = int(parts[1])
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return (f"the index is being updated by {text}; figures may change and the manifest may "
            "lag the index until it finishes")


class _Checker:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.documents = 0
        self.segments = 0
        self.ids: Counter[str] = Counter()
        self.id_paths: dict[str, str] = {}

    def read_whoosh(self, whoosh_dir: Path) -> None:
        """Open the TOC, then each segment in turn, reading everything a search can touch."""
        from whoosh.index import TOC
        from whoosh.reading import SegmentReader

        storage = open_storage(whoosh_dir)
        try:
            toc = TOC.read(storage, "MAIN")
        except Exception as exc:  # Whoosh raises many types for damaged files
            self.problems.append(
                f"the table of contents of {whoosh_dir} is unreadable ({_describe(exc)}); "
                f"{_REBUILD}")
            return
        segments = list(toc.segments)
        self.segments = len(segments)
        names = self._leftovers(storage, toc.generation, segments)
        if names:
            self.notes.append(
                f"{len(names)} leftover file(s) of an interrupted write in {whoosh_dir} "
                "(harmless; the next update removes them)")
        for segment in segments:
            self._read_segment(storage, toc.schema, segment, SegmentReader)

    def _leftovers(self, storage: Any, generation: int, segments: Sequence[Any]) -> list[str]:
        from whoosh.index import TOC

        current = {s.segment_id() for s in segments}
        toc_name = TOC._filename("MAIN", generation)
        segpattern = TOC._segment_pattern("MAIN")
        out = []
        for name in storage.list():
            if name == toc_name or name.endswith("WRITELOCK") or name.startswith("."):
                continue
            match = segpattern.match(name)
            if match and match.group(1) in current:
                continue
            out.append(name)
        return out

    def _read_segment(self, storage: Any, schema: Any, segment: Any, reader_class: Any) -> None:
        segid = segment.segment_id()
        try:
            reader = reader_class(storage, schema, segment)
        except FileNotFoundError as exc:
            self.problems.append(
                f"segment {segid} is missing a file ({os.path.basename(str(exc.filename))}); "
                f"{_REBUILD}")
            return
        except Exception as exc:
            self.problems.append(f"segment {segid} cannot be opened ({_describe(exc)}); "
                                 f"{_REBUILD}")
            return
        try:
            live = 0
            for docnum in range(reader.doc_count_all()):
                if reader.is_deleted(docnum):
                    continue
                stored = reader.stored_fields(docnum)
                doc = stored.get("id")
                if not isinstance(doc, str):
                    raise ValueError(f"document {docnum} has no id")
                json.loads(stored.get("info") or "{}")
                self.ids[doc] += 1
                self.id_paths.setdefault(doc, str(stored.get("path", "")))
                live += 1
            self._read_postings(reader)
            self._read_columns(reader)
            self.documents += live
        except Exception as exc:
            self.problems.append(f"segment {segid} is damaged ({_describe(exc)}); {_REBUILD}")
        else:
            self._check_lists(storage, segid, reader)
            self._check_positions(storage, segid, reader)
        finally:
            with contextlib.suppress(Exception):
                reader.close()


    def _check_lists(self, storage: Any, segid: str, reader: Any) -> None:
        """The segment's posting lists without positions (:mod:`.postlists`), when it has
        them, against its posting blocks: a search reads them instead of the blocks. Every
        term has its list."""
        from .evaluate import _read_postings

        def same(fieldname: str, btext: bytes, found: Any) -> bool | None:
            blocks: list[tuple[int, int]] = []
            ids, weights, _ = _read_postings(reader, fieldname, btext, values=False,
                                             blocks=blocks)
            return found is not None and (list(found[0]), list(found[1]), found[2]) == (
                ids, weights, blocks)

        self._check_entries(storage, segid, reader, postlists.SUFFIX, postlists.open_lists,
                            "posting lists", "searches", same)

    def _check_positions(self, storage: Any, segid: str, reader: Any) -> None:
        """The segment's positions file (:mod:`.postlists`), when it has one, against its
        posting blocks: an exact phrase reads it instead of the blocks. Only the terms with
        many postings have an entry."""
        from .evaluate import _read_postings

        def same(fieldname: str, btext: bytes, found: Any) -> bool | None:
            if found is None:
                return None
            _, _, values = _read_postings(reader, fieldname, btext, values=True)
            # The flush's own decoding (tested against each value's): a damaged entry
            # differs from the blocks either way.
            return bool(postlists.decode_positions(values) == found)

        self._check_entries(storage, segid, reader, postlists.POS_SUFFIX,
                            postlists.open_positions, "positions", "phrases", same)

    def _check_entries(self, storage: Any, segid: str, reader: Any, suffix: str,
                       open_file: Callable[[str, str], Any], name: str, readers: str,
                       same: Callable[[str, bytes, Any], bool | None]) -> None:
        """One of the segment's files of entries keyed by postings offset, when it has it:
        ``same(field, term, entry)`` tells whether a term's entry (None: it has none) says
        what its blocks say (None: the term need not have one); every entry must belong to
        a term. A problem names the file to delete, after which ``readers`` read the
        blocks."""
        folder = getattr(storage, "folder", None)
        if folder is None:
            return
        path = os.path.join(folder, segid + suffix)
        if not os.path.exists(path):
            return  # written before it existed, or by another program: blocks only
        fix = f"delete {path} ({readers} then read the posting blocks) or {_REBUILD}"
        entries = open_file(folder, segid)
        if entries is None:
            self.problems.append(f"the {name} of segment {segid} are damaged; {fix}")
            return
        checked = 0
        try:
            for fieldname, btext in reader.all_terms():
                offset = getattr(reader.term_info(fieldname, btext), "_offset", None)
                if offset is None:  # postings inlined in the term list
                    continue
                verdict = same(fieldname, btext, entries.get(offset))
                if verdict is None:
                    continue
                if not verdict:
                    raise ValueError(f"{fieldname}:{btext!r} differs from its posting blocks")
                checked += 1
            if checked != len(entries):
                raise ValueError(f"{len(entries)} entries for {checked} terms")
        except ValueError as exc:
            self.problems.append(f"the {name} of segment {segid} fail their check ({exc}); "
                                 f"{fix}")

    @staticmethod
    def _read_postings(reader: Any) -> None:
        """Decode every posting list, with positions and character offsets where stored."""
        size = reader.doc_count_all()
        deletions = reader.has_deletions()
        for fieldname in reader.indexed_field_names():
            fmt = reader.schema[fieldname].format if fieldname in reader.schema else None
            kind = next((k for k in ("characters", "positions", "frequency")
                         if fmt is not None and fmt.supports(k)), None)
            for term in reader.lexicon(fieldname):
                info = reader.term_info(fieldname, term)
                postings = reader.postings(fieldname, term)
                seen = 0
                if kind is None:
                    ids = list(postings.all_ids())
                    seen = len(ids)
                else:
                    ids = []
                    for docnum, _value in postings.items_as(kind):
                        ids.append(docnum)
                        seen += 1
                if ids and (ids[-1] >= size or ids != sorted(ids)):
                    raise ValueError(f"postings of {fieldname}:{term!r} point outside the "
                                     "segment")
                # Postings skip deleted documents; the term list still counts them.
                expected = info.doc_frequency()
                if seen > expected or (seen != expected and not deletions):
                    raise ValueError(f"postings of {fieldname}:{term!r} hold {seen} documents, "
                                     f"the term list says {expected}")

    @staticmethod
    def _read_columns(reader: Any) -> None:
        for fieldname in reader.schema.names():
            if reader.has_column(fieldname):
                column = reader.column_reader(fieldname, translate=False)
                for docnum in range(reader.doc_count_all()):
                    column[docnum]


def _source_changed(key: str, manifest_files: dict[str, Any]) -> bool:
    """Whether the file of record ``key`` is gone or differs from its manifest entry."""
    path = key if key in manifest_files else key.rsplit("#", 1)[0]
    entry = manifest_files.get(path)
    try:
        st = os.stat(path)
    except OSError:
        return True
    return not isinstance(entry, dict) or (entry.get("mtime_ns"), entry.get("size")) != (
        st.st_mtime_ns, st.st_size)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def check_index(index_dir: str | os.PathLike[str],
                sources: Sequence[str | os.PathLike[str]] | None = None) -> CheckReport:
    """Read the whole index at ``index_dir`` back and compare it with its manifest and sources.

    ``sources`` are the files and folders to compare with (default: the sources recorded by
    the last build). Never raises for a damaged or missing index: see ``CheckReport.problems``.
    The checksums of ``meta.json``, the manifest and the facet file are verified too.
    """
    try:
        return _check(Path(index_dir), sources)
    except Exception as exc:  # the report is the contract: even a bug here ends up in it
        return CheckReport(str(index_dir), False, 0, 0, (
            f"the check itself failed ({_describe(exc)}); if `search index --rebuild` does "
            "not fix the index, please report this",))


def _check(base: Path, sources: Sequence[str | os.PathLike[str]] | None) -> CheckReport:
    whoosh_dir, manifest_path, _ = index_paths(base)
    checker = _Checker(base)
    note = _writer_note(base)
    if note:
        checker.notes.append(note)

    meta: dict[str, Any] = {}
    try:
        meta = read_meta(base)
    except SearchlibError as exc:
        checker.problems.append(str(exc))
        if not whoosh_dir.is_dir():
            return CheckReport(str(base), False, 0, 0, tuple(checker.problems))
    if whoosh_dir.is_dir():
        checker.read_whoosh(whoosh_dir)

    manifest_files: dict[str, Any] = {}
    try:
        manifest_files = load_manifest(base)["files"]
    except SearchlibError as exc:
        checker.problems.append(str(exc))
    if not manifest_path.exists() and checker.documents:
        checker.problems.append(f"index at {base} has no manifest.json; {_REBUILD}")
    facets_problem = facetstore.verify(base)
    if facets_problem:
        # Searches do not use a damaged facet file (they compute the data instead); the
        # next `search index` writes it again.
        checker.problems.append(f"the facet file {base / facetstore.FACETS_FILE} "
                                f"{facets_problem}; run `search index` to write it again")
    if (base / JOURNAL).exists():
        checker.notes.append("a rebuild was interrupted while its new index was being "
                             f"swapped in; {_UPDATE}")
    elif (base / STAGING).exists() and note is None:
        checker.notes.append("an interrupted rebuild left its unfinished copy in "
                             f"{base / STAGING}; the index itself is whole, and the next "
                             "`search index` deletes the copy")

    duplicated = sorted(d for d, n in checker.ids.items() if n > 1)
    if duplicated:
        checker.problems.append(
            f"{len(duplicated)} document(s) are indexed more than once (e.g. "
            f"{checker.id_paths[duplicated[0]]}); {_REBUILD}")

    expected: dict[str, str] = {}
    for entry in manifest_files.values():
        indexed = entry.get("indexed") if isinstance(entry, dict) else None
        for key in indexed if isinstance(indexed, list) else ():
            if isinstance(key, str):
                expected[doc_id(key)] = key
    index_broken = any("segment" in p or "table of contents" in p for p in checker.problems)
    if manifest_files and not index_broken:
        absent = [key for d, key in expected.items() if d not in checker.ids]
        # A document whose file was removed or changed since the manifest was written was
        # deleted by an update killed between its commit and its manifest: the next run
        # finishes that update. Only a document of an unchanged file means damage.
        pending = [key for key in absent if _source_changed(key, manifest_files)]
        lost = [key for key in absent if key not in set(pending)]
        if lost:
            checker.problems.append(
                f"{len(lost)} document(s) listed in the manifest are missing from the index "
                f"(e.g. {min(lost)}); {_REBUILD}")
        if pending:
            checker.notes.append(
                f"{len(pending)} document(s) of removed or changed files are already gone from "
                f"the index but still in the manifest (an interrupted update, e.g. "
                f"{min(pending)}); {_UPDATE}")
        extra = [checker.id_paths[d] for d in checker.ids if d not in expected]
        if extra:
            checker.notes.append(
                f"{len(extra)} document(s) in the index are not in the manifest yet (an "
                f"interrupted update, e.g. {min(extra)}); {_UPDATE}")

    recorded = meta.get("sources")
    roots = [os.path.abspath(os.fspath(s)) for s in sources] if sources is not None else [
        s for s in (recorded if isinstance(recorded, list) else ()) if isinstance(s, str)]
    missing: list[str] = []
    unindexed: list[str] = []
    changed: list[str] = []
    if roots:
        infos, _skipped = scan(roots)
        on_disk = {i.path: i for i in infos}
        for path, info in on_disk.items():
            entry = manifest_files.get(path)
            if not isinstance(entry, dict):
                unindexed.append(path)
            elif (entry.get("mtime_ns"), entry.get("size")) != (info.mtime_ns, info.size):
                changed.append(path)
        missing = sorted(p for p in manifest_files if p not in on_disk and _under(p, roots))
        if missing or unindexed or changed:
            checker.notes.append(
                f"sources changed since the last update ({len(unindexed)} new, {len(changed)} "
                f"changed, {len(missing)} removed); run `search index` to update")

    return CheckReport(
        index_dir=str(base), ok=not checker.problems, documents=checker.documents,
        segments=checker.segments, problems=tuple(checker.problems),
        notes=tuple(checker.notes), manifest_documents=len(expected),
        missing_sources=tuple(missing), unindexed_sources=tuple(sorted(unindexed)),
        changed_sources=tuple(sorted(changed)), sources=tuple(roots))
