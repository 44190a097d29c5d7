"""The engine-neutral query AST gives every query the meaning Whoosh's parser gives it.

``searchlib.query`` parses text into the AST; ``searchlib.engine.whoosh.translate``
translates the AST into Whoosh queries. Over hand-written queries covering every construct
of the language and over generated ones (hypothesis), the translation equals what the
current parser path makes
(``tests/query_equivalence.py``): the same normalised Whoosh query, the same lifted filters,
the same error messages. The one tolerated difference: a malformed ``date:`` value nested
inside a group, which Whoosh's normalisation silently drops, is an error on the AST path.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_equivalence import SCHEMA, agree, ast_side, ast_unlifted, whoosh_side, whoosh_unlifted
from whoosh import query as wq

from searchlib.engine.whoosh import ranking
from searchlib.engine.whoosh.schema import SEARCH_FIELDS
from searchlib.errors import QueryError
from searchlib.query import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    Require,
    Term,
    Wildcard,
    parse,
    parse_query,
    parser,
)

# Every construct of the README's query table, alone and combined, and malformed input.
CASES = [
    # words, stop words, case, punctuation, analysis into several tokens
    "flood", "Floods rising", "the", "the of and", "US-led coalition", "2017-06", "é café",
    "a b c", "missile,attack", "what happened in Syria?", "is it over??", "x?",
    # phrases, slop, boosts
    '"missile attack"', '"the missile attack"~3', '"missile attack"^2', '""', '"unclosed',
    "flood^2", "flood^0.5 rain", "^2", "flood ^", "(^2 flood)", "flood^x", '"a b"~0',
    # fuzzy
    "missle~", "missle~2", "missle~2/3", "missle~/2", "missle~9", "~", "a~", "flood ~2",
    # wildcards and prefixes
    "miss*", "m?ssile", "*ssile", "mi*le", "*", "flood *", "m??s*", "Hez*", "\u061fflood",
    # ranges
    "title:[a TO c]", "title:{a TO c}", "title:[a TO]", "title:[TO c]", "[a TO c]",
    "title:['a b' TO 'c d']", "title:>b", "title:<=m", "title:=>m", "title:=<m", ">5", "x >5",
    # fields, aliases, unknown fields
    "title:flood", "body:flood", "title:(flood rain)", "title:(flood OR rain)", "id:abc",
    "path:a/b.txt", "mentioned:2017-06", "Foo:bar", "foo: bar", "flood: rain", "http://x.org",
    "title:", "title: flood", "title:title:flood", "info:x", '"x"info:y', "Title:flood",
    # operators
    "flood AND rain", "flood OR rain", "NOT flood", "flood NOT rain", "flood ANDNOT rain",
    "flood ANDMAYBE rain", "flood REQUIRE rain", "flood AND", "OR flood", "AND OR NOT",
    "flood AND rain OR storm", "(flood OR rain) AND storm", "flood and rain", "NOT NOT flood",
    "title: title: date: REQUIRE ANDNOT date:", "NOT ANDNOT flood", "FLOOD AND RAIN ARE HERE",
    # plus / minus
    "+flood rain", "-flood rain", "+flood -rain storm", "flood -", "- flood", "US-led -flood",
    "(+flood rain)", "x (flood +rain)", "x (flood -rain)", "+(flood rain) -storm",
    # groups
    "(flood rain)", "((flood))", "(flood", "flood)", ")(", "()", "(flood) (rain)",
    "(flood OR rain)", "(title:flood OR actor:IRGC)",
    # every document
    "*:*", "flood *:*", "  ", "", "title:*", "date:*",
    # facet and date filters, lifted or kept in place
    "actor:IRGC", "actor:IRGC flood", "actor:Hez* flood", 'actor:"Deir ez-Zor"',
    "place:Syria flood", "locations:Syria", "people:Putin", "persons:Putin", "actors:ISIS",
    "published:2017", "date:2017", "date:2017-06 flood", "date:2017-06-03", "date:>2020",
    "date:<2019", "date:[2017 TO 2018]", "date:{2017 TO 2019}", "date:[2017-06 TO]",
    "date:bogus", "date:2017-13", "date:2020-02-30", "flood date:bogus", '"x" date:"2017"',
    "date:20*", "date:2017~", "date:20?7", "flood AND actor:IRGC AND date:2017",
    "flood OR actor:IRGC", "(flood actor:IRGC)", "+actor:IRGC flood", "-actor:IRGC flood",
    "+actor:IRGC +date:2017", "actor:IRGC -flood", "NOT actor:IRGC", "(flood OR date:bogus)",
    "actor:IRGC actor:Hezbollah person:Putin location:Syria date:2017 date:>2016",
    "actor:[a TO c] flood", "person:Put~", "actor:x,y", "location:'Deir ez-Zor'",
    # a bad date whose error Whoosh's normalisation drops (an error on the AST path)
    "' ANDNOT date:x", "AND ANDMAYBE date:x ANDMAYBE REQUIRE",
]


@pytest.mark.parametrize("text", CASES)
def test_ast_path_equals_whoosh_parser_path(text: str) -> None:
    ok, old, new = agree(text)
    assert ok, f"{text!r}\n  whoosh: {old!r}\n  ast:    {new!r}"


@pytest.mark.parametrize("text", CASES)
def test_unlifted_parse_equals_whoosh(text: str) -> None:
    old, new = whoosh_unlifted(text), ast_unlifted(text)
    if isinstance(old, tuple) and isinstance(new, tuple):
        assert old == new
    else:
        assert old == new, f"{text!r}: {old!r} != {new!r}"


def test_cases_exercise_results_errors_and_filters() -> None:
    """The hand-written cases are not all errors (or all plain queries)."""
    answers = [whoosh_side(t) for t in CASES]
    kinds = [a[0] if isinstance(a[0], str) else "query" for a in answers]
    assert kinds.count("query") > 100
    assert kinds.count("error") >= 8
    assert kinds.count("dropped") >= 1
    assert sum(1 for a in answers if a[0] != "error" and (a[1] or a[2] or a[3])) >= 20


_TOKENS = ["flood", "Missile", "the", "a", "syria", "Running", "AND", "OR", "NOT", "ANDNOT",
           "ANDMAYBE", "REQUIRE", "(", ")", '"', "'", "+", "-", "^2", "^", "~", "~2", "~/3",
           "*", "?", ":", "title:", "body:", "actor:", "date:", "place:", "published:",
           "person:", "location:", "mentioned:", "id:", "Foo:", "[", "]", "{", "}", " TO ",
           ">", "<=", "=>", "2017", "2017-06", "2020-02-30", "*:*", "US-led", "x", ",", "Hez*",
           "\u061f", "é", "~9"]
_token_queries = st.lists(
    st.tuples(st.sampled_from(_TOKENS), st.sampled_from(["", " ", "  "])),
    min_size=1, max_size=10).map(lambda parts: "".join(a + b for a, b in parts))
_char_queries = st.text(alphabet="ab xy()\"'+-^~*?:[]{}<>=/,.AONDTRE2017é\t_", max_size=30)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_token_queries)
def test_generated_queries_agree(text: str) -> None:
    ok, old, new = agree(text)
    assert ok, f"{text!r}\n  whoosh: {old!r}\n  ast:    {new!r}"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_char_queries)
def test_generated_character_soup_agrees(text: str) -> None:
    ok, old, new = agree(text)
    assert ok, f"{text!r}\n  whoosh: {old!r}\n  ast:    {new!r}"


def test_ast_shapes() -> None:
    """What the AST of each construct looks like (the documented translation table)."""
    def word(text: str, boost: float = 1.0) -> Or:
        return Or((Term("title", text, 0.7), Term("body", text, 1.0)), boost)

    def top(node: object) -> Or:  # the query's own group (normalisation unwraps it)
        return Or((node,))  # type: ignore[arg-type]

    assert parse("flood") == top(word("flood"))
    assert parse("flood rain") == Or((word("flood"), word("rain")))
    assert parse("flood^2") == top(word("flood", 2.0))
    assert parse('title:"missile attack"~3') == top(Phrase("title", "missile attack", 3))
    assert parse("title:miss*") == top(Prefix("title", "miss"))
    assert parse("title:m?ss*") == top(Wildcard("title", "m?ss*"))
    assert parse("title:missle~2/3") == top(Fuzzy("title", "missle", 2, 3))
    assert parse("title:{a TO c]") == top(Range("title", "a", "c", True, False))
    assert parse("title:>b") == top(Range("title", "b", None, True, False))
    assert parse("*:*") == top(Every())
    assert parse("date:*") == top(Every("date"))
    assert parse("date:2017-06") == top(DateRange(
        dt.datetime(2017, 6, 1), dt.datetime(2017, 6, 30, 23, 59, 59, 999999)))
    assert parse("date:>2020") == top(DateRange(dt.datetime(2021, 1, 1), None))
    assert parse("title:a AND title:b") == Or((And((Term("title", "a"), Term("title", "b"))),))
    assert parse("NOT title:x") == Or((Not(Term("title", "x")),))
    assert parse("+title:a title:b") == AndMaybe(And((Term("title", "a"),)),
                                                 Or((Term("title", "b"),)))
    assert parse("title:a -title:b") == AndNot(Or((Term("title", "a"),)),
                                               Or((Term("title", "b"),)))
    assert parse("title:a REQUIRE title:b") == Or((Require(Term("title", "a"),
                                                           Term("title", "b")),))
    assert parse("") is None and parse("*") is None


def test_filters_are_lifted() -> None:
    parsed = parse_query("flood actor:IRGC actor:Hez* place:Syria date:2017 -rain")
    assert parsed.filters.values == {"actor": ("IRGC",), "location": ("Syria",), "person": ()}
    assert parsed.filters.clauses["actor"] == (Prefix("actor", "Hez"),)
    assert parsed.filters.dates == (DateRange(dt.datetime(2017, 1, 1),
                                              dt.datetime(2017, 12, 31, 23, 59, 59, 999999)),)
    assert parse_query("actor:IRGC").query is None
    assert parse_query("(flood actor:IRGC)").filters.values["actor"] == ()
    assert not parse_query("flood").filters


@pytest.mark.parametrize("text,message", [
    ("bogus:flood", "unknown field 'bogus:' at position 1"),
    ("x" * 10_001, "query is too long"),
    ("date:2017-13", "invalid date '2017-13'"),
    ("(flood OR date:bogus)", "invalid date 'bogus'"),
    (">5", "cannot parse query: list index out of range"),
    ("x (a +bb)", "cannot parse query: Plus"),
    ("' ANDNOT date:x", "invalid date 'x'"),
])
def test_errors_are_one_line_query_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_query(text)


def test_language_constants_match_the_whoosh_side() -> None:
    """The language's field lists are the ones the Whoosh parser is configured with."""
    assert parser.SEARCH_FIELDS == SEARCH_FIELDS
    assert parser.FIELD_BOOSTS == ranking.FIELD_BOOSTS
    assert frozenset(SCHEMA.names()) == parser.INDEX_FIELDS


def test_translation_of_nothing_is_every_document() -> None:
    old, new = whoosh_side("actor:IRGC"), ast_side("actor:IRGC")
    assert old == new and old[0] == wq.Every()
