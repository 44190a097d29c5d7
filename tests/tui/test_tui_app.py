"""Pilot tests: every interaction of the TUI, driven headless on the seed index."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_helpers import drive, settle, type_query

from searchlib import Index, SearchResults
from tui.app import PAGE_SIZE, SearchApp, key_help, make_app
from tui.chips import Chip, ChipBar
from tui.facets import FacetTree
from tui.help import HelpScreen, KeyTable
from tui.reader import EntityList, ReaderScreen
from tui.results import ResultsList
from tui.similar import SimilarScreen
from tui.timeline import Timeline

Factory = Callable[..., SearchApp]


def status_text(app: SearchApp) -> str:
    return str(app.query_one("#status", Static).content)


def results(app: SearchApp) -> ResultsList:
    return app.query_one("#results", ResultsList)


def facets(app: SearchApp) -> FacetTree:
    return app.query_one("#facets", FacetTree)


async def choose_facet(pilot: Pilot[object], kind: str, value: str) -> None:
    tree = facets(pilot.app)  # type: ignore[arg-type]
    tree.focus()
    assert tree.move_to((kind, value, False))
    await pilot.press("enter")
    await settle(pilot)


# --- query box and results ------------------------------------------------------------------

def test_query_focused_at_start_and_every_article_listed(app_factory: Factory,
                                                         seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        assert isinstance(app.focused, Input) and app.focused.id == "query"
        assert len(results(app).hits) == seed_ix.doc_count == 5
        assert status_text(app).startswith("5 articles in ")
        assert "newest first" in status_text(app)  # an empty query lists newest first

    drive(app, scenario)


def test_typing_searches_after_a_pause(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await pilot.press(*"missile")
        await settle(pilot, 0.2)
        expected = seed_ix.search("missile", limit=PAGE_SIZE)
        assert app.state.query == "missile"
        assert [h.id for h in results(app).hits] == [h.id for h in expected.hits]
        assert status_text(app).startswith(f"{expected.total} articles")
        assert "relevance" in status_text(app)

        # The list shows rank, title, date, entities and the snippet with its matches.
        hit = results(app).hits[0]
        assert hit.highlights, "the snippet has matched terms"
        svg = app.export_screenshot()
        assert f"{hit.rank}." in svg
        assert "who" in svg and "where" in svg
        assert hit.snippet[hit.highlights[0][0]:hit.highlights[0][1]] in svg

        # Ctrl+O cycles the sort order.
        await type_query(pilot, "iran")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.state.sort == "newest"
        dates = [h.published for h in results(app).hits if h.published]
        assert dates == sorted(dates, reverse=True)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.state.sort == "oldest"
        assert "--sort oldest" in app.state.command()

    drive(app, scenario)


def test_enter_searches_at_once(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory(debounce=30.0)  # the debounce timer would never fire during the test

    async def scenario(pilot: Pilot[object]) -> None:
        await pilot.press(*"ballistic")
        await pilot.pause()
        assert len(results(app).hits) == 5  # not searched yet
        await pilot.press("enter")
        await settle(pilot)
        assert len(results(app).hits) == seed_ix.search("ballistic").total < 5

    drive(app, scenario)


def test_typing_never_waits_for_a_search(app_factory: Factory, seed_ix: Index,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    search = seed_ix.search
    finished: list[str] = []

    def slow_search(query: str, **kwargs: Any) -> SearchResults:
        time.sleep(0.8)
        finished.append(query)
        return search(query, **kwargs)

    monkeypatch.setattr(seed_ix, "search", slow_search)
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await settle(pilot)
        finished.clear()
        box = app.query_one("#query", Input)
        box.value = "iran"
        await pilot.press("enter")  # a slow search is now running in its worker thread
        await pilot.press("s")
        assert box.value == "irans" and finished == [], "the key was handled mid-search"
        await settle(pilot, 0.2)
        # Only the last query's results are shown; the stale answer is dropped.
        assert finished[-1] == "irans" and app.state.query == "irans"
        assert [h.id for h in results(app).hits] == [
            h.id for h in search("irans", limit=PAGE_SIZE).hits]

    drive(app, scenario)


def test_more_results_load_when_scrolling(app_factory: Factory) -> None:
    app = app_factory(page_size=2)

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "isis")  # all five seeds, by relevance
        # The first page plus whatever the look-ahead fetched while the cursor sat on hit 1.
        loaded = len(results(app).hits)
        assert loaded < 5 and loaded % 2 == 0
        assert f"showing {loaded}" in status_text(app)
        results(app).focus()
        for _ in range(4):
            await pilot.press("pagedown")
            await settle(pilot)
        assert len(results(app).hits) == 5
        assert [h.rank for h in results(app).hits] == [1, 2, 3, 4, 5]
        assert not results(app).more_available

    drive(app, scenario)


# --- facets, chips, timeline ----------------------------------------------------------------

def test_facet_value_filters_with_disjunctive_counts(app_factory: Factory,
                                                     seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "missile")
        await choose_facet(pilot, "actor", "IRGC")
        expected = seed_ix.search("missile", actors=["IRGC"], limit=PAGE_SIZE)
        assert app.state.actors == ("IRGC",)
        assert [h.id for h in results(app).hits] == [h.id for h in expected.hits]
        items = facets(app).items
        assert items[("actor", "IRGC", False)].data.selected  # type: ignore[union-attr]
        # Other actors keep the counts they would add (the facet ignores its own selection),
        # other facets count within the filtered results: both as the library reports them.
        for kind in ("actor", "location"):
            for value, count in expected.facets[kind].items():
                node = items.get((kind, value, False))
                if node is not None:
                    assert node.data is not None and node.data.count == count
        chips = app.query(Chip)
        assert [(c.kind, c.value) for c in chips] == [("actor", "IRGC")]
        assert app.query_one("#chips", ChipBar).display
        # Choosing it again removes the filter.
        await choose_facet(pilot, "actor", "IRGC")
        assert app.state.actors == ()
        assert not app.query_one("#chips", ChipBar).display
        # "… N more" lists every value.
        shown = sum(1 for k in facets(app).items if k[0] == "actor" and k[1])
        assert facets(app).move_to(("actor", None, True))
        await pilot.press("enter")
        await settle(pilot)
        assert ("actor", None, True) not in facets(app).items
        assert {k[1] for k in facets(app).items if k[0] == "actor" and k[1]} == set(
            seed_ix.search("missile").facets["actor"])
        assert len(seed_ix.search("missile").facets["actor"]) > shown

    drive(app, scenario)


def test_a_filter_typed_in_the_query_is_a_chip_and_a_checked_value(
        app_factory: Factory, seed_ix: Index) -> None:
    """``actor:Daesh`` in the query filters as ``--actor Daesh`` does (hits, facet counts),
    shows a chip marked "in query" and checks ISIS (its canonical name) in the sidebar;
    removing the chip, or unchecking the value, takes the clause out of the query text."""
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "missile actor:Daesh date:2017")
        await pilot.press("ctrl+o")  # newest first: removing a typed filter keeps the sort
        await settle(pilot)
        assert app.state.sort == "newest"
        expected = seed_ix.search("missile", actors=["Daesh"], date_from="2017",
                                  date_to="2017", sort="newest", limit=PAGE_SIZE)
        assert expected.total > 0
        assert [h.id for h in results(app).hits] == [h.id for h in expected.hits]
        assert app.results is not None and app.results.facets == expected.facets
        chips = list(app.query(Chip))
        assert [(c.kind, c.value) for c in chips] == [("actor", "Daesh"), ("date", "2017")]
        assert all(c.typed is not None and c.has_class("-typed") for c in chips)
        assert "in query" in str(chips[0].content)
        assert app.query_one("#chips", ChipBar).display
        isis = facets(app).items[("actor", "ISIS", False)].data
        assert isis is not None and isis.selected
        assert isis.count == expected.facets["actor"]["ISIS"]
        assert app.state.actors == ()  # a typed filter is not an option as well
        # A click on the first chip takes "actor:Daesh" out of the query.
        await pilot.click(Chip)
        await settle(pilot)
        assert app.state.query == app.query_one("#query", Input).value == "missile date:2017"
        assert app.state.sort == "newest"
        assert [(c.kind, c.value) for c in app.query(Chip)] == [("date", "2017")]
        node = facets(app).items.get(("actor", "ISIS", False))
        assert node is None or not node.data.selected  # type: ignore[union-attr]
        # Unchecking a value the query names edits the query as well.
        await type_query(pilot, "missile AND location:Syria")
        syria = facets(app).items[("location", "Syria", False)].data
        assert syria is not None and syria.selected
        await choose_facet(pilot, "location", "Syria")
        assert app.state.query == "missile" and app.state.locations == ()
        assert not app.query_one("#chips", ChipBar).display
        assert app.results is not None
        assert app.results.total == seed_ix.search("missile").total

    drive(app, scenario)


def test_or_within_a_facet_and_across_facets(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await choose_facet(pilot, "person", "Aaron Zelin")
        await choose_facet(pilot, "person", "John Kirby")
        either = seed_ix.search("", people=["Aaron Zelin", "John Kirby"], sort="newest")
        assert app.state.people == ("Aaron Zelin", "John Kirby")
        assert {h.id for h in results(app).hits} == {h.id for h in either.hits}
        await choose_facet(pilot, "location", "Syria")
        both = seed_ix.search("", people=["Aaron Zelin", "John Kirby"], locations=["Syria"])
        assert len(results(app).hits) == both.total
        assert len(app.query(Chip)) == 3

    drive(app, scenario)


def test_hierarchical_values_expand(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        syria = facets(app).items[("location", "Syria", False)]
        children = {c.data.value for c in syria.children if c.data}
        below = set(seed_ix.gazetteer.descendants("location", "Syria"))
        assert children and children <= below
        assert any(v.startswith("Deir ez-Zor") for v in children)
        facets(app).focus()
        assert facets(app).move_to(("location", "Syria", False))
        await pilot.press("space")
        await pilot.pause()
        assert syria.is_expanded
        # Choosing a child filters by it; the parent stays expandable and the tree remembers.
        child = syria.children[0]
        assert child.data is not None and child.data.value
        assert facets(app).move_to(child.data.key)
        await pilot.press("enter")
        await settle(pilot)
        assert app.state.locations == (child.data.value,)
        assert facets(app).items[("location", "Syria", False)].is_expanded

    drive(app, scenario)


def test_backspace_in_empty_query_removes_last_chip_and_ctrl_r_clears(
        app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await choose_facet(pilot, "actor", "ISIS")
        await choose_facet(pilot, "location", "Iran")
        app.query_one("#query").focus()
        await pilot.press("backspace")
        await settle(pilot)
        assert app.state.actors == ("ISIS",) and app.state.locations == ()
        await choose_facet(pilot, "person", "Donald Trump")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not app.state.has_filters
        assert len(results(app).hits) == 5

        # A click on a chip removes its filter.
        await choose_facet(pilot, "actor", "ISIS")
        await choose_facet(pilot, "location", "Iran")
        assert len(app.query(Chip)) == 2
        await pilot.click(Chip)  # the first chip
        await settle(pilot)
        assert app.state.actors == () and app.state.locations == ("Iran",)

    drive(app, scenario)


def test_timeline_span_sets_the_date_filter(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        timeline = app.query_one("#timeline", Timeline)
        assert timeline.months == dict(seed_ix.search("").facets["month"])
        await pilot.press("ctrl+t")
        assert app.focused is timeline
        await pilot.press("home", "enter")
        await settle(pilot)
        first = min(timeline.months)
        assert (app.state.date_from, app.state.date_to) == (first, first)
        expected = seed_ix.search("", date_from=first, date_to=first)
        assert len(results(app).hits) == expected.total
        assert [c.value for c in app.query(Chip)] == [first]
        # The month histogram ignores the date filter, so the chart still shows everything.
        assert timeline.months == dict(seed_ix.search("").facets["month"])
        await pilot.press("delete")
        await settle(pilot)
        assert app.state.date_from is None and len(results(app).hits) == 5

        # A year in the sidebar filters by that year.
        year = next(iter(seed_ix.search("").facets["year"]))
        await choose_facet(pilot, "year", year)
        assert (app.state.date_from, app.state.date_to) == (year, year)
        assert len(results(app).hits) == seed_ix.search("", date_from=year, date_to=year).total

        # Shift+arrows mark a span over several bars.
        months = {"2016-11": 2, "2017-01": 1, "2017-06": 4}  # wider than the seeds' span
        timeline.show_months(months, None, None)
        timeline.focus()
        await pilot.press("home", "shift+right", "shift+right")
        assert timeline.mark_start == 0 and timeline.position == 2
        await pilot.press("enter")
        await settle(pilot)
        assert (app.state.date_from, app.state.date_to) == ("2016-11", "2017-01")

        # A click on a bar filters by it (dragging marks a span the same way).
        timeline.show_months(months, None, None)
        padding = timeline.styles.padding.left
        await pilot.click(Timeline, offset=(padding + timeline.column_width * 2, 3))
        await settle(pilot)
        assert (app.state.date_from, app.state.date_to) == ("2017-01", "2017-01")

    drive(app, scenario)


# --- reader ---------------------------------------------------------------------------------

def test_down_then_enter_opens_reader_and_escape_keeps_position(app_factory: Factory,
                                                                seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "missile strike")
        await pilot.press("down")
        assert app.focused is results(app)
        await pilot.press("down")
        second = results(app).current_hit
        assert second is not None and results(app).highlighted == 1
        await pilot.press("enter")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        assert reader.article.id == second.id
        assert reader.article.text == seed_ix.get(second.id).text
        assert {"missile", "strike"} <= set(reader.terms)
        assert len(reader.matches) >= 2
        await pilot.press("n")
        assert reader.current == 0
        await pilot.press("n")
        assert reader.current == 1
        await pilot.press("N")
        assert reader.current == 0
        assert f"match 1 of {len(reader.matches)}" in str(
            reader.query_one("#reader-status", Static).content)
        panel = reader.query_one("#entities", EntityList)
        entities = "\n".join(str(panel.get_option_at_index(i).prompt)
                             for i in range(panel.option_count))
        assert all(actor in entities for actor in reader.article.actors)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReaderScreen)
        assert results(app).highlighted == 1 and app.focused is results(app)
        assert results(app).current_hit == second

    drive(app, scenario)


def test_similar_articles_from_reader(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await pilot.press("tab", "enter")
        await pilot.pause()
        first = app.screen
        assert isinstance(first, ReaderScreen)
        await pilot.press("s")
        await pilot.pause()
        popup = app.screen
        assert isinstance(popup, SimilarScreen)
        assert [h.id for h in popup.hits] == [h.id for h in seed_ix.similar(first.article.id)]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.article.id == popup.hits[0].id
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is first

    drive(app, scenario)


# --- suggestions and empty states -----------------------------------------------------------

def test_did_you_mean_applies_with_one_key(app_factory: Factory, seed_ix: Index) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "misile")
        suggestion = seed_ix.search("misile").suggestion
        assert suggestion
        assert f"Did you mean {suggestion}?" in status_text(app)
        empty = str(app.query_one("#empty", Static).content)
        assert app.query_one("#empty").display and suggestion in empty
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.query_one("#query", Input).value == suggestion
        assert len(results(app).hits) == seed_ix.search(suggestion).total > 0
        assert results(app).display and not app.query_one("#empty").display

    drive(app, scenario)


def test_no_hits_explains_how_to_loosen_filters(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await choose_facet(pilot, "person", "Aaron Zelin")
        app.query_one("#query").focus()
        await type_query(pilot, "hornet")
        assert not results(app).display
        message = str(app.query_one("#empty", Static).content)
        assert "No articles match “hornet” with these filters" in message
        assert "Aaron Zelin" in message and "Ctrl+R" in message
        assert "articles match without them" in message

    drive(app, scenario)


def test_malformed_query_shows_parser_message_inline(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "missile")
        shown = list(results(app).hits)
        box = app.query_one("#query", Input)
        box.value = "missile colour:red"  # as if typed: searched after the pause
        await settle(pilot, 0.2)
        assert "unknown field 'colour:'" in status_text(app)
        assert app.query_one("#query").has_class("-error")
        assert results(app).hits == shown  # the last good results stay
        box.value = "missile"  # editing the query clears the error
        await settle(pilot, 0.2)
        assert not app.query_one("#query").has_class("-error")

    drive(app, scenario)


def test_no_index_tells_the_exact_command(tmp_path: Path) -> None:
    missing = tmp_path / "my index"
    app = make_app(None, index_dir=missing)

    async def scenario(pilot: Pilot[object]) -> None:
        message = str(app.query_one("#empty", Static).content)
        assert f"search index ARTICLES_DIR --index {shlex.quote(str(missing))}" in message
        assert app.query_one("#query", Input).disabled
        assert not results(app).display
        await pilot.press("ctrl+y", "ctrl+o")  # nothing to copy or sort: no crash
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)

        # Ctrl+Q quits.
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit

    drive(app, scenario)


def test_run_app_handles_missing_index(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tui import app as app_module

    seen: list[SearchApp] = []
    monkeypatch.setattr(app_module.SearchApp, "run", lambda self, **kw: seen.append(self))
    app_module.run_app(str(tmp_path / "nothing-here"))
    assert seen and seen[0].index is None and seen[0].error is None


# --- copy as command, help, palette, quit ---------------------------------------------------

def test_copy_as_command(app_factory: Factory, seed_index: Path) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "missile 'strike")
        await choose_facet(pilot, "actor", "IRGC")
        await choose_facet(pilot, "location", "Deir ez-Zor province")
        await pilot.press("ctrl+y")
        await pilot.pause()
        args = shlex.split(app.clipboard)
        assert args == ["search", "query", "missile 'strike", "--actor", "IRGC",
                        "--location", "Deir ez-Zor province", "--index", str(seed_index)]
        assert [n.message for n in app._notifications] == [app.clipboard]

    drive(app, scenario)


def test_help_lists_every_binding(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = "\n".join(section.plain for section in help_screen.query(KeyTable))
        for _, rows in key_help():
            for keys, what in rows:
                assert keys in text and what in text
        for description in ("Next match", "Did you mean", "Copy", "Similar", "Filter dates",
                            "Quit", "Command palette"):
            assert description in text
        await pilot.press("escape")
        results(app).focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)

        # The command palette runs the app's commands.
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Copy as command")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard.startswith("search query ''")

    drive(app, scenario)


def test_small_terminal_layout(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        assert app.has_class("-narrow")
        assert facets(app).outer_size.width == 24
        assert results(app).size.width >= 50 and results(app).size.height >= 8
        await type_query(pilot, "missile")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.query_one("#reader-body").size.height >= 8

    drive(app, scenario, size=(80, 24))


def test_a_slow_search_is_cancelled_by_typing(app_factory: Factory, seed_ix: Index,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A search that would run for 20 s (a broad fuzzy query on a big index) is shown as
    running, and stops as soon as the query changes: the next results come at once."""
    from searchlib.engine.whoosh import ranking

    real = seed_ix._engine._search
    stopped: list[float] = []

    def slow(query: str, **kwargs: Any) -> SearchResults:
        if query == "khomeni~2":
            started = time.perf_counter()
            try:
                while time.perf_counter() - started < 20:
                    ranking.check_budget()  # where the engine checks between posting lists
                    time.sleep(0.01)
            finally:
                stopped.append(time.perf_counter() - started)
        return real(query, **kwargs)

    monkeypatch.setattr(seed_ix._engine, "_search", slow)
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query_without_waiting(pilot, "khomeni~2")
        await pilot.pause(0.5)
        assert "searching" in status_text(app) and "khomeni~2" in status_text(app)
        assert app.query_one("#query").has_class("-searching")
        typed = time.perf_counter()
        await type_query(pilot, "iran")
        waited = time.perf_counter() - typed
        assert stopped and stopped[0] < 2, "the slow search stopped when the query changed"
        assert waited < 5 and app.state.query == "iran"
        assert [h.id for h in results(app).hits] == [
            h.id for h in seed_ix.search("iran", limit=PAGE_SIZE).hits]
        # The status gives the time of the search whose results are shown.
        assert app.results is not None
        assert f"in {app.results.elapsed * 1000:.0f} ms" in status_text(app)
        assert "searching" not in status_text(app)
        assert not app.query_one("#query").has_class("-searching")

    drive(app, scenario)


async def type_query_without_waiting(pilot: Pilot[object], text: str) -> None:
    box = pilot.app.query_one("#query", Input)
    box.focus()
    box.value = text
    await pilot.press("enter")


def test_new_query_and_ctrl_r_go_back_to_relevance(app_factory: Factory) -> None:
    app = app_factory()

    async def scenario(pilot: Pilot[object]) -> None:
        await type_query(pilot, "iran")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.state.sort == "newest"
        await type_query(pilot, "missile")  # a new query: relevance unless chosen for it
        assert app.state.sort == "relevance" and "relevance" in status_text(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        await choose_facet(pilot, "actor", "ISIS")
        assert app.state.sort == "newest"  # filters keep the sort chosen for this query
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.state.sort == "relevance" and not app.state.has_filters
        await choose_facet(pilot, "location", "Iran")
        assert "location: " in str(app.query_one(Chip).content)

    drive(app, scenario)
