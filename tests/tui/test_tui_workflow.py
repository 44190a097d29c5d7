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

from searchlib import Index
from searchlib import Index as SearchlibIndex
from searchlib.saved import QueryHistory, SavedSearch, SavedSearches
from tui.app import SearchApp
from tui.facets import FacetTree, fold
from tui.reader import EntityList, ReaderScreen
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


# --- from an entity to a filter; searching the facet lists -----------------------------------

def test_choosing_an_entity_in_the_reader_filters_the_results(app_factory: Factory,
                                                              seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await search_for(pilot, "missile")
        app.query_one("#results", ResultsList).focus()
        await pilot.press("enter")
        await settle(pilot)
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        await pilot.press("f")
        panel = reader.query_one("#entities", EntityList)
        assert app.focused is panel
        await pilot.press("down", "down")
        option = panel.get_option_at_index(panel.highlighted or 0)
        assert option.id is not None
        kind, value = option.id.split("\t")
        shown = reader.entity_counts[(kind, value)]
        assert str(shown) in str(option.prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ReaderScreen)
        assert app.state.selected(kind) == (value,)  # type: ignore[arg-type]
        expected = seed_ix.search("missile", **{ {"actor": "actors", "location": "locations",
                                                  "person": "people"}[kind]: [value]})
        assert app.results is not None and app.results.total == expected.total == shown
        assert isinstance(app.focused, ResultsList)

    drive(app, scenario)


def test_typing_in_the_sidebar_filters_values_and_keeps_counts(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await search_for(pilot, "iran")
        assert app.results is not None
        counts = app.results.facets["location"]
        tree = app.query_one("#facets", FacetTree)
        tree.focus()
        await pilot.press(*"DEIR")  # any case
        nodes = [n for n in tree.items.values() if n.data is not None
                 and n.data.value is not None and n.data.kind in ("actor", "location", "person")]
        listed = {(n.data.kind, n.data.value): n.data.count for n in nodes}  # type: ignore[union-attr]
        # Values without the text are listed only as the parents of values with it.
        for node in nodes:
            value = node.data.value  # type: ignore[union-attr]
            assert "deir" in value.lower() or any(
                "deir" in (c.data.value or "").lower() for c in node.children if c.data)
        assert len(listed) < len(counts)
        # Counts are the library's disjunctive counts, untouched by the filter.
        assert all(count == counts[v] for (k, v), count in listed.items() if k == "location")
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        chosen = tree.cursor_node.data.value
        assert chosen is not None and "deir" in chosen.lower()
        await pilot.press("enter")
        await settle(pilot)
        assert app.state.locations == (chosen,)
        await pilot.press("escape")  # clears the filter first
        assert tree.filter_text == "" and app.focused is tree
        await pilot.press("escape")
        assert app.focused is app.query_one("#query", Input)

    drive(app, scenario)


def test_fold_ignores_case_and_accents() -> None:
    assert fold("São Paulo") == fold("SAO PAULO") == "sao paulo"
    assert fold("Qāsem Soleimānī") == "qasem soleimani"


def test_narrow_sidebar_cuts_names_with_an_ellipsis_and_never_scrolls_sideways(
        app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        tree = app.query_one("#facets", FacetTree)
        tree.focus()
        await pilot.pause()
        lines = [tree.render_line(y).text for y in range(tree.size.height)]
        assert any("…" in line for line in lines)
        assert all(len(line.rstrip()) <= tree.size.width for line in lines)
        assert not tree.show_horizontal_scrollbar and tree.max_scroll_x == 0

    drive(app, scenario, size=(80, 24))


def test_results_copied_as_citations_from_the_palette(app_factory: Factory,
                                                      seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await search_for(pilot, '"missile strike"')
        await palette(pilot, "Copy results as citations")
        lines = app.clipboard.splitlines()
        hits = app.query_one("#results", ResultsList).hits
        assert len(lines) == len(hits) >= 1
        for line, hit in zip(lines, hits, strict=True):
            ref = line[line.index(f"[{hit.id}:"):]
            start, end = (int(x) for x in ref[len(hit.id) + 2:ref.index("]")].split("-"))
            assert line.endswith('"') and line[-(end - start) - 1:-1] == \
                seed_ix.get(hit.id).text[start:end]

    drive(app, scenario)
