"""Entity and date extraction: the facets (actors, locations, people, dates) of one article.

Actors and locations come from the gazetteer's compiled matcher (:meth:`Gazetteer.find`), with
the facet rules documented in :mod:`searchlib.gazetteer` (a country is a place and a state, a
demonym is the state only, unless it names a language: "published in Russian, French"). Three
patterns add what the gazetteer cannot list:

- a state's body: a state name or demonym followed by capitalised words ending in a body word
  ("Austrian Interior Ministry", "Vietnam Coast Guard", "Nigerian House of Representatives");
  a body the gazetteer does not know keeps its state as an actor too, so that it rolls up;
- an unknown province or feature named with its kind word ("Zabul province", "Osun State",
  "Ulus Square"); "the provinces of Kermanshah and Kurdistan" picks the province entries;
- people, from the gazetteer's curated people plus capitalised-name patterns that need a cue:

- a title or role before the name: "Brig. Gen. Ahmad Reza Pourdastan", "Mr. Hamid-Reza
  Taraghi", "spokesman John Kirby";
- a reporting verb or relative pronoun after it: "Aaron Zelin, told", "Massoud Khodabandeh,
  who", "Rukmini Callimachi (@rcallimachi)";
- an apposition with a role word: "Barbara Slavin, Distinguished Fellow at ...",
  "Patrick Henningsen is an American-born writer";
- the surname used later with a reporting verb: "Fath Allah Hosseini ... Hosseini insisted";
- a known first name (census list plus the gazetteer's ``first_names``) followed by
  capitalised words that are not dictionary words, outside headline-style lines.

A capitalised phrase that the gazetteer matched, or that holds an organisation or place word
("Center", "Ministry", "Province"), is never a person. Later mentions by surname alone map to
the full name found in the same article.

Metadata wins over extraction: a metadata ``actors`` / ``locations`` / ``people`` value (list or
comma-separated string) *replaces* that facet; ``tags`` *extend* the facets, each tag going to
every facet whose gazetteer knows it (unknown tags are topics, not entities, and are ignored). Names
from metadata are canonicalised through the gazetteer when it knows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from searchlib.dates import find_mentioned, find_published
from searchlib.gazetteer import (
    FACETS,
    FUNCTION_WORDS,
    Gazetteer,
    Token,
    default_gazetteer,
    name_starts,
    tokenize,
)
from searchlib.models import EntityMention, Extraction, FacetKind

__all__ = ["extract", "find_people", "find_provinces"]

_NAME_PARTICLES = frozenset({"al", "el", "bin", "ibn", "bint", "de", "van", "von", "der", "ul"})

_TITLES = frozenset(
    [
        "mr", "mrs", "ms", "miss", "dr", "gen", "general", "brig", "brigadier", "maj", "major",
        "lt", "lieutenant", "col", "colonel", "capt", "captain", "adm", "admiral", "sgt",
        "sergeant", "cmdr", "commander", "president", "vice", "prime", "minister", "sen",
        "senator", "rep", "representative", "gov", "governor", "mayor", "sheikh", "shaikh",
        "sheik", "ayatollah", "ayatullah", "hojatoleslam", "hojjatoleslam", "imam", "mullah",
        "king", "queen", "prince", "princess", "emir", "sultan", "judge", "justice", "ambassador",
        "prof", "professor", "rev", "reverend", "pope", "chancellor", "secretary", "spokesman",
        "spokeswoman", "spokesperson", "chairman", "chairwoman", "director", "chief", "leader",
        "cleric", "analyst", "expert", "official", "correspondent", "reporter", "journalist",
        "writer", "researcher", "fellow", "author", "editor", "founder", "envoy", "diplomat",
        "lawmaker", "mp", "activist", "scholar", "adviser", "advisor", "politician", "deputy",
        "commissioner", "premier", "speaker"
    ]
)
"""Words before a name that make it a person ("General", "spokesman", "Mr.")."""

_ROYAL_TITLES = frozenset({"king", "queen", "prince", "princess", "emir", "sultan", "shah"})
"""Titles that stay part of a one-word name ("King Hussein")."""

_ABBREVIATED_TITLES = frozenset(
    [
        "mr", "mrs", "ms", "dr", "gen", "brig", "maj", "lt", "col", "capt", "adm", "sgt", "cmdr",
        "sen", "rep", "gov", "prof", "rev", "hon", "rt"
    ]
)

_ROLE_WORDS = _TITLES | frozenset(
    [
        "member", "head", "officer", "officers", "representative", "fellow", "founder", "owner",
        "host", "candidate", "militant", "strategist", "economist",
        "historian", "lawyer", "attorney", "physician", "professor", "student", "teacher",
        "blogger", "photographer", "columnist", "presenter", "anchor", "producer", "figure",
        "brother", "sister", "son", "daughter", "wife", "husband", "father", "mother", "nephew",
        "niece", "cousin", "widow", "uncle", "aunt", "colleague", "friend", "victim", "suspect",
        "executive", "ceo", "aide", "negotiator", "ombudsman", "prosecutor", "inspector",
    ]
)
"""Words in an apposition that say the phrase before it is a person ("..., the late leader")."""

_REPORT_WORDS = frozenset(
    [
        "said", "says", "told", "added", "wrote", "tweeted", "explained", "noted", "stated",
        "argued", "claimed", "confirmed", "announced", "insisted", "believes", "believed",
        "warned", "asked", "replied", "who", "whose", "recalled", "suggested", "admitted",
        "acknowledged", "urged", "responded", "testified"
    ]
)
"""Words right after a name that make it a person ("Aaron Zelin, told", "... , who")."""

_REPORT_VERBS = _REPORT_WORDS - {"who", "whose"}
"""Verbs after a bare surname that make it a person's ("Hosseini insisted")."""

