"""Saved searches, watches (--new-since) and the query history, from the CLI end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib.arrivals import arrival_times
from searchlib.cli import cli
from searchlib.config import state_dir
from searchlib.saved import QueryHistory, SavedSearchError, SavedSearches, parse_since


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def article(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def index(corpus: Path, target: Path) -> None:
    code, _, err = run("index", str(corpus), "--index", str(target), "--procs", "1", "--json")
    assert code == 0, err


def watch(target: Path, name: str) -> tuple[int, dict[str, object]]:
    code, out, err = run("query", "--saved", name, "--new-since", "last", "--json",
                         "--index", str(target))
    assert code in (0, 1), err
    return code, json.loads(out)


def test_a_saved_search_run_twice_reports_only_new_articles(tmp_path: Path) -> None:
    corpus, target = tmp_path / "corpus", tmp_path / "ix"
    corpus.mkdir()
    article(corpus, "a.txt", "Iran Strikes Back\n\nThe IRGC fired missiles at ISIS in Syria.")
    article(corpus, "b.txt", "Quiet Day\n\nNothing happened in Tehran on Monday.")
    article(corpus, "c.txt", "ISIS Attack\n\nISIS claimed an attack on a shrine in Iran.")
    index(corpus, target)
    code, _, err = run("save", "isis", "ISIS", "--index", str(target))
    assert code == 0 and "saved isis: 2 article(s) match now" in err

    # The first check has no previous one: everything that matches is new.
    code, first = watch(target, "isis")
    assert code == 0 and first["total"] == 2 and first["saved"] == "isis"
    assert first["new_since"] is None
    code, second = watch(target, "isis")
    assert code == 1 and second["total"] == 0 and second["hits"] == []
    assert isinstance(second["new_since"], str)

    # New files arrive (one matching, one not) and one old file changes without matching.
    article(corpus, "d.txt", "ISIS Again\n\nISIS fighters crossed the border into Iraq.")
    article(corpus, "e.txt", "Markets\n\nOil prices rose in Tehran.")
    article(corpus, "b.txt", "Quiet Day\n\nNothing at all happened in Tehran on Monday.")
    index(corpus, target)
    code, third = watch(target, "isis")
    assert code == 0 and third["total"] == 1
    hits = third["hits"]
    assert isinstance(hits, list) and [h["path"] for h in hits] == [str(corpus / "d.txt")]
    code, fourth = watch(target, "isis")
    assert code == 1 and fourth["total"] == 0

    # Running it without --new-since shows everything and does not move the marker.
    code, out, _ = run("query", "--saved", "isis", "--json", "--index", str(target))
    assert code == 0 and json.loads(out)["total"] == 3
    assert SavedSearches(target).get("isis").last_checked is not None


def test_new_since_a_date_and_stamps_that_survive_updates(tmp_path: Path) -> None:
    corpus, target = tmp_path / "corpus", tmp_path / "ix"
    corpus.mkdir()
    article(corpus, "a.txt", "One\n\nIran fired missiles at ISIS.")
    index(corpus, target)
    stamps = arrival_times(target)
    assert len(stamps) == 1
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    code, out, _ = run("query", "missiles", "--new-since", tomorrow, "--json",
                       "--index", str(target))
    assert code == 1 and json.loads(out)["total"] == 0
    code, out, _ = run("query", "missiles", "--new-since", "2000", "--json",
                       "--index", str(target))
    assert code == 0 and json.loads(out)["total"] == 1
    # An unchanged article keeps its stamp through an update and a rebuild.
    article(corpus, "b.txt", "Two\n\nMore missiles were fired.")
    index(corpus, target)
    code, _, _ = run("index", str(corpus), "--index", str(target), "--rebuild", "--procs", "1")
    assert code == 0
    after = arrival_times(target)
    assert len(after) == 2
    for doc, when in stamps.items():
        assert after[doc] == when
    (new,) = set(after) - set(stamps)
    assert after[new] > stamps[next(iter(stamps))]
    code, out, _ = run("query", "missiles", "--new-since", after[new].isoformat(), "--json",
                       "--index", str(target))
    assert [h["id"] for h in json.loads(out)["hits"]] == [new]


def test_saved_list_delete_and_errors(seed_index: Path, tmp_path: Path) -> None:
    ix = str(seed_index)
    code, _, _ = run("save", "iran-isis", "ISIS attack", "--actor", "IRGC", "--location",
                     "Iran", "--from", "2017", "--sort", "newest", "--index", ix)
    assert code == 0
    code, out, _ = run("saved", "--index", ix)
    assert out.startswith("iran-isis: 'ISIS attack' --actor IRGC --location Iran --from 2017 "
                          "--sort newest  (last checked: never)")
    code, out, _ = run("saved", "--json", "--index", ix)
    (saved,) = json.loads(out)
    assert saved["query"] == "ISIS attack" and saved["actors"] == ["IRGC"]
    # The saved filters apply: the same as typing them.
    code, out, _ = run("query", "--saved", "iran-isis", "--json", "--index", ix)
    _, out2, _ = run("query", "ISIS attack", "--actor", "IRGC", "--location", "Iran",
                         "--from", "2017", "--sort", "newest", "--json", "--index", ix)
    assert [h["id"] for h in json.loads(out)["hits"]] == \
        [h["id"] for h in json.loads(out2)["hits"]]
    # Errors: one line, exit 2.
    for args, message in [
        (["save", "iran-isis", "x", "--index", ix], "exists already"),
        (["save", "bad name!", "x", "--index", ix], "invalid name"),
        (["save", "broken", "foo:bar", "--index", ix], "unknown field"),
        (["query", "--saved", "nope", "--index", ix], "no saved search 'nope'"),
        (["query", "x", "--new-since", "last", "--index", ix], "needs --saved"),
        (["query", "x", "--new-since", "soon", "--index", ix], "invalid --new-since"),
        (["query", "x", "--saved", "iran-isis", "--index", ix], "give no QUERY"),
        (["saved", "--delete", "nope", "--index", ix], "no saved search 'nope'"),
    ]:
        code, _, err = run(*args)
        assert code == 2 and message in err.splitlines()[0], (args, err)
    assert run("save", "iran-isis", "Kerman", "--force", "--index", ix)[0] == 0
    assert SavedSearches(seed_index).get("iran-isis").query == "Kerman"
    code, _, err = run("saved", "--delete", "iran-isis", "--index", ix)
    assert code == 0 and run("saved", "--json", "--index", ix)[1].strip() == "[]"
    # Saved searches belong to one index.
    assert SavedSearches(tmp_path / "other").list() == []


def test_state_dir_and_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEARCHLIB_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    a, b = state_dir(tmp_path / "one" / "index"), state_dir(tmp_path / "two" / "index")
    assert a.parent == tmp_path / "xdg" / "searchlib" and a != b
    assert a.name.startswith("index-")
    monkeypatch.setenv("SEARCHLIB_STATE_DIR", str(tmp_path / "explicit"))
    assert state_dir("ix").parent == tmp_path / "explicit"

    history = QueryHistory(tmp_path / "ix", limit=3)
    for query in ["iran", "isis", " ", "iran", "kerman", "syria"]:
        history.add(query)
    assert history.entries() == ["iran", "kerman", "syria"]
    history.clear()
    assert history.entries() == []
    broken = state_dir(tmp_path / "ix") / "history.json"
    broken.write_text("{not json")
    with pytest.raises(SavedSearchError, match="unreadable"):
        history.entries()
    os.remove(broken)


def test_parse_since() -> None:
    assert parse_since("2024-03").replace(tzinfo=None) == dt.datetime(2024, 3, 1)
    assert parse_since("2024-03-02T08:00Z") == dt.datetime(2024, 3, 2, 8, tzinfo=dt.UTC)
    with pytest.raises(SavedSearchError):
        parse_since("yesterday")


def test_workflow_modules_import_no_engine_and_no_ui() -> None:
    """Saved searches, arrivals, citations, opening and near-duplicates are plain library
    code: no Whoosh, click or Textual (the CLI and TUI stay thin layers over them)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "import searchlib.saved, searchlib.arrivals, searchlib.cite, searchlib.opener, "
            "searchlib.neardup\n"
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('whoosh', 'click', 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
