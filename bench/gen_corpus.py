"""Generate a realistic, deterministic news-like corpus for scale benchmarks.

Every sentence of every article is real text: sentences are drawn from the TIME (1963
magazine), Cranfield and CISI test collections (``$SEARCHLIB_CORPORA``, else
``shared/corpora`` beside the repository) and from the seed articles, then dressed as news:
a headline, a byline, a dateline or front matter with a publication date, mentions of
gazetteer actors, places and people (canonical names or aliases), and the boilerplate that
real saved pages carry (share prompts, "Read more" lines, copyright footers). Files come in
the formats the indexer reads: mostly ``.txt``, some ``.md`` with YAML front matter,
``.json`` and multi-article ``.jsonl`` files, and a few ``.html`` pages with navigation and
footer chrome. The SMART collections are all upper or all lower case; their capitals are
restored from the mixed-case texts, imperfectly (rare proper nouns stay lower case).

The output directory holds ``docs/`` (the articles, sharded into sub-folders) plus two files
kept outside ``docs/`` so that indexing ``docs/`` never picks them up:

* ``manifest.jsonl`` — one line of ground truth per article: its key (``docs/...`` relative
  path, plus ``#N`` for the record on line N of a ``.jsonl`` file, as searchlib numbers
  them), format, title, publication date, and the canonical actors/locations/people
  mentioned in it.
* ``corpus.json`` — the parameters and totals of the run.

The same ``--seed``, ``--n``, source texts and gazetteer always give byte-identical output; a
smaller ``--n`` with the same seed gives a prefix of a larger one.

Usage::

    python bench/gen_corpus.py --n 10000 --seed 1 --out bench/corpora/n10000
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/gen_corpus.py``, bench/ is first on sys.path instead of the repository:
# swap them so ``bench.*`` and ``searchlib`` import from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import datetime as dt
import html
import json
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_CORPORA",
    "DEFAULT_GAZETTEER",
    "DEFAULT_SEEDS",
    "Entity",
    "GeneratedArticle",
    "TextPools",
    "generate",
    "load_entities",
    "load_pools",
    "main",
]

REPO = Path(__file__).resolve().parent.parent
# Same convention as the tests: $SEARCHLIB_CORPORA, else shared/corpora beside the repository.
DEFAULT_CORPORA = Path(os.environ.get("SEARCHLIB_CORPORA") or REPO.parent / "shared" / "corpora")
DEFAULT_SEEDS = REPO / "seeds"
DEFAULT_GAZETTEER = REPO / "searchlib" / "data" / "gazetteer.yaml"
GENERATOR_VERSION = 1
SHARD_SIZE = 500
"""Files per ``docs/`` sub-folder: keeps directories small at 100k articles."""

# Share of articles per format. JSONL records are grouped several to a file.
FORMAT_WEIGHTS: dict[str, float] = {
    "txt": 0.74,
    "md": 0.10,
    "json": 0.05,
    "jsonl": 0.06,
    "html": 0.05,
}
FIRST_YEAR, LAST_YEAR = 2008, 2024
MIN_WORDS, MAX_WORDS = 200, 3000

SOURCES = (
    "Global Research",
    "War Is Boring",
    "The Long War Journal",
    "Middle East Monitor",
    "Regional Affairs Weekly",
    "Frontline Dispatch",
    "The Conflict Observer",
    "World News Update",
)

BOILERPLATE_TOP = (
    "Share this article:",
    "Share on Facebook Share on Twitter Share on WhatsApp",
    "Click to share on Twitter (Opens in new window)",
    "Tweet",
    "Print this article",
    "Listen to this article",
)
BOILERPLATE_MID = (
    "Advertisement",
    "Read more: {other}",
    "READ MORE: {other}",
    "Related: {other}",
    "Subscribe to our newsletter for the latest updates.",
    "Click here to read the full report.",
)
BOILERPLATE_FOOTER = (
    "Copyright © {year} {source}. All rights reserved.",
    "© {year} {source}. All rights reserved.",
    "The original source of this article is {source}. Copyright © {year}.",
    "If you have any problems viewing this article, please report it here.",
    "Share this article with your friends and colleagues.",
    "Sign up for our daily newsletter.",
    "Comments are closed.",
)

# Used only while searchlib/data/gazetteer.yaml does not exist yet: names that occur in the
# seed articles, each kept only if the seeds really contain it.
_SEED_FALLBACK: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "actor": [
        ("ISIS", ("ISIL", "Islamic State", "Daesh")),
        ("IRGC", ("Revolutionary Guard", "Revolutionary Guards")),
        ("Quds Force", ()),
        ("PEJAK", ()),
        ("Al Qaeda", ()),
        ("Jabhat Al Nusrah", ()),
        ("Islamic Front", ()),
        ("ISIS-K", ()),
        ("Stimson Center", ()),
        ("Reuters", ()),
    ],
    "location": [
        ("Iran", ()),
        ("Iraq", ()),
        ("Syria", ()),
        ("Tehran", ()),
        ("Baghdad", ()),
        ("Aleppo", ()),
        ("Kerman", ()),
        ("Kermanshah", ()),
        ("Qasre Shirin", ()),
        ("Khanaqin", ()),
        ("Deir Az Zor", ()),
        ("Afghanistan", ()),
        ("Kurdistan", ()),
    ],
    "person": [
        ("Qassem Soleimani", ("Soleimani",)),
        ("Bashar Al Assad", ()),
        ("Donald Trump", ()),
        ("Ahmad Reza Pourdastan", ("Pourdastan",)),
        ("Patrick Henningsen", ()),
    ],
}

_FACET_KEYS = {
    "actor": "actor",
    "actors": "actor",
    "organisation": "actor",
    "organisations": "actor",
    "organization": "actor",
    "organizations": "actor",
    "groups": "actor",
    "location": "location",
    "locations": "location",
    "place": "location",
    "places": "location",
    "person": "person",
    "persons": "person",
    "people": "person",
}
_ALIAS_KEYS = ("aliases", "alias", "names", "variants", "also", "surface_forms")


@dataclass(frozen=True)
class Entity:
    """A gazetteer entry the generator can mention."""

    facet: str
    """"actor", "location" or "person"."""
    name: str
    """Canonical name: what ground truth records."""
    aliases: tuple[str, ...] = ()
    """Other surface forms; the generator sometimes writes one of these instead."""


@dataclass
class TextPools:
    """Real sentences and headlines the generator draws from."""

    sentences: list[str] = field(default_factory=list)
    """Body sentences, each a complete sentence in normal case."""
    titles: list[str] = field(default_factory=list)
    """Real titles from the collections and the seeds, in headline form."""
    authors: list[str] = field(default_factory=list)
    """Author names found in the collections ("J.P. Comaromi")."""
    origins: Counter[str] = field(default_factory=Counter)
    """How many sentences each source contributed."""


@dataclass(frozen=True)
class GeneratedArticle:
    """One article as generated, before it is written in a file format."""

    title: str
    """Headline."""
    paragraphs: tuple[str, ...]
    """Body paragraphs, boilerplate lines included where they fall."""
    published: dt.date | None
    """Publication date (None for an undated article)."""
    source: str
    """Publisher name."""
    author: str | None
    """Byline name, if any."""
    actors: tuple[str, ...]
    """Canonical actor names mentioned."""
    locations: tuple[str, ...]
    """Canonical place names mentioned."""
    people: tuple[str, ...]
    """Canonical person names mentioned."""
    footer: tuple[str, ...]
    """Boilerplate lines after the body."""
    words: int
    """Words in the body paragraphs."""


# ---------------------------------------------------------------------------------------------
# Loading real text

_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:?!)])")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"“(]?[A-Z0-9])")
_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
_LOWER_SPLIT = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[a-z0-9(])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _tidy(text: str) -> str:
    """Join wrapped lines and undo the SMART collections' spaced punctuation ("U.S ." -> "U.S.")."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _DOUBLE_STOP.sub(".", text)
    return text.replace("( ", "(").replace(" 's", "'s")


