"""Command-palette entries for saved searches, the query history and exporting results.

"Saved search: NAME" runs a search saved with ``search save`` (or from here), "Save this
search as…" stores the current query and filters under a name, and "Clear query history"
forgets the query box's history; "Copy results as citations / Markdown" put the hits shown on
the clipboard as ``search query --format cite|markdown`` would print them. They act on the
app's public state and library objects only.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from searchlib import SearchlibError
from searchlib.cite import citation, format_cite, format_markdown
from searchlib.saved import QueryHistory, SavedSearch, SavedSearches

from .results import ResultsList
from .state import SearchState

if TYPE_CHECKING:
    from .app import SearchApp

__all__ = ["SaveSearchScreen", "SavedSearchCommands", "state_of"]


def state_of(saved: SavedSearch) -> SearchState:
    """The TUI's search state for a saved search ("date" order is the TUI's "newest")."""
    sort = {"date": "newest", "newest": "newest", "oldest": "oldest"}.get(saved.sort,
                                                                          "relevance")
    return SearchState(query=saved.query, actors=saved.actors, locations=saved.locations,
                       people=saved.people, date_from=saved.date_from, date_to=saved.date_to,
                       sort=sort)  # type: ignore[arg-type]


class SaveSearchScreen(ModalScreen[str | None]):
    """Asks for the name to save the current search under."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SaveSearchScreen { align: center middle; }
    SaveSearchScreen > Vertical { width: 60; max-width: 90%; height: auto;
                                  border: round $accent; padding: 0 1; background: $surface; }
    """

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        """The search being saved and a name box."""
        with Vertical():
            yield Label("Save this search as (letters, digits, . _ -):")
            yield Label(self.command, markup=False, classes="muted")
            yield Input(placeholder="name, e.g. iran-isis", id="save-name")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter saves under the typed name."""
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Escape: save nothing."""
        self.dismiss(None)


class SavedSearchCommands(Provider):
    """Saved searches and history commands for the command palette."""

    @property
    def _app(self) -> SearchApp:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app = self._app
        if app.index is None:
            return []
        try:
            saved = SavedSearches(app.index_dir).list()
        except SearchlibError as exc:
            app.notify(str(exc), severity="warning", markup=False)
            saved = []
        out: list[tuple[str, str, Callable[[], None]]] = [
            (f"Saved search: {s.name}", _describe(s), partial(self._run, s)) for s in saved]
        out.append(("Save this search as…", "Keep the query and filters under a name "
                    "(search query --saved NAME runs it from the shell)", self._save))
        if app.results is not None and app.results.total:
            out.append(("Copy results as citations", "One line per hit shown: title, outlet, "
                        "date, URL, the matched sentence and its offsets (--format cite)",
                        partial(self._export, "cite")))
            out.append(("Copy results as Markdown", "A numbered list with quotes, for a brief "
                        "(--format markdown)", partial(self._export, "markdown")))
        out.append(("Clear query history", "Forget the queries Up/Down recall in the query box",
                    self._clear_history))
        return out

    async def discover(self) -> Hits:
        """Every command, before anything is typed."""
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """The commands whose name matches what was typed."""
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

    def _run(self, saved: SavedSearch) -> None:
        app = self._app
        state = state_of(saved)
        app.run_search(state)
        box = app.query_one("#query", Input)
        box.value = state.query
        box.cursor_position = len(state.query)
        app.notify(f"Saved search {saved.name}", timeout=2, markup=False)

    def _save(self) -> None:
        app = self._app
        state = app.state

        def save(name: str | None) -> None:
            if name is None:
                return
            try:
                SavedSearches(app.index_dir).save(SavedSearch(
                    name, state.query, state.actors, state.locations, state.people,
                    state.date_from, state.date_to, state.effective_sort))
            except SearchlibError as exc:
                app.notify(str(exc), title="Not saved", severity="error", markup=False)
                return
            app.notify(f"search query --saved {shlex.quote(name)}", title=f"Saved as {name}",
                       markup=False, timeout=5)

        app.push_screen(SaveSearchScreen(state.command()), save)

    def _export(self, fmt: str) -> None:
        """Put the hits loaded in the list on the clipboard as citations or Markdown."""
        app = self._app
        if app.index is None:
            return
        hits = app.query_one("#results", ResultsList).hits
        try:
            citations = [citation(hit, app.index.get(hit.id)) for hit in hits]
        except KeyError:
            app.notify("The index changed; search again first.", severity="warning")
            return
        if fmt == "cite":
            text = "\n".join(format_cite(c) for c in citations) + "\n"
        else:
            text = format_markdown(citations, app.state.query)
        app.copy_to_clipboard(text)
        app.notify(f"{len(citations)} hit(s) as {fmt} on the clipboard", timeout=3)

    def _clear_history(self) -> None:
        app = self._app
        try:
            QueryHistory(app.index_dir).clear()
        except (SearchlibError, OSError) as exc:
            app.notify(str(exc), severity="error", markup=False)
            return
        app.notify("Query history cleared", timeout=2)


def _describe(saved: SavedSearch) -> str:
    state = state_of(saved)
    return state.command().removeprefix("search query ")