_FUNCTION_WORDS = (FUNCTION_WORDS | {"dear"}) - _ABBREVIATED_TITLES
"""Sentence-initial words stripped from a capitalised run ("But Pourdastan said")."""

_NOT_NAME_WORDS = frozenset(
    [
        "center", "centre", "institute", "university", "council", "party", "agency", "news",
        "times", "post", "ministry", "force", "forces", "army", "group", "front", "brigade",
        "brigades", "corps", "committee", "organization", "organisation", "union", "province",
        "city", "street", "road", "airport", "mosque", "shrine", "summit", "day", "week", "month",
        "year", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "republic", "kingdom", "state", "states", "islamic",
        "international", "national", "global", "research", "report", "coalition", "government",
        "administration", "department", "office", "bank", "company", "inc", "ltd", "corp",
        "foundation", "society", "association", "network", "media", "press", "radio", "tv",
        "television", "channel", "service", "command", "operation", "initiative", "policy",
        "studies", "program", "programme", "project", "war", "wars", "revolution", "movement",
        "navy", "air", "guard", "guards", "police", "court", "parliament", "senate", "house",
        "congress", "assembly", "church", "museum", "school", "college", "hospital", "hotel",
        "square", "bridge", "river", "sea", "gulf", "mountains", "valley", "desert", "island",
        "islands", "region", "east", "west", "north", "south", "middle", "central", "eastern",
        "western", "northern", "southern", "sunni", "shia", "shiite", "shi'a", "muslim", "muslims",
        "christian", "christians", "jewish", "arab", "arabs", "kurdish", "kurds", "persian",
        "twitter", "facebook", "telegram", "youtube", "instagram", "google", "whatsapp", "photo",
        "video", "image", "images", "comment", "comments", "reply", "share", "subscribe",
        "membership", "newsletter", "copyright", "disclaimer", "breaking", "update", "live",
        "exclusive", "analysis", "opinion", "editorial", "review", "books", "magazine", "journal",
        "daily", "weekly", "herald", "tribune", "gazette", "chronicle", "observer", "monitor",
        "agenda", "theme", "region", "theatre", "theater", "world", "affairs", "brothers",
        "sisters", "equities", "securities", "capital", "partners", "holdings", "ventures",
        "traveller", "traveler", "records", "studios", "entertainment", "pictures", "motors",
        "airlines", "airways", "energy", "labs", "systems", "technologies", "solutions", "fund",
        "trust", "club", "united", "athletic", "rovers", "wanderers",
    ]
)
"""Words that make a capitalised phrase an organisation, place, date or page furniture."""

