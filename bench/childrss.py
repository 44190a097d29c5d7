"""A command's own peak memory and CPU time, whatever the size of the process that starts it.

Linux carries a process's peak resident set size across ``execve``: the kernel folds the
old memory map's high-water mark into the process's ``maxrss``, and a child started with
fork or vfork begins in its parent's map. So ``os.wait4`` on a child of a 500 MB pytest
process reports at least 500 MB, whatever the child itself used (a 60 MB child of a 600 MB
parent reports 614 MB). Started from this small script instead, whose own map is fresh
after its exec, the command reports its own figure (63 MB in that example), its worker
processes included.

    python bench/childrss.py OUT.json -- COMMAND [ARG ...]

runs COMMAND with this process's standard streams, writes ``{"maxrss_kb", "utime_s",
"stime_s"}`` to OUT.json and exits with COMMAND's status. :func:`run` does the same from
Python.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measured:
    """A finished command: its exit status, output and own resource use."""

    returncode: int
    maxrss_kb: int
    cpu_s: float
    stdout: bytes
    stderr: bytes


def run(cmd: Sequence[str], *, timeout: float | None = None, **popen: Any) -> Measured:
    """Run ``cmd`` through this script and return its status, output and peak RSS.

    ``popen`` goes to :class:`subprocess.Popen` (``env``, ``cwd``; ``stdout``/``stderr``
    default to pipes). On ``timeout`` the command is killed and
    :class:`subprocess.TimeoutExpired` raised, as :func:`subprocess.run` does.
    """
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    with tempfile.TemporaryDirectory(prefix="childrss") as tmp:
        out = Path(tmp) / "usage.json"
        wrapper = [sys.executable, os.path.abspath(__file__), str(out), "--", *cmd]
        # A session of its own, so that a timeout kills the command with the wrapper.
        with subprocess.Popen(wrapper, start_new_session=True, **popen) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
        usage = json.loads(out.read_text())
    return Measured(returncode=proc.returncode, maxrss_kb=usage["maxrss_kb"],
                    cpu_s=usage["utime_s"] + usage["stime_s"],
                    stdout=stdout or b"", stderr=stderr or b"")


def main(argv: Sequence[str]) -> int:
    """Run the command after ``--``, write its usage to the file named first."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: childrss.py OUT.json -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    proc = subprocess.Popen(list(argv[2:]))
    _pid, status, usage = os.wait4(proc.pid, 0)
    Path(argv[0]).write_text(json.dumps({"maxrss_kb": int(usage.ru_maxrss),
                                         "utime_s": usage.ru_utime,
                                         "stime_s": usage.ru_stime}))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
