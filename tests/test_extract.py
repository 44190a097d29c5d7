"""Entity extraction: seeds, negative cases, people patterns, metadata overrides, offsets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib.ingest.extract import extract
from searchlib.ingest.gazetteer import Gazetteer, default_gazetteer
from searchlib.models import Extraction

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def _seed(prefix: str) -> tuple[str, str]:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    title, _, body = path.read_text(encoding="utf-8").strip().partition("\n")
    return title.strip(), body


def _extract_seed(prefix: str, gaz: Gazetteer) -> Extraction:
    title, body = _seed(prefix)
    return extract(title, body, gazetteer=gaz)


def test_seed_000(gaz: Gazetteer) -> None:
    e = _extract_seed("000", gaz)
    assert {
        "ISIS", "Iranian border guards", "Iranian army", "PEJAK", "Quds Force", "Al Qaeda",
        "Jabhat al-Nusra", "Islamic Front", "Iran",
    } <= set(e.actors)
    assert {"Qasr-e Shirin", "Iran", "Iraq", "Syria", "Khanaqin", "Aleppo", "Tehran"} <= set(
        e.locations
    )
    assert set(e.people) == {"Ahmad Reza Pourdastan", "Fath Allah Hosseini", "Bashar al-Assad"}
    # Headline and page furniture are not people; the subscription footer is not a place.
    assert "War Is Boring" not in e.people and "Reading" not in e.locations


def test_seed_004(gaz: Gazetteer) -> None:
    e = _extract_seed("004", gaz)
    assert {"ISIS-K", "IRGC", "Quds Force", "Houthis", "ISIS", "Reuters", "Al Jazeera"} <= set(
        e.actors
    )
    places = {"Kerman", "Afghanistan", "Yemen", "Iran", "Syria", "Iraq", "Red Sea"}
    assert places <= set(e.locations)
    assert set(e.people) == {
        "Qassem Soleimani", "Donald Trump", "Barbara Slavin", "John Kirby", "Aaron Zelin",
        "Ruhollah Khomeini",
    }


def test_seed_003_people_and_provinces(gaz: Gazetteer) -> None:
    e = _extract_seed("003", gaz)
    assert {"Ramazan Sharif", "Hamid-Reza Taraghi", "Massoud Khodabandeh", "Donald Trump"} <= set(
        e.people
    )
    # "the Iranian provinces of Kermanshah and Kurdistan" are the provinces.
    provinces = {"Deir ez-Zor province", "Kermanshah province", "Kurdistan province"}
    assert provinces | {"Deir ez-Zor", "Raqqa"} <= set(e.locations)
    assert {"IRGC", "MEK", "Hezbollah", "SDF", "YPG", "Russian Defense Ministry", "Pentagon",
            "US-led Coalition", "Saudi Arabia", "Israel", "Qatar"} <= set(e.actors)
    assert e.published == dt.date(2017, 6, 21) and e.published_source == "dateline"


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_offsets_and_order(gaz: Gazetteer, prefix: str) -> None:
    title, body = _seed(prefix)
    e = extract(title, body, gazetteer=gaz)
    text = f"{title}\n\n{body}"
    assert e.mentions
    for m in e.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.surface
    assert [m.start for m in e.mentions] == sorted(m.start for m in e.mentions)
    for facet, names in (("actor", e.actors), ("location", e.locations), ("person", e.people)):
        first = list(dict.fromkeys(m.name for m in e.mentions if m.facet == facet))
        assert list(names) == first  # deduplicated, ordered by first mention


def test_not_rolled_up(gaz: Gazetteer) -> None:
    e = extract("Strike", "The Quds Force moved into Deir ez-Zor.", gazetteer=gaz)
    assert e.actors == ("Quds Force",)
    assert e.locations == ("Deir ez-Zor",)


@pytest.mark.parametrize(
    "body",
    [
        "It is clear that what is done is done. Tell us what is next, he said to us.",
        "Reading the report, she said Mobile phones were banned. Nice work. Split the bill.",
        "Florence Nightingale was a nurse. Victoria Beckham sang. Bath time is over.",
        "Of course the Marathon was long. Deal with it.",
    ],
)
def test_common_words_are_not_entities(gaz: Gazetteer, body: str) -> None:
    e = extract("Notes", body, gazetteer=gaz)
    assert e.actors == ()
    assert e.locations == ()


def test_acronyms_in_context(gaz: Gazetteer) -> None:
    e = extract("Report", "IS militants and the US-led coalition met the UN envoy.", gazetteer=gaz)
    assert e.actors == ("ISIS", "US-led Coalition", "UN")
    caps = extract("THIS IS WAR", "WHAT IS IT TO US? THE WAR IS BORING", gazetteer=gaz)
    assert "ISIS" not in caps.actors and "United States" not in caps.actors


def test_demonyms_and_languages(gaz: Gazetteer) -> None:
    e = extract("x", "Iranian officials met Syrian and Iraqi envoys.", gazetteer=gaz)
    assert e.actors == ("Iran", "Syria", "Iraq")
    assert e.locations == ()
    text = "It is published in English, Russian, French and Indonesian."
    lang = extract("x", text, gazetteer=gaz)
    assert lang.actors == ()
    assert extract("x", "They spoke in Persian.", gazetteer=gaz).actors == ()


def test_compound_names_win(gaz: Gazetteer) -> None:
    e = extract("x", "Militants of the Islamic State of Iraq and Syria struck.", gazetteer=gaz)
    assert e.actors == ("ISIS",)
    assert e.locations == ()


def test_people_patterns_and_surnames(gaz: Gazetteer) -> None:
    body = (
        "Brig. Gen. Ahmad Reza Pourdastan confirmed the attack. Pourdastan said it was PEJAK.\n\n"
        "Mr. Hamid-Reza Taraghi blamed the MEK. Later, Taraghi repeated it.\n\n"
        "Analyst Zaynab Qorbani, who studies Iran, disagreed."
    )
    e = extract("Border clash", body, gazetteer=gaz)
    assert e.people == ("Ahmad Reza Pourdastan", "Hamid-Reza Taraghi", "Zaynab Qorbani")
    surnames = [m for m in e.mentions if m.facet == "person" and m.surface == "Pourdastan"]
    assert len(surnames) == 1 and surnames[0].name == "Ahmad Reza Pourdastan"
    assert any(m.surface == "Taraghi" and m.name == "Hamid-Reza Taraghi" for m in e.mentions)


@pytest.mark.parametrize(
    "body",
    [
        "The Stimson Center said so. The Washington Institute agreed.",
        "Dangerous Development Puts Region in Precarious Position",
        "Operation Inherent Resolve continues. Global Research published it.",
        "Christian Science Monitor reported the Red Sea attacks.",
        "Read more at Business Insider and Middle East Eye.",
    ],
)
def test_organisations_and_headlines_are_not_people(gaz: Gazetteer, body: str) -> None:
    assert extract("Notes", body, gazetteer=gaz).people == ()


def test_names_next_to_other_names(gaz: Gazetteer) -> None:
    e = extract(
        "x",
        "President Moon Jae-in met the Trump White House envoy. Penn State spokesman "
        "Abbas Araghchi spoke, and Vice President Pence replied.",
        gazetteer=gaz,
    )
    assert e.people == ("Moon Jae-in", "Donald Trump", "Abbas Araghchi", "Mike Pence")
    assert e.actors == ("White House",)
    assert e.locations == ()


def test_headline_is_not_a_person(gaz: Gazetteer) -> None:
    e = extract("Martin Luther Heads Home Again", "Nothing else here.", gazetteer=gaz)
    assert e.people == ()


def test_metadata_overrides(gaz: Gazetteer) -> None:
    body = "ISIS attacked Kerman. Soleimani was remembered."
    e = extract(
        "x",
        body,
        metadata={"actors": ["Daesh", "Some New Militia"], "people": "Qasem Soleimani, Jane Roe"},
        gazetteer=gaz,
    )
    assert e.actors == ("ISIS", "Some New Militia")
    assert e.locations == ("Kerman",)
    assert e.people == ("Qassem Soleimani", "Jane Roe")
    tagged = extract("x", body, metadata={"tags": ["Hezbollah", "Syria", "economy"]}, gazetteer=gaz)
    assert tagged.actors == ("ISIS", "Hezbollah", "Syria")  # a country is also a state
    assert tagged.locations == ("Kerman", "Syria")
    # Mentions stay the text's own evidence.
    assert {m.name for m in tagged.mentions} == {"ISIS", "Kerman", "Qassem Soleimani"}


def test_dates_come_from_dates_module(gaz: Gazetteer) -> None:
    e = extract(
        "Strike",
        "On June 18 the IRGC fired missiles.",
        metadata={"published": "2017-06-21"},
        gazetteer=gaz,
    )
    assert e.published == dt.date(2017, 6, 21)
    assert e.published_source == "metadata"
    assert dt.date(2017, 6, 18) in e.mentioned_dates
    undated = extract("x", "No date here.", gazetteer=gaz)
    assert undated.published is None and undated.published_source is None


def test_default_gazetteer_used(gaz: Gazetteer) -> None:
    assert extract("x", "Hezbollah fighters").actors == ("Hezbollah",)


def test_unknown_provinces_and_state_bodies(gaz: Gazetteer) -> None:
    body = (
        "Fighting spread to Zabul province and Osun State. The Austrian Interior Ministry and "
        "the Vietnam Coast Guard said so."
    )
    e = extract("Report", body, gazetteer=gaz)
    assert e.locations == ("Zabul province", "Osun State")
    # Bodies the gazetteer does not know keep their state, which is what they roll up to.
    assert e.actors == ("Austrian Interior Ministry", "Austria", "Vietnam Coast Guard", "Vietnam")
    known = extract("x", "The Nigerian House of Representatives and Vietnam's Communist Party.")
    assert known.actors == ("Nigerian House of Representatives", "Nigeria",
                            "Communist Party of Vietnam")
    square = extract("X", "THE CROWDS IN ULUS SQUARE BELOW WERE CRUSHED", gazetteer=gaz)
    assert square.locations == ("Ulus Square",)


def test_place_inside_organisation_name(gaz: Gazetteer) -> None:
    e = extract("x", "Experts at the South Asia Center and Toyota Motor agreed.", gazetteer=gaz)
    assert e.locations == ()
    e = extract("x", "Trade between Afghanistan and central Asia grew.", gazetteer=gaz)
    assert e.locations == ("Afghanistan", "Central Asia")


def test_first_name_countries_in_person_names(gaz: Gazetteer) -> None:
    text = "Israel - Egypt ties. Then Jordan Peterson and Chad Thomas met."
    e = extract("x", text, gazetteer=gaz)
    assert e.locations == ("Israel", "Egypt")
    assert e.people == ("Jordan Peterson", "Chad Thomas")


def test_all_capital_archive_text(gaz: Gazetteer) -> None:
    text = "THE U.S. HAS DECIDED TO SEND ARMS TO SOUTH VIETNAM. IT IS TRUE."
    e = extract("X", text, gazetteer=gaz)
    assert e.actors == ("United States", "South Vietnam")
    assert e.locations == ("United States", "South Vietnam")
    royal = extract("X", "JORDAN'S KING HUSSEIN FLEW TO CAIRO LAST WEEK.", gazetteer=gaz)
    assert royal.people == ("King Hussein",)
    assert extract("x", "King Saud met Prince Charles.", gazetteer=gaz).people == (
        "King Saud",
        "Prince Charles",
    )


def test_empty_article(gaz: Gazetteer) -> None:
    e = extract("", "", gazetteer=gaz)
    assert e == Extraction()


_PIECES = [
    "Iran", "Iranian", "ISIS", "IS", "US", "U.S.", "the", "al-Qaeda", "Qasre Shirin", "Deir Az Zor",
    "Brig. Gen.", "Ahmad", "Reza", "Pourdastan", "said", "who", "’s", "'s", " ", "  ", ",", ".",
    "-", "\n", "\n\n", "Reading", "it is", "us", "ÉCOLE", "Zürich", "(@", "Province", "State",
    "Interior Ministry", "Nigerian", "House of Representatives", "central", "Asia", "UN", "é",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=40), st.lists(st.sampled_from(_PIECES), max_size=8)
)
def test_mentions_always_index_the_text(gaz: Gazetteer, body: list[str], title: list[str]) -> None:
    t, b = " ".join(title), " ".join(body)
    e = extract(t, b, gazetteer=gaz)
    text = f"{t}\n\n{b}"
    for m in e.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.surface
    assert set(e.actors) == {m.name for m in e.mentions if m.facet == "actor"}
    assert set(e.locations) == {m.name for m in e.mentions if m.facet == "location"}


# --- recognition from context (issue 15) ------------------------------------------------------


def _by_facet(e: Extraction, facet: str) -> set[tuple[str, str]]:
    return {(m.name, m.surface) for m in e.mentions if m.facet == facet}


def test_a_name_after_a_title_is_the_person_named_in_full(gaz: Gazetteer) -> None:
    body = (
        "Angela Merkel arrived in Paris on Monday. Chancellor Merkel met the press, and "
        "later Merkel said the talks went well. Mr. Steinbrueck, her rival, stayed home."
    )
    people = _by_facet(extract("Talks", body, gazetteer=gaz), "person")
    assert ("Angela Merkel", "Merkel") in people
    assert ("Steinbrueck", "Steinbrueck") in people
    assert {name for name, _ in people} == {"Angela Merkel", "Steinbrueck"}


def test_dictionary_word_surnames_inside_sentences(gaz: Gazetteer) -> None:
    body = (
        "Secretary of State Condoleezza Rice flew to Cairo. Officials said Rice would meet "
        "the president.\n\nRice prices rose sharply in Asia this year."
    )
    people = [m for m in extract("Visit", body, gazetteer=gaz).mentions if m.facet == "person"]
    assert [m.surface for m in people] == ["Condoleezza Rice", "Rice"]
    assert all(m.name == "Condoleezza Rice" for m in people)
    assert people[1].start < body.index("Rice prices") + len("Visit\n\n")


def test_titles_alone_or_before_places_are_no_people(gaz: Gazetteer) -> None:
    e = extract("x", "The President Hotel hosted Minister Iran officials. Mr. Smith left.",
                gazetteer=gaz)
    assert e.people == ("Smith",)


def test_organisations_by_their_head_word(gaz: Gazetteer) -> None:
    body = (
        "The Foreign Ministry said the Organization of American States and the Welsh Rugby "
        "Union would attend, along with Bank of Japan officials."
    )
    e = extract("Meeting", body, gazetteer=gaz)
    assert {"Foreign Ministry", "Organization of American States", "Welsh Rugby Union",
            "Bank of Japan"} <= set(e.actors)
    # Places inside an organisation's name are not place mentions by themselves.
    assert "Rugby" not in e.locations and "Japan" not in e.locations


def test_places_inside_treaty_names_are_not_places(gaz: Gazetteer) -> None:
    e = extract("x", "Both signed the Paris Agreement and the Geneva Conventions in 1949.",
                gazetteer=gaz)
    assert e.locations == () and e.actors == ()
    assert "Paris" in extract("x", "Both met in Paris.", gazetteer=gaz).locations


def test_acronyms_defined_in_the_text(gaz: Gazetteer) -> None:
    body = ("The National Farmers Federation (NFF) objected. Later the NFF said it would sue.")
    e = extract("x", body, gazetteer=gaz)
    actors = [m for m in e.mentions if m.facet == "actor"]
    assert [m.surface for m in actors] == ["National Farmers Federation", "NFF", "NFF"]
    assert {m.name for m in actors} == {"National Farmers Federation"}


def test_one_body_named_inside_a_sentence(gaz: Gazetteer) -> None:
    assert "Senate" in extract("x", "The bill passed the Senate on Friday.", gazetteer=gaz).actors
    assert extract("x", "Army units moved north.", gazetteer=gaz).actors == ()


def test_uk_countries_and_regions_are_places(gaz: Gazetteer) -> None:
    e = extract("x", "Floods hit Wales, Scotland and Northern Ireland; the Caribbean was spared.",
                gazetteer=gaz)
    assert {"Wales", "Scotland", "Northern Ireland", "Caribbean"} <= set(e.locations)
    assert gaz.ancestors("location", "Wales") == ("United Kingdom",)


def test_party_aliases(gaz: Gazetteer) -> None:
    e = extract("x", "The Tory leader attacked Labour over taxes.", gazetteer=gaz)
    assert set(e.actors) == {"Conservative Party", "Labour Party"}


def test_places_in_datelines(gaz: Gazetteer) -> None:
    e = extract("Markets", "MADRID (Reuters) - Shares fell.\n\nBERLIN — Bonds rose.",
                gazetteer=gaz)
    assert {"Madrid", "Berlin"} <= set(e.locations)


def test_a_club_in_a_sports_report_is_not_its_city(gaz: Gazetteer) -> None:
    body = (
        "Valencia beat Sevilla 2-1 in the league on Sunday. The striker scored twice against "
        "Sevilla, and the Valencia coach praised the squad. Fans in Valencia celebrated."
    )
    e = extract("Match report", body, gazetteer=gaz)
    assert {"Valencia", "Sevilla"} <= set(e.actors)
    assert e.locations == ("Valencia",)  # "Fans in Valencia": the city itself
    news = extract("Floods", "Valencia beat its rainfall record as floods hit the city.",
                   gazetteer=gaz)
    assert "Valencia" in news.locations and "Valencia" not in news.actors


def test_a_persons_surname_is_not_a_place(gaz: Gazetteer) -> None:
    body = "Martin Durban flew home. Later Durban said he was tired. He lives in Durban."
    e = extract("x", body, gazetteer=gaz)
    people = [m for m in e.mentions if m.facet == "person"]
    assert [m.surface for m in people] == ["Martin Durban", "Durban"]
    assert e.locations == ("Durban",)  # "in Durban" is the city


def test_geonames_forms_news_uses(gaz: Gazetteer) -> None:
    # The Arabic article is optional; a hyphenated name keeps its lower-case link.
    assert gaz.canonical("location", "Samawah") == gaz.canonical("location", "As Samawah")
    assert gaz.canonical("location", "Samawah") is not None
    assert gaz.canonical("location", "Port-au-Prince") == "Port-au-Prince"
    assert gaz.kind("location", "Alexandria") == "city"
