"""Active filters shown as removable chips under the query box.

A click on a chip's ✕ removes that filter; from the keyboard the sidebar check boxes, Backspace
in an empty query box (removes the last chip) and ``ctrl+r`` (clears all) do the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from .render import safe
from .state import SearchState

__all__ = ["Chip", "ChipBar"]

_KIND_LABEL = {"actor": "actor", "location": "location", "person": "person", "date": "date"}


class Chip(Static):
    """One active filter; clicking it removes the filter."""

    @dataclass
    class Remove(Message):
        """Remove this filter (kind "date" clears the date span)."""

        kind: str
        value: str

    def __init__(self, kind: str, value: str) -> None:
        label = Content.assemble(
            (f"{_KIND_LABEL[kind]}: ", "$text-muted"),
            safe(value, single_line=True),
            (" ✕", "bold $text-error"),
        )
        super().__init__(label, classes="chip")
        self.kind = kind
        self.value = value
        self.tooltip = "Click to remove this filter"

    def on_click(self, event: events.Click) -> None:
        """Remove the filter."""
        event.stop()
        self.post_message(self.Remove(self.kind, self.value))


class ChipBar(HorizontalGroup):
    """A row of chips, hidden when no filter is active."""

    def show_state(self, state: SearchState) -> None:
        """Show one chip per active filter of ``state``."""
        chips = state.chips()
        current = [(c.kind, c.value) for c in self.query(Chip)]
        if current == chips:
            return
        self.remove_children()
        self.mount_all([Chip(kind, value) for kind, value in chips])
        self.display = bool(chips)
