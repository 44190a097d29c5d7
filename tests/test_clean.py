"""Tests for searchlib.ingest.clean: golden tests on the seed articles, rules files,
normalisation."""

from __future__ import annotations

import pickle
import re
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.errors import ConfigError
from searchlib.ingest.clean import CleaningRules, clean_document, clean_text, normalize_text
from searchlib.models import CleanedArticle, SourceDocument

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "clean"


def seed(prefix: str) -> CleanedArticle:
    """Clean the seed whose file name starts with ``prefix``."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return clean_text(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Golden tests on the five seeds
# --------------------------------------------------------------------------------------------

# Boilerplate that must be gone from every seed's body (each phrase occurs in at least one seed).
BOILERPLATE = [
    "If you have any problems viewing this article",
    "100% ad free experience",
    "Get our best stories sent to your inbox",
    "Membership to private Facebook group",
    "Show your support for continued hard hitting content",
    "Only $19.99 per year",
    "Become a War is Boring subscriber",
    "ReplyDelete",
    "Read more ....",
    "More News On U.S. And Iranian Forces Operating In Iraq",
    "-- AFP",
    "-- The Independent",
    "-- Ian Black, The Guardian",
    "Global Research, June 21, 2017",
    "21st Century Wire 20 June 2017",
    "Region:",
    "Theme:",
    "In-depth Report:",
    "IRAN: THE NEXT WAR?",
    "By Patrick Henningsen",
    "The original source of this article is",
    "Copyright ©",
    "Comment on Global Research Articles on our Facebook page",
    "Become a Member of Global Research",
    "Articles by:",
    "Disclaimer:",
    "fair use",
    "For media inquiries",
    "publications@globalresearch.ca",
    "](#)",
    "](",
]

@dataclass(frozen=True)
class Golden:
    """What cleaning one seed must give."""

    title: str
    subtitle: str | None
    authors: tuple[str, ...]
    dateline: str | None
    first: str
    """The body starts with this."""
    sentences: list[str]
    """Each of these is in the body verbatim."""
    last: str
    """The body ends with this."""


GOLDEN: dict[str, Golden] = {
    "000": Golden(
        title="ISIS Just Attacked Iran",
        subtitle="Iranian troops die in Qasre Shirin border clash",
        authors=(),
        dateline=None,
        first="On June 19, militants from the Islamic State of Iraq and Syria attacked Iranian "
        "border guards near Iran’s border city of Qasre Shirin, according to Iranian social media.",
        sentences=[
            "A photograph showed the bodies of at least two Iranian officers apparently killed "
            "in the skirmish.",
            "Iranian officers killed during June 19 clashes. Photo via Iranian social media",
            "But this an odd claim given the intensity of the attack and the location.",
            "Last week, ISIS also began publicizing battle reports in Farsi.",
        ],
        last="With the attack on Qasre Shirin, it appears ISIS is striking back.",
    ),
    "001": Golden(
        title="Earlier today ISIL conducted two attacks in Iran with a third…",
        subtitle=None,
        authors=(),
        dateline=None,
        first="Earlier today ISIL conducted two attacks in Iran with a third being thwarted. "
        "The first was at the Iranian majlis or parliament.",
        sentences=[
            "BREAKING: Islamic State group claims attacks on Iranian parliament, Khomeini shrine.",
            "— The Associated Press (@AP) June 7, 2017",
            "4. What is significant here is unlike recent attacks in Europe, ISIS has released a "
            "video allegedly showing attackers going room by room: pic.twitter.com/vb7oNwFGvE",
            "— Rukmini Callimachi (@rcallimachi) June 7, 2017",
            "6. Again if video is proved legit, it shows the attackers had a direct line to ISIS. "
            "We saw this during the Bangladesh cafe siege last year",
            "8. While this may be the 1st successful attack in Iran, ISIS has been agitating to "
            "hit them for years. See comments of expert @JcBrisard pic.twitter.com/yn5gMhj11O",
            "Iranian officials say they managed to foil a third attack.",
        ],
        last="The more successful Operation Inherent Resolve is, the more ISIL inspired and/or "
        "directed terrorist activity would be seen well away from the actual declared caliphate "
        "in the Levant.",
    ),
    "002": Golden(
        title="Iran Attacked Islamic State Forces in Iraq -- WSJ",
        subtitle="U.S. Not Coordinating With Tehran on Airstrikes",
        authors=(),
        dateline=None,
        first="Iran launched airstrikes in recent days against Islamic State forces along its "
        "border with Iraq, an effort to exert more military influence in the region in the face "
        "of America’s resurgent role.",
        sentences=[
            "Iran didn't coordinate the strikes or share intelligence with the U.S., officials "
            "from both countries said Wednesday",
            "but are worried that the region’s main Shiite power is more intent on fueling "
            "sectarian tensions than helping stabilize its neighbor.",
            # The blogger's own comment is article text.
            "My Comment: They may not be talking to each other, but I suspect that the Iraqi "
            "military is acting as the coordinating body",
            "in the middle of a war-zone.",
        ],
        last="Well WNU, you know those theological questions (sunni/shia etc) can be a little "
        "tricky, especially when confession and absolution are done at the point of a sword.",
    ),
    "003": Golden(
        title="Dangerous Development: Iranian Missile Launch into Syria Against ISIS Puts US "
        "in Precarious Position",
        subtitle=None,
        authors=("Patrick Henningsen",),
        dateline="Global Research, June 21, 2017",
        first="Yesterday, Iran's Revolutionary Guard announced that it had fired several "
        "missiles at ISIS positions in the Deir Az Zor province in Syria. The reason given for "
        "this unprecedented military strike was retaliation for double terrorist attacks which "
        "struck Tehran two weeks ago.",
        sentences=[
            "According to a statement issued by the news agency for the Iranian Revolutionary "
            "Guard Corps, Sepahnews,",
            '"The spilling of any pure blood will not go unanswered."',
            "Iranian television featured images of the IRGC missiles being launched at night...",
            "Syria: A Crowded Theatre",
            # Broken across a blank line in the source: re-joined.
            "in a manner which has aided the strategic advances of ISIS.",
            "Iran’s missile strike took place on Sunday June 18th",
            "to blow the Syrian theatre open into a wide regional or possibly, world-wide war.",
            "BFFs? Trump and the Saudis, sword dancing at the Arab Summit in Riyadh last month.",
            "efforts to bracket Qatar with ‘state sponsor of terror' Iran will be even more",
            # Editorial brackets inside a quote are article text, not link debris.
            "head of a reactionary regional country [Saudi Arabia] which has been",
            "Fars News Agency added,",
            "The FT explains:",
            "Tehran Attack: Who Did It?",
            "Timing is Everything",
            "The scene has now been set for a wider war.",
        ],
        last="Patrick Henningsen is an American-born writer and global affairs analyst and "
        "founder of independent news and analysis site 21st Century Wire and host of the SUNDAY "
        "WIRE weekly radio show broadcast globally over the Alternate Current Radio Network (ACR).",
    ),
    "004": Golden(
        title="Why Iran tried to kill ISIS commanders in Syria with ballistic missiles",
        subtitle=None,
        authors=(),
        dateline=None,
        first="- Scores were killed in blasts on January, at a memorial event for a celebrated "
        "Iranian military chief.",
        sentences=[
            "- ISIS-K claimed responsibility for the attack.",
            "By the day's end of the day, scores of supporters of the rulers of Iran were dead",
            "ISIS plotted a revenge attack because they hated Iran's top commander",
            '"But of course, this has made enemies for him within ISIS," she told Business '
            "Insider.",
        ],
        last='They will continue to attempt attacks against Iran "no matter what," Washington '
        "Institute for Near East Policy expert, Aaron Zelin, told the VoA.",
    ),
}


@pytest.mark.parametrize("prefix", sorted(GOLDEN))
def test_seed_header_fields(prefix: str) -> None:
    expected = GOLDEN[prefix]
    article = seed(prefix)
    assert article.title == expected.title
    assert article.subtitle == expected.subtitle
    assert article.authors == expected.authors
    assert article.dateline == expected.dateline


@pytest.mark.parametrize("prefix", sorted(GOLDEN))
def test_seed_body_keeps_article_text(prefix: str) -> None:
    expected = GOLDEN[prefix]
    body = seed(prefix).body
    paragraphs = body.split("\n\n")
    assert paragraphs[0].startswith(expected.first)
    assert paragraphs[-1].endswith(expected.last)
    for sentence in expected.sentences:
        assert sentence in body, sentence


@pytest.mark.parametrize("prefix", sorted(GOLDEN))
def test_seed_body_has_no_boilerplate(prefix: str) -> None:
    article = seed(prefix)
    for phrase in BOILERPLATE:
        assert phrase not in article.body, phrase
    # Headline, subtitle and teaser are not repeated in the body.
    assert article.body.count(article.title.rstrip("…")) == (1 if prefix == "001" else 0)
    if article.subtitle:
        assert article.subtitle not in article.body
    assert "according..." not in article.body
    assert "\n\n\n" not in article.body
    assert article.body == normalize_text(article.body)


def test_seed_000_paragraph_count_is_that_of_the_article() -> None:
    # 13 article paragraphs plus the photo caption; nothing of the teaser or the paywall.
    assert len(seed("000").body.split("\n\n")) == 14


def test_seed_003_keeps_every_body_paragraph() -> None:
    body = seed("003").body
    raw = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
    # Every long paragraph of the article survives, links reduced to their text.
    start = raw.index("Yesterday, Iran's")
    end = raw.index("All images in this article")
    for paragraph in raw[start:end].split("\n\n"):
        text = " ".join(re.sub(r"\[([^\]]*)\]\(#\)", r"\1", paragraph).split())
        text = text.replace("*", "")
        if len(text.split()) >= 8 and not text.endswith("strategic"):
            assert text in body, text[:60]


# --------------------------------------------------------------------------------------------
# Other inputs
# --------------------------------------------------------------------------------------------


def test_title_hint_replaces_first_line_detection() -> None:
    raw = "Iran Fires Missiles\n\nShort heading\n\nThe IRGC said on Monday that it fired missiles."
    hinted = clean_text(raw, title_hint="Iran fires missiles!")
    assert hinted.title == "Iran fires missiles!"
    # The repeated headline leaves the body, and the short line under it is its subtitle.
    assert hinted.subtitle == "Short heading"
    assert hinted.body == "The IRGC said on Monday that it fired missiles."
    other = clean_text(raw, title_hint="Something else")
    assert other.title == "Something else"
    assert other.body.startswith("Iran Fires Missiles\n\nShort heading")


def test_repeated_headline_on_one_line_is_collapsed() -> None:
    raw = "Kerman Blasts Kerman Blasts Kerman Blasts\n\nTwo bombs exploded in Kerman on Wednesday."
    article = clean_text(raw)
    assert article.title == "Kerman Blasts"
    assert article.body == "Two bombs exploded in Kerman on Wednesday."


def test_derived_title_short_sentence_is_kept_whole() -> None:
    raw = "Two bombs exploded in Kerman on Wednesday. Dozens died, officials said in Tehran."
    article = clean_text(raw)
    assert article.title == "Two bombs exploded in Kerman on Wednesday"
    assert article.body == raw


def test_derived_title_skips_wire_dateline_and_abbreviations() -> None:
    raw = (
        "ST. JOSEPH, Mich. (AP) — Michigan health authorities are reporting a 6th fatality "
        "linked to Eastern Equine Encephalitis. Officials said Monday the victim was one of two."
    )
    article = clean_text(raw)
    assert article.title == (
        "Michigan health authorities are reporting a 6th fatality linked to Eastern Equine…"
    )
    # The wire dateline is article text: the body keeps it.
    assert article.body == raw
    short = clean_text("Gen. Smith said the U.S. will leave Iraq. Nobody believed him at all then.")
    assert short.title == "Gen. Smith said the U.S. will leave Iraq"


def test_byline_and_dateline_shapes() -> None:
    raw = (
        "Iran Talks Stall\n\nBy Jane Roe and Ali Reza\n\nPublished: 2017-06-21\n\n"
        "Negotiators met in Vienna on Tuesday and agreed to meet again next week, officials said."
    )
    article = clean_text(raw)
    assert article.authors == ("Jane Roe", "Ali Reza")
    assert article.dateline == "Published: 2017-06-21"
    assert article.body.startswith("Negotiators met")
    # A headline may start with "By"; a byline where the headline is expected must be names.
    headline = clean_text("By Air, Iran Strikes ISIS\n\nBy Jane Roe\n\nIran struck ISIS again.")
    assert (headline.title, headline.authors) == ("By Air, Iran Strikes ISIS", ("Jane Roe",))
    first = clean_text("By Jane Roe\n\nIran Strikes ISIS\n\nIran struck ISIS positions again.")
    assert (first.title, first.authors) == ("Iran Strikes ISIS", ("Jane Roe",))
    # Lower-case words after "By" are a sentence, not a byline.
    prose = clean_text("Iran Talks Stall\n\nBy the end of the day it was over.\n\nMore text here.")
    assert prose.authors == ()
    assert "By the end of the day it was over." in prose.body


def test_markdown_emphasis_removed_but_masked_words_kept() -> None:
    raw = (
        "Heading Line\n\nThis first paragraph is long enough to count as prose for the header.\n\n"
        "A **bold** claim and an *aside* were made.\n\n"
        "The CCI** and CCI*** events, said Ni** My**, were held."
    )
    body = clean_text(raw).body
    assert "A bold claim and an aside were made." in body
    assert "The CCI** and CCI*** events, said Ni** My**, were held." in body


def test_unicode_ellipsis_teaser_is_dropped() -> None:
    first = "Iranian forces shelled positions held by Kurdish rebels near the border on Sunday"
    raw = f"Border Shelling\n\n{first[:60]}…\n\n{first}, officials said."
    article = clean_text(raw)
    assert article.body == f"{first}, officials said."


def test_rules_survive_pickling() -> None:
    # The indexer ships rules to worker processes.
    rules = CleaningRules.load([DATA / "user_rules.yaml"])
    copy = pickle.loads(pickle.dumps(rules))
    raw = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
    assert clean_text(raw, rules=copy) == clean_text(raw, rules=rules)


def test_hard_wrapped_text_is_rejoined() -> None:
    raw = (
        "Talks Resume In Vienna\n\n"
        "Negotiators from Iran and the six world powers met again in Vienna on\n"
        "Tuesday, after a pause of three weeks that had raised fears of a collapse\n"
        "of the talks over the nuclear programme.\n\n"
        "The next round is due in July, diplomats said, though no date has been\n"
        "set and both sides have warned that the gaps remain wide on the inter-\n"
        "national inspections.\n"
    )
    article = clean_text(raw)
    assert article.title == "Talks Resume In Vienna"
    assert article.body.split("\n\n") == [
        "Negotiators from Iran and the six world powers met again in Vienna on Tuesday, after a "
        "pause of three weeks that had raised fears of a collapse of the talks over the nuclear "
        "programme.",
        "The next round is due in July, diplomats said, though no date has been set and both "
        "sides have warned that the gaps remain wide on the inter-national inspections.",
    ]


def test_related_links_need_a_heading_unless_configured(tmp_path: Path) -> None:
    items = "\n".join(f"June {i} -- Arena {i}, Nashville, TN" for i in range(10, 14))
    raw = f"Tour Dates Announced\n\nThe band announced the following tour dates today.\n{items}\n"
    # A list without a heading is article text (here: tour dates).
    assert clean_text(raw).body.count("Nashville") == 4
    headed = raw.replace("today.\n", "today.\nMore News On The Band\n")
    cleaned = clean_text(headed)
    assert "Nashville" not in cleaned.body
    assert "More News" not in cleaned.body
    assert cleaned.body == "The band announced the following tour dates today."
    # Users who know their sources can turn on heading-less lists.
    rules_file = tmp_path / "runs.yaml"
    rules_file.write_text("related_links:\n  min_run: 3\n", encoding="utf-8")
    rules = CleaningRules.load([rules_file])
    assert "Nashville" not in clean_text(raw, rules=rules).body
    two = "\n".join(items.split("\n")[:2])
    assert clean_text(raw.replace(items, two), rules=rules).body.count("Nashville") == 2


LEAD = "Tehran said on Monday that talks with the agency would resume next week in Vienna."
TAIL = "Diplomats in Vienna confirmed the date but gave no agenda for the meeting."


@pytest.mark.parametrize(
    "line",
    [
        "Share on Facebook Share on Twitter Share on WhatsApp",
        "Share this article with your friends and colleagues.",
        "Click to share on Twitter (Opens in new window)",
        "Subscribe to our newsletter for the latest updates.",
        "Sign up for our daily newsletter.",
        "READ MORE: Iran and the bomb",
        "[Related: Iran and the bomb]",
        "Advertisement",
        "Comments are closed.",
        "© 2019 Associated Press. All rights reserved.",
        "Copyright © 2017 Global Research",
        "Tags: Iran, ISIS, Syria",
        "DON'T MISS",
        "Follow The New York Times Opinion section on Facebook, Twitter and Instagram.",
    ],
)
def test_generic_boilerplate_lines_are_dropped(line: str) -> None:
    article = clean_text(f"Headline Here\n\n{LEAD}\n\n{line}\n\n{TAIL}")
    assert article.body == f"{LEAD}\n\n{TAIL}"


@pytest.mark.parametrize(
    "line",
    [
        "Share this information, please?",
        "Comment on this: the strikes were a warning, analysts said.",
        "Read more about the talks in our earlier report.",
        "By the end of the day, the talks had collapsed.",
        "Related talks in Geneva ended without agreement on Tuesday.",
        "Only two people survived the attack, officials said.",
    ],
)
def test_article_sentences_that_resemble_boilerplate_are_kept(line: str) -> None:
    article = clean_text(f"Headline Here\n\n{LEAD}\n\n{line}\n\n{TAIL}")
    assert article.body == f"{LEAD}\n\n{line}\n\n{TAIL}"


def test_footer_cut_only_near_the_end() -> None:
    body = "\n\n".join(f"Paragraph {i} of the article, with some words." for i in range(6))
    early = f"Headline Here\n\n3 comments\n\n{body}"
    assert clean_text(early).body.count("Paragraph") == 6
    late = f"Headline Here\n\n{body}\n\n3 comments\n\nGreat article!\n\nNo, it is not."
    cleaned = clean_text(late)
    assert cleaned.body.count("Paragraph") == 6
    assert "Great article" not in cleaned.body


def test_empty_and_blank_input() -> None:
    for raw in ("", "   \n\n\t\r\n", "\x00\u202e"):
        article = clean_text(raw)
        assert article.body == ""
        assert article.title == ""
    assert clean_text("", title_hint="Known title").title == "Known title"


def test_only_boilerplate_gives_empty_body() -> None:
    article = clean_text("If you have any problems viewing this article, please report it here.")
    assert article.body == ""


def test_latin1_and_odd_whitespace_input() -> None:
    raw = (DATA / "latin1_article.txt").read_bytes().decode("latin-1")
    article = clean_text(raw)
    assert article.title == "Tehran Talks Stall"
    assert article.body == (
        "Café owners in Tehran said the talks had stalled again.\n\nPrices rose sharply."
    )


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 20000 + "](" * 20000,
        " *a" * 30000,
        "Short line\n" * 20000,
        ("Aa " * 14 + "\n") * 5000,
        "x -- y " * 20000,
    ],
    ids=["brackets", "stars", "lines", "header-like", "dashes"],
)
def test_hostile_input_is_cleaned_in_linear_time(raw: str) -> None:
    # A backtracking regex turns these into minutes; linear rules take milliseconds.
    started = time.process_time()
    clean_text(raw)
    assert time.process_time() - started < 3.0


def test_html_entities_are_decoded() -> None:
    article = clean_text("AT&amp;T and Tehran&#8217;s\u00a0talks resumed on Monday.")
    assert article.body == "AT&T and Tehran’s talks resumed on Monday."


# --------------------------------------------------------------------------------------------
# clean_document
# --------------------------------------------------------------------------------------------


def test_clean_document_json_uses_metadata() -> None:
    doc = SourceDocument(
        path="/x/a.json",
        key="/x/a.json#0",
        format="json",
        text="Iran Strikes Back\n\nBy John Doe\n\nIran fired missiles at targets in Syria today.",
        metadata={"title": "Iran strikes back", "author": "Jane Roe and Ali Reza"},
    )
    article = clean_document(doc)
    assert article.title == "Iran strikes back"
    assert article.authors == ("Jane Roe", "Ali Reza")
    assert article.body == "Iran fired missiles at targets in Syria today."


def test_clean_document_text_keeps_extracted_fields() -> None:
    path = next(SEEDS.glob("003_*.txt"))
    doc = SourceDocument(
        path=str(path), key=str(path), format="markdown", text=path.read_text(encoding="utf-8")
    )
    article = clean_document(doc)
    assert article == seed("003")


def test_clean_document_html_applies_text_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for searchlib.ingest.htmltext with its documented contract, so this test does not
    # depend
    # on the HTML extractor's own heuristics.
    class Extract:
        title = "ISIS Just Attacked Iran"
        body = (
            "ISIS Just Attacked Iran\n\nOn June 19, militants attacked Iranian border guards.\n\n"
            "If you have any problems viewing this article, please report it here."
        )
        authors = ("David Axe",)
        published = "2014-06-23"
        url = "https://example.org/isis"
        site = "War Is Boring"
        description = "Iranian troops die in Qasre Shirin border clash"

    def parse_html(markup: str, *, url: str | None = None) -> Extract:
        assert markup == "<html>...</html>"
        return Extract()

    module = types.ModuleType("searchlib.ingest.htmltext")
    module.parse_html = parse_html  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "searchlib.ingest.htmltext", module)
    doc = SourceDocument(path="/x/a.html", key="/x/a.html", format="html", text="<html>...</html>")
    article = clean_document(doc)
    assert article.title == "ISIS Just Attacked Iran"
    assert article.body == "On June 19, militants attacked Iranian border guards."
    assert article.authors == ("David Axe",)
    assert article.metadata["published"] == "2014-06-23"
    assert article.metadata["site"] == "War Is Boring"
    assert article.metadata["url"] == "https://example.org/isis"
    assert article.metadata["description"].startswith("Iranian troops")


def test_clean_document_html_with_the_real_extractor() -> None:
    path = DATA / "article.html"
    doc = SourceDocument(
        path=str(path), key=str(path), format="html", text=path.read_text(encoding="utf-8")
    )
    article = clean_document(doc)
    assert article.title == "ISIS Just Attacked Iran"
    paragraphs = article.body.split("\n\n")
    assert paragraphs[0].startswith("On June 19, militants from the Islamic State")
    assert paragraphs[-1] == "With the attack on Qasre Shirin, it appears ISIS is striking back."
    assert "problems viewing" not in article.body
    assert article.authors == ("David Axe",)
    assert article.metadata["site"] == "War Is Boring"
    assert str(article.metadata["published"]).startswith("2014-06-23")
    # Source metadata wins over what the page says.
    with_meta = clean_document(
        SourceDocument(
            path=doc.path, key=doc.key, format="html", text=doc.text,
            metadata={"title": "Own title", "authors": ["A. Editor"], "subtitle": "Deck"},
        )
    )
    assert (with_meta.title, with_meta.authors, with_meta.subtitle) == (
        "Own title", ("A. Editor",), "Deck"
    )
    assert with_meta.body == article.body


# --------------------------------------------------------------------------------------------
# Rules files
# --------------------------------------------------------------------------------------------


def test_user_rules_extend_the_shipped_ones() -> None:
    rules = CleaningRules.load([DATA / "user_rules.yaml"])
    assert rules.sources[1].endswith("user_rules.yaml")
    raw = (
        "Iran Talks\n\nPosted on day 3 of the war\n\n"
        "Negotiators met in Vienna on Tuesday and agreed to meet again next week.\n\n"
        "Support Iran Watch by sharing this page.\n\n"
        "If you have any problems viewing this article, please report it here."
    )
    article = clean_text(raw, rules=rules)
    assert article.dateline == "Posted on day 3 of the war"
    assert "Support Iran Watch" not in article.body
    # The shipped drop_lines still apply: the user's list was appended, not substituted.
    assert "problems viewing" not in article.body
    assert article.body == (
        "Negotiators met in Vienna on Tuesday and agreed to meet again next week."
    )
    # Scalars replace the shipped value.
    derived = clean_text("One two three four five six seven eight nine.", rules=rules)
    assert derived.title == "One two three four five six…"
    # Without the user file, the custom line stays.
    assert "Support Iran Watch" in clean_text(raw).body


@pytest.mark.parametrize(
    ("name", "line", "problem"),
    [
        ("malformed.yaml", 4, "expected ',' or ']'"),
        ("unsafe.yaml", 3, "python/object"),
        ("unsafe_scalar.yaml", 3, "python/name"),
        ("bad_regex.yaml", 4, "bad regex"),
        ("unknown_key.yaml", 3, "unknown key 'bylnes'"),
    ],
)
def test_bad_rules_file_names_file_and_line(name: str, line: int, problem: str) -> None:
    path = DATA / name
    with pytest.raises(ConfigError) as info:
        CleaningRules.load([path])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert problem in message


def test_wrong_type_and_missing_group_are_config_errors(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("header:\n  max_lines: many\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"wrong\.yaml:2: header\.max_lines: expected int"):
        CleaningRules.load([wrong])
    group = tmp_path / "group.yaml"
    group.write_text("header:\n  bylines: ['^By (.+)$']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"group\.yaml:2: .*named 'authors'"):
        CleaningRules.load([group])
    replacement = tmp_path / "replacement.yaml"
    replacement.write_text("substitutions:\n  - {pattern: 'a', replace: '\\2'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"replacement\.yaml:2: .*bad replacement"):
        CleaningRules.load([replacement])
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        CleaningRules.load([missing])


def test_empty_user_file_changes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    rules = CleaningRules.load([empty])
    (path,) = SEEDS.glob("000_*.txt")
    raw = path.read_text(encoding="utf-8")
    assert clean_text(raw, rules=rules) == clean_text(raw)


def test_shipped_rules_file_is_package_data() -> None:
    shipped = ROOT / "searchlib" / "data" / "cleaning.yaml"
    assert CleaningRules.load().sources == (str(shipped),)


# --------------------------------------------------------------------------------------------
# normalize_text
# --------------------------------------------------------------------------------------------


def test_normalize_text_basics() -> None:
    raw = "  Cafe\u0301\u00a0\u00a0au  lait \r\n\r\n\r\n\r\nSecond\tline  \rthird\u2029end "
    assert normalize_text(raw) == "Café au lait\n\nSecond\tline\nthird\n\nend"


def test_normalize_text_strips_control_and_bidi_characters() -> None:
    raw = "a\x00b\x07c\x1bd\x7fe\x9bf\u202eg\u202ah\u2066i\u2069j\u200bk\ufeffl"
    assert normalize_text(raw) == "abcdefghijkl"
    assert normalize_text("tab\there") == "tab\there"


def test_normalize_text_is_idempotent_on_seeds() -> None:
    for path in SEEDS.glob("*.txt"):
        once = normalize_text(path.read_text(encoding="utf-8"))
        assert normalize_text(once) == once


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_normalize_text_idempotent_property(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once
    assert "\n\n\n" not in once


_PIECES = st.sampled_from(
    [
        "\n", "\n\n", " ", "...", "…", "[link](#)", "By John Smith", "Global Research, June 21, "
        "2017", "ReplyDelete", "Read more ....", "-- AFP", "ISIS Just Attacked Iran", "*", "[",
        "](", "Region: ", "\u202e", "\x00", "é", "More News On Iran", "3 comments",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), _PIECES), max_size=40).map("".join))
def test_clean_text_never_raises(raw: str) -> None:
    article = clean_text(raw)
    assert article.body == normalize_text(article.body)
    assert "\n" not in article.title
    hinted = clean_text(raw, title_hint=raw[:20])
    assert isinstance(hinted.body, str)
