"""Per-file budgets: no single file may take unbounded CPU time or memory while indexing.

A file that needs more than its budget to read, clean and extract is skipped with a reason,
and the build goes on. The limits are enforced inside the process doing the work (an indexing
worker, or the indexer itself for small batches):

- **CPU time** with a one-shot ``ITIMER_PROF`` timer: when it fires, :class:`OverBudget` is
  raised at the next Python instruction. CPU time, not wall-clock time, so that a busy machine
  does not push ordinary files over the limit. A single C call (one regular-expression match,
  one libxml2 parse) runs to its end before the exception is raised.
- **Memory** with a soft ``RLIMIT_AS`` of the process's current address space plus the budget,
  raised again afterwards: an allocation past it fails with ``MemoryError``.

Both need Linux-like ``setitimer``/``setrlimit``; the CPU limit also needs the main thread
(Python runs signal handlers there). Where either is unavailable that limit is not applied.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

__all__ = ["DEFAULT_FILE_MEMORY", "DEFAULT_FILE_SECONDS", "FileBudget", "OverBudget"]

#: CPU seconds one file may take to be read, cleaned and extracted. A news article takes
#: milliseconds; a 10 MiB file (the default size limit) of ordinary text about 4 s.
DEFAULT_FILE_SECONDS = 10.0
#: Memory one file may add to the process while it is processed.
DEFAULT_FILE_MEMORY = 2 * 1024**3


class OverBudget(BaseException):
    """Raised inside the work on a file when its CPU time runs out.

    A ``BaseException``, like ``KeyboardInterrupt``: the ``except Exception`` fallbacks inside
    the cleaning and extraction code must not catch it and carry on.
    """


_armed = threading.local()
_state = {"active": False, "seconds": 0.0}


def _on_timer(signum: int, frame: FrameType | None) -> None:
    # A signal that arrives after the work ended (disarmed) is ignored.
    if _state["active"]:
        _state["active"] = False
        raise OverBudget(f"took more than {_state['seconds']:g} s of CPU time to process "
                         "(the per-file budget); skipped")


# This process's /proc/self/statm, kept open: (pid, descriptor). Asked once per file, opening
# it each time was a third of the budget's cost. Keyed by pid: a forked child inherits the
# descriptor, but it still reads the parent's figures (/proc/self is resolved at open).
_statm: tuple[int, int] | None = None
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _address_space() -> int | None:
    """Bytes of address space this process uses now (Linux), else None."""
    global _statm
    try:
        pid = os.getpid()
        if _statm is None or _statm[0] != pid:
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC))
        # /proc files are made anew at every read from offset 0.
        return int(os.pread(_statm[1], 256, 0).split()[0]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class FileBudget:
    """How much one file may cost; ``None`` for no limit."""

    seconds: float | None = DEFAULT_FILE_SECONDS
    """CPU seconds to read, clean and extract the file."""
    memory_bytes: int | None = DEFAULT_FILE_MEMORY
    """Memory the file's processing may add to the process."""

    @contextmanager
    def limits(self) -> Iterator[None]:
        """Apply the budget to the work done inside the ``with`` block."""
        with self._cpu(), self._memory():
            yield

    @contextmanager
    def _cpu(self) -> Iterator[None]:
        if (not self.seconds or not hasattr(signal, "setitimer")
                or threading.current_thread() is not threading.main_thread()):
            yield
            return
        previous = signal.signal(signal.SIGPROF, _on_timer)
        _state["seconds"] = self.seconds
        _state["active"] = True
        signal.setitimer(signal.ITIMER_PROF, self.seconds)
        try:
            yield
        finally:
            _state["active"] = False
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)

    @contextmanager
    def _memory(self) -> Iterator[None]:
        used = _address_space() if self.memory_bytes and resource is not None else None
        if used is None or resource is None or self.memory_bytes is None:
            yield
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = used + self.memory_bytes
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            yield  # a tighter limit is already in force
            return
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
