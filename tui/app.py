"""The searchlib terminal UI: search as you type, facets, a timeline and an article reader.

:func:`make_app` builds the app for the CLI (``search tui``) and the tests alike; the app gets
the opened :class:`searchlib.Index` (or None when there is no index yet) in its constructor and
uses only the public library API. Searches run in a worker thread so typing never stalls;
one lock serialises access to the index, whose Whoosh searcher is not meant for concurrent use.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

import searchlib
from searchlib import Hit, Index, QueryFilter, SearchCancelled, SearchlibError, SearchResults

from .chips import Chip, ChipBar
from .commands import SavedSearchCommands
from .facets import FacetTree
from .help import HelpScreen, binding_rows
from .query_bar import QueryInput
from .reader import ReaderScreen
from .render import safe
from .results import ResultsList
from .similar import SimilarScreen
from .state import FILTER_KINDS, SearchState, query_terms
from .timeline import Timeline

__all__ = ["PAGE_SIZE", "SearchApp", "make_app", "run_app"]

#: Hits fetched per page (the list asks for the next page when scrolled near its end).
PAGE_SIZE = 20
_SORT_LABEL = {"relevance": "relevance", "newest": "newest first", "oldest": "oldest first"}


class SearchApp(App[None]):
    """Full-screen search over one index."""

    CSS_PATH = "app.tcss"
    TITLE = "searchlib"
    COMMANDS = App.COMMANDS | {SavedSearchCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", key_display="F1/?"),
        Binding("ctrl+g", "apply_suggestion", "Did you mean",
                tooltip="search for the suggested spelling"),
        Binding("ctrl+y", "copy_command", "Copy cmd",
                tooltip="copy the `search query …` command for this search"),
        Binding("ctrl+o", "cycle_sort", "Sort",
                tooltip="relevance, newest first, oldest first"),
        Binding("ctrl+r", "clear_filters", "Clear filters",
                tooltip="remove every filter, sort by relevance"),
        Binding("ctrl+l,slash", "focus('query')", "Query box", show=False),
        Binding("ctrl+f", "focus('facets')", "Facet sidebar", show=False),
        Binding("ctrl+t", "focus('timeline')", "Timeline", show=False),
    ]

    def __init__(self, index: Index | None, *, index_dir: Path, error: str | None = None,
                 debounce: float = 0.25, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.page_size = page_size
        self.index = index
        self.index_dir = index_dir
        self.error = error
        self.debounce = debounce
        self.state = SearchState()
        self.results: SearchResults | None = None
        self.query_error: str | None = None
        self.unfiltered_total: int | None = None
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: Timer | None = None
        # Set to stop the search running in the worker when a newer one starts.
        self._cancel = threading.Event()
        # Shows "searching…" when a search outlasts a keystroke's pause.
        self._busy_timer: Timer | None = None
        self._had_suggestion = False
        self._warned: tuple[str, ...] = ()

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Query box, chips and status over the sidebar, results and timeline."""
        query = QueryInput(id="query",
                           index_dir=self.index_dir if self.index is not None else None)
        query.border_title = self._title()
        yield query
        yield ChipBar(id="chips")
        yield Static(id="status")
        with Horizontal(id="body"):
            yield FacetTree(self._ancestors, id="facets")
            with Vertical(id="results-pane"):
                yield ResultsList(id="results")
                yield Static(id="empty")
                yield Timeline(id="timeline")
        yield Footer()

    def _title(self) -> str:
        if self.index is None:
            return "searchlib · no index"
        return f"searchlib · {safe(str(self.index_dir), single_line=True)} · " \
               f"{self.index.doc_count} articles"

    def on_mount(self) -> None:
        """Focus the query box and show everything (or the no-index message)."""
        self.query_one("#chips", ChipBar).display = False
        self.query_one("#query", QueryInput).focus()
        if self.index is None:
            self.query_one("#query", QueryInput).disabled = True
            for selector in ("#facets", "#results", "#timeline"):
                self.query_one(selector).display = False
            self._show_empty(self._no_index_message())
            self._set_status(Content.styled(self.error or "No index yet.", "$text-error"))
            return
        self.query_one("#empty").display = False
        self.run_search()

    def _no_index_message(self) -> Content:
        command = f"search index ARTICLES_DIR --index {shlex.quote(str(self.index_dir))}"
        heading = ("Cannot open the index" if self.error
                   else f"No index at {safe(str(self.index_dir), single_line=True)} yet")
        parts: list[str | tuple[str, str]] = [(heading, "bold"), "\n\n"]
        if self.error:
            parts += [(safe(self.error), "$text-error"), "\n\n"]
        parts += [
            "Build one from a folder of saved articles (.txt, .md, .html, .json), for example:",
            "\n\n    ", (command, "bold $text-accent"), "\n\n",
            "Replace ARTICLES_DIR with that folder (try the bundled seeds/ folder), then run ",
            ("search tui", "bold"),
            " again. Ctrl+Q quits.",
        ]
        return Content.assemble(*parts)

    def _ancestors(self, kind: str, value: str) -> tuple[str, ...]:
        if self.index is None or kind not in ("actor", "location", "person"):
            return ()
        return self.index.gazetteer.ancestors(kind, value)  # type: ignore[arg-type]

    # --- searching ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search as the user types, once typing pauses."""
        if event.input.id != "query" or event.value == self.state.query:
            return
        self.state = self.state.with_query(event.value)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.debounce, self.run_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter searches at once."""
        if event.input.id != "query":
            return
        self.state = self.state.with_query(event.value)
        self.run_search()

    def run_search(self, state: SearchState | None = None) -> None:
        """Search for ``state`` (default: the current state) in a worker thread."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if state is not None:
            self.state = state
        if self.index is None:
            return
        self._generation += 1
        # The search still running (a slow fuzzy or pasted query) stops at its next check
        # instead of holding the index until it is done.
        self._cancel.set()
        self._cancel = threading.Event()
        if self._busy_timer is not None:
            self._busy_timer.stop()
        generation = self._generation
        self._busy_timer = self.set_timer(0.2, lambda: self._show_busy(generation))
        self._search(self._generation, self.state, self._cancel)

    def _show_busy(self, generation: int) -> None:
        """Say that a search is running (only once it outlasts a short pause)."""
        if generation != self._generation or self.index is None:
            return
        self.query_one("#query", QueryInput).add_class("-searching")
        self._set_status(Content.assemble(
            ("searching ", "bold $text-accent"),
            (f"“{safe(self.state.query, single_line=True)}”", "bold"),
            ("…  (typing more cancels it)", "$text-muted")))

    def _not_busy(self) -> None:
        if self._busy_timer is not None:
            self._busy_timer.stop()
            self._busy_timer = None
        self.query_one("#query", QueryInput).remove_class("-searching")

    @work(thread=True, exclusive=True, group="search")
    def _search(self, generation: int, state: SearchState, cancel: threading.Event) -> None:
        assert self.index is not None
        try:
            with self._lock:
                results = self._call_search(state, 1, cancel=cancel)
                unfiltered = None
                if results.total == 0 and state.has_filters:
                    unfiltered = self._call_search(state.cleared(), 1, limit=1,
                                                   cancel=cancel).total
        except SearchCancelled:
            return  # a newer search replaced it
        except SearchlibError as exc:  # a malformed query, or an index gone bad meanwhile
            if not get_current_worker().is_cancelled:
                self.call_from_thread(self._show_query_error, generation, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_results, generation, state, results, unfiltered)

    def _call_search(self, state: SearchState, page: int, *, limit: int | None = None,
                     cancel: threading.Event | None = None) -> SearchResults:
        assert self.index is not None
        return self.index.search(
            state.query, limit=limit or self.page_size, page=page, sort=state.effective_sort,
            actors=state.actors, locations=state.locations, people=state.people,
            date_from=state.date_from, date_to=state.date_to, cancel=cancel)

    @work(thread=True, group="more")
    def _load_page(self, generation: int, state: SearchState, page: int) -> None:
        try:
            with self._lock:
                results = self._call_search(state, page)
        except SearchlibError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.call_from_thread(self._append_results, generation, results)

    def _show_results(self, generation: int, state: SearchState, results: SearchResults,
                      unfiltered: int | None) -> None:
        if generation != self._generation:
            return  # a newer search has started; this one's answer is stale
        self._not_busy()
        self.results = results
        self.query_error = None
        self.unfiltered_total = unfiltered
        self.query_one("#query", QueryInput).remove_class("-error")
        results_list = self.query_one("#results", ResultsList)
        results_list.show_hits(results.hits, more=len(results.hits) < results.total)
        self.query_one("#facets", FacetTree).show_facets(results.facets,
                                                         self._shown_selection(state, results))
        self.query_one("#timeline", Timeline).show_months(
            results.facets.get("month", {}), state.date_from, state.date_to)
        self.query_one("#chips", ChipBar).show_state(state, results.filters)
        if results.total:
            self.query_one("#empty").display = False
            results_list.display = True
        else:
            results_list.display = False
            self._show_empty(self._no_hits_message(state, results))
        self._set_status(self._status(state, results))
        if results.warnings != self._warned:
            # Once per new warning, not again on every keystroke that keeps it.
            self._warned = results.warnings
            for warning in results.warnings:
                self.notify(warning, title="Filter", severity="warning", markup=False,
                            timeout=6)
        if bool(results.suggestion) != self._had_suggestion:
            # Only then does the footer change; redrawing it on every search costs ~10 ms.
            self._had_suggestion = bool(results.suggestion)
            self.refresh_bindings()

    def _append_results(self, generation: int, results: SearchResults) -> None:
        if generation != self._generation:
            return
        results_list = self.query_one("#results", ResultsList)
        loaded = len(results_list.hits) + len(results.hits)
        results_list.append_hits(results.hits, more=bool(results.hits) and loaded < results.total)
        if self.results is not None:
            self._set_status(self._status(self.state, self.results))

    def _show_query_error(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._not_busy()
        self.query_error = message
        self.query_one("#query", QueryInput).add_class("-error")
        self._set_status(Content.assemble(("⚠ ", "bold $text-error"),
                                          (safe(message, single_line=True), "$text-error"),
                                          ("  (showing the last good results)", "$text-muted")))

    def on_results_list_load_more(self, event: ResultsList.LoadMore) -> None:
        """Fetch the page after the hits already shown."""
        if self.results is None or event.loaded >= self.results.total:
            return
        self._load_page(self._generation, self.state, event.loaded // self.page_size + 1)

    # --- status and empty states -------------------------------------------------------------

    def _set_status(self, content: Content) -> None:
        self.query_one("#status", Static).update(content)

    def _status(self, state: SearchState, results: SearchResults) -> Content:
        shown = len(self.query_one("#results", ResultsList).hits)
        noun = "article" if results.total == 1 else "articles"
        parts: list[str | tuple[str, str]] = [
            (f"{results.total:,} {noun}", "bold"),
            (f" in {results.elapsed * 1000:.0f} ms", "$text-muted"),
        ]
        if results.total > shown:
            parts.append((f" · showing {shown}", "$text-muted"))
        parts.append((f" · {_SORT_LABEL[state.effective_sort]}", "$text-muted"))
        if results.suggestion:
            parts += ["  ·  Did you mean ",
                      (safe(results.suggestion, single_line=True), "bold $text-accent"),
                      "? ", ("Ctrl+G", "bold reverse"), " to search it"]
        return Content.assemble(*parts)

    def _show_empty(self, content: Content) -> None:
        empty = self.query_one("#empty", Static)
        empty.update(content)
        empty.display = True

    def _no_hits_message(self, state: SearchState, results: SearchResults) -> Content:
        query = safe(state.query, single_line=True)
        parts: list[str | tuple[str, str]] = [
            ("No articles match ", "bold"), (f"“{query}”" if query else "", "bold"),
            (" with these filters" if state.has_filters else "", "bold"), ".\n"]
        if results.suggestion:
            parts += ["\nDid you mean ", (safe(results.suggestion, single_line=True),
                                          "bold $text-accent"),
                      "?  Press ", ("Ctrl+G", "bold reverse"), " to search for it.\n"]
        if state.has_filters:
            without = (f"{self.unfiltered_total:,} articles match without them"
                       if self.unfiltered_total else "nothing matches without them either")
            parts += ["\nFilters: ",
                      (safe(", ".join(v for _, v in state.chips()), single_line=True), "bold"),
                      f" ({without}). Press ", ("Ctrl+R", "bold reverse"),
                      " to clear them, or uncheck values in the sidebar.\n"]
        parts += [("\nTo loosen the query: use fewer words or OR between them, a wildcard "
                   "(missil*), a fuzzy term (misile~) or drop a field like title:.", "$text-muted")]
        return Content.assemble(*parts)

    # --- filters -----------------------------------------------------------------------------

    @staticmethod
    def _shown_selection(state: SearchState, results: SearchResults) -> SearchState:
        """``state`` with the facet values its query's filters select (``actor:IRGC``) added,
        for the sidebar to show them checked as it shows the options' values."""
        for typed in results.filters:
            if typed.name is not None and typed.kind in FILTER_KINDS:
                kind = typed.kind
                if typed.name not in state.selected(kind):
                    state = state.toggled(kind, typed.name)
        return state

    def _typed_filter(self, kind: str, value: str) -> QueryFilter | None:
        """The filter typed in the current query that selects facet ``kind``'s ``value``."""
        if self.results is None or self.results.query != self.state.query:
            return None
        if value in self.state.selected(kind):  # type: ignore[arg-type]
            return None  # checked as an option too: unchecking removes the option first
        return next((f for f in self.results.filters if f.kind == kind and f.name == value),
                    None)

    def _remove_typed(self, typed: QueryFilter) -> None:
        """Take a filter typed in the query out of the query text, and search again."""
        state = self.state.without_clause(typed.clause, typed.start)
        box = self.query_one("#query", QueryInput)
        self.state = state  # first, so that the box's change is not a new query
        box.value = state.query
        box.cursor_position = len(state.query)
        self.run_search(state)

    def on_facet_tree_toggle(self, event: FacetTree.Toggle) -> None:
        """Check or uncheck a facet value (unchecking one the query names edits the query)."""
        typed = self._typed_filter(event.kind, event.value)
        if typed is not None:
            self._remove_typed(typed)
            return
        self.run_search(self.state.toggled(event.kind, event.value))

    def on_facet_tree_date_chosen(self, event: FacetTree.DateChosen) -> None:
        """Filter to a year or month; choosing the active one again clears it."""
        if self.state.date_from == event.value and self.state.date_to == event.value:
            self.run_search(self.state.with_dates(None, None))
        else:
            self.run_search(self.state.with_dates(event.value, event.value))

    def on_facet_tree_refresh(self, event: FacetTree.Refresh) -> None:
        """Redraw the sidebar (after "… more" was chosen)."""
        if self.results is not None:
            self.query_one("#facets", FacetTree).show_facets(self.results.facets, self.state)

    def on_timeline_span_chosen(self, event: Timeline.SpanChosen) -> None:
        """Filter to the span chosen on the timeline."""
        self.run_search(self.state.with_dates(event.date_from, event.date_to))

    def on_chip_remove(self, event: Chip.Remove) -> None:
        """Remove the clicked chip's filter (from the query text, if typed there)."""
        if event.typed is not None:
            self._remove_typed(event.typed)
            return
        self._remove_filter(event.kind, event.value)

    def _remove_filter(self, kind: str, value: str) -> None:
        if kind == "date":
            self.run_search(self.state.with_dates(None, None))
        elif kind in ("actor", "location", "person"):
            self.run_search(self.state.toggled(kind, value))  # type: ignore[arg-type]

    def on_query_input_backspace_on_empty(self, event: QueryInput.BackspaceOnEmpty) -> None:
        """Backspace in an empty query box removes the last filter chip."""
        chips = self.state.chips()
        if chips:
            self._remove_filter(*chips[-1])

    # --- reader ------------------------------------------------------------------------------

    def on_results_list_open(self, event: ResultsList.Open) -> None:
        """Open the chosen hit in the reader."""
        self.open_article(event.hit)

    def open_article(self, hit: Hit) -> None:
        """Push a reader for ``hit`` with the current query's terms highlighted."""
        if self.index is None:
            return
        try:
            with self._lock:
                article = self.index.get(hit.id)
        except KeyError:
            self.notify("That article is no longer in the index.", severity="error")
            return
        matched = {hit.snippet[s:e]: None for s, e in hit.highlights}
        state = self.state
        self.push_screen(ReaderScreen(
            article, query_terms(state.query, matched),
            counter=lambda kind, value: self._count_with(state, kind, value),
            selected={k: state.selected(k) for k in FILTER_KINDS}))

    def _count_with(self, state: SearchState, kind: str, value: str) -> int:
        """Hits the search ``state`` would give with ``value`` of facet ``kind`` toggled.

        Read from the disjunctive facet counts when that facet has no selection (they are
        exactly that number); otherwise counted by a search. Called from a worker thread.
        """
        facets = self.results.facets if self.results is not None else {}
        if not state.selected(kind) and kind in facets:  # type: ignore[arg-type]
            return int(facets[kind].get(value, 0))
        assert self.index is not None
        toggled = state.toggled(kind, value)  # type: ignore[arg-type]
        with self._lock:
            return self._call_search(toggled, 1, limit=1).total

    def on_reader_screen_filter_requested(self, event: ReaderScreen.FilterRequested) -> None:
        """An entity chosen in the reader: back to the results, filtered by it."""
        if isinstance(self.screen, ReaderScreen):
            self.screen.dismiss(None)
        self.run_search(self.state.toggled(event.kind, event.value))  # type: ignore[arg-type]
        self.query_one("#results", ResultsList).focus()

    def on_reader_screen_similar_requested(self, event: ReaderScreen.SimilarRequested) -> None:
        """List articles similar to the one being read; choosing one opens it."""
        if self.index is None:
            return
        with self._lock:
            try:
                hits = self.index.similar(event.doc_id, limit=10)
                title = self.index.get(event.doc_id).title
            except KeyError:
                return

        def chosen(hit: Hit | None) -> None:
            if hit is not None:
                self.open_article(hit)

        self.push_screen(SimilarScreen(title, hits), chosen)

    # --- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer the did-you-mean key only with a suggestion, and search keys only on the
        search screen (the reader has its own)."""
        searching = not isinstance(self.screen, (ReaderScreen, HelpScreen, SimilarScreen))
        if action == "apply_suggestion":
            return searching and bool(self.results and self.results.suggestion)
        if action in ("cycle_sort", "clear_filters", "focus", "copy_command"):
            return (searching or action == "copy_command") and self.index is not None
        return True

    def on_resize(self) -> None:
        """Narrow layout under 100 columns."""
        self.set_class(self.size.width < 100, "-narrow")

    def action_apply_suggestion(self) -> None:
        """Replace the query with the did-you-mean suggestion and search."""
        if self.results is None or not self.results.suggestion:
            self.notify("No suggestion for this query.", timeout=2)
            return
        query = self.query_one("#query", QueryInput)
        suggestion = self.results.suggestion
        self.state = self.state.with_query(suggestion)
        query.value = suggestion
        query.cursor_position = len(suggestion)
        self.run_search()

    def action_copy_command(self) -> None:
        """Put the `search query …` one-liner for this search on the clipboard."""
        command = self.state.command(str(self.index_dir))
        self.copy_to_clipboard(command)
        self.notify(command, title="Copied to the clipboard", markup=False, timeout=6)

    def action_cycle_sort(self) -> None:
        """Relevance -> newest -> oldest."""
        self.run_search(self.state.next_sort())
        self.notify(f"Sorted by {_SORT_LABEL[self.state.effective_sort]}", timeout=2)

    def action_clear_filters(self) -> None:
        """Remove every filter and go back to the relevance order."""
        if self.state.has_filters or self.state.sort != "relevance":
            self.run_search(self.state.cleared())

    def action_help(self) -> None:
        """Show every key binding."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_help()))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The app's actions in the command palette, next to Textual's own."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Copy as command", "Copy the `search query …` one-liner",
                            self.action_copy_command)
        yield SystemCommand("Clear filters", "Remove every facet and date filter",
                            self.action_clear_filters)
        yield SystemCommand("Cycle sort order", "Relevance, newest first, oldest first",
                            self.action_cycle_sort)
        if self.results is not None and self.results.suggestion:
            yield SystemCommand(f"Did you mean: {self.results.suggestion}",
                                "Search for the suggested spelling",
                                self.action_apply_suggestion)
        yield SystemCommand("Key bindings", "Show every key", self.action_help)


def key_help() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every key binding, by where it works, for the help screen."""
    return [
        ("Anywhere", [*binding_rows(SearchApp.BINDINGS),
                      ("Tab/Shift+Tab", "Next / previous pane"),
                      ("Ctrl+P", "Command palette"), ("Ctrl+Q", "Quit")]),
        ("Query box", [("typing", "Search as you type"), ("Enter", "Search now"),
                       *binding_rows(QueryInput.BINDINGS),
                       ("Backspace", "In an empty box: remove the last filter chip")]),
        ("Results", [("Up/Down", "Move"), ("PgUp/PgDn Home/End", "Page (loads more)"),
                     ("Enter", "Open the article"), *binding_rows(ResultsList.BINDINGS)]),
        ("Facet sidebar", [("Up/Down", "Move"), *binding_rows(FacetTree.BINDINGS)]),
        ("Timeline", binding_rows(Timeline.BINDINGS)),
        ("Reader", binding_rows(ReaderScreen.BINDINGS)),
        ("Similar articles", [("Enter", "Open"), *binding_rows(SimilarScreen.BINDINGS)]),
    ]


def make_app(index: Index | None, *, index_dir: Path, error: str | None = None,
             debounce: float = 0.25, page_size: int = PAGE_SIZE) -> SearchApp:
    """Build the app for an opened ``index`` (None: no index yet, or ``error`` opening it).

    ``debounce`` is the pause in typing (seconds) before searching; ``page_size`` the number
    of hits fetched at a time.
    """
    return SearchApp(index, index_dir=index_dir, error=error, debounce=debounce,
                     page_size=page_size)


def run_app(index_dir: str | None) -> None:
    """Open the index at ``index_dir`` (or the configured default) and run the app."""
    from searchlib.config import load_config, resolve_index_dir

    path = resolve_index_dir(index_dir)
    index: Index | None = None
    error: str | None = None
    try:
        index = searchlib.open_index(path, gazetteer=load_config().gazetteer)
    except searchlib.IndexNotFoundError:
        pass  # the app explains how to build one
    except SearchlibError as exc:
        error = str(exc)
    try:
        make_app(index, index_dir=path, error=error).run()
    finally:
        if index is not None:
            index.close()