_LANGUAGE_CUES = frozenset(
    {
        "english", "arabic", "persian", "farsi", "urdu", "pashto", "dari", "hebrew", "kurdish",
        "kurmanji", "sorani", "hindi", "latin", "swahili", "amharic", "language", "languages",
        "speakers", "speaking", "translated", "translation", "subtitles", "subtitled", "dubbed",
        "dialect",
    }
)
"""Words near a demonym that make it a language ("in English, Russian, French") not a state."""


def _is_language(
    text: str, tokens: Sequence[Token], a: int, b: int, languages: set[int]
) -> bool:
    """Is the demonym at tokens ``a:b`` used as a language name ("in Russian", "Persian
    speakers", "English, Russian, French and Indonesian")? ``languages`` holds the indexes of
    demonyms already read as languages, so a list is read as one."""
    if a > 0 and tokens[a - 1].norm == "in" and (
        b >= len(tokens) or not tokens[b].joined or not tokens[b].text[:1].islower()
    ):
        return True
    for k in (*range(max(0, a - 3), a), *range(b, min(len(tokens), b + 3))):
        if tokens[k].norm in _LANGUAGE_CUES or k in languages:
            if k < a:
                lo, hi = tokens[k].end, tokens[a].start
            else:
                lo, hi = tokens[b - 1].end, tokens[k].start
            if not re.search(r"[.;:!?\n]", text[lo:hi]):
                return True
    return False


def _headline_line(text: str, offset: int, title_end: int, memo: dict[int, bool]) -> bool:
    """True in the title and on lines where most longer words are capitalised."""
    if offset < title_end:
        return True
    start = text.rfind("\n", 0, offset) + 1
    hit = memo.get(start)
    if hit is None:
        end = text.find("\n", offset)
        words = [w for w in re.findall(r"[^\W\d_]{3,}", text[start : end if end >= 0 else None])]
        caps = sum(1 for w in words if w[0].isupper())
        hit = len(words) >= 3 and caps / len(words) >= 0.75
        memo[start] = hit
    return hit


def _runs(
    text: str, tokens: Sequence[Token], caps: Sequence[int], covered: set[int]
) -> Iterable[tuple[int, int]]:
    """Maximal runs of capitalised tokens, stopping at a possessive or a gazetteer match.

    Inside a run: name particles before a capitalised word ("Bashar al-Assad"), hyphenated
    lower-case parts ("Kim Jong-un") and middle initials ("James T. Kirk").
    """
    n = len(tokens)
    pos = 0
    for i in caps:
        if i < pos or i in covered or not tokens[i].text[0].isalpha():
            continue
        j = i + 1
        while j < n and j not in covered and not tokens[j - 1].possessive:
            t = tokens[j]
            prev = tokens[j - 1]
            if not t.joined:
                # "T. Kirk": a single capital followed by a full stop is a middle initial.
                if (
                    len(prev.text) == 1
                    and prev.text.isupper()
                    and j - 1 > i
                    and text[prev.end : t.start] == ". "
                    and t.text[0].isupper()
                ):
                    j += 1
                    continue
                break
            if t.text[0].isupper() and t.text[0].isalpha():
                j += 1
            elif text[prev.end : t.start] == "-" and t.text[0].isalpha():
                j += 1  # "Jong-un", "Hamid-reza"
            elif (
                t.norm in _NAME_PARTICLES
                and j + 1 < n
                and j + 1 not in covered
                and tokens[j + 1].joined
                and tokens[j + 1].text[0].isupper()
            ):
                j += 2
            else:
                break
        yield i, j
        pos = j