def _split_sentences(text: str, *, lower_case: bool = False) -> Iterator[str]:
    # Lower-case text (Cranfield) has no capital to mark a sentence start.
    splitter = _LOWER_SPLIT if lower_case else _SENTENCE_SPLIT
    for sentence in splitter.split(text):
        words = sentence.split()
        if 6 <= len(words) <= 60 and sentence[-1] in '.!?"”':
            yield sentence


class _Truecaser:
    """Restores capitals to all-upper or all-lower text using mixed-case text as evidence."""

    def __init__(self, mixed_case_texts: Iterable[str]) -> None:
        votes: dict[str, Counter[bool]] = {}
        for text in mixed_case_texts:
            for sentence in _split_sentences(_tidy(text)):
                # The first word of a sentence is capitalised anyway: no evidence.
                for word in _WORD.findall(sentence)[1:]:
                    votes.setdefault(word.lower(), Counter())[word[0].isupper()] += 1
        self._proper = {w for w, c in votes.items() if c[True] > c[False]}
        self._proper.update({"i", "u.s", "u.n", "kennedy", "khrushchev", "nato", "moscow"})

    def __call__(self, sentence: str) -> str:
        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            return word.capitalize() if word in self._proper else word

        lowered = _WORD.sub(fix, sentence.lower())
        lowered = re.sub(r"\bu\.s\b", "U.S", lowered, flags=re.IGNORECASE)
        return lowered[:1].upper() + lowered[1:]


