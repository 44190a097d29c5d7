"""Snapshot tests of the main states (pytest-textual-snapshot; update with --snapshot-update).

The search time and the index path are the only things that vary between runs, so searches
report a fixed time and the app is told a fixed index path. Run from the repository root (the
reader shows source paths relative to the working directory).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import settle

from searchlib import Index, SearchResults
from tui.app import SearchApp, make_app
from tui.facets import FacetTree

Snap = Callable[..., bool]


@pytest.fixture()
def steady_app(seed_ix: Index, monkeypatch: pytest.MonkeyPatch) -> Callable[[], SearchApp]:
    """An app on the seed index whose searches always report 12 ms, blink and animation off."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    search = seed_ix.search

    def fixed_time(*args: Any, **kwargs: Any) -> SearchResults:
        return dataclasses.replace(search(*args, **kwargs), elapsed=0.012)

    monkeypatch.setattr(seed_ix, "search", fixed_time)

    def build() -> SearchApp:
        return make_app(seed_ix, index_dir=Path("seed-index"), debounce=0.01)

    return build


async def start(pilot: Pilot[Any], query: str | None = None) -> None:
    """Settle the first search, stop the cursor blinking, optionally run ``query``."""
    box = pilot.app.query_one("#query", Input)
    box.cursor_blink = False
    await settle(pilot)
    if query is not None:
        box.value = query
        await pilot.press("enter")
        await settle(pilot)


def test_snapshot_start(snap_compare: Snap, steady_app: Callable[[], SearchApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot)

    assert snap_compare(steady_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_filtered_results(snap_compare: Snap,
                                   steady_app: Callable[[], SearchApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "missile strike")
        tree = pilot.app.query_one("#facets", FacetTree)
        tree.focus()
        tree.move_to(("actor", "IRGC", False))
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.query_one("#results").focus()
        await pilot.pause()

    assert snap_compare(steady_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_reader(snap_compare: Snap, steady_app: Callable[[], SearchApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "missile")
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("n", "n")
        await pilot.pause()

    assert snap_compare(steady_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_no_hits_with_suggestion(snap_compare: Snap,
                                          steady_app: Callable[[], SearchApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "misile")

    assert snap_compare(steady_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_small_terminal(snap_compare: Snap,
                                 steady_app: Callable[[], SearchApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await start(pilot, "isis")

    assert snap_compare(steady_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_no_index(snap_compare: Snap, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    app = make_app(None, index_dir=Path("my-index"))
    assert snap_compare(app, terminal_size=(80, 24))