def _split_shouted(
    runs: Iterable[tuple[int, int]], tokens: Sequence[Token], gazetteer: Gazetteer
) -> Iterable[tuple[int, int]]:
    """In capitals every word is "capitalised": cut such runs at sentence and dictionary words
    ("KING HUSSEIN FLEW TO" gives "KING HUSSEIN"), keeping titles and first names."""
    for a, b in runs:
        if b - a < 2 or not all(t.text.isupper() for t in tokens[a:b]):
            yield a, b
            continue
        start = a
        for k in range(a, b):
            t = tokens[k]
            if t.norm in _FUNCTION_WORDS or (
                t.norm not in _TITLES
                and t.norm not in gazetteer.first_names
                and gazetteer.is_common_word(t.text)
            ):
                if k > start:
                    yield start, k
                start = k + 1
        if b > start:
            yield start, b


def _title_before(text: str, tokens: Sequence[Token], i: int) -> bool:
    """Is the token before ``i`` a title or role ("Gen. X", "spokesman X", "President X")?"""
    if i == 0:
        return False
    prev = tokens[i - 1]
    gap = text[prev.end : tokens[i].start]
    if prev.norm in _ABBREVIATED_TITLES and re.fullmatch(r"\.?[ \t]+", gap):
        return True
    # "spokesman John Kirby", "the then Home Secretary, Sajid Javid"
    return (
        prev.norm in _TITLES
        and re.fullmatch(r",?[ \t]+", gap) is not None
        and not prev.possessive
    )


def _demonym_before(
    tokens: Sequence[Token], a: int, covered: set[int], gazetteer: Gazetteer
) -> bool:
    """Is the run at ``a`` right after a demonym ("Australian Timothy Weeks")?"""
    if a == 0 or a - 1 not in covered or not tokens[a].joined:
        return False
    word = tokens[a - 1].text
    return (
        gazetteer.kind("actor", word) == "state" and gazetteer.canonical("location", word) is None
    )


def _cue_after(text: str, tokens: Sequence[Token], j: int) -> bool:
    """A reporting verb, "who", a handle or a role apposition right after the run."""
    if j >= len(tokens):
        return False
    end = tokens[j - 1].end
    gap = text[end : tokens[j].start]
    if gap.strip().endswith("(@"):
        return True  # "Rukmini Callimachi (@rcallimachi)"
    if not re.fullmatch(r"[ \t]*,?[ \t]*", gap):
        return False
    if tokens[j].norm in _REPORT_WORDS:
        return True
    # Apposition: ", the late MEK leader", " is an American-born writer".
    if "," not in gap and tokens[j].norm not in ("is", "was"):
        return False
    for k in range(j, min(j + 7, len(tokens))):
        if k > j and re.search(r"[.;:!?\n]", text[tokens[k - 1].end : tokens[k].start]):
            return False
        role = tokens[k].norm
        if role in _ROLE_WORDS or (role.endswith("s") and role[:-1] in _ROLE_WORDS):
            return True  # "both professors"
    return False