def _smart_records(path: Path) -> Iterator[dict[str, str]]:
    """Records of a SMART-format file (``.I``/``.T``/``.A``/``.W`` tags)."""
    record: dict[str, list[str]] = {}
    tag: str | None = None
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(".I"):
            if record:
                yield {k: "\n".join(v) for k, v in record.items()}
            record, tag = {}, None
        elif len(line) >= 2 and line[0] == "." and line[1].isupper() and len(line.split()[0]) == 2:
            tag = line[:2]
        elif tag is not None:
            record.setdefault(tag, []).append(line)
    if record:
        yield {k: "\n".join(v) for k, v in record.items()}


def _headline(title: str) -> str:
    """A collection title as a headline: tidy, trailing period dropped, first letter capital."""
    title = _tidy(title).rstrip(" .")
    words = title.split()
    if len(words) > 16:
        title = " ".join(words[:16])
    return title[:1].upper() + title[1:]


def load_pools(corpora: Path | None, seeds: Path) -> TextPools:
    """Read every sentence, title and author name the generator may use.

    ``corpora`` may be None or missing: the pools then come from the seeds alone.
    """
    pools = TextPools()
    seed_texts = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    for text in seed_texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            pools.titles.append(_headline(lines[0]))
        for line in lines:
            if len(line.split()) >= 8 and not line.startswith(("[", "-", "•", "By ")):
                for sentence in _split_sentences(_tidy(line)):
                    pools.sentences.append(sentence)
                    pools.origins["seeds"] += 1
    if corpora is None or not corpora.is_dir():
        return pools

    cisi_path = corpora / "cisi" / "CISI.ALL"
    cran_path = corpora / "cranfield" / "cran.all.1400"
    time_path = corpora / "time" / "TIME.ALL"
    cisi = list(_smart_records(cisi_path)) if cisi_path.is_file() else []
    truecase = _Truecaser([r.get(".W", "") for r in cisi] + seed_texts)
    for record in cisi:
        for sentence in _split_sentences(_tidy(record.get(".W", ""))):
            pools.sentences.append(sentence)
            pools.origins["cisi"] += 1
        if record.get(".T"):
            pools.titles.append(_headline(record[".T"]))
        for author in record.get(".A", "").splitlines():
            last, _, first = author.partition(",")
            if first.strip() and last.strip():
                pools.authors.append(f"{first.strip()} {last.strip()}")
    if cran_path.is_file():
        for record in _smart_records(cran_path):
            text = _tidy(record.get(".W", ""))
            for sentence in _split_sentences(text, lower_case=True):
                pools.sentences.append(truecase(sentence))
                pools.origins["cranfield"] += 1
            if record.get(".T"):
                pools.titles.append(truecase(_headline(record[".T"])))
    if time_path.is_file():
        raw = time_path.read_text(encoding="latin-1")
        for doc in re.split(r"^\*TEXT.*$", raw, flags=re.MULTILINE)[1:]:
            doc = doc.replace("*STOP", "")
            # All upper case: every letter after a full stop passes the splitter's
            # capital look-ahead, so split first, then restore the case.
            sentences = [truecase(s) for s in _split_sentences(_tidy(doc))]
            pools.sentences.extend(sentences)
            pools.origins["time"] += len(sentences)
            # No titles from TIME: its headline runs into the first sentence undelimited.
    return pools


