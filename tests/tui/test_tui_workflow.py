"""Pilot tests of the analyst's workflow in the TUI: open the source, history, saved searches."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import drive, settle

from searchlib import Index as SearchlibIndex
from searchlib.saved import QueryHistory, SavedSearch, SavedSearches
from tui.app import SearchApp
from tui.reader import ReaderScreen
from tui.results import ResultsList

Factory = Callable[..., SearchApp]


def fake_editor(folder: Path, record: Path) -> Path:
    """A 'vim' that records its arguments."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "vim"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def search_for(pilot: Pilot[object], text: str) -> None:
    box = pilot.app.query_one("#query", Input)
    box.focus()
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


def test_o_opens_the_hit_and_the_reader_match_in_the_editor(
        app_factory: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "argv.json"
    monkeypatch.setenv("VISUAL", str(fake_editor(tmp_path / "bin", record)))
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await search_for(pilot, '"missile strike"')
        results = app.query_one("#results", ResultsList)
        results.focus()
        await pilot.press("o")
        await settle(pilot)
        line, path = json.loads(record.read_text())
        text = Path(path).read_text(encoding="utf-8").splitlines()
        assert "missile strike" in text[int(line[1:]) - 1].lower()
        record.unlink()
        # In the reader: at the line of the current match (the third one, after n n n).
        await pilot.press("enter")
        await settle(pilot)
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        await pilot.press("n", "n", "n")
        await pilot.press("o")
        await settle(pilot)
        line, path = json.loads(record.read_text())
        match = reader.matches[reader.current or 0]
        paragraph = reader._paragraphs[match.paragraph][1]
        shown = text[int(line[1:]) - 1]
        # The editor's line holds the current match's word and words of its paragraph.
        assert paragraph[match.start:match.end].lower() in shown.lower()
        assert len(set(shown.split()) & set(paragraph.split())) >= 3

    drive(app, scenario)


def test_o_reports_a_missing_editor_program(app_factory: Factory, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", str(tmp_path / "no-such-editor"))
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        app.query_one("#results", ResultsList).focus()
        await pilot.press("o")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("command not found" in m for m in messages), messages

    drive(app, scenario)


# --- query history --------------------------------------------------------------------------

def test_up_and_down_walk_the_persisted_history(app_factory: Factory, seed_index: Path) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        box = app.query_one("#query", Input)
        for query in ("missile", "Kerman", "ISIS attack"):
            await search_for(pilot, query)
        box.value = "draft"
        await pilot.press("up")
        assert box.value == "ISIS attack"
        await pilot.press("up", "up")
        assert box.value == "missile"
        await pilot.press("up")  # the oldest stays
        assert box.value == "missile"
        await settle(pilot, 0.1)
        assert app.state.query == "missile"  # a recalled query is searched
        await pilot.press("down", "down")
        assert box.value == "ISIS attack"
        await pilot.press("down")  # back to what was being typed
        assert box.value == "draft" and app.focused is box
        await pilot.press("down")  # then on to the results
        assert isinstance(app.focused, ResultsList)

    drive(app, scenario)
    # Persisted per index: a new session recalls it.
    assert QueryHistory(seed_index).entries() == ["missile", "Kerman", "ISIS attack", "draft"]
    again = app_factory()

    async def recall(pilot: Pilot[object]) -> None:
        await pilot.press("up")
        assert again.query_one("#query", Input).value == "draft"

    drive(again, recall)


async def palette(pilot: Pilot[object], command: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*command)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await settle(pilot)


def test_saved_searches_run_and_save_from_the_palette(app_factory: Factory,
                                                      seed_index: Path) -> None:
    SavedSearches(seed_index).save(SavedSearch("iran-strikes", "missile", locations=("Syria",),
                                               sort="newest"))
    QueryHistory(seed_index).add("old query")
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await palette(pilot, "Saved search: iran")
        assert app.state.query == "missile" and app.state.locations == ("Syria",)
        assert app.state.sort == "newest"
        assert app.query_one("#query", Input).value == "missile"
        assert app.results is not None and app.results.total >= 1
        expected = {h.id for h in app.results.hits}
        with SearchlibIndex(seed_index) as ix:
            assert expected == {h.id for h in ix.search(
                "missile", locations=["Syria"], sort="newest", limit=50).hits}
        # Save the current search under a new name, then clear the history.
        await search_for(pilot, "Kerman")
        await palette(pilot, "Save this search")
        await pilot.press(*"kerman-watch", "enter")
        await settle(pilot)
        await palette(pilot, "Clear query history")

    drive(app, scenario)
    saved = SavedSearches(seed_index).get("kerman-watch")
    assert saved.query == "Kerman" and saved.locations == ("Syria",)
    assert QueryHistory(seed_index).entries() == []
