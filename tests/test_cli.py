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
    code, out, _ = run("query", "Qasre Shirin", "--index", str(seed_index))
    who = next(line for line in out.splitlines() if line.strip().startswith("who:"))
    assert "ISIS" in who and "Ahmad Reza Pourdastan" in who  # actors, then people
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


@pytest.mark.parametrize(("args", "reason"), [
    (["query", "--bogus", "x"], "search query: No such option '--bogus'"),
    (["query", "--limit", "0", "x"], "search query: Invalid value for '--limit'"),
    (["query"], "search query: Missing argument 'QUERY'"),
    (["bogus"], "search: No such command 'bogus'"),
    (["gazetteer", "gaps", "--nope"], "search gazetteer gaps: No such option '--nope'"),
])
def test_bad_option_gives_the_reason_first_then_one_usage_line(
        args: list[str], reason: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "searchlib", *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(reason), proc.stderr
    assert len(lines) == 2 and lines[1].startswith("usage: search"), proc.stderr


def test_publication_dates_come_only_from_the_articles_own_evidence(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "2017" / "06" / "21").mkdir(parents=True)
    (docs / "2017" / "06" / "21" / "strike.txt").write_text(
        "Missile strike on Deir ez-Zor\n\nThe IRGC fired missiles at ISIS positions in Syria, "
        "officials said on Sunday.\n", encoding="utf-8")
    (docs / "profile.txt").write_text(
        "Profile: the minister\n\nThe minister was born on 20 February 1951 in Glasgow. "
        "Born on 20 February 1951, he became an MP on 9 June 1983. Missile policy was his "
        "field.\n", encoding="utf-8")
    index_dir = str(tmp_path / "ix")
    assert run("index", str(docs), "--index", index_dir, "--procs", "1")[0] == 0
    code, out, _ = run("query", "missile", "--index", index_dir, "--json")
    hits = {Path(h["path"]).name: h for h in json.loads(out)["hits"]}
    assert hits["strike.txt"]["published"] == "2017-06-21"
    assert hits["strike.txt"]["published_source"] == "path"
    assert hits["profile.txt"]["published"] is None
    assert hits["profile.txt"]["published_source"] is None
    code, out, _ = run("show", hits["profile.txt"]["id"], "--index", index_dir, "--json")
    article = json.loads(out)
    assert article["published"] is None and article["published_source"] is None
    assert article["mentioned_dates"] == ["1951-02-20", "1983-06-09"]
    code, out, _ = run("show", hits["strike.txt"]["id"], "--index", index_dir)
    assert code == 0 and "2017-06-21 (from path)" in out
    code, out, _ = run("show", hits["profile.txt"]["id"], "--index", index_dir)
    assert code == 0 and "undated" in out


def test_index_says_when_a_changed_gazetteer_re_extracts(tmp_path: Path) -> None:
    index_dir = str(tmp_path / "ix")
    extra = tmp_path / "extra.yaml"
    extra.write_text("people:\n  - {name: Fath Allah Hosseini, aliases: [Hosseini]}\n",
                     encoding="utf-8")
    assert run("index", str(SEEDS), "--index", index_dir, "--procs", "1")[0] == 0
    code, out, _ = run("index", str(SEEDS), "--index", index_dir, "--procs", "1",
                       "--gazetteer", str(extra))
    assert code == 0 and "0 unchanged" in out
    assert "re-extracted 5 articles whose files did not change" in out
    code, out, _ = run("index", str(SEEDS), "--index", index_dir, "--procs", "1",
                       "--gazetteer", str(extra), "--json")
    assert json.loads(out)["unchanged"] == 5 and json.loads(out)["reextracted"] == 0


def test_page_past_the_last_says_so(seed_index: Path) -> None:
    result = CliRunner().invoke(cli, ["query", "iran", "--page", "999", "--index",
                                      str(seed_index)], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr == "search: page 999 is past the last page (1 page of 10 for 5 " \
                            "results)\n"
    result = CliRunner().invoke(cli, ["query", "iran", "--page", "1", "--index",
                                      str(seed_index)], catch_exceptions=False)
    assert "past the last page" not in result.stderr
