"""The results list: one three-line option per hit, more pages loaded as the user scrolls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from searchlib import Hit

from .render import HitStyles, hit_renderable

__all__ = ["HitList", "ResultsList"]

# Ask for the next page when the cursor or the viewport gets this close to the end.
_LOAD_AHEAD = 3


class HitList(OptionList):
    """An option list of hits, styled from its component classes (so themes apply)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hit--rank", "hit--date", "hit--title", "hit--meta", "hit--match"}

    def __init__(self, hits: Sequence[Hit] = (), *, snippets: bool = True,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.hits: list[Hit] = list(hits)
        self.snippets = snippets

    def on_mount(self) -> None:
        """Render the initial hits; re-render them whenever the theme changes."""
        if self.hits:
            self.add_options(self._make_options(self.hits))
            self.highlighted = 0
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        # The new theme's CSS is applied after this watcher runs: restyle once it has been.
        self.call_after_refresh(self.restyle)

    def _styles(self) -> HitStyles:
        get = self.get_component_rich_style
        return HitStyles(rank=get("hit--rank", partial=True), date=get("hit--date", partial=True),
                         title=get("hit--title", partial=True),
                         meta=get("hit--meta", partial=True),
                         match=get("hit--match", partial=True))

    def _make_options(self, hits: Sequence[Hit]) -> list[Option]:
        styles = self._styles()
        return [Option(hit_renderable(hit, styles, snippet=self.snippets)) for hit in hits]

    def restyle(self) -> None:
        """Rebuild the prompts with the current theme's colours, keeping cursor and scroll."""
        highlighted, scroll = self.highlighted, self.scroll_y
        self.set_options(self._make_options(self.hits))
        self.highlighted = highlighted
        self.scroll_to(y=scroll, animate=False)


class ResultsList(HitList):
    """Hits of the current search; Enter opens one, scrolling near the end loads more."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back_to_query", "Query", show=False),
        Binding("o", "open_source", "Open source", show=False),
    ]

    @dataclass
    class Open(Message):
        """The user chose a hit to read."""

        hit: Hit

    @dataclass
    class LoadMore(Message):
        """The list needs the next page of hits."""

        loaded: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.more_available = False
        self._asked_at = -1

    def show_hits(self, hits: Sequence[Hit], *, more: bool) -> None:
        """Replace the list with the first page of a new search."""
        self.hits = list(hits)
        self.more_available = more
        self._asked_at = -1
        self.set_options(self._make_options(hits))
        self.highlighted = 0 if hits else None
        self.scroll_home(animate=False)

    def append_hits(self, hits: Sequence[Hit], *, more: bool) -> None:
        """Add the next page below the hits already shown; cursor and scroll are kept."""
        self.hits.extend(hits)
        self.more_available = more
        self.add_options(self._make_options(hits))

    @property
    def current_hit(self) -> Hit | None:
        """The highlighted hit, if any."""
        if self.highlighted is None or not 0 <= self.highlighted < len(self.hits):
            return None
        return self.hits[self.highlighted]

    def _maybe_load_more(self) -> None:
        loaded = len(self.hits)
        if self.more_available and self._asked_at != loaded:
            self._asked_at = loaded
            self.post_message(self.LoadMore(loaded))

    def watch_highlighted(self, highlighted: int | None) -> None:
        """Load the next page when the cursor nears the last hit."""
        super().watch_highlighted(highlighted)
        if highlighted is not None and highlighted >= len(self.hits) - _LOAD_AHEAD:
            self._maybe_load_more()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Load the next page when the viewport nears the bottom (mouse wheel, page keys)."""
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y - self.size.height:
            self._maybe_load_more()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter or a click on a hit opens it."""
        event.stop()
        if 0 <= event.option_index < len(self.hits):
            self.post_message(self.Open(self.hits[event.option_index]))

    def action_back_to_query(self) -> None:
        """Escape returns to the query box."""
        self.screen.query_one("#query").focus()

    def action_open_source(self) -> None:
        """Open the highlighted hit's source file in the editor or the system opener."""
        from .opening import open_hit_source

        hit = self.current_hit
        if hit is not None:
            open_hit_source(self.app, hit)
