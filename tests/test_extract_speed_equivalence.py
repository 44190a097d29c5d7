"""The fast paths of cleaning and extraction give exactly what the straightforward code gives.

Tokenizing, name starts, letter counts, the title-case prefilter, anchored line patterns and the
headline-repeat test were rewritten for speed (issue #6). Each is compared here with a plain
reference implementation (the code it replaced) on tricky text: Unicode letters and case,
the three apostrophes, possessives before every kind of gap, hyphens, dotted acronyms, digits,
underscores and odd spaces; and on random text from an alphabet of such characters.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searchlib.ingest.clean as clean_module
import searchlib.ingest.cleaning_rules as cleaning_rules
import searchlib.ingest.dates as dates_module
import searchlib.ingest.extract as extract_module
from searchlib.ingest.gazetteer import Gazetteer, default_gazetteer
from searchlib.ingest.tokens import (
    DIRECTIONS,
    PARTICLES,
    Token,
    TokenTable,
    letter_counts,
    name_starts,
    normalise,
    plainly_lower_case,
    token_table,
    tokenize,
)

_TOKEN_RE = re.compile(r"(?:[A-Z]\.){2,}|[A-Z]\.[A-Z](?= \.)|[^\W_]+(?:['’ʼ][^\W_]+)*")
_JOIN_RE = re.compile(r"(?:['’ʼ][sS]?)?(?:[ \t\u00a0]{1,2}|[-‐‑–])?")
_DROP = str.maketrans("", "", "'’ʼʿʾ`.")


def _reference_normalise(word: str) -> str:
    s = word.casefold()
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.translate(_DROP)


def _reference_tokenize(text: str) -> list[Token]:
    """The tokenizer as first written: one match at a time."""
    tokens: list[Token] = []
    previous_end: int | None = None
    previous_possessive = ""
    for match in _TOKEN_RE.finditer(text):
        word, start, end = match.group(), match.start(), match.end()
        possessive = len(word) > 2 and word[-1] in "sS" and word[-2] in "'’ʼ"
        stem = word[:-2] if possessive else word
        joined = previous_end is not None and _JOIN_RE.fullmatch(
            previous_possessive + text[previous_end:start]
        ) is not None
        tokens.append(Token(start, end - 2 if possessive else end, stem,
                            _reference_normalise(stem), joined, possessive))
        previous_end = end
        previous_possessive = word[-2:] if possessive else ""
    return tokens


def _reference_starts(tokens: list[Token]) -> list[int]:
    lower = PARTICLES | DIRECTIONS
    return [k for k, t in enumerate(tokens) if not t.text[0].islower() or t.norm in lower]


TRICKY = [
    "",
    "   ",
    "Iran",
    "Iran's army. Iran's. Iran’s-backed ISIS-K’s fighters; IRAN'S ARMY",
    "the U.S.-led coalition, U.S . forces, U.S.A.F. and U.S",
    "Shi'a, Shi’a and Shiʼa militias; rock'n'roll; o'clock; 's alone; 'quoted'",
    "ʼs ʼS ʼsʼs xʼs ʼʼs",  # U+02BC is a letter: "ʼs" alone is a word, not a possessive
    "al-Qaeda\u00a0in  the Islamic\tMaghreb – central Asia—Kim Jong-un",
    "İstanbul, ǅemal, ΣΊΣΥΦΟΣ, Straße, ﬁnance, Ångström, Ḥasakah, Ṭarṭūs",
    "بغداد and 北京 and Кабул; café's menu; naïve Zoë's",
    "snake_case_word __init__ x_y 3rd 2017-06-21 1,000 4.5",
    "A.B.C. D.E F.G .H I. J",
    "word\n\nNext paragraph\r\nwindows\rmac",
    "ends with possessive James's",
    "the Joneses's' house, Iran’s’ army, Iran's- backed",  # the "'s" is part of the next gap
    "Hamid-Reza Taraghi, spokesman John Kirby and Mr. Hamid-reza said",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tokenizer_matches_reference(text: str) -> None:
    expected = _reference_tokenize(text)
    assert tokenize(text) == expected
    table = token_table(text)
    assert list(table) == expected
    assert len(table) == len(expected)
    for t in expected:  # offsets point at the surface
        assert text[t.start : t.end] == t.text
    assert name_starts(table) == _reference_starts(expected)
    assert name_starts(expected) == _reference_starts(expected)


_ALPHABET = st.sampled_from(
    [
        *"aAzZ09 _-.,'’ʼsSÉéİıßﬁÅΣσ北ب\u00a0\t\n–—‐(@:",
        *("Iran", "U.S.", "'s", "’S", "al-", "the ", "The ", "IS ", "  "),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_tokenizer_matches_reference_on_random_text(text: str) -> None:
    expected = _reference_tokenize(text)
    table = token_table(text)
    assert list(table) == expected
    assert table.norms == [normalise(t) for t in table.texts]
    assert name_starts(table) == _reference_starts(expected)


def test_token_table_is_a_sequence_of_tokens() -> None:
    text = "Iran's U.S.-led forces in Syria"
    tokens = tokenize(text)
    table = token_table(text)
    assert table[0] == tokens[0] and table[-1] == tokens[-1]
    assert table[1:3] == tokens[1:3]
    assert TokenTable.of(tokens).texts == table.texts
    assert TokenTable.of(table) is table
    assert TokenTable.of([]).texts == []


@pytest.mark.parametrize("text", [*TRICKY, "Theresa May met Hassan Rouhani in Tehran's north"])
def test_find_gives_the_same_with_a_token_list_or_a_table(text: str) -> None:
    gaz = default_gazetteer()
    expected = gaz.find(text)
    assert gaz.find(text, tokenize(text)) == expected
    assert gaz.find(text, token_table(text), name_starts(token_table(text))) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ É ß İ北ب\u00a0ǅ1_.'\n")), max_size=60))
def test_letter_counts_match_character_by_character(text: str) -> None:
    assert letter_counts(text) == (sum(map(str.isalpha, text)), sum(map(str.isupper, text)))


def _reference_title_case(line: str) -> bool:
    words = re.findall(r"[^\W\d_]{3,}", line)
    return len(words) >= 2 and sum(1 for w in words if w[0].isupper()) / len(words) >= 0.75


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    [" the ", " and ", " said ", "The ", "And", "Iran ", "IRAN ", " ", "x", ",", "É"]
), max_size=30).map("".join))
def test_title_case_prefilter_never_rules_out_a_title_case_line(line: str) -> None:
    if plainly_lower_case(line, letter_counts(line)[1]):
        assert not _reference_title_case(line)


@pytest.mark.parametrize(
    "line",
    [
        "Share this article",
        "Please share this article",  # anchored patterns do not match in the middle
        "Copyright 2017 Someone",
        "The text says Copyright 2017 here",
        "Tags: Iran, Syria",
        "",
        "Donate now",
        "x" * 500 + " Donate",
    ],
)
def test_line_patterns_match_like_search(line: str) -> None:
    rules = clean_module.CleaningRules.load([])
    patterns = rules.drop_lines._patterns
    assert rules.drop_lines.search(line) == any(p.search(line) for p in patterns)


def test_line_patterns_with_multiline_flag_still_search() -> None:
    matcher = cleaning_rules._LineMatcher(["^Donate"], re.IGNORECASE | re.MULTILINE)
    assert matcher.search("first line\ndonate here")
    plain = cleaning_rules._LineMatcher(["^Donate", "^Share"], re.IGNORECASE)
    assert not plain.search("first line\ndonate here")
    assert plain.search("share this")


def _reference_is_repeat(line: str, title_key: str) -> bool:
    key_of = clean_module._key
    if not title_key or len(line) < len(title_key) or len(line) > 8 * len(title_key) + 40:
        return False
    key = key_of(line)
    if key == title_key:
        return True
    times = (len(key) + 1) // (len(title_key) + 1)
    return times > 1 and key == " ".join([title_key] * times)


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("Iran Says ISIS Is Beaten", "Iran says ISIS is beaten"),
        ("Iran says ISIS is beaten — Iran says ISIS is beaten", "Iran says ISIS is beaten"),
        ("IRAN SAYS ISIS IS BEATEN!!", "Iran says ISIS is beaten"),
        ("Iran says ISIS is beaten, officials said on Monday.", "Iran says ISIS is beaten"),
        ("Die Straße ist lang", "Die STRASSE ist lang"),  # case folding lengthens ß
        ("Iran_says ISIS is beaten", "Iran says ISIS is beaten"),
        ("beaten is ISIS says Iran", "Iran says ISIS is beaten"),
    ],
)
def test_headline_repeat_test_matches_reference(line: str, title: str) -> None:
    title_key = clean_module._key(title)
    assert clean_module._is_repeat(line, title_key) == _reference_is_repeat(line, title_key)


def test_lookup_memos_keep_answers_and_errors() -> None:
    gaz: Gazetteer = default_gazetteer()
    assert gaz.canonical("actor", "Daesh") == gaz.canonical("actor", "Daesh") == "ISIS"
    assert gaz.canonical("location", "Nowhereville Xyz") is None
    assert gaz.kind("actor", "Daesh") == gaz.kind("actor", "Daesh") == "armed group"
    assert gaz.kind("actor", "Nowhereville Xyz") is None
    with pytest.raises(ValueError, match="unknown facet"):
        gaz.kind("org", "ISIS")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown facet"):
        gaz.canonical("org", "ISIS")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown facet"):
        gaz.canonical("org", "ISIS")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-/12a٣ \n")), max_size=30))
def test_date_separators_are_what_the_regex_finds(text: str) -> None:
    expected = [m.start() for m in re.finditer(r"[/-]\d", text)]
    assert dates_module._separators(text) == expected


_NAME_PARTICLES_REF = extract_module._NAME_PARTICLES


def _reference_runs(text: str, table: TokenTable, caps: list[int],
                    covered: set[int]) -> list[tuple[int, int]]:
    """The run finder as written before its plain steps were skipped by list.index."""
    texts, norms, joined, possessive = table.texts, table.norms, table.joined, table.possessive
    starts, ends = table.starts, table.ends
    n = len(texts)
    out = []
    pos = 0
    for i in caps:
        if i < pos or i in covered or not texts[i][0].isalpha():
            continue
        j = i + 1
        while j < n and j not in covered and not possessive[j - 1]:
            word = texts[j]
            if not joined[j]:
                prev = texts[j - 1]
                if (len(prev) == 1 and prev.isupper() and j - 1 > i
                        and text[ends[j - 1]:starts[j]] == ". " and word[0].isupper()):
                    j += 1
                    continue
                break
            if word[0].isalpha() and (word[0].isupper() or text[ends[j - 1]:starts[j]] == "-"):
                j += 1
            elif (norms[j] in _NAME_PARTICLES_REF and j + 1 < n and j + 1 not in covered
                  and joined[j + 1] and texts[j + 1][0].isupper()):
                j += 2
            else:
                break
        if j - i > 1:
            out.append((i, j))
        pos = j
    return out


_RUN_PIECES = st.sampled_from(
    ["KING ", "HUSSEIN ", "Bashar ", "al-", "Assad", "T. ", "Kirk ", "Jong-un ", "IRAN'S ",
     "Iran’s ", "the ", "de ", "X", ". ", ", ", "-", "  ", "\n", "Ⅻ ", "Ⓐ ", "É", "é", "9 "]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_RUN_PIECES, max_size=40).map("".join), st.sets(st.integers(0, 40)),
       st.booleans())
def test_runs_match_reference(text: str, covered: set[int], every_token: bool) -> None:
    """Capitalised runs are the same whether the plain steps are skipped (text mostly in
    capitals) or taken one by one."""
    table = token_table(text)
    caps = (list(range(len(table))) if every_token
            else [k for k, t in enumerate(table.texts) if t[0].isupper()])
    expected = _reference_runs(text, table, caps, covered)
    assert list(extract_module._runs(text, table, caps, covered)) == expected


_NEEDLE_TEXT = st.lists(st.sampled_from(
    ["*", "**", "-", "- -", "--", "_", "__", "#", "](", "![", "[", "Reply", "Rep", " ", "x",
     "é", "’", "\n"]), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_NEEDLE_TEXT, st.lists(st.sampled_from(
    ["*", "**", "--", "- -", "* *", "__", "_ _", "#", "](", "![", "][", "Reply", "Rep", "",
     "x*"]), max_size=8))
def test_substitution_needles_found_like_in(text: str, strings: list[str]) -> None:
    """The one-scan search for the substitutions' required strings finds exactly those
    ``in`` finds, overlapping and nested ones included."""
    found = clean_module._Needles(strings).present(text)
    assert {s for s in [*strings, ""] if s in text} == found


def _reference_normalize_text(text: str) -> str:
    """normalize_text as written before its ASCII and clean-line shortcuts."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = clean_module._SPECIAL.sub(clean_module._translate, text)
    text = unicodedata.normalize("NFC", text)
    if "  " in text:
        text = re.sub("  +", " ", text)
    text = "\n".join(line.strip(" \t") for line in text.split("\n"))
    if "\n\n\n" in text:
        text = re.sub("\n\n\n+", "\n\n", text)
    return text.strip("\n")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(
    ["a", "Word", " ", "  ", "\t", "\n", "\r\n", "\r", "\x00", "\x0b", "\x0c", "\x1c", "\x7f",
     "\x85", "\u00a0", "\u2028", "\u2029", "\u200b", "\u00ad", "e\u0301", "\u202a", "é", "’"]),
    max_size=30).map("".join))
def test_normalize_text_matches_reference(text: str) -> None:
    assert clean_module.normalize_text(text) == _reference_normalize_text(text)
