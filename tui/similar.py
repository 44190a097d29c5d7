"""A pop-up list of articles similar to the one being read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from searchlib import Hit

from .render import safe
from .results import HitList

__all__ = ["SimilarScreen"]


class SimilarScreen(ModalScreen[Hit | None]):
    """Choose one of ``hits`` to read it; Escape closes without choosing."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, hits: Sequence[Hit]) -> None:
        super().__init__(classes="popup")
        self.source_title = title
        self.hits = list(hits)

    def compose(self) -> ComposeResult:
        """Heading and the list."""
        with Vertical(id="similar-box", classes="popup-box"):
            yield Static(Content.assemble(("Similar to: ", "bold"),
                                          safe(self.source_title, single_line=True)),
                         classes="popup-title")
            if self.hits:
                yield HitList(self.hits, snippets=False, id="similar-list")
            else:
                yield Static("No similar articles in this index.", classes="empty")
            yield Static(Content.styled("Enter opens · Escape closes", "$text-muted"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the chosen article."""
        event.stop()
        self.dismiss(self.hits[event.option_index])

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
