"""Project-wide guarantees: layering, lint and types."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_library_imports_neither_click_nor_textual() -> None:
    code = (
        "import sys, searchlib, searchlib.build, searchlib.search, searchlib.export\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'textual'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout.strip()
    assert out == ""


def test_query_path_does_not_import_textual() -> None:
    # The CLI's cold start matters: `search query` must not pay for the TUI's imports.
    code = ("import sys, searchlib.cli\n"
            "print('textual' in sys.modules, 'whoosh' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout.split()
    assert out == ["False", "False"]


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff"
                                                          ).exists(), reason="ruff not installed")
def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run([ruff, "check", "searchlib", "tui", "tests", "bench"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_mypy_strict_clean() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
