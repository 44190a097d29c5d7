"""The query box: focused at start; Up/Down walk the query history, Down (or Tab) moves on to
the results.

The history is the index's :class:`searchlib.saved.QueryHistory` (persisted under the user's
state folder, bounded). A query joins it when the user commits to it: Enter, or leaving the
box for the results. Up recalls older queries (each one searched as it appears, like typing);
Down comes back towards the text being typed before, and past it moves to the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from searchlib import SearchlibError
from searchlib.saved import QueryHistory

__all__ = ["QueryInput"]


class QueryInput(Input):
    """A one-line query editor; the app searches as it changes and at once on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous query (history)", show=False),
        Binding("down", "history(1)", "Next query, or go to the results", show=False),
        Binding("tab", "to_results", "Go to the results", show=False),
    ]

    def __init__(self, *, id: str | None = None, index_dir: Path | None = None) -> None:
        super().__init__(
            placeholder='Search: words, "phrases", AND/OR/NOT, actor:IRGC, date:>2017 …',
            id=id, select_on_focus=False)
        # No index, no history: the box is disabled then anyway.
        self.history = QueryHistory(index_dir) if index_dir is not None else None
        self._browsing: int | None = None  # position in the history being shown
        self._draft = ""  # what was typed before Up was first pressed

    class BackspaceOnEmpty(Message):
        """Backspace was pressed with nothing to delete (the app removes the last filter)."""

    def on_key(self, event: events.Key) -> None:
        """Report Backspace in an empty box; any edit ends a walk through the history."""
        if event.key == "backspace" and not self.value:
            self.post_message(self.BackspaceOnEmpty())
        if event.key not in ("up", "down"):
            self._browsing = None

    def _entries(self) -> list[str]:
        if self.history is None:
            return []
        try:
            return self.history.entries()
        except SearchlibError as exc:  # an unreadable history file: say so, keep searching
            self.notify(str(exc), severity="warning", markup=False)
            return []

    def remember(self) -> None:
        """Add the current query to the history (blank queries are not kept)."""
        self._browsing = None
        if self.history is None or not self.value.strip():
            return
        try:
            self.history.add(self.value)
        except (SearchlibError, OSError) as exc:
            self.notify(f"Query history not saved: {exc}", severity="warning", markup=False)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)

    def action_history(self, step: int) -> None:
        """Up: an older query; Down: a newer one, then the draft, then the results."""
        if step > 0 and self._browsing is None:
            self.action_to_results()
            return
        entries = self._entries()
        if not entries:
            return
        if self._browsing is None:
            self._draft = self.value
            # Start from the newest entry that differs from what is shown.
            position = len(entries) - (2 if entries[-1] == self.value and
                                       len(entries) > 1 else 1)
        else:
            position = self._browsing + step
        if position >= len(entries):
            self._browsing = None
            self._show(self._draft)
            return
        self._browsing = max(0, position)
        self._show(entries[self._browsing])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter commits to the query: remember it (the app runs the search)."""
        self.remember()

    def action_to_results(self) -> None:
        """Move the focus to the results list (remembering the query)."""
        self.remember()
        self.screen.query_one("#results").focus()