def find_people(
    text: str,
    tokens: Sequence[Token],
    covered: set[int],
    gazetteer: Gazetteer,
    *,
    title_end: int = 0,
    caps: Sequence[int] | None = None,
) -> list[EntityMention]:
    """Person names found by patterns (not the curated ones), with later surname mentions.

    ``covered`` holds the indexes of tokens already matched by the gazetteer; ``title_end`` is
    where the headline ends (headline words never count as names by the first-name rule);
    ``caps``, the indexes of capitalised tokens, may be passed when already known.
    """
    memo: dict[int, bool] = {}
    candidates: list[tuple[int, int, bool]] = []  # (first, end, strong cue)
    n = len(tokens)
    if caps is None:
        caps = [k for k, t in enumerate(tokens) if t.text[0].isupper()]
    report_after = {
        tokens[k].norm
        for k in caps
        if k + 1 < n and tokens[k + 1].joined and tokens[k + 1].norm in _REPORT_VERBS
    }
    letters = sum(map(str.isalpha, text))
    archive = letters > 0 and sum(map(str.isupper, text)) / letters > 0.7  # all-capital text
    for a, b in _split_shouted(_runs(text, tokens, caps, covered), tokens, gazetteer):
        title = _title_before(text, tokens, a)
        royal = False
        while a < b and (tokens[a].norm in _FUNCTION_WORDS or tokens[a].norm in _TITLES):
            title = title or tokens[a].norm in _TITLES
            royal = tokens[a].norm in _ROYAL_TITLES
            a += 1
        if royal and b - a == 1 and not gazetteer.is_common_word(tokens[a].text):
            a -= 1  # a monarch is named with the title: "King Hussein", "Emir Tamim"
        # A title inside the run starts the name: "InfoNation President Dan McDowell".
        for k in range(b - 2, a, -1):
            if tokens[k].norm in _TITLES and tokens[k].text[0].isupper():
                a, title = k + 1, True
                break
        # Ordinary words before the name: "Public Prosecution Eva-Marie Persson".
        while (
            b - a > 2
            and tokens[a].norm not in gazetteer.first_names
            and gazetteer.is_common_word(tokens[a].text)
            and sum(1 for t in tokens[a + 1 : b] if t.text[0].isupper()) >= 2
        ):
            a += 1  # but not "Moon" in "Moon Jae-in"
        words = [t for t in tokens[a:b] if t.norm not in _NAME_PARTICLES]
        if not 2 <= len(words) <= 5 or len(words[-1].text) == 1:
            continue
        if any(
            t.norm in _NOT_NAME_WORDS
            or (not archive and len(t.text) > 1 and t.text.isupper())
            or (not t.text.isalpha() and not t.text.replace("'", "").replace("’", "").isalpha())
            for t in words
        ):
            continue
        if words[0].norm not in gazetteer.first_names and (
            gazetteer.canonical("location", words[0].text) is not None
            or gazetteer.canonical("actor", words[0].text) is not None
        ):
            continue  # "Hartford Courant", "Texas Austin": a place or body leads, not a name
        strong = (
            title
            or _cue_after(text, tokens, b)
            or words[-1].norm in report_after
            or (
                words[0].norm in gazetteer.first_names
                and _demonym_before(tokens, a, covered, gazetteer)
            )
        )
        if not strong:
            if not archive and _headline_line(text, tokens[a].start, title_end, memo):
                continue
            if words[0].norm not in gazetteer.first_names:
                continue
            if any(gazetteer.is_common_word(t.text) for t in words[1:]):
                continue
        elif (
            not title
            and gazetteer.is_common_word(words[0].text)
            and words[0].norm not in gazetteer.first_names
        ):
            continue  # "Questioning Vindman said"; but "President Moon Jae-in"
        candidates.append((a, b, strong))

    found: list[EntityMention] = []
    names_by_surname: dict[str, set[str]] = {}
    taken: set[int] = set()
    # A shorter run that ends a longer name is that person ("Murray-Bruce" after
    # "Ben Murray-Bruce").
    full: dict[tuple[str, ...], str] = {}
    for a, b, _strong in sorted(candidates, key=lambda c: c[0] - c[1]):
        key = tuple(t.norm for t in tokens[a:b])
        name = text[tokens[a].start : tokens[b - 1].end]
        for cut in range(1, len(key) - 1):
            full.setdefault(key[cut:], gazetteer.canonical("person", name) or name)
    for a, b, _strong in candidates:
        start, end = tokens[a].start, tokens[b - 1].end
        name = text[start:end]
        if name.isupper():
            name = name.title()  # all-capital archives: "KING HUSSEIN" is King Hussein
        canon = (
            gazetteer.canonical("person", name)
            or full.get(tuple(t.norm for t in tokens[a:b]))
            or name
        )
        found.append(EntityMention("person", canon, name, start, end))
        taken.update(range(a, b))
        surname = tokens[b - 1].norm
        if not gazetteer.is_common_word(tokens[b - 1].text):
            names_by_surname.setdefault(surname, set()).add(canon)
    # Later (or earlier) mentions by surname alone: only when the surname is unambiguous.
    for k in caps:
        t = tokens[k]
        if k in covered or k in taken:
            continue
        owners = names_by_surname.get(t.norm)
        if owners and len(owners) == 1:
            before = tokens[k - 1] if k > 0 else None
            if (
                before is not None
                and t.joined
                and (k - 1) not in covered
                and before.text[0].isupper()
                and before.norm not in _FUNCTION_WORDS
            ):
                continue  # part of another capitalised name ("Ali Hosseini")
            if k + 1 < n and tokens[k + 1].joined and tokens[k + 1].text[0].isupper():
                continue
            found.append(EntityMention("person", next(iter(owners)), t.text, t.start, t.end))
    return found


