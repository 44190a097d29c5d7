"""The click CLI: output formats, exit codes, errors as one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib.cli import cli

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help_with_an_example() -> None:
    def walk(group: object, prefix: list[str]) -> list[list[str]]:
        found = []
        for name, command in group.commands.items():  # type: ignore[attr-defined]
            if hasattr(command, "commands"):
                found += walk(command, [*prefix, name])
            else:
                found.append([*prefix, name])
        return found

    for path in walk(cli, []):
        code, out, _ = run(*path, "--help")
        assert code == 0 and "Example" in out, path


def test_index_json_summary_and_query_json(tmp_path: Path) -> None:
    index_dir = str(tmp_path / "ix")
    code, out, _ = run("index", str(SEEDS), "--index", index_dir, "--json", "--procs", "1")
    assert code == 0
    summary = json.loads(out)
    assert summary["added"] == 5 and summary["skipped"] == []
    assert set(summary) >= {"added", "updated", "removed", "unchanged", "skipped"}
    code, out, _ = run("query", "missile", "--index", index_dir, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"query", "total", "hits", "facets", "suggestion"}
    hit = data["hits"][0]
    assert set(hit) >= {"id", "path", "title", "published", "actors", "locations", "score",
                        "snippet", "highlights"}
    for start, end in hit["highlights"]:
        assert hit["snippet"][start:end].lower().startswith("missile")
    assert set(data["facets"]) == {"actor", "location", "person", "year", "month", "mentioned"}


def test_query_text_output_colour_and_exit_codes(seed_index: Path) -> None:
    code, out, _ = run("query", "missile", "--index", str(seed_index), "--color", "always")
    assert code == 0 and "\x1b[" in out and "results for" in out
    code, out, _ = run("query", "missile", "--index", str(seed_index))
    assert code == 0 and "\x1b[" not in out  # not a terminal: no colour
    code, out, _ = run("query", "zzzqqqxxx", "--index", str(seed_index))
    assert code == 1 and "0 results" in out


def test_errors_are_one_line_with_status_2(tmp_path: Path, seed_index: Path) -> None:
    code, _, err = run("query", "iran", "--index", str(tmp_path / "none"))
    assert code == 2 and err.count("\n") == 1 and "search index" in err
    code, _, err = run("query", "foo:bar", "--index", str(seed_index))
    assert code == 2 and "unknown field" in err and "Traceback" not in err
    code, _, err = run("query", "iran", "--index", str(seed_index), "--from", "yesterday")
    assert code == 2 and "YYYY" in err
    code, _, err = run("show", "nope", "--index", str(seed_index))
    assert code == 2 and "no article" in err
    code, _, err = run("index", str(tmp_path / "missing"), "--index", str(tmp_path / "ix"))
    assert code == 2 and "no such file" in err


def test_show_stats_facets(seed_index: Path) -> None:
    code, out, _ = run("query", "Qasre Shirin", "--index", str(seed_index), "--json")
    doc = json.loads(out)["hits"][0]["id"]
    code, out, _ = run("show", doc, "--index", str(seed_index), "--json")
    article = json.loads(out)
    assert code == 0 and "Pourdastan" in article["text"] and article["entities"]
    code, out, _ = run("show", doc, "--index", str(seed_index))
    assert code == 0 and "entities:" in out
    code, out, _ = run("stats", "--index", str(seed_index), "--json")
    assert json.loads(out)["documents"] == 5
    code, out, _ = run("facets", "--index", str(seed_index), "--json", "--kind", "actor")
    assert json.loads(out)["actor"]["ISIS"] >= 4


def test_filters_on_the_command_line(seed_index: Path) -> None:
    code, out, _ = run("query", "*", "--index", str(seed_index), "--location", "Syria",
                       "--actor", "IRGC", "--json")
    data = json.loads(out)
    assert code == 0 and data["total"] >= 1
    assert all("IRGC" in h["actors"] or "Quds Force" in h["actors"] for h in data["hits"])


def test_terminal_escapes_in_documents_are_neutralised(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.json").write_text(json.dumps({
        "title": "Bad \x1b]0;pwned\x07 title \x1b[31mred", "text": "Hezbollah text \x1b[2J here."}))
    index_dir = str(tmp_path / "ix")
    run("index", str(docs), "--index", index_dir)
    code, out, _ = run("query", "Hezbollah", "--index", index_dir, "--color", "never")
    assert code == 0 and "\x1b" not in out and "\x07" not in out


def test_console_script_runs_as_a_process(seed_index: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "searchlib", "query", "missile", "--index",
                           str(seed_index), "--limit", "1"], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 0 and "1." in proc.stdout


@pytest.mark.parametrize("bad", ["--limit=0", "--sort=random", "--color=pink"])
def test_bad_options_exit_2(seed_index: Path, bad: str) -> None:
    code, _, _ = run("query", "iran", "--index", str(seed_index), bad)
    assert code == 2


def test_gazetteer_gaps_and_check(seed_index: Path) -> None:
    code, out, _ = run("gazetteer", "gaps", "--index", str(seed_index), "--json", "-n", "20")
    gaps = json.loads(out)
    assert code == 0 and gaps and all(g["count"] >= 2 for g in gaps)
    # Names the gazetteer knows are not gaps.
    assert not {"ISIS", "Iran", "Tehran", "IRGC"} & {g["phrase"] for g in gaps}
    code, out, _ = run("check", "--index", str(seed_index), "--json")
    report = json.loads(out)
    assert report["ok"] and report["documents"] == 5 and report["problems"] == []


def test_page_past_the_last_says_so(seed_index: Path) -> None:
    result = CliRunner().invoke(cli, ["query", "iran", "--page", "999", "--index",
                                      str(seed_index)], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr == "search: page 999 is past the last page (1 page of 10 for 5 " \
                            "results)\n"
    result = CliRunner().invoke(cli, ["query", "iran", "--page", "1", "--index",
                                      str(seed_index)], catch_exceptions=False)
    assert "past the last page" not in result.stderr
