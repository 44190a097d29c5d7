"""The query box: focused at start; Down (or Tab) moves on to the results."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

__all__ = ["QueryInput"]


class QueryInput(Input):
    """A one-line query editor; the app searches as it changes and at once on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,tab", "to_results", "Go to the results", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder='Search: words, "phrases", AND/OR/NOT, actor:IRGC, date:>2017 …',
            id=id, select_on_focus=False)

    class BackspaceOnEmpty(Message):
        """Backspace was pressed with nothing to delete (the app removes the last filter)."""

    def on_key(self, event: events.Key) -> None:
        """Report Backspace in an empty box."""
        if event.key == "backspace" and not self.value:
            self.post_message(self.BackspaceOnEmpty())

    def action_to_results(self) -> None:
        """Move the focus to the results list."""
        self.screen.query_one("#results").focus()
