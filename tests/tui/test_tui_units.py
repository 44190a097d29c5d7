"""Unit tests of the TUI's pure parts: search state, copy-as-command, term matching, rendering
of untrusted text, timeline buckets."""

from __future__ import annotations

import datetime as dt
import shlex

from rich.console import Console

from searchlib import Hit
from tui.render import HitStyles, find_matches, hit_renderable, styled_spans, trim_snippet
from tui.state import SearchState, query_terms
from tui.timeline import make_buckets


def test_command_quotes_every_argument() -> None:
    state = SearchState(query='missile "strike" it\'s', actors=("IRGC", "Quds Force"),
                        locations=("Deir ez-Zor",), people=("Qassem Soleimani",),
                        date_from="2017-01", date_to="2017-06", sort="oldest")
    command = state.command("/tmp/my index")
    assert shlex.split(command) == [
        "search", "query", 'missile "strike" it\'s', "--actor", "IRGC", "--actor",
        "Quds Force", "--location", "Deir ez-Zor", "--person", "Qassem Soleimani",
        "--from", "2017-01", "--to", "2017-06", "--sort", "oldest", "--index", "/tmp/my index"]
    assert "$(" not in SearchState(query="$(rm -rf ~)").command().replace("'$(rm -rf ~)'", "")


def test_empty_query_sorts_newest_and_says_so() -> None:
    assert SearchState().effective_sort == "newest"
    assert SearchState().command() == "search query '' --sort newest"
    assert SearchState(query="iran").command() == "search query iran"


def test_toggle_chips_and_clear() -> None:
    state = SearchState(query="x").toggled("actor", "ISIS").toggled("actor", "IRGC")
    state = state.toggled("location", "Syria").with_dates("2017", None)
    assert state.actors == ("ISIS", "IRGC")
    assert state.chips() == [("actor", "ISIS"), ("actor", "IRGC"), ("location", "Syria"),
                             ("date", "from 2017")]
    assert state.toggled("actor", "ISIS").actors == ("IRGC",)
    assert state.cleared() == SearchState(query="x")
    assert SearchState().with_dates("2017", "2017").date_label() == "2017"
    assert [SearchState().next_sort().sort, SearchState().next_sort().next_sort().sort,
            SearchState().next_sort().next_sort().next_sort().sort] == [
        "newest", "oldest", "relevance"]


def test_without_clause_takes_a_typed_filter_out_of_the_query() -> None:
    def without(query: str, clause: str, start: int = 0) -> str:
        state = SearchState(query=query, actors=("IRGC",), sort="oldest")
        out = state.without_clause(clause, start)
        assert (out.actors, out.sort) == (("IRGC",), "oldest")  # only the query changes
        return out.query

    assert without("iran actor:IRGC kerman", "actor:IRGC", 5) == "iran kerman"
    assert without("iran AND actor:IRGC", "actor:IRGC", 9) == "iran"
    assert without("actor:IRGC AND iran", "actor:IRGC") == "iran"
    assert without("+iran +actor:IRGC kerman", "+actor:IRGC", 6) == "+iran kerman"
    assert without('location:"Deir ez-Zor" iran', 'location:"Deir ez-Zor"') == "iran"
    # Of two equal clauses, the one at ``start`` (the other is inside an OR).
    assert without("(actor:IRGC OR x) actor:IRGC", "actor:IRGC", 18) == "(actor:IRGC OR x)"
    # A query the engine read lowercased (typed all in capitals) still loses its clause.
    assert without("IRAN ACTOR:IRGC MISSILE STRIKE", "actor:irgc", 5) == "IRAN MISSILE STRIKE"
    assert without("iran", "actor:IRGC") == "iran"
    # A word that merely contains AND is not an operator.
    assert without("BRAND actor:IRGC", "actor:IRGC", 6) == "BRAND"


def test_query_terms_skip_syntax_negations_and_metadata_fields() -> None:
    terms = query_terms('"missile strike" AND title:Iran -trump NOT obama actor:IRGC '
                        'date:[2017 TO 2018] missil*', {"Strikes": None})
    assert set(terms) == {"missile", "strike", "iran", "missil*", "strikes"}


def test_find_matches_inflections_wildcards_and_case() -> None:
    text = "Missiles struck; the missile strike was striking. Dismissile? No."
    spans = find_matches(text, ["missile", "strike"])
    assert [text[s:e] for s, e in spans] == ["Missiles", "missile", "strike"]
    spans = find_matches(text, ["stri*"])
    assert [text[s:e] for s, e in spans] == ["strike", "striking"]
    assert find_matches(text, ["*"]) == []


def test_untrusted_text_is_never_markup_or_control_codes() -> None:
    hit = Hit(id="x", path="p", title="[bold red]pwned[/] \x1b[2J", published=dt.date(2017, 6, 1),
              actors=("[link=http://x]A[/link]",), locations=(), people=(), score=1.0,
              snippet="a [b]x[/b] \x07bell match here", highlights=((18, 23),), rank=7)
    console = Console(width=100, record=True, color_system=None)
    console.print(hit_renderable(hit, HitStyles()))
    out = console.export_text()
    assert "[bold red]pwned[/]" in out and "[link=http://x]A[/link]" in out
    assert "\x1b" not in out and "\\x1b[2J" in out and "\\x07bell" in out
    content = styled_spans("x\x1by match", [(4, 9)], "bold")
    assert content.plain == "x\\x1by match"
    assert [content.plain[s.start:s.end] for s in content.spans] == ["match"]


def test_trim_snippet_keeps_valid_spans() -> None:
    snippet = ("word " * 100).strip()
    text, spans = trim_snippet(snippet, [(0, 4), (490, 494)], limit=50)
    assert len(text) <= 52 and text.endswith(" …")
    assert spans == ((0, 4),)


def test_buckets_fill_gaps_and_group_to_fit() -> None:
    months = {"2017-01": 2, "2017-04": 1, "2018-02": 5}
    monthly = make_buckets(months, 80)
    assert [b.first for b in monthly][:4] == ["2017-01", "2017-02", "2017-03", "2017-04"]
    assert len(monthly) == 14 and sum(b.count for b in monthly) == 8
    quarterly = make_buckets(months, 10)
    assert [(b.label, b.count) for b in quarterly] == [
        ("2017 Q1", 2), ("2017 Q2", 1), ("2017 Q3", 0), ("2017 Q4", 0), ("2018 Q1", 5)]
    assert (quarterly[0].date_from, quarterly[0].date_to) == ("2017-01", "2017-03")
    yearly = make_buckets(months, 3)
    assert [(b.date_from, b.date_to, b.count) for b in yearly] == [
        ("2017", "2017", 3), ("2018", "2018", 5)]
    decades = make_buckets({"1990-01": 1, "2020-12": 1}, 4)
    assert len(decades) <= 4 and sum(b.count for b in decades) == 2
    assert make_buckets({}, 10) == [] and make_buckets({"undated": 3}, 10) == []


def test_a_new_query_starts_with_relevance_and_clearing_resets_the_sort() -> None:
    chosen = SearchState(query="iran").next_sort()
    assert chosen.sort == "newest"
    assert chosen.with_query("iran") is chosen  # the same query keeps the sort chosen for it
    assert chosen.with_query("iran missile").sort == "relevance"
    assert chosen.toggled("actor", "ISIS").cleared() == SearchState(query="iran")
