"""bench/childrss.py: a command's own peak memory, not the peak of the process starting it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the inherited peak is Linux's behaviour")

# Touches 40 MB of its own, so that its figure is clearly its own.
CHILD = "x = bytearray(40 * 2**20); x[::4096] = b'1' * len(x[::4096])"


def test_a_child_reports_its_own_peak_not_its_parents(childrss: ModuleType) -> None:
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"1" * len(ballast[::4096])  # resident, not only reserved
    # Started directly, the child's peak includes this process's 400 MB: the kernel folds the
    # old memory map's high-water mark into the process's peak at exec.
    proc = subprocess.Popen([sys.executable, "-c", CHILD])
    _pid, _status, usage = os.wait4(proc.pid, 0)
    assert usage.ru_maxrss / 1024 > 400
    done = childrss.run([sys.executable, "-c", CHILD])
    assert done.returncode == 0
    assert 40 < done.maxrss_kb / 1024 < 150
    assert done.cpu_s > 0
    del ballast


def test_the_commands_status_and_output_pass_through(childrss: ModuleType) -> None:
    done = childrss.run([sys.executable, "-c", "import sys; print('out'); "
                         "print('err', file=sys.stderr); sys.exit(3)"])
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")


def test_a_timeout_kills_the_command_too(childrss: ModuleType, tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    code = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    with pytest.raises(subprocess.TimeoutExpired):
        childrss.run([sys.executable, "-c", code], timeout=0.5)
    time.sleep(4)
    assert not marker.exists()