_PROVINCE_WORDS = frozenset({"province", "governorate", "oblast", "prefecture"})

_BODY_HEADS = frozenset(
    {
        "ministry", "senate", "parliament", "navy", "army", "police", "force", "guard",
        "guards", "authority", "agency", "office", "service", "court", "council", "commission",
        "committee", "assembly", "congress", "department", "command", "corps", "representatives",
        "cabinet", "legislature", "party",
    }
)
"""Last words of a state's named body ("Interior Ministry", "Coast Guard", "Police Force")."""


_INNER_BODY_KINDS = frozenset({"government body", "armed force", "political party"})


def _state_body(
    text: str,
    tokens: Sequence[Token],
    match: tuple[int, int, Sequence[EntityMention]],
    following: tuple[int, int, Sequence[EntityMention]] | None,
    covered: set[int],
    gazetteer: Gazetteer,
) -> tuple[EntityMention, int] | None:
    """A state's name or demonym followed by the capitalised name of one of its bodies.

    "Austrian Interior Ministry", "Vietnam Coast Guard", "Vietnam's Communist Party" (when the
    gazetteer knows "Communist Party of Vietnam"), and "Nigerian House of Representatives" (a
    known body of another state after the demonym). Returns the body's actor mention and the
    index after its last token, or None.
    """
    a, b, found = match
    states = [
        m.name for m in found if m.facet == "actor" and gazetteer.kind("actor", m.name) == "state"
    ]
    if not states:
        return None
    possessive = tokens[b - 1].possessive
    if (
        following is not None
        and following[0] == b
        and tokens[b].joined
        and not possessive
        and not tokens[following[1] - 1].possessive
    ):
        inner = [m for m in following[2] if m.facet == "actor"]
        if inner and all(
            gazetteer.kind("actor", m.name) in _INNER_BODY_KINDS
            and states[0] not in gazetteer.ancestors("actor", m.name)
            and any(
                gazetteer.kind("actor", up) == "state"
                for up in gazetteer.ancestors("actor", m.name)
            )
            for m in inner
        ):
            return _body_mention(text, tokens, a, following[1], gazetteer), following[1]
    end = None
    k = b
    while k < len(tokens) and k - b < 5 and tokens[k].joined and k not in covered:
        t = tokens[k]
        if t.text[0].isupper() and t.norm not in FUNCTION_WORDS:
            k += 1
            if t.norm in _BODY_HEADS:
                end = k
            if t.possessive:
                break
        elif t.norm in ("of", "for") and k > b and k + 1 < len(tokens):
            k += 1
        else:
            break
    if end is None:
        return None
    mention = _body_mention(text, tokens, a, end, gazetteer)
    if possessive:
        # "Vietnam's Communist Party" only when that is a known "Communist Party of Vietnam".
        organ = text[tokens[b].start : tokens[end - 1].end]
        state_surface = tokens[a].text
        for form in (f"{organ} of {state_surface}", f"{organ} of {states[0]}"):
            known = gazetteer.canonical("actor", form)
            if known is not None:
                return replace(mention, name=known), end
        return None
    return mention, end