# ---------------------------------------------------------------------------------------------
# Entities


def load_entities(gazetteer: Path | None, seeds: Path) -> tuple[list[Entity], str]:
    """Actors, places and people to mention, and where they came from.

    Reads ``gazetteer`` when it exists; otherwise falls back to names found in the seeds.
    """
    if gazetteer is not None and gazetteer.is_file():
        data = yaml.safe_load(gazetteer.read_text(encoding="utf-8"))
        entities = list(_entities_from_yaml(data))
        if entities:
            return entities, str(gazetteer)
    seed_text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt")))
    entities = []
    for facet, entries in _SEED_FALLBACK.items():
        for name, aliases in entries:
            if name in seed_text:
                kept = tuple(a for a in aliases if a in seed_text)
                entities.append(Entity(facet, name, kept))
    return entities, "seeds"


def _entities_from_yaml(data: Any, facet: str | None = None) -> Iterator[Entity]:
    """Entries of a gazetteer document, tolerant of list-of-dicts and name-keyed layouts."""
    if isinstance(data, dict):
        for key, value in data.items():
            kind = _FACET_KEYS.get(str(key).lower())
            if kind is not None:
                yield from _entries(value, kind)
            elif facet is None and isinstance(value, dict | list):
                yield from _entities_from_yaml(value, None)


def _entries(value: Any, facet: str) -> Iterator[Entity]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield Entity(facet, item)
            elif isinstance(item, dict):
                name = item.get("name") or item.get("canonical")
                if isinstance(name, str) and name:
                    yield Entity(facet, name, _aliases(item))
    elif isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, dict):
                if "name" in item and isinstance(item["name"], str):
                    name = item["name"]
                yield Entity(facet, str(name), _aliases(item))
            elif isinstance(item, list):
                yield Entity(facet, str(name), tuple(str(a) for a in item))
            else:
                yield Entity(facet, str(name))


def _aliases(item: dict[str, Any]) -> tuple[str, ...]:
    for key in _ALIAS_KEYS:
        value = item.get(key)
        if isinstance(value, list):
            return tuple(str(a) for a in value if str(a).strip())
        if isinstance(value, str) and value.strip():
            return (value,)
    return ()


# ---------------------------------------------------------------------------------------------
# Generating articles

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MENTION_TEMPLATES = {
    "actor": (
        "{e} said in a statement that {s}",
        "According to {e}, {s}",
        "A spokesman for {e} said {s}",
        "{e} has denied the claim. {S}",
        "Analysts who follow {e} noted that {s}",
    ),
    "location": (
        "In {e}, {s}",
        "Reporting from {e}: {S}",
        "Officials in {e} said {s}",
        "Residents of {e} say that {s}",
        "Near {e}, {s}",
    ),
    "person": (
        "{e} said that {s}",
        "Speaking to reporters, {e} said {s}",
        "\u201c{S}\u201d {e} said.",
        "{e} told the press that {s}",
    ),
}


def _date_text(rng: random.Random, day: dt.date) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == 1:
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    if style == 2:
        return day.isoformat()
    return f"{_MONTHS[day.month - 1][:3]} {day.day}, {day.year}"


