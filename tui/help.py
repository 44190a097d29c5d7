"""The help screen (``?`` or F1): every key binding of the app, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "binding_rows"]

Section = tuple[str, Sequence[tuple[str, str]]]


_NAMES = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter",
          "space": "Space", "delete": "Del", "backspace": "Backspace", "left": "←",
          "right": "→", "home": "Home", "end": "End"}


def _key_label(key: str) -> str:
    labels = []
    for k in key.split(","):
        *mods, name = k.strip().split("+")
        name = _NAMES.get(name, name.upper() if len(name) <= 3 and name[0] == "f" else name)
        labels.append("+".join([*(m.capitalize() for m in mods), name]))
    return "/".join(labels)


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
                    width = max((len(k) for k, _ in rows), default=0) + 2
                    lines = [Content.styled(title, "bold $text-primary")]
                    lines += [Content.assemble((keys.ljust(width), "bold $text-accent"), what)
                              for keys, what in rows]
                    yield Static(Content("\n").join(lines), classes="help-section")
            yield Static(Content.styled("Escape closes", "$text-muted"))

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
