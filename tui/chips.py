"""Active filters shown as removable chips under the query box.

A click on a chip's ✕ removes that filter; from the keyboard the sidebar check boxes, Backspace
in an empty query box (removes the last chip) and ``ctrl+r`` (clears all) do the same. A filter
typed in the query (``actor:IRGC``) has a chip too, marked "in query"; removing it takes its
clause out of the query text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import events
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from searchlib import QueryFilter

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
        typed: QueryFilter | None = None
        """The query's clause to take out, for a filter typed in the query."""

    def __init__(self, kind: str, value: str, typed: QueryFilter | None = None) -> None:
        parts: list[str | tuple[str, str] | Content] = [
            (f"{_KIND_LABEL[kind]}: ", "$text-muted"), safe(value, single_line=True)]
        if typed is not None:
            parts.append((" in query", "italic $text-muted"))
        parts.append((" ✕", "bold $text-error"))
        super().__init__(Content.assemble(*parts), classes="chip")
        self.kind = kind
        self.value = value
        self.typed = typed
        self.tooltip = ("Typed in the query: click to remove it from the query"
                        if typed is not None else "Click to remove this filter")
        if typed is not None:
            self.add_class("-typed")

    def on_click(self, event: events.Click) -> None:
        """Remove the filter."""
        event.stop()
        self.post_message(self.Remove(self.kind, self.value, self.typed))


class ChipBar(HorizontalGroup):
    """A row of chips, hidden when no filter is active."""

    def show_state(self, state: SearchState, typed: Sequence[QueryFilter] = ()) -> None:
        """Show one chip per active filter of ``state``, then one per filter ``typed`` in
        its query (the search's :attr:`searchlib.SearchResults.filters`)."""
        chips: list[tuple[str, str, QueryFilter | None]] = [
            (kind, value, None) for kind, value in state.chips()]
        chips += [(f.kind, f.value, f) for f in typed]
        current = [(c.kind, c.value, c.typed) for c in self.query(Chip)]
        if current == chips:
            return
        self.remove_children()
        self.mount_all([Chip(kind, value, f) for kind, value, f in chips])
        self.display = bool(chips)
