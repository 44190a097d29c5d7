"""The help screen (``?`` or F1): every key binding of the app, grouped by where it works."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

__all__ = ["HelpScreen", "KeyTable", "binding_rows"]

Section = tuple[str, Sequence[tuple[str, str]]]


_NAMES = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter",
          "space": "Space", "delete": "Del", "backspace": "Backspace", "left": "←",
          "right": "→", "home": "Home", "end": "End"}


def _key_label(key: str) -> str:
    labels = []
    for k in key.split(","):
        *mods, name = k.strip().split("+")
        name = _NAMES.get(name, name.upper() if len(name) == 1 or re.fullmatch(r"f\d+", name)
                          else name)
        labels.append("+".join([*(m.capitalize() for m in mods), name]))
    return ", ".join(labels)


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(keys, description)`` for each binding (tuples are Textual's short form)."""
    rows: list[tuple[str, str]] = []
    for b in bindings:
        if isinstance(b, Binding):
            what = b.description or b.action
            if b.tooltip:
                what += f" — {b.tooltip}"
            rows.append((b.key_display or _key_label(b.key), what))
        else:
            rows.append((_key_label(b[0]), b[2] if len(b) > 2 else b[1]))
    return rows


class KeyTable(Widget):
    """One section of the help: a title over a two-column table of keys and what they do."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-table--title", "key-table--key"}

    DEFAULT_CSS = """
    KeyTable { height: auto; margin-bottom: 1; }
    """

    def __init__(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="help-section")
        self.section_title = title
        self.rows = list(rows)

    @property
    def plain(self) -> str:
        """The section as plain text (for tests and the clipboard)."""
        return "\n".join([self.section_title, *(f"{k}  {w}" for k, w in self.rows)])

    def render(self) -> Table:
        """A grid whose second column wraps under itself."""
        key_style = self.get_component_rich_style("key-table--key", partial=True)
        table = Table.grid(padding=(0, 2))
        table.title = self.section_title
        table.title_style = self.get_component_rich_style("key-table--title", partial=True)
        table.title_justify = "left"
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for keys, what in self.rows:
            table.add_row(Text(keys, style=key_style), Text(what))
        return table


class HelpScreen(ModalScreen[None]):
    """A scrollable list of key bindings; any of Escape, q, ? or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__(classes="popup")
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        """One block per section."""
        with Vertical(id="help-box", classes="popup-box"):
            yield Static(Content.styled("Keys", "bold"), classes="popup-title")
            with VerticalScroll(id="help-scroll"):
                for title, rows in self.sections:
                    yield KeyTable(title, rows)
            yield Static(Content.styled("Escape closes", "$text-muted"))

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