def _lower_first(sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    # Keep acronyms and proper nouns ("U.S.", "NATO", "Iran") capitalised.
    if len(first) > 1 and (first[1:2].isupper() or first[1:2] == "."):
        return sentence
    return sentence[:1].lower() + sentence[1:]


class _Generator:
    """Draws articles one after another from a single seeded random stream."""

    def __init__(self, pools: TextPools, entities: Sequence[Entity], seed: int) -> None:
        if not pools.sentences or not pools.titles:
            raise ValueError("no source sentences found: check --corpora and --seeds")
        self.rng = random.Random(seed)
        self.pools = pools
        self.by_facet: dict[str, list[Entity]] = {"actor": [], "location": [], "person": []}
        for entity in entities:
            self.by_facet.setdefault(entity.facet, []).append(entity)
        # Zipf-like popularity so facet counts are skewed the way real news is.
        self.weights = {
            facet: [1.0 / (rank + 1) ** 0.9 for rank in range(len(items))]
            for facet, items in self.by_facet.items()
        }
        self.authors = pools.authors or ["Staff Writer"]
        self.first_day = dt.date(FIRST_YEAR, 1, 1).toordinal()
        self.last_day = dt.date(LAST_YEAR, 12, 31).toordinal()

    def _pick(self, facet: str, low: int, high: int) -> list[Entity]:
        items = self.by_facet.get(facet, [])
        if not items:
            return []
        count = min(len(items), self.rng.randint(low, high))
        chosen: dict[str, Entity] = {}
        for _ in range(count * 3):
            if len(chosen) == count:
                break
            entity = self.rng.choices(items, self.weights[facet])[0]
            chosen.setdefault(entity.name, entity)
        return list(chosen.values())

    def _surface(self, entity: Entity) -> str:
        if entity.aliases and self.rng.random() < 0.35:
            return self.rng.choice(entity.aliases)
        return entity.name

    def _mention(self, entity: Entity) -> str:
        template = self.rng.choice(_MENTION_TEMPLATES[entity.facet])
        sentence = self.rng.choice(self.pools.sentences)
        return template.format(e=self._surface(entity), s=_lower_first(sentence), S=sentence)

    def article(self) -> GeneratedArticle:
        """The next article of the stream."""
        rng = self.rng
        target = int(min(MAX_WORDS, max(MIN_WORDS, rng.lognormvariate(6.45, 0.6))))
        actors = self._pick("actor", 1, 4)
        locations = self._pick("location", 1, 3)
        people = self._pick("person", 0, 2)
        mentioned = actors + locations + people
        # Every chosen entity appears at least once; the first ones again further down.
        mentions = [*mentioned, *mentioned[: rng.randint(0, len(mentioned))]]
        rng.shuffle(mentions)
        sentences: list[str] = []
        words = 0
        mention_every = max(2, target // (12 * max(1, len(mentions))))
        while words < target or mentions:
            if mentions and (len(sentences) % mention_every == 0 or words >= target):
                sentence = self._mention(mentions.pop())
            else:
                sentence = rng.choice(self.pools.sentences)
            sentences.append(sentence)
            words += sentence.count(" ") + 1
        paragraphs: list[str] = []
        i = 0
        while i < len(sentences):
            size = rng.randint(1, 5)
            paragraphs.append(" ".join(sentences[i : i + size]))
            i += size
        source = rng.choice(SOURCES)
        published = (
            None
            if rng.random() < 0.05
            else dt.date.fromordinal(rng.randint(self.first_day, self.last_day))
        )
        year = (published or dt.date(LAST_YEAR, 1, 1)).year
        # Boilerplate inside the body, the way saved pages interleave it.
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            line = rng.choice(BOILERPLATE_MID).format(other=rng.choice(self.pools.titles))
            paragraphs.insert(rng.randint(1, len(paragraphs)), line)
        footer = tuple(
            rng.choice(BOILERPLATE_FOOTER).format(year=year, source=source)
            for _ in range(rng.choice((0, 1, 1, 2, 3)))
        )
        title = rng.choice(self.pools.titles)
        if actors and rng.random() < 0.3:
            title = f"{self._surface(actors[0])}: {title}"
        elif locations and rng.random() < 0.2:
            title = f"{title} in {self._surface(locations[0])}"
        return GeneratedArticle(
            title=title,
            paragraphs=tuple(paragraphs),
            published=published,
            source=source,
            author=rng.choice(self.authors) if rng.random() < 0.7 else None,
            actors=tuple(e.name for e in actors),
            locations=tuple(e.name for e in locations),
            people=tuple(e.name for e in people),
            footer=footer,
            words=words,
        )


# ---------------------------------------------------------------------------------------------
# Writing formats


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:40].rstrip("-") or "article"


def _url(article: GeneratedArticle, number: int) -> str:
    host = _slug(article.source).replace("-", "") + ".example"
    return f"https://{host}/{number:06d}/{_slug(article.title)}"


def _render_txt(article: GeneratedArticle, rng: random.Random) -> tuple[str, str]:
    """Plain text with the date in a dateline; returns (text, where the date is)."""
    lines = [article.title, ""]
    if rng.random() < 0.3:
        lines += [rng.choice(BOILERPLATE_TOP), ""]
    if article.author and rng.random() < 0.8:
        lines += [f"By {article.author}", ""]
    paragraphs = list(article.paragraphs)
    where = "none"
    if article.published is not None:
        when = _date_text(rng, article.published)
        style = rng.randrange(3)
        if style == 0:
            lines += [f"{article.source}, {when}", ""]
        elif style == 1:
            lines += [f"Published: {when}", ""]
        else:
            place = article.locations[0].upper() if article.locations else "LONDON"
            paragraphs[0] = f"{place}, {when} \u2014 {paragraphs[0]}"
        where = "dateline"
    lines += [p + "\n" for p in paragraphs]
    lines += list(article.footer)
    return "\n".join(lines).rstrip() + "\n", where


def _render_md(article: GeneratedArticle, rng: random.Random, number: int) -> tuple[str, str]:
    front: dict[str, Any] = {"title": article.title}
    if article.published is not None:
        front["date"] = article.published.isoformat()
    if article.author:
        front["author"] = article.author
    front["source"] = article.source
    front["url"] = _url(article, number)
    body = [f"# {article.title}", ""]
    for i, paragraph in enumerate(article.paragraphs):
        if i and i % 6 == 0:
            body += [f"## {rng.choice(article.paragraphs[0].split('.')[:1])[:60].strip()}", ""]
        body += [paragraph, ""]
    body += [f"*{line}*" for line in article.footer]
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip()
    text = f"---\n{head}\n---\n\n" + "\n".join(body).rstrip() + "\n"
    return text, "front_matter" if article.published is not None else "none"


def _json_record(article: GeneratedArticle, number: int) -> dict[str, Any]:
    record: dict[str, Any] = {"title": article.title}
    if article.published is not None:
        record["published"] = article.published.isoformat()
    if article.author:
        record["author"] = article.author
    record["source"] = article.source
    record["url"] = _url(article, number)
    record["text"] = "\n\n".join([*article.paragraphs, *article.footer])
    return record


def _render_html(article: GeneratedArticle, rng: random.Random, number: int) -> tuple[str, str]:
    esc = html.escape
    meta = [f'<meta property="og:title" content="{esc(article.title)}">']
    if article.published is not None:
        meta.append(
            f'<meta property="article:published_time" '
            f'content="{article.published.isoformat()}T{rng.randint(0, 23):02d}:00:00Z">'
        )
    if article.author:
        meta.append(f'<meta name="author" content="{esc(article.author)}">')
    nav = "".join(
        f'<li><a href="/{s}">{s.title()}</a></li>'
        for s in ("world", "middle-east", "politics", "opinion", "video")
    )
    byline = f'<p class="byline">By {esc(article.author)}</p>' if article.author else ""
    date_line = (
        f'<time datetime="{article.published.isoformat()}">'
        f"{esc(_date_text(rng, article.published))}</time>"
        if article.published is not None
        else ""
    )
    body = "\n".join(f"<p>{esc(p)}</p>" for p in article.paragraphs)
    footer = "".join(f"<p>{esc(line)}</p>" for line in article.footer)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(article.title)} | {esc(article.source)}</title>
{chr(10).join(meta)}
<link rel="canonical" href="{_url(article, number)}">
</head>
<body>
<header><div class="logo">{esc(article.source)}</div><nav><ul>{nav}</ul></nav></header>
<div class="share">Share this article: <a href="#">Facebook</a> <a href="#">Twitter</a></div>
<main>
<article>
<h1>{esc(article.title)}</h1>
{byline}
{date_line}
{body}
</article>
<aside class="related"><h3>Read more</h3>
<ul><li><a href="#">More from {esc(article.source)}</a></li></ul></aside>
</main>
<footer>{footer}<p>Cookie settings | Privacy policy | Terms of use</p></footer>
</body>
</html>
"""
    return page, "meta" if article.published is not None else "none"


# ---------------------------------------------------------------------------------------------
# Driver


def _manifest_line(key: str, fmt: str, article: GeneratedArticle, where: str) -> dict[str, Any]:
    return {
        "key": key,
        "format": fmt,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "date_in": where,
        "source": article.source,
        "author": article.author,
        "actors": list(article.actors),
        "locations": list(article.locations),
        "people": list(article.people),
        "words": article.words,
    }


def generate(
    n: int,
    seed: int,
    out: Path,
    *,
    corpora: Path | None = DEFAULT_CORPORA,
    seeds: Path = DEFAULT_SEEDS,
    gazetteer: Path | None = DEFAULT_GAZETTEER,
) -> dict[str, Any]:
    """Write ``n`` articles under ``out`` and return the summary also saved as ``corpus.json``.

    ``out`` is replaced if it exists (only if it looks like a corpus this script wrote).
    """
    if n < 1:
        raise ValueError("--n must be at least 1")
    if out.exists():
        if any(out.iterdir()) and not (out / "corpus.json").is_file():
            raise FileExistsError(f"{out} exists and is not a generated corpus; not replacing")
        shutil.rmtree(out)
    docs = out / "docs"
    docs.mkdir(parents=True)
    # Marks the folder as ours at once, so a run that was interrupted can be replaced.
    (out / "corpus.json").write_text('{"complete": false}\n', encoding="utf-8")
    started = time.perf_counter()
    pools = load_pools(corpora, seeds)
    entities, entity_source = load_entities(gazetteer, seeds)
    gen = _Generator(pools, entities, seed)
    fmt_names = list(FORMAT_WEIGHTS)
    fmt_weights = list(FORMAT_WEIGHTS.values())
    formats: Counter[str] = Counter()
    files = 0
    total_bytes = 0
    made = 0
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        while made < n:
            fmt = gen.rng.choices(fmt_names, fmt_weights)[0]
            shard = docs / f"{files // SHARD_SIZE:03d}"
            shard.mkdir(exist_ok=True)
            stem = f"{files:06d}"
            rel = f"docs/{shard.name}/{stem}.{fmt}"
            lines: list[dict[str, Any]] = []
            if fmt == "jsonl":
                count = min(n - made, gen.rng.randint(2, 6))
                records = []
                for j in range(count):
                    article = gen.article()
                    records.append(_json_record(article, made + j))
                    lines.append(_manifest_line(f"{rel}#{j + 1}", "json", article, "json"))
                    if article.published is None:
                        lines[-1]["date_in"] = "none"
                text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            else:
                count = 1
                article = gen.article()
                if fmt == "txt":
                    text, where = _render_txt(article, gen.rng)
                    kind = "text"
                elif fmt == "md":
                    text, where = _render_md(article, gen.rng, made)
                    kind = "markdown"
                elif fmt == "json":
                    text = json.dumps(_json_record(article, made), ensure_ascii=False, indent=1)
                    where, kind = ("json" if article.published else "none"), "json"
                else:
                    text, where = _render_html(article, gen.rng, made)
                    kind = "html"
                lines.append(_manifest_line(rel, kind, article, where))
            data = text.encode("utf-8")
            (out / rel).write_bytes(data)
            for line in lines:
                manifest.write(json.dumps(line, ensure_ascii=False) + "\n")
            formats[fmt] += count
            files += 1
            total_bytes += len(data)
            made += count
    summary: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "n": n,
        "seed": seed,
        "files": files,
        "bytes": total_bytes,
        "articles_by_format": dict(sorted(formats.items())),
        "sentence_sources": dict(sorted(pools.origins.items())),
        "sentences": len(pools.sentences),
        "titles": len(pools.titles),
        "entities": len(entities),
        "entity_source": entity_source,
        "docs_dir": "docs",
        "manifest": "manifest.jsonl",
        "seconds": round(time.perf_counter() - started, 3),
    }
    # Timing is left out of the file so that two runs are byte-identical.
    (out / "corpus.json").write_text(
        json.dumps({k: v for k, v in summary.items() if k != "seconds"}, indent=2) + "\n",
        encoding="utf-8",
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of articles")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (replaced)")
    parser.add_argument(
        "--corpora", type=Path, default=DEFAULT_CORPORA, help="TIME/Cranfield/CISI folder"
    )
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="seed articles")
    parser.add_argument(
        "--gazetteer", type=Path, default=DEFAULT_GAZETTEER, help="gazetteer YAML for mentions"
    )
    args = parser.parse_args(argv)
    try:
        summary = generate(
            args.n,
            args.seed,
            args.out,
            corpora=args.corpora,
            seeds=args.seeds,
            gazetteer=args.gazetteer,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{summary['n']} articles in {summary['files']} files, "
        f"{summary['bytes'] / 1e6:.1f} MB, {summary['seconds']:.1f}s -> {args.out} "
        f"(entities from {summary['entity_source']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
