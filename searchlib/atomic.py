"""Writing files so that a reader, or a crash, sees the old content or the new, never a mix.

The one atomic writer of searchlib: index files (manifest, meta, facet data, term list),
saved searches and the gazetteer's cache all go through :func:`write_atomic`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["fsync_directory", "write_atomic", "write_atomic_chunks"]


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Make the directory entries of ``path`` (creations, renames, deletions) durable.

    Silently does nothing where directories cannot be opened or synced (some network and
    FUSE file systems): there is nothing better to do there.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: str | bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it.

    The temporary name is unique, so two processes (or threads) writing the same file at
    once cannot mix their bytes: the last rename wins whole. ``durable`` also syncs the data
    and the directory entry to disk, so that the new file survives a power loss (a cache
    that is rebuilt when lost need not pay for that). Raises :class:`OSError`; the
    temporary file is removed then.
    """
    write_atomic_chunks(path, [data], durable=durable)


def write_atomic_chunks(path: Path, chunks: Iterable[str | bytes], *,
                        durable: bool = True) -> None:
    """:func:`write_atomic` of the text or bytes ``chunks`` joined, each encoded (UTF-8) and
    written as it comes: a large JSON file is then never held whole, as a string and again
    as its bytes, at once."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for data in chunks:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_directory(path.parent)
