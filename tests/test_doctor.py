"""``search doctor``: the versions in use and a live check of each path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from searchlib.cli import cli
from searchlib.doctor import diagnose


def test_a_whole_install_passes_every_required_check(seed_index: Path) -> None:
    checks = {c.name: c for c in diagnose(seed_index)}
    assert all(c.ok for c in checks.values() if c.required), checks
    assert checks["HTML extractor"].version.startswith("trafilatura ")
    assert "main-content extraction active" in checks["HTML extractor"].detail
    assert "5 documents" in checks["index"].detail


def test_cli_json_and_exit_status(seed_index: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor", "--index", str(seed_index), "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["ok"] is True
    assert {c["name"] for c in data["checks"]} >= {"engine", "HTML extractor", "numpy",
                                                   "gazetteer", "index"}


def test_no_index_yet_is_a_note_not_a_failure(tmp_path: Path) -> None:
    checks = {c.name: c for c in diagnose(tmp_path / "none")}
    assert not checks["index"].ok and not checks["index"].required
    assert "search index" in checks["index"].detail


def test_a_broken_extractor_fails_the_doctor(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['lxml_html_clean'] = None; "
            "sys.modules['lxml.html.clean'] = None; "
            "from searchlib.cli import main; main(['doctor', '--index', sys.argv[1]])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "HTML extractor" in x)
    assert line.startswith("FAIL") and "lxml_html_clean" in line
