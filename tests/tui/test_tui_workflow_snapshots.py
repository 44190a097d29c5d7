"""Snapshots of the analyst's workflow: the reader's entity filter, the facet search, the
saved searches in the command palette (update with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_tui_snapshots import start, steady_app  # noqa: F401  (the fixture)
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import settle

from searchlib.saved import SavedSearch, SavedSearches
from tui.app import SearchApp
from tui.facets import FacetTree

Snap = Callable[..., bool]


def test_snapshot_reader_entity_filter(snap_compare: Snap,
                                       steady_app: Callable[[], SearchApp]) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "missile")
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("f", "down", "down")
        await pilot.pause()

    assert snap_compare(steady_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_facet_search_narrow(snap_compare: Snap,
                                      steady_app: Callable[[], SearchApp]) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "iran")
        pilot.app.query_one("#facets", FacetTree).focus()
        await pilot.press(*"syr")
        await pilot.pause()

    assert snap_compare(steady_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_saved_searches_in_the_palette(
        snap_compare: Snap, steady_app: Callable[[], SearchApp],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEARCHLIB_STATE_DIR", str(tmp_path / "state"))
    app = steady_app()
    SavedSearches(app.index_dir).save(SavedSearch("iran-isis", "ISIS attack",
                                                  locations=("Iran",)))
    SavedSearches(app.index_dir).save(SavedSearch("syria-strikes", '"missile strike"',
                                                  actors=("IRGC",), date_from="2017"))

    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        # The palette's own input blinks too: a snapshot must not catch it half-way.
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"saved")
        await pilot.pause(0.5)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