def _body_mention(
    text: str, tokens: Sequence[Token], a: int, end: int, gazetteer: Gazetteer
) -> EntityMention:
    start, stop = tokens[a].start, tokens[end - 1].end
    surface = text[start:stop]
    shown = surface.title() if surface.isupper() else surface  # all-capital archives
    name = gazetteer.canonical("actor", surface) or shown
    return EntityMention("actor", name, surface, start, stop)


def _as_province(
    mention: EntityMention, tokens: Sequence[Token], a: int, gazetteer: Gazetteer
) -> EntityMention:
    """"the provinces of Kermanshah and Kurdistan": the province entries, not the city/region."""
    province = gazetteer.canonical("location", f"{mention.name} province")
    if province is None or province == mention.name:
        return mention
    for k in range(a - 1, max(-1, a - 6), -1):
        if not tokens[k + 1].joined and tokens[k + 1].norm not in ("and", "of"):
            break  # only within the same phrase ("provinces of X and Y")
        if tokens[k].norm in ("province", "provinces"):
            return replace(mention, name=province)
    return mention


_FEATURE_WORDS = {
    "square": "Square",
    "river": "River",
    "valley": "Valley",
    "mountains": "Mountains",
    "canal": "Canal",
    "strait": "Strait",
    "desert": "Desert",
}
"""Capitalised kind words that make the word before them a place ("Ulus Square")."""

_KIND_WORDS = _PROVINCE_WORDS | set(_FEATURE_WORDS) | {"state"}
_BEFORE_STATE = frozenset({"the", "in", "of", "from", "across", "to", "into", "and", "or", "near"})


def find_provinces(
    text: str, tokens: Sequence[Token], covered: set[int], gazetteer: Gazetteer
) -> list[EntityMention]:
    """Unknown places named with their kind word: "Zabul province", "Osun State", "Ulus Square".

    The name is one or two capitalised words that are not dictionary words; the matched tokens
    are added to ``covered``.
    """
    found: list[EntityMention] = []
    kinds = _KIND_WORDS
    for k in [k for k, t in enumerate(tokens) if t.norm in kinds]:
        word = tokens[k]
        if k == 0 or k in covered or not word.joined:
            continue
        if word.norm in _PROVINCE_WORDS:
            suffix = word.norm
        elif word.text == "State" or word.text == "STATE":
            suffix = "State"
        elif word.norm in _FEATURE_WORDS and word.text[0].isupper():
            suffix = _FEATURE_WORDS[word.norm]
        else:
            continue
        a = k
        while a > 0 and k - a < 2 and a - 1 not in covered and (a == k or tokens[a].joined):
            prev = tokens[a - 1]
            if not prev.text[0].isupper() or prev.norm in FUNCTION_WORDS or prev.possessive:
                break
            if gazetteer.is_common_word(prev.text):
                break
            a -= 1
        if a == k:
            continue
        if suffix == "State" and (a == 0 or tokens[a - 1].norm not in _BEFORE_STATE):
            continue  # "the Osun State governorship", not "Penn State coach"
        name = text[tokens[a].start : tokens[k - 1].end]
        if name.isupper():
            name = name.title()  # all-capital archives
        canonical = gazetteer.canonical("location", f"{name} {suffix}") or f"{name} {suffix}"
        surface = text[tokens[a].start : word.end]
        found.append(EntityMention("location", canonical, surface, tokens[a].start, word.end))
        covered.update(range(a, k + 1))
    return found


