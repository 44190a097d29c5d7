"""Entity and date extraction: the facets (actors, locations, people, dates) of one article.

Actors and locations come from the gazetteer's compiled matcher (:meth:`Gazetteer.find`), with
the facet rules documented in :mod:`searchlib.ingest.gazetteer` (a country is a place and a state, a
demonym is the state only, unless it names a language: "published in Russian, French"). These
patterns add what the gazetteer cannot list (docs/facets.md states each with its measured
effect):

- a state's body: a state name or demonym followed by capitalised words ending in a body word
  ("Austrian Interior Ministry", "Vietnam Coast Guard", "Nigerian House of Representatives");
  a body the gazetteer does not know keeps its state as an actor too, so that it rolls up;
- an unknown province or feature named with its kind word ("Zabul province", "Osun State",
  "Ulus Square"); "the provinces of Kermanshah and Kurdistan" picks the province entries;
- an organisation named by its head word ("Foreign Ministry", "Scottish Rugby Union",
  "Organization of American States") or by an acronym the text defines ("... (MDC)"); a place
  inside an organisation's or a treaty's name ("Bank of England", "Kyoto Protocol") is part of
  that name, not a place mention (:func:`find_organisations`);
- people, from the gazetteer's curated people plus capitalised-name patterns that need a cue:

- a title or role before the name: "Brig. Gen. Ahmad Reza Pourdastan", "Mr. Hamid-Reza
  Taraghi", "spokesman John Kirby";
- a reporting verb or relative pronoun after it: "Aaron Zelin, told", "Massoud Khodabandeh,
  who", "Rukmini Callimachi (@rcallimachi)";
- an apposition with a role word: "Barbara Slavin, Distinguished Fellow at ...",
  "Patrick Henningsen is an American-born writer";
- the surname used later with a reporting verb: "Fath Allah Hosseini ... Hosseini insisted";
- one name after an honorific or office: "President Bush", "Mr. Abbas", "Secretary of State
  Condoleezza Rice";
- a known first name (census list plus the gazetteer's ``first_names``) followed by
  capitalised words that are not dictionary words, outside headline-style lines.

A capitalised phrase that the gazetteer matched, or that holds an organisation or place word
("Center", "Ministry", "Province"), is never a person. Later mentions by surname alone map to
the full name found in the same article.

Context settles two more ambiguities: a one-word town that is the surname of a person named in
the article is that person ("John Bolton ... Bolton said"), and in a sports report a city named
as a side ("Valencia beat Sevilla") is its club, an actor.

Metadata wins over extraction: a metadata ``actors`` / ``locations`` / ``people`` value (list or
comma-separated string) *replaces* that facet; ``tags`` *extend* the facets, each tag going to
every facet whose gazetteer knows it (unknown tags are topics, not entities, and are ignored). Names
from metadata are canonicalised through the gazetteer when it knows them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import compress, count
from operator import and_, itemgetter
from typing import Any

from searchlib.ingest.dates import find_mentioned, find_published
from searchlib.ingest.gazetteer import Gazetteer, default_gazetteer
from searchlib.ingest.gazetteer_files import FACETS
from searchlib.ingest.tokens import (
    FUNCTION_WORDS,
    Token,
    TokenTable,
    letter_counts,
    name_starts,
    title_case_line,
    token_table,
)
from searchlib.models import EntityMention, Extraction, FacetKind

__all__ = ["extract", "find_organisations", "find_people", "find_provinces"]

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

# Entries a per-gazetteer memo of the extraction may hold before it starts again.
_MEMO_LIMIT = 100_000

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


# Fixed patterns of the gaps between tokens, compiled once: they run for most name candidates.
# ``pattern.search(text, lo, hi)`` reads the gap in place instead of slicing it out.
_SENTENCE_BREAK_RE = re.compile(r"[.;:!?\n]")
_ABBREVIATION_GAP_RE = re.compile(r"\.?[ \t]+")
_TITLE_GAP_RE = re.compile(r",?[ \t]+")
_CUE_GAP_RE = re.compile(r"[ \t]*,?[ \t]*")
_FIRST_CHAR = itemgetter(0)


def _is_language(
    text: str, table: TokenTable, a: int, b: int, languages: set[int]
) -> bool:
    """Is the demonym at tokens ``a:b`` used as a language name ("in Russian", "Persian
    speakers", "English, Russian, French and Indonesian")? ``languages`` holds the indexes of
    demonyms already read as languages, so a list is read as one."""
    norms = table.norms
    n = len(norms)
    if a > 0 and norms[a - 1] == "in" and (
        b >= n or not table.joined[b] or not table.texts[b][:1].islower()
    ):
        return True
    for k in (*range(max(0, a - 3), a), *range(b, min(n, b + 3))):
        if norms[k] in _LANGUAGE_CUES or k in languages:
            if k < a:
                lo, hi = table.ends[k], table.starts[a]
            else:
                lo, hi = table.ends[b - 1], table.starts[k]
            if not _SENTENCE_BREAK_RE.search(text, lo, hi):
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
        line = text[start : end if end >= 0 else len(text)]
        hit = title_case_line(line, letter_counts(line)[1], 3)
        memo[start] = hit
    return hit


def _runs(
    text: str, table: TokenTable, caps: Sequence[int], covered: set[int]
) -> Iterable[tuple[int, int]]:
    """Maximal runs of two or more capitalised tokens, stopping at a possessive or a gazetteer
    match (a single word is never a person name here, so those runs are not reported).

    Inside a run: name particles before a capitalised word ("Bashar al-Assad"), hyphenated
    lower-case parts ("Kim Jong-un") and middle initials ("James T. Kirk").
    """
    texts, norms, joined, possessive = table.texts, table.norms, table.joined, table.possessive
    starts, ends = table.starts, table.ends
    n = len(texts)
    # Where most words are capitalised (archive text in capitals), runs are long: the plain
    # steps are found by list.index over a table of them instead of token by token.
    plain = _plain_steps(table, covered) if 2 * len(caps) > n else None
    pos = 0
    for i in caps:
        if i < pos or i in covered or not texts[i][0].isalpha():
            continue
        j = i + 1
        while j < n and j not in covered and not possessive[j - 1]:
            if plain is not None and plain[j]:
                j = plain.index(False, j)  # the steps below would have taken these one by one
                continue
            word = texts[j]
            if not joined[j]:
                # "T. Kirk": a single capital followed by a full stop is a middle initial.
                prev = texts[j - 1]
                if (
                    len(prev) == 1
                    and prev.isupper()
                    and j - 1 > i
                    and text[ends[j - 1] : starts[j]] == ". "
                    and word[0].isupper()
                ):
                    j += 1
                    continue
                break
            if word[0].isupper() and word[0].isalpha():
                j += 1
            elif text[ends[j - 1] : starts[j]] == "-" and word[0].isalpha():
                j += 1  # "Jong-un", "Hamid-reza"
            elif (
                norms[j] in _NAME_PARTICLES
                and j + 1 < n
                and j + 1 not in covered
                and joined[j + 1]
                and texts[j + 1][0].isupper()
            ):
                j += 2
            else:
                break
        if j - i > 1:
            yield i, j
        pos = j


def _plain_steps(table: TokenTable, covered: set[int]) -> list[bool]:
    """For each token ``j`` (and ``False`` at ``len(table)``): does :func:`_runs` extend a run
    over it by the plain rule, a capitalised word joined to the one before, neither covered
    nor after a possessive? Computed by C-level passes over the columns."""
    texts = table.texts
    firsts = list(map(_FIRST_CHAR, texts))
    capital: Iterable[bool] = map(str.isupper, firsts)
    if not all(map(str.isascii, firsts)):
        # Only beyond ASCII can an upper-case character be no letter ("Ⅻ", "Ⓐ").
        capital = map(and_, capital, map(str.isalpha, firsts))
    steps = list(map(and_, capital, table.joined))
    if steps:
        steps[0] = False  # token 0 starts runs, never extends one
    # The few exceptions are set one by one.
    for k in compress(count(1), table.possessive):
        if k < len(steps):
            steps[k] = False
    for k in covered:
        if 0 <= k < len(steps):
            steps[k] = False
    steps.append(False)
    return steps


def _split_shouted(
    runs: Iterable[tuple[int, int]], table: TokenTable, gazetteer: Gazetteer
) -> Iterable[tuple[int, int]]:
    """In capitals every word is "capitalised": cut such runs at sentence and dictionary words
    ("KING HUSSEIN FLEW TO" gives "KING HUSSEIN"), keeping titles and first names."""
    texts, norms = table.texts, table.norms
    # Whether a word cuts a run depends on the word alone (its norm is normalise(word)): the
    # answers are remembered, and a run's words looked up by one C-level map (all-capital
    # archives such as TIME's are made of such runs: 4% of a build's CPU word by word).
    memo = gazetteer.extraction_memos.setdefault("shouted_cuts", {})
    for a, b in runs:
        words = texts[a:b]
        if b - a < 2 or not all(map(str.isupper, words)):
            yield a, b
            continue
        cuts = list(map(memo.get, words))
        if None in cuts:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            for i, cut in enumerate(cuts):
                if cut is None:
                    norm = norms[a + i]
                    cuts[i] = memo[words[i]] = norm in _FUNCTION_WORDS or (
                        norm not in _TITLES
                        and norm not in gazetteer.first_names
                        and gazetteer.is_common_word(words[i])
                    )
        start = a
        for k in compress(range(a, b), cuts):
            if k > start:
                yield start, k
            start = k + 1
        if b > start:
            yield start, b


def _title_before(text: str, table: TokenTable, i: int) -> bool:
    """Is the token before ``i`` a title or role ("Gen. X", "spokesman X", "President X")?"""
    if i == 0:
        return False
    prev = table.norms[i - 1]
    if prev not in _TITLES and prev not in _ABBREVIATED_TITLES:
        return False
    lo, hi = table.ends[i - 1], table.starts[i]
    if prev in _ABBREVIATED_TITLES and _ABBREVIATION_GAP_RE.fullmatch(text, lo, hi):
        return True
    # "spokesman John Kirby", "the then Home Secretary, Sajid Javid"
    return (
        prev in _TITLES
        and _TITLE_GAP_RE.fullmatch(text, lo, hi) is not None
        and not table.possessive[i - 1]
    )


def _demonym_before(
    table: TokenTable, a: int, covered: set[int], gazetteer: Gazetteer
) -> bool:
    """Is the run at ``a`` right after a demonym ("Australian Timothy Weeks")?"""
    if a == 0 or a - 1 not in covered or not table.joined[a]:
        return False
    word = table.texts[a - 1]
    return (
        gazetteer.kind("actor", word) == "state" and gazetteer.canonical("location", word) is None
    )


def _cue_after(text: str, table: TokenTable, j: int) -> bool:
    """A reporting verb, "who", a handle or a role apposition right after the run."""
    norms, starts, ends = table.norms, table.starts, table.ends
    n = len(norms)
    if j >= n:
        return False
    gap = text[ends[j - 1] : starts[j]]
    if gap.strip().endswith("(@"):
        return True  # "Rukmini Callimachi (@rcallimachi)"
    if not _CUE_GAP_RE.fullmatch(gap):
        return False
    if norms[j] in _REPORT_WORDS:
        return True
    # Apposition: ", the late MEK leader", " is an American-born writer".
    if "," not in gap and norms[j] not in ("is", "was"):
        return False
    for k in range(j, min(j + 7, n)):
        if k > j and _SENTENCE_BREAK_RE.search(text, ends[k - 1], starts[k]):
            return False
        role = norms[k]
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

    ``tokens`` is best a :class:`~searchlib.ingest.gazetteer.TokenTable`; ``covered`` holds the
    indexes
    of tokens already matched by the gazetteer; ``title_end`` is where the headline ends
    (headline words never count as names by the first-name rule); ``caps``, the indexes of
    capitalised tokens, may be passed when already known.
    """
    table = TokenTable.of(tokens)
    texts, norms, joined = table.texts, table.norms, table.joined
    starts, ends = table.starts, table.ends
    first_names = gazetteer.first_names
    is_common = gazetteer.is_common_word
    memo: dict[int, bool] = {}
    candidates: list[tuple[int, int, bool]] = []  # (first, end, strong cue)
    n = len(texts)
    if caps is None:
        caps = [k for k, t in enumerate(texts) if t[0].isupper()]
    # Capitalised words right before a reporting verb, from the (few) verbs: one C-level pass
    # over the words rather than a Python test of every capitalised one.
    report_after: set[str] = set()
    verbs = list(compress(count(), map(_REPORT_VERBS.__contains__, norms)))
    if verbs:
        cap_set = set(caps)
        report_after = {norms[j - 1] for j in verbs if j - 1 in cap_set and joined[j]}
    letters, upper = letter_counts(text)
    archive = letters > 0 and upper / letters > 0.7  # all-capital text
    for a, b in _split_shouted(_runs(text, table, caps, covered), table, gazetteer):
        if b - a < 2:
            continue  # the name below never starts before ``a``: one word is not enough
        title = _title_before(text, table, a)
        if (
            not title
            and a >= 2
            and norms[a - 1] == "of"
            and norms[a - 2] in _TITLES
            and texts[a - 2][0].isupper()
        ):
            # "Secretary of State Condoleezza Rice": the office's words are stripped below.
            title = True
        royal = False
        while a < b and (norms[a] in _FUNCTION_WORDS or norms[a] in _TITLES):
            title = title or norms[a] in _TITLES
            royal = norms[a] in _ROYAL_TITLES
            a += 1
        if royal and b - a == 1 and not is_common(texts[a]):
            a -= 1  # a monarch is named with the title: "King Hussein", "Emir Tamim"
        # A title inside the run starts the name: "InfoNation President Dan McDowell".
        for k in range(b - 2, a, -1):
            if norms[k] in _TITLES and texts[k][0].isupper():
                a, title = k + 1, True
                break
        # Ordinary words before the name: "Public Prosecution Eva-Marie Persson".
        while (
            b - a > 2
            and norms[a] not in first_names
            and is_common(texts[a])
            and sum(1 for t in texts[a + 1 : b] if t[0].isupper()) >= 2
        ):
            a += 1  # but not "Moon" in "Moon Jae-in"
        words = [k for k in range(a, b) if norms[k] not in _NAME_PARTICLES]
        if not 2 <= len(words) <= 5 or len(texts[words[-1]]) == 1:
            continue
        first, last = words[0], words[-1]
        if any(
            norms[k] in _NOT_NAME_WORDS
            or (not archive and len(texts[k]) > 1 and texts[k].isupper())
            or (not texts[k].isalpha()
                and not texts[k].replace("'", "").replace("’", "").isalpha())
            for k in words
        ):
            continue
        if norms[first] not in first_names and (
            gazetteer.canonical("location", texts[first]) is not None
            or gazetteer.canonical("actor", texts[first]) is not None
        ):
            continue  # "Hartford Courant", "Texas Austin": a place or body leads, not a name
        strong = (
            title
            or _cue_after(text, table, b)
            or norms[last] in report_after
            or (norms[first] in first_names and _demonym_before(table, a, covered, gazetteer))
        )
        if not strong:
            if not archive and _headline_line(text, starts[a], title_end, memo):
                continue
            if norms[first] not in first_names:
                continue
            if any(is_common(texts[k]) for k in words[1:]):
                continue
        elif not title and is_common(texts[first]) and norms[first] not in first_names:
            continue  # "Questioning Vindman said"; but "President Moon Jae-in"
        candidates.append((a, b, strong))

    found: list[EntityMention] = []
    names_by_surname: dict[str, set[str]] = {}
    taken: set[int] = set()
    # A shorter run that ends a longer name is that person ("Murray-Bruce" after
    # "Ben Murray-Bruce").
    full: dict[tuple[str, ...], str] = {}
    for a, b, _strong in sorted(candidates, key=lambda c: c[0] - c[1]):
        key = tuple(norms[a:b])
        name = text[starts[a] : ends[b - 1]]
        for cut in range(1, len(key) - 1):
            full.setdefault(key[cut:], gazetteer.canonical("person", name) or name)
    for a, b, _strong in candidates:
        start, end = starts[a], ends[b - 1]
        name = text[start:end]
        if name.isupper():
            name = name.title()  # all-capital archives: "KING HUSSEIN" is King Hussein
        canon = gazetteer.canonical("person", name) or full.get(tuple(norms[a:b])) or name
        found.append(EntityMention("person", canon, name, start, end))
        taken.update(range(a, b))
        names_by_surname.setdefault(norms[b - 1], set()).add(canon)
    # One name after an honorific or an office: "President Bush", "Mr. Abbas", "Secretary
    # Rice". It is the person of that surname named in full elsewhere in the article, if any.
    # _single_name needs a title right before: only the words after one are tested.
    after_title = {j + 1 for j in compress(count(), map(_NAME_TITLES.__contains__, norms))}
    for k in compress(caps, map(after_title.__contains__, caps)):
        if k in covered or k in taken or not _single_name(text, table, k, gazetteer, archive):
            continue
        word = texts[k].title() if texts[k].isupper() else texts[k]
        owners = names_by_surname.get(norms[k])
        canon = (
            next(iter(owners)) if owners and len(owners) == 1
            else gazetteer.canonical("person", word) or word
        )
        found.append(EntityMention("person", canon, texts[k], starts[k], ends[k]))
        taken.add(k)
        names_by_surname.setdefault(norms[k], set()).add(canon)
    if not names_by_surname:
        return found
    # Later (or earlier) mentions by surname alone: only when the surname is unambiguous. A
    # surname that is also a dictionary word ("Rice", "Bush") must be inside a sentence or
    # followed by a reporting verb: at the start of a sentence it is most often the word.
    # Only the words that are a known surname can be one (C-level selection).
    for k in compress(caps, map(names_by_surname.__contains__, map(norms.__getitem__, caps))):
        if k in covered or k in taken:
            continue
        owners = names_by_surname.get(norms[k])
        if owners and len(owners) == 1:
            if (
                k > 0
                and joined[k]
                and (k - 1) not in covered
                and texts[k - 1][0].isupper()
                and norms[k - 1] not in _FUNCTION_WORDS
                and not (is_common(texts[k - 1]) and _sentence_start(text, table, k - 1))
            ):
                continue  # part of another capitalised name ("Ali Hosseini"; not "Later Blair")
            if k + 1 < n and joined[k + 1] and texts[k + 1][0].isupper():
                continue
            if is_common(texts[k]) and _sentence_start(text, table, k) and not (
                k + 1 < n and norms[k + 1] in _REPORT_VERBS
            ):
                continue
            found.append(EntityMention("person", next(iter(owners)), texts[k], starts[k], ends[k]))
    return found


_NAME_TITLES = frozenset(
    [
        "mr", "mrs", "ms", "miss", "dr", "gen", "general", "brig", "brigadier", "maj", "major",
        "lt", "lieutenant", "col", "colonel", "capt", "captain", "adm", "admiral", "sgt",
        "sergeant", "cmdr", "commander", "president", "minister", "sen", "senator", "rep",
        "representative", "gov", "governor", "mayor", "sheikh", "shaikh", "sheik", "ayatollah",
        "ayatullah", "hojatoleslam", "hojjatoleslam", "imam", "mullah", "king", "queen",
        "prince", "princess", "emir", "sultan", "judge", "justice", "ambassador", "prof",
        "professor", "rev", "reverend", "pope", "chancellor", "secretary", "premier", "speaker",
        "cardinal", "archbishop", "bishop", "lord", "lady", "sir", "dame",
    ]
)
"""Titles that make the one capitalised word after them a person ("President Bush"); roles
such as "spokesman" or "analyst" do not: "analyst Reuters" is not a name."""


def _sentence_start(text: str, table: TokenTable, k: int) -> bool:
    """Does token ``k`` start a sentence or a paragraph (possibly after a quote mark)?"""
    if k == 0:
        return True
    if _SENTENCE_BREAK_RE.search(text, table.ends[k - 1], table.starts[k]):
        return True
    # "The Senate", "But Rice said": after a sentence-initial function word.
    return (
        k > 1
        and table.norms[k - 1] in FUNCTION_WORDS
        and _SENTENCE_BREAK_RE.search(text, table.ends[k - 2], table.starts[k - 1]) is not None
    )


def _single_name(
    text: str, table: TokenTable, k: int, gazetteer: Gazetteer, archive: bool
) -> bool:
    """Is the lone capitalised token ``k`` a surname named with a title ("Mr. Abbas",
    "President Bush", "Prime Minister Olmert")?"""
    texts, norms, joined = table.texts, table.norms, table.joined
    n = len(texts)
    if k == 0 or norms[k - 1] not in _NAME_TITLES or not texts[k - 1][0].isupper():
        return False
    if not _title_before(text, table, k):
        return False
    if k + 1 < n and joined[k + 1] and texts[k + 1][0].isupper():
        return False  # a longer name: the run rules decide
    word, norm = texts[k], norms[k]
    if (
        len(word) < 2
        or not word.replace("-", "").replace("'", "").replace("’", "").isalpha()
        or (word.isupper() and not archive)
        or (archive and gazetteer.is_common_word(word))  # "GENERAL BATTLES" in capitals
        or norm in _NOT_NAME_WORDS
        or norm in _TITLES
        or norm in FUNCTION_WORDS
        or table.possessive[k - 1]
    ):
        return False
    # An office of a place or body: "President Bush" yes, "Minister Iran" no.
    return (
        gazetteer.canonical("location", word) is None
        and gazetteer.canonical("actor", word) is None
    )


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
    table: TokenTable,
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
    texts, norms, joined = table.texts, table.norms, table.joined
    possessive = table.possessive[b - 1]
    if (
        following is not None
        and following[0] == b
        and joined[b]
        and not possessive
        and not table.possessive[following[1] - 1]
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
            return _body_mention(text, table, a, following[1], gazetteer), following[1]
    end = None
    k = b
    n = len(texts)
    while k < n and k - b < 5 and joined[k] and k not in covered:
        norm = norms[k]
        if texts[k][0].isupper() and norm not in FUNCTION_WORDS:
            k += 1
            if norm in _BODY_HEADS:
                end = k
            if table.possessive[k - 1]:
                break
        elif norm in ("of", "for") and k > b and k + 1 < n:
            k += 1
        else:
            break
    if end is None:
        return None
    mention = _body_mention(text, table, a, end, gazetteer)
    if possessive:
        # "Vietnam's Communist Party" only when that is a known "Communist Party of Vietnam".
        organ = text[table.starts[b] : table.ends[end - 1]]
        state_surface = texts[a]
        for form in (f"{organ} of {state_surface}", f"{organ} of {states[0]}"):
            known = gazetteer.canonical("actor", form)
            if known is not None:
                return replace(mention, name=known), end
        return None
    return mention, end


def _body_mention(
    text: str, table: TokenTable, a: int, end: int, gazetteer: Gazetteer
) -> EntityMention:
    start, stop = table.starts[a], table.ends[end - 1]
    surface = text[start:stop]
    shown = surface.title() if surface.isupper() else surface  # all-capital archives
    name = gazetteer.canonical("actor", surface) or shown
    return EntityMention("actor", name, surface, start, stop)


def _as_province(
    mention: EntityMention, table: TokenTable, a: int, gazetteer: Gazetteer
) -> EntityMention:
    """"the provinces of Kermanshah and Kurdistan": the province entries, not the city/region."""
    province = gazetteer.canonical("location", f"{mention.name} province")
    if province is None or province == mention.name:
        return mention
    norms, joined = table.norms, table.joined
    for k in range(a - 1, max(-1, a - 6), -1):
        if not joined[k + 1] and norms[k + 1] not in ("and", "of"):
            break  # only within the same phrase ("provinces of X and Y")
        if norms[k] in ("province", "provinces"):
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
    are added to ``covered``. ``tokens`` is best a :class:`~searchlib.ingest.gazetteer.TokenTable`.
    """
    table = TokenTable.of(tokens)
    texts, norms, joined, possessive = table.texts, table.norms, table.joined, table.possessive
    found: list[EntityMention] = []
    # Kind words are rare: find them with one C-level pass over the normalised words.
    for k in compress(count(), map(_KIND_WORDS.__contains__, norms)):
        norm, word = norms[k], texts[k]
        if k == 0 or k in covered or not joined[k]:
            continue
        if norm in _PROVINCE_WORDS:
            suffix = norm
        elif word == "State" or word == "STATE":
            suffix = "State"
        elif norm in _FEATURE_WORDS and word[0].isupper():
            suffix = _FEATURE_WORDS[norm]
        else:
            continue
        a = k
        while a > 0 and k - a < 2 and a - 1 not in covered and (a == k or joined[a]):
            prev = texts[a - 1]
            if not prev[0].isupper() or norms[a - 1] in FUNCTION_WORDS or possessive[a - 1]:
                break
            if gazetteer.is_common_word(prev):
                break
            a -= 1
        if a == k:
            continue
        if suffix == "State" and (a == 0 or norms[a - 1] not in _BEFORE_STATE):
            continue  # "the Osun State governorship", not "Penn State coach"
        start, end = table.starts[a], table.ends[k]
        name = text[start : table.ends[k - 1]]
        if name.isupper():
            name = name.title()  # all-capital archives
        canonical = gazetteer.canonical("location", f"{name} {suffix}") or f"{name} {suffix}"
        found.append(EntityMention("location", canonical, text[start:end], start, end))
        covered.update(range(a, k + 1))
    return found


_ORG_HEADS = frozenset(
    {
        "ministry", "party", "union", "agency", "corp", "corporation", "council", "bank",
        "fund", "court", "commission", "committee", "organization", "organisation",
        "association", "movement", "front", "army", "brigade", "brigades", "company", "inc",
        "ltd", "institute", "university", "federation", "league", "alliance", "authority",
        "assembly", "congress", "parliament", "senate", "department", "office", "service",
        "services", "police", "navy", "force", "forces", "guard", "guards", "foundation",
        "society", "network", "airlines", "airways", "church", "board", "bureau", "tribunal",
        "cabinet", "secretariat", "academy", "college", "survey", "fc", "united", "rovers",
        "wanderers", "athletic", "albion", "hotspur", "group", "house", "corps", "command",
        "program", "programme", "coalition", "administration", "industries", "exchange",
        "club", "team", "times", "television", "radio", "motors",
        "holdings", "petroleum", "airline", "electric", "pharmaceuticals", "communications",
        "telecom", "enterprises", "mission",
    }
)
"""Last words of an organisation's name ("Foreign Ministry", "Scottish Rugby Union", "Bolton
Wanderers"): with a capitalised word before them, or a capitalised tail after ("Organization of
American States"), they name an organisation the gazetteer need not know."""

_DOCUMENT_HEADS = frozenset(
    {
        "protocol", "treaty", "accord", "accords", "agreement", "convention", "conventions",
        "declaration", "charter", "pact", "resolution", "act", "plan", "doctrine", "summit",
        "conference", "games", "cup", "championship", "open", "olympics",
    }
)
"""Last words of a named treaty, law or event ("Kyoto Protocol", "Geneva Conventions", "Davis
Cup"): not organisations, but a place inside one is not a place mention by itself."""

_NAME_LINKS = frozenset({"of", "for", "on"})
"""Lower-case words inside a long name ("Ministry of Foreign Affairs", "Party for Freedom")."""

_ACRONYM_RE = re.compile(r"[ \t]*\([ \t]*([A-Z][A-Za-z]{1,9})[ \t]*\)")
"""An acronym defined in parentheses right after a name: "Movement for Democratic Change
(MDC)"."""


_POSSESSIVE_NAME_WORDS = frozenset(
    {"lord", "lords", "people", "peoples", "women", "workers", "children", "martyrs",
     "veterans", "farmers", "citizens", "men", "students", "journalists", "god"}
)
"""Possessive words that stay inside a name ("Lord's Resistance Army", "People's Party")."""

_CALENDAR = frozenset(
    name.lower()
    for name in (*calendar.month_name, *calendar.day_name, *calendar.day_abbr)
    if name
)

_SINGLE_BODIES = frozenset({"senate", "parliament", "congress", "cabinet", "pentagon", "knesset"})
"""Bodies a state has one of, named by one capitalised word inside a sentence ("the Senate")."""


def _org_word(table: TokenTable, k: int, absorbable: set[int], covered: set[int]) -> bool:
    """May token ``k`` be part of an organisation's name found by its head word?"""
    text, norm = table.texts[k], table.norms[k]
    return (
        text[0].isupper()
        and norm not in FUNCTION_WORDS
        and norm not in _TITLES
        and norm not in _CALENDAR
        and (k not in covered or k in absorbable)
    )


def _name_possessive(table: TokenTable, k: int) -> bool:
    """Is token ``k`` possessive and still inside a name ("Lord's", not "Iran's")?"""
    return table.possessive[k] and table.norms[k].rstrip("s'’") in {
        w.rstrip("s") for w in _POSSESSIVE_NAME_WORDS
    }


def find_organisations(
    text: str,
    tokens: Sequence[Token],
    covered: set[int],
    absorbable: set[int],
    gazetteer: Gazetteer,
) -> tuple[list[EntityMention], list[tuple[int, int]]]:
    """Organisations named by their head word, and the character spans of treaty/event names.

    An organisation is a capitalised head word (:data:`_ORG_HEADS`) with capitalised words
    before it ("Foreign Ministry", "Scottish Rugby Union") or a capitalised ``of``/``for`` tail
    after it ("Organization of American States"). Its words may include places and demonyms
    the gazetteer matched (``absorbable``: "Bank of England" is not a mention of England), but
    not other actors or people. A name followed by an acronym in parentheses defines that
    acronym for the rest of the article ("... Democratic Change (MDC) ... the MDC"). The matched
    tokens are added to ``covered``. The spans returned cover every organisation and document
    name found; gazetteer places inside them are no place mentions.
    """
    table = TokenTable.of(tokens)
    texts, norms, joined, possessive = table.texts, table.norms, table.joined, table.possessive
    starts, ends = table.starts, table.ends
    n = len(texts)
    found: list[EntityMention] = []
    spans: list[tuple[int, int]] = []
    acronyms: dict[str, str] = {}
    heads = _ORG_HEADS | _DOCUMENT_HEADS
    for k in compress(count(), map(heads.__contains__, norms)):
        if (
            k in covered  # "Soviet Union", "United States": the gazetteer's name stands
            or not texts[k][0].isupper()
            or (texts[k].isupper() and norms[k] != "fc")
        ):
            continue
        a = k
        while (
            a > 0
            and joined[a]
            and (not possessive[a - 1] or _name_possessive(table, a - 1))
            and (
                (a - 1) in absorbable
                or (_org_word(table, a - 1, absorbable, covered) and not texts[a - 1].isupper())
            )
        ):
            a -= 1
        if (
            a > 1
            and a < k
            and norms[a - 1] in _NAME_PARTICLES
            and text[ends[a - 1] : starts[a]] == "-"
        ):
            a -= 1  # "al-Aqsa Martyrs Brigades"
        b = k + 1
        while (
            b + 1 < n
            and norms[b] in _NAME_LINKS
            and texts[b].islower()  # "News On U.S." is a headline, not a name's tail
            and joined[b]
            and joined[b + 1]
        ):
            c = b + 1
            if norms[c] == "the" and c + 1 < n and joined[c + 1]:
                c += 1
            if not _org_word(table, c, absorbable, covered):
                break
            while c < n and joined[c] and _org_word(table, c, absorbable, covered):
                c += 1
                if possessive[c - 1]:
                    break
            b = c
        if a == k and b == k + 1:
            # A head word alone names no one body ("Army", "Ministry"), but inside a sentence
            # "the Senate" is the Senate.
            if norms[k] in _SINGLE_BODIES and not _sentence_start(text, table, k):
                found.append(EntityMention("actor", texts[k], texts[k], starts[k], ends[k]))
                covered.add(k)
            continue
        # A sentence's first word is capitalised anyway: "Meanwhile Health Ministry officials".
        while (
            a < k
            and a not in absorbable
            and gazetteer.is_common_word(texts[a])
            and (a == 0 or _SENTENCE_BREAK_RE.search(text, ends[a - 1], starts[a]))
        ):
            a += 1
        if a == k and b == k + 1:
            continue
        start, end = starts[a], ends[b - 1]
        spans.append((start, end))
        covered.update(range(a, b))
        if norms[k] in _DOCUMENT_HEADS and norms[k] not in _ORG_HEADS:
            continue
        surface = text[start:end]
        name = gazetteer.canonical("actor", surface) or (
            surface.title() if surface.isupper() else surface
        )
        found.append(EntityMention("actor", name, surface, start, end))
        defined = _ACRONYM_RE.match(text, end)
        if defined is not None:
            acronyms[defined.group(1)] = name
    if acronyms:
        for k in range(n):
            long_form = acronyms.get(texts[k])
            if long_form is not None and k not in covered:
                found.append(EntityMention("actor", long_form, texts[k], starts[k], ends[k]))
                covered.add(k)
    return found, spans


_LOCATIVES = frozenset({"in", "at", "from", "near", "to", "into", "outside", "around"})
"""Prepositions that keep a place reading ("lives in Durban") even beside a namesake."""


def _surnames_are_people(
    text: str,
    mentions: list[EntityMention],
    people: Sequence[EntityMention],
    gazetteer: Gazetteer,
) -> list[EntityMention]:
    """A one-word town that is the surname of a person named in full in the same article is
    that person ("John Bolton ... Bolton said": not the town of Bolton), unless a locative
    preposition says it is the place ("in Bolton"). Countries and provinces keep their
    place."""
    owners: dict[str, set[str]] = {}
    for person in people:
        words = person.name.split()
        if len(words) > 1:
            owners.setdefault(words[-1].casefold(), set()).add(person.name)
    if not owners:
        return mentions
    out: list[EntityMention] = []
    for m in mentions:
        named = owners.get(m.surface.casefold()) if m.facet == "location" else None
        if (
            named is not None
            and len(named) == 1
            and " " not in m.surface
            and gazetteer.kind("location", m.name) in ("city", "town")
        ):
            before = text[max(0, m.start - 12) : m.start].split()
            if not (before and before[-1].casefold() in _LOCATIVES):
                m = replace(m, facet="person", name=next(iter(named)))
        out.append(m)
    return out


_SPORT_WORDS = frozenset(
    {
        "football", "soccer", "league", "premiership", "striker", "midfielder", "defender",
        "goalkeeper", "keeper", "goal", "goals", "scored", "match", "fixture", "cup", "rugby",
        "cricket", "season", "squad", "coach", "manager", "stadium", "referee", "penalty",
        "semi-final", "quarter-final", "final", "champions", "relegation", "tournament",
        "championship", "kick-off", "half-time", "fans", "unbeaten", "draw", "winger",
    }
)
"""Words that make an article a sports report, where a city's name is often its club's."""

_CLUB_AFTER = frozenset(
    {
        "beat", "beats", "drew", "lost", "won", "win", "wins", "face", "faces", "host", "hosts",
        "signed", "sacked", "thrashed", "edged", "striker", "midfielder", "defender",
        "goalkeeper", "keeper", "manager", "coach", "boss", "fans", "captain", "squad", "side",
        "winger", "supporters", "chairman", "v", "vs",
    }
)
"""Words right after a city's name that make it the club in a sports report ("Valencia
beat", "Valencia's striker", "Valencia v Sevilla")."""

_CLUB_BEFORE = frozenset(
    {"against", "beat", "beating", "over", "v", "vs", "joined", "joining", "hosted", "hosting",
     "visit", "visiting", "host", "to"}
)
"""Words right before a city's name that make it the club ("against Valencia", "beat
Valencia")."""

_SPORT_CONTEXT = 3
"""How many sports words an article needs before its cities may be clubs."""


def _sports_clubs(
    text: str, tokens: Sequence[Token], mentions: list[EntityMention], gazetteer: Gazetteer
) -> list[EntityMention]:
    """In a sports report, a city named as a side ("Valencia beat Sevilla 2-1", "against
    Valencia", "Valencia's striker") is the club, an actor, not a place mention."""
    table = TokenTable.of(tokens)
    norms = table.norms
    if sum(map(_SPORT_WORDS.__contains__, norms)) < _SPORT_CONTEXT:
        return mentions
    index = {start: k for k, start in enumerate(table.starts)}
    out: list[EntityMention] = []
    for m in mentions:
        first = index.get(m.start)
        if (
            m.facet != "location"
            or first is None
            or gazetteer.kind("location", m.name) not in ("city", "town")
        ):
            out.append(m)
            continue
        last = first
        while last + 1 < len(norms) and table.ends[last] < m.end:
            last += 1
        after = norms[last + 1] if last + 1 < len(norms) else ""
        before = norms[first - 1] if first > 0 else ""
        lost_to = before == "to" and first > 1 and norms[first - 2] in ("lost", "losing", "lose")
        if after in _CLUB_AFTER or (before in _CLUB_BEFORE and before != "to") or lost_to:
            out.append(replace(m, facet="actor", name=m.surface))
        else:
            out.append(m)
    return out


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
    path: str | None = None,
    manifest_date: dt.date | None = None,
) -> Extraction:
    """Facets of one article: actors, locations, people (canonical, by first mention), dates.

    Mention offsets index ``title + "\\n\\n" + body``. Metadata ``actors``/``locations``/``people``
    replace the extracted facet; ``tags`` extend the facets they are known in. ``path`` is the
    source file, whose name or folders may state the publication date, and ``manifest_date`` the
    date a manifest gives it (:func:`searchlib.ingest.dates.find_published`).
    """
    gaz = gazetteer if gazetteer is not None else default_gazetteer()
    meta: Mapping[str, Any] = metadata if metadata is not None else {}
    text = f"{title}\n\n{body}"
    tokens = token_table(text)
    starts = name_starts(tokens)
    mentions: list[EntityMention] = []
    covered: set[int] = set()
    languages: set[int] = set()
    matches = gaz.find(text, tokens, starts)
    # Tokens of places and states (not of other actors or people), which an organisation's
    # name may contain: "Bank of England", "Scottish Rugby Union".
    absorbable: set[int] = set()
    for a, b, found_here in matches:
        covered.update(range(a, b))
        if all(
            m.facet == "location"
            or (m.facet == "actor" and gaz.kind("actor", m.name) == "state")
            for m in found_here
        ):
            absorbable.update(range(a, b))
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
    organisations, names = find_organisations(text, tokens, covered, absorbable, gaz)
    if names:
        # A place or a state inside an organisation's or a treaty's name is part of that name.
        mentions = [m for m in mentions if not any(a <= m.start and m.end <= b for a, b in names)]
    mentions.extend(organisations)
    # The capitalised starts, selected by C-level passes (this runs over every start).
    caps = list(compress(starts, map(str.isupper, map(_FIRST_CHAR, map(
        tokens.texts.__getitem__, starts)))))
    people = find_people(text, tokens, covered, gaz, title_end=len(title), caps=caps)
    mentions = _surnames_are_people(text, mentions, people, gaz)
    mentions.extend(people)
    mentions = _sports_clubs(text, tokens, mentions, gaz)
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

    published, source = find_published(
        title, body, dateline=dateline, metadata=meta, path=path, manifest=manifest_date
    )
    return Extraction(
        actors=tuple(facets["actor"]),
        locations=tuple(facets["location"]),
        people=tuple(facets["person"]),
        mentions=tuple(mentions),
        published=published,
        published_source=source,
        mentioned_dates=find_mentioned(text, published),
    )
