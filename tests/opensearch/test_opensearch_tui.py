"""The TUI on an OpenSearch-engine index, driven headless against a real node.

The seeds are indexed with ``search index --engine opensearch``; the app is opened on that
folder exactly as ``search tui`` opens it (``open_index`` following the engine record), and
every panel is checked against the library's answers on the same index and against the
Whoosh index of the same seeds: listing, a query, a facet filter with its disjunctive counts,
the month timeline, the reader and similar articles.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from oscluster import Cluster
from textual.pilot import Pilot
from textual.widgets import Static

import searchlib
from searchlib import Index
from searchlib.cli import cli
from tui.app import PAGE_SIZE, SearchApp, make_app
from tui.facets import FacetTree
from tui.reader import ReaderScreen
from tui.results import ResultsList
from tui.similar import SimilarScreen
from tui.timeline import Timeline

pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

REPO = Path(__file__).resolve().parents[2]


def _tui_helpers() -> ModuleType:
    """tests/tui/tui_helpers.py (drive, settle), loaded by path: this folder is not beside it."""
    spec = importlib.util.spec_from_file_location(
        "tui_helpers", REPO / "tests" / "tui" / "tui_helpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _tui_helpers()


@pytest.fixture(scope="module")
def remote(opensearch_node: Cluster, seed_index: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Path, Index]]:
    """The seeds in an OpenSearch-engine index folder, and that folder opened."""
    folder = tmp_path_factory.mktemp("os-tui") / "ix"
    # The copy the Whoosh seed index was built from: ids derive from paths, so both indexes
    # give the same articles the same ids.
    seeds = Path(tempfile.gettempdir()) / "searchlib-test-seeds"
    assert seeds.is_dir()
    result = CliRunner().invoke(cli, ["index", str(seeds), "--index", str(folder),
                                      "--procs", "1", "--engine", "opensearch",
                                      "--opensearch-url", opensearch_node.url,
                                      "--opensearch-index", "tui-test"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ix = searchlib.open_index(folder)
    yield folder, ix
    ix.close()
    shutil.rmtree(folder.parent, ignore_errors=True)


def results(app: SearchApp) -> ResultsList:
    return app.query_one("#results", ResultsList)


def test_every_panel_of_the_tui_works_on_opensearch(remote: tuple[Path, Index],
                                                    seed_index: Path) -> None:
    folder, ix = remote
    assert type(ix._reader).__name__ == "OpenSearchReader"  # as search tui opens it
    whoosh = searchlib.open_index(seed_index)
    app = make_app(ix, index_dir=folder, debounce=0.05)

    async def scenario(pilot: Pilot[object]) -> None:
        # Every article listed at start, newest first, as on Whoosh.
        status = str(app.query_one("#status", Static).content)
        assert status.startswith("5 articles in ") and "newest first" in status
        listed = results(app).hits
        assert [h.id for h in listed] == [h.id for h in ix.search("").hits]
        # Undated articles tie; the engines break ties differently (docs/opensearch.md).
        assert [h.published for h in listed] == [h.published for h in whoosh.search("").hits]
        assert {h.id for h in listed} == {h.id for h in whoosh.search("").hits}

        # A query: the library's hits on this index, the same set as Whoosh's.
        await helpers.type_query(pilot, "missile")
        expected = ix.search("missile", limit=PAGE_SIZE)
        assert [h.id for h in results(app).hits] == [h.id for h in expected.hits]
        assert {h.id for h in expected.hits} == {h.id for h in whoosh.search("missile").hits}

        # A facet value filters; the sidebar shows the library's disjunctive counts.
        actor = next(iter(expected.facets["actor"]))
        tree = app.query_one("#facets", FacetTree)
        tree.focus()
        assert tree.move_to(("actor", actor, False))
        await pilot.press("enter")
        await helpers.settle(pilot)
        filtered = ix.search("missile", actors=[actor], limit=PAGE_SIZE)
        assert app.state.actors == (actor,)
        assert [h.id for h in results(app).hits] == [h.id for h in filtered.hits]
        assert filtered.total == whoosh.search("missile", actors=[actor]).total
        items = app.query_one("#facets", FacetTree).items
        for kind in ("actor", "location"):
            for value, count in filtered.facets[kind].items():
                node = items.get((kind, value, False))
                if node is not None:
                    assert node.data is not None and node.data.count == count
        await pilot.press("ctrl+r")
        await helpers.settle(pilot)

        # The timeline's months are the index's, and equal Whoosh's.
        timeline = app.query_one("#timeline", Timeline)
        assert timeline.months == dict(ix.search("").facets["month"])
        assert timeline.months == dict(whoosh.search("").facets["month"])

        # The reader shows the stored article; similar articles come from the engine.
        await helpers.type_query(pilot, "missile strike")
        await pilot.press("down")
        hit = results(app).current_hit
        assert hit is not None
        await pilot.press("enter")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        assert reader.article.id == hit.id
        assert reader.article.text == ix.get(hit.id).text == whoosh.get(hit.id).text
        assert len(reader.matches) >= 1
        await pilot.press("s")
        await pilot.pause()
        popup = app.screen
        assert isinstance(popup, SimilarScreen)
        assert [h.id for h in popup.hits] == [h.id for h in ix.similar(hit.id)]
        assert popup.hits

    try:
        helpers.drive(app, scenario)
    finally:
        whoosh.close()
