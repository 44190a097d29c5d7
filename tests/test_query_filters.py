"""Field terms in a query filter like the options: ``actor:IRGC`` is ``--actor IRGC``.

Each query-language filter must give the same hits, in the same order, and the same
disjunctive facet counts as its option form, on every path: a one-shot search (a freshly
opened index, as ``search query`` makes), an open index that has searched before, the CLI and
the TUI. Inside an explicit OR or parentheses the same clause keeps its boolean meaning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from searchlib import SearchResults, open_index
from searchlib.cli import cli

#: (query with field terms, the same search as query text plus keyword options)
PAIRS: list[tuple[str, str, dict[str, Any]]] = [
    ("iran date:2017", "iran", {"date_from": "2017", "date_to": "2017"}),
    ("date:2017-06 iran", "iran", {"date_from": "2017-06", "date_to": "2017-06"}),
    ('date:>2020 "suicide bombing"', '"suicide bombing"', {"date_from": "2021"}),
    ("date:<=2017-06 attack", "attack", {"date_to": "2017-06"}),
    ("date:[2014 TO 2017-06] attack", "attack", {"date_from": "2014", "date_to": "2017-06"}),
    ("missile actor:IRGC", "missile", {"actors": ["IRGC"]}),
    ("attack actor:Daesh", "attack", {"actors": ["Daesh"]}),  # an alias of ISIS
    ("location:Syria missile", "missile", {"locations": ["Syria"]}),  # rolls up Deir ez-Zor
    ('location:"Deir ez-Zor" Iran', "Iran", {"locations": ["Deir ez-Zor"]}),
    ("person:Soleimani", "*", {"people": ["Soleimani"]}),
    ("iran AND actor:IRGC", "iran", {"actors": ["IRGC"]}),
    ("+iran actor:IRGC kerman", "+iran kerman", {"actors": ["IRGC"]}),
    ("iran -kerman actor:IRGC", "iran -kerman", {"actors": ["IRGC"]}),
    ("actor:IRGC actor:Hezbollah missile", "missile", {"actors": ["IRGC", "Hezbollah"]}),
    ("title:iran actor:ISIS date:2017", "title:iran",
     {"actors": ["ISIS"], "date_from": "2017", "date_to": "2017"}),
]


def _summary(results: SearchResults) -> tuple[Any, ...]:
    return (results.total, [(h.id, round(h.score, 6)) for h in results.hits],
            {k: dict(v) for k, v in results.facets.items()}, results.warnings)


@pytest.mark.parametrize(("query", "text", "options"), PAIRS)
def test_field_term_equals_its_option_one_shot(seed_index: Path, query: str, text: str,
                                               options: dict[str, Any]) -> None:
    with open_index(seed_index, warm=False) as ix:  # evaluated without numpy
        by_query = ix.search(query, limit=20)
    with open_index(seed_index, warm=False) as ix:
        by_option = ix.search(text, limit=20, **options)
    assert _summary(by_query) == _summary(by_option)


def test_field_terms_equal_their_options_on_an_open_index(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        ix.search("iran")  # from its second search on, an open index evaluates with numpy
        for query, text, options in PAIRS:
            assert _summary(ix.search(query, limit=20)) == \
                _summary(ix.search(text, limit=20, **options)), query
            assert _summary(ix.search(query, limit=2, page=2, sort="newest")) == \
                _summary(ix.search(text, limit=2, page=2, sort="newest", **options)), query


def test_the_filters_really_filter(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        everywhere = ix.search("iran")
        # The seeds about Iran: some published in 2017, others undated (no date of their own).
        dated = {h.id for h in everywhere.hits if h.published is not None}
        assert dated and len(dated) < everywhere.total
        assert all(h.published.year == 2017 for h in everywhere.hits if h.published)
        assert ix.search("date:>2020 iran").total == 0
        before = ix.search("date:<2020 iran", limit=20)
        assert {h.id for h in before.hits} == dated
        assert all(h.published is not None and h.published < dt.date(2020, 1, 1)
                   for h in before.hits)
        irgc = ix.search("iran actor:IRGC")
        assert 0 < irgc.total < ix.search("iran").total
        for hit in irgc.hits:
            rolled_up = {n for a in hit.actors for n in (a, *ix.gazetteer.ancestors("actor", a))}
            assert "IRGC" in rolled_up, hit.title
        # Queries Whoosh answers itself (NOT ...) are filtered as well: the page holds
        # only what the total counts.
        for text in ("NOT kerman date:2017", "NOT 00:date:[0001TO2017]", "NOT kerman",
                     "(NOT kerman) actor:IRGC"):
            results = ix.search(text, limit=20)
            assert len(results.hits) == results.total, text
        assert all(h.published and h.published.year == 2017
                   for h in ix.search("NOT kerman date:2017").hits)
        # Only filters: every article they keep, newest first, as with "*".
        assert [h.id for h in ix.search("date:2017").hits] == \
            [h.id for h in ix.search("*", date_from="2017", date_to="2017").hits]


def test_results_list_the_filters_typed_in_the_query(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        query = ' +iran actor:Daesh location:"Deir ez-Zor" date:[2014 TO 2017-06] actor:Hez*'
        typed = ix.search(query).filters
        assert [(f.kind, f.value, f.clause, f.name) for f in typed] == [
            ("actor", "Daesh", "actor:Daesh", "ISIS"),
            ("location", "Deir ez-Zor", 'location:"Deir ez-Zor"', "Deir ez-Zor"),
            ("date", "[2014 TO 2017-06]", "date:[2014 TO 2017-06]", None),
            ("actor", "Hez*", "actor:Hez*", None)]
        assert all(query[f.start:].startswith(f.clause) for f in typed)
        # An alias of the field name; a value the index does not hold has no name.
        assert [(f.kind, f.name) for f in ix.search("place:syria person:Nobody").filters] == [
            ("location", "Syria"), ("person", None)]
        # The second of two equal clauses is the filter: the first is inside an OR.
        (only,) = ix.search("(actor:IRGC OR kerman) +actor:IRGC").filters
        assert (only.clause, only.start) == ("+actor:IRGC", 23)
        # Boolean clauses and the options are not typed filters.
        assert ix.search("kerman OR date:2017").filters == ()
        assert ix.search("iran -actor:IRGC").filters == ()
        assert ix.search("iran", actors=["IRGC"]).filters == ()


def test_or_and_parentheses_keep_boolean_meaning(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        kerman = {h.id for h in ix.search("kerman").hits}
        of_2017 = {h.id for h in ix.search("*", date_from="2017", date_to="2017").hits}
        assert kerman and of_2017 and not kerman & of_2017
        assert ix.search("kerman date:2017").total == 0  # a filter: both at once
        for boolean in ("kerman OR date:2017", "(kerman date:2017)", "(date:2017 OR kerman)"):
            assert {h.id for h in ix.search(boolean).hits} == kerman | of_2017, boolean
        # The counts of a boolean clause are not disjunctive: the year histogram of
        # "kerman OR date:2017" counts what matched, the filter's ignores the date range.
        assert ix.search("kerman date:2017").facets["year"] == ix.search("kerman").facets["year"]


def test_unknown_value_warns_the_same_in_the_query_and_as_an_option(seed_index: Path) -> None:
    with open_index(seed_index) as ix:
        by_query = ix.search("iran location:Tehrn")
        by_option = ix.search("iran", locations=["Tehrn"])
    assert by_query.warnings == by_option.warnings
    assert len(by_query.warnings) == 1 and "Tehran" in by_query.warnings[0]
    assert by_query.total == by_option.total == 0


def _cli_json(seed_index: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["query", *args, "--json", "--index", str(seed_index)],
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout), result.stderr


def _option_args(options: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for name, flag in (("actors", "--actor"), ("locations", "--location"),
                       ("people", "--person")):
        for value in options.get(name, ()):
            args += [flag, value]
    for name, flag in (("date_from", "--from"), ("date_to", "--to")):
        if name in options:
            args += [flag, options[name]]
    return args


@pytest.mark.parametrize(("query", "text", "options"), PAIRS[::3])
def test_cli_field_term_equals_its_option(seed_index: Path, query: str, text: str,
                                          options: dict[str, Any]) -> None:
    code, by_query, _ = _cli_json(seed_index, query)
    code_o, by_option, _ = _cli_json(seed_index, text, *_option_args(options))
    assert code == code_o
    for key in ("total", "hits", "facets", "warnings"):
        assert by_query[key] == by_option[key], key


def test_cli_unknown_value_warns_on_stderr_and_in_json(seed_index: Path) -> None:
    for args in (["iran location:Tehrn"], ["iran", "--location", "Tehrn"]):
        code, data, stderr = _cli_json(seed_index, *args)
        assert code == 1
        assert data["warnings"] == ["no location 'Tehrn' in this index; did you mean 'Tehran'?"]
        assert stderr.strip() == f"search: warning: {data['warnings'][0]}"


def test_tui_field_term_equals_its_option(seed_index: Path) -> None:
    from textual.widgets import Input

    from tui.app import PAGE_SIZE, make_app

    with open_index(seed_index) as ix:
        app = make_app(ix, index_dir=seed_index, debounce=0.01)
        shown: dict[str, SearchResults] = {}

        async def main() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                for query, _, _ in [*PAIRS[::3], ("iran location:Tehrn", "", {})]:
                    box = app.query_one("#query", Input)
                    box.value = query
                    await pilot.press("enter")
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    assert app.results is not None
                    shown[query] = app.results
                notices = [n.message for n in app._notifications]
                assert any("no location 'Tehrn'" in m for m in notices), notices

        asyncio.run(main())
        for query, text, options in PAIRS[::3]:
            sort = "newest" if text == "*" else "relevance"
            expected = ix.search(text, limit=PAGE_SIZE, sort=sort, **options)
            assert _summary(shown[query]) == _summary(expected), query