def _as_names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    return [str(v).strip() for v in items if str(v).strip()]


def _ordered(mentions: Iterable[EntityMention], facet: FacetKind) -> list[str]:
    return list(dict.fromkeys(m.name for m in mentions if m.facet == facet))


def extract(
    title: str,
    body: str,
    *,
    metadata: Mapping[str, Any] | None = None,
    dateline: str | None = None,
    gazetteer: Gazetteer | None = None,
) -> Extraction:
    """Facets of one article: actors, locations, people (canonical, by first mention), dates.

    Mention offsets index ``title + "\\n\\n" + body``. Metadata ``actors``/``locations``/``people``
    replace the extracted facet; ``tags`` extend the facets they are known in.
    """
    gaz = gazetteer if gazetteer is not None else default_gazetteer()
    meta: Mapping[str, Any] = metadata if metadata is not None else {}
    text = f"{title}\n\n{body}"
    tokens = tokenize(text)
    starts = name_starts(tokens)
    mentions: list[EntityMention] = []
    covered: set[int] = set()
    languages: set[int] = set()
    matches = gaz.find(text, tokens, starts)
    for a, b, _found in matches:
        covered.update(range(a, b))
    skip_to = -1
    for index, (a, b, found) in enumerate(matches):
        if a < skip_to:
            continue
        following = matches[index + 1] if index + 1 < len(matches) else None
        organ = _state_body(text, tokens, (a, b, found), following, covered, gaz)
        if organ is not None:
            # "Austrian Interior Ministry", "Vietnam Coast Guard": the body. A body the
            # gazetteer does not know has no parent to roll up to, so its state stays too.
            mentions.append(organ[0])
            covered.update(range(b, organ[1]))
            skip_to = organ[1]
            if gaz.canonical("actor", organ[0].name) is None:
                mentions.extend(m for m in found if m.facet == "actor")
            continue
        for m in found:
            # A demonym names its state, unless it names a language.
            if (
                m.facet == "actor"
                and gaz.canonical("location", m.surface) is None
                and gaz.kind("actor", m.name) == "state"
                and _is_language(text, tokens, a, b, languages)
            ):
                languages.add(a)
                continue
            if m.facet == "location":
                m = _as_province(m, tokens, a, gaz)
            mentions.append(m)
    mentions.extend(find_provinces(text, tokens, covered, gaz))
    caps = [k for k in starts if tokens[k].text[0].isupper()]
    mentions.extend(find_people(text, tokens, covered, gaz, title_end=len(title), caps=caps))
    mentions.sort(key=lambda m: (m.start, FACETS.index(m.facet)))

    facets: dict[FacetKind, list[str]] = {f: _ordered(mentions, f) for f in FACETS}
    overrides: tuple[tuple[FacetKind, str], ...] = (
        ("actor", "actors"),
        ("location", "locations"),
        ("person", "people"),
    )
    for facet, key in overrides:
        if key in meta:
            facets[facet] = list(
                dict.fromkeys(gaz.canonical(facet, n) or n for n in _as_names(meta[key]))
            )
    for tag in _as_names(meta.get("tags")):
        for facet in FACETS:  # a country tag is a place and a state, as in the text
            canon = gaz.canonical(facet, tag)
            if canon is not None and canon not in facets[facet]:
                facets[facet].append(canon)

    published, source = find_published(title, body, dateline=dateline, metadata=meta)
    return Extraction(
        actors=tuple(facets["actor"]),
        locations=tuple(facets["location"]),
        people=tuple(facets["person"]),
        mentions=tuple(mentions),
        published=published,
        published_source=source,
        mentioned_dates=find_mentioned(text, published),
    )
