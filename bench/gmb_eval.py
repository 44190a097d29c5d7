"""Entity facets on real wire news: precision, recall and F1 per facet on the GMB corpus.

Usage::

    python bench/gmb_eval.py [--part dev|heldout|both] [--errors N] [--spacy] [--json OUT]
                             [--corpora DIR] [--speed]

The corpus is ``gmb-ner/ner_dataset.csv`` under ``$SEARCHLIB_CORPORA`` or ``shared/corpora``
beside the repository (Voice of America news sentences with IOB tags; see its SOURCE.md). Article
boundaries are not marked, so consecutive sentences are grouped into pseudo-articles of
:data:`SENTENCES_PER_ARTICLE` sentences, one sentence per paragraph, with no title. The tokens
are joined back into text (no space before closing punctuation and clitics such as ``'s``).

**Split.** The first :data:`DEV_SHARE` of the pseudo-articles, in corpus order, are the
development part that the recognition rules were tuned on; the rest is held out. The split is
contiguous, so one story's sentences do not leak across it. Errors are listed (``--errors``) for
the development part only: the held-out part is for figures, not for reading.

**Matching rule.** Per pseudo-article, each facet is compared as a set of unique normalised
surface strings (the text as written, not canonical names): case-folded, inner whitespace
collapsed, dots and apostrophes dropped (``U.S.`` = ``US``), a possessive ``'s`` and a leading
``the`` removed. Then, per facet, the same on gold and predicted strings:

- location: gold ``geo`` spans; predicted: location mentions. A leading compass adjective and a
  trailing "province" are dropped ("eastern Afghanistan" = "Afghanistan", "Kunar province" =
  "Kunar"): the corpus tags both with and without them;
- person: gold ``per`` spans and predicted person mentions without their leading titles
  (``President Bush`` -> ``Bush``, ``Secretary of State Condoleezza Rice`` -> ``Condoleezza
  Rice``, ``U.S. President George Bush`` -> ``George Bush``); a span that is only a title is
  dropped;
- organisation: gold ``org`` spans; predicted: actor mentions. A leading state name or demonym
  is dropped ("Chinese Foreign Ministry" = "Foreign Ministry"): the corpus tags it apart.

Three conventions of the annotation are not counted against a system (SOURCE.md): a predicted
string that the gold tags in the same article as another entity type is neither right nor wrong
(the same country is ``geo`` in one sentence and ``org`` in the next); demonyms (gold ``gpe``,
"Iraqi", "British") are outside every facet, so an actor found from a demonym is not a false
organisation; and an actor found from a description whose last word is lower case ("U.S.
military", "Bush administration") is not a name, which is all the corpus tags. Precision,
recall and F1 are micro-averaged over (article, string) pairs.

``--spacy`` runs spaCy's ``en_core_web_sm`` in the same harness when it is installed (``GPE``,
``LOC``, ``FAC`` -> location; ``PERSON`` -> person; ``ORG`` -> organisation; ``NORP`` is a
demonym). ``--speed`` times extraction alone (articles per second of CPU time, one process,
best of 7 passes); run it at two commits to compare them.
"""

from __future__ import annotations

import os
import sys

# The script's own folder leaves sys.path first, so only the repository's packages resolve.
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import csv
import functools
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

SENTENCES_PER_ARTICLE = 15
"""Consecutive sentences grouped into one pseudo-article (the corpus marks no boundaries)."""
DEV_SHARE = 0.7
"""Share of the pseudo-articles, from the start of the corpus, in the development part."""
FACETS: tuple[str, ...] = ("location", "person", "organisation")
_GOLD_FACET = {"geo": "location", "per": "person", "org": "organisation"}

PERSON_TITLES = frozenset(
    [
        "mr", "mrs", "ms", "miss", "dr", "president", "vice", "prime", "minister", "secretary",
        "general", "gen", "lt", "col", "colonel", "major", "maj", "captain", "capt", "sgt",
        "sergeant", "admiral", "adm", "senator", "sen", "representative", "rep", "governor", "gov",
        "mayor", "king", "queen", "prince", "princess", "sheikh", "ayatollah", "pope", "chancellor",
        "ambassador", "judge", "justice", "chief", "commander", "defense", "defence", "foreign",
        "interior", "finance", "state", "deputy", "former", "premier", "lieutenant", "brigadier",
        "cardinal", "reverend", "rev", "archbishop", "bishop", "cleric", "leader", "spokesman",
        "spokeswoman", "envoy", "opposition", "secretary-general", "chairman", "chairwoman",
        "councilor", "councillor", "coordinator", "commissioner", "director", "sister", "prophet",
        "saint", "st",
    ]
)
"""Words that end a title at the start of a person span (GMB often includes the title, and
capitalised words before it: "Treasury Secretary", "Health Minister")."""

_NO_SPACE_BEFORE = frozenset({".", ",", ";", ":", "?", "!", ")", "]", "%", "'s", "'", "n't",
                              "'re", "'ve", "'ll", "'d", "'m"})
_NO_SPACE_AFTER = frozenset({"(", "[", "$"})


def default_corpora() -> Path:
    """Where the corpora are expected: ``$SEARCHLIB_CORPORA`` or ``../shared/corpora``."""
    root = os.environ.get("SEARCHLIB_CORPORA")
    return Path(root) if root else _REPO.parent / "shared" / "corpora"


@dataclass(frozen=True)
class Span:
    """One gold entity: its type (``geo``, ``per``, ...) and text."""

    kind: str
    text: str


@dataclass(frozen=True)
class PseudoArticle:
    """Consecutive corpus sentences joined into one article, with their gold spans."""

    index: int
    """Position in the corpus, from 0."""
    text: str
    """The sentences, one per paragraph (blank line between)."""
    gold: tuple[Span, ...]
    """Every tagged span, in order."""


def _detokenize(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join tokens into text; return it with each token's character span."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for k, word in enumerate(words):
        if k and word not in _NO_SPACE_BEFORE and words[k - 1] not in _NO_SPACE_AFTER:
            out.append(" ")
            pos += 1
        spans.append((pos, pos + len(word)))
        out.append(word)
        pos += len(word)
    return "".join(out), spans


def load_sentences(path: Path) -> list[list[tuple[str, str]]]:
    """The corpus as sentences of ``(word, tag)`` pairs."""
    sentences: list[list[tuple[str, str]]] = []
    with path.open(encoding="latin-1", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        for row in reader:
            if len(row) != 4:
                continue  # the file's last line is cut short
            number, word, _pos, tag = row
            if number.strip() or not sentences:
                sentences.append([])
            sentences[-1].append((word, tag))
    return [s for s in sentences if s]


def _spans(words: Sequence[str], tags: Sequence[str]) -> list[Span]:
    """IOB tags to spans (an ``I-`` after another type starts a span too)."""
    found: list[Span] = []
    current: list[str] = []
    kind = ""
    for word, tag in [*zip(words, tags, strict=True), ("", "O")]:
        head, _, label = tag.partition("-")
        if current and (head != "I" or label != kind):
            found.append(Span(kind, _detokenize(current)[0]))
            current = []
        if head in ("B", "I") and label:
            if not current:
                kind = label
            current.append(word)
    return found


def pseudo_articles(sentences: Sequence[Sequence[tuple[str, str]]]) -> list[PseudoArticle]:
    """Group sentences into pseudo-articles of :data:`SENTENCES_PER_ARTICLE`."""
    articles: list[PseudoArticle] = []
    for start in range(0, len(sentences), SENTENCES_PER_ARTICLE):
        group = sentences[start:start + SENTENCES_PER_ARTICLE]
        paragraphs: list[str] = []
        gold: list[Span] = []
        for sentence in group:
            words = [w for w, _ in sentence]
            tags = [t for _, t in sentence]
            paragraphs.append(_detokenize(words)[0])
            gold.extend(_spans(words, tags))
        articles.append(PseudoArticle(len(articles), "\n\n".join(paragraphs), tuple(gold)))
    return articles


def split(articles: Sequence[PseudoArticle]) -> dict[str, list[PseudoArticle]]:
    """The development and held-out parts (contiguous, in corpus order)."""
    cut = int(len(articles) * DEV_SHARE)
    return {"dev": list(articles[:cut]), "heldout": list(articles[cut:])}


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The matching key of a surface string (see the module docstring)."""
    key = _SPACES.sub(" ", text.replace(".", "").replace("’", "'")).strip().casefold()
    if key.endswith("'s"):
        key = key[:-2]
    key = key.replace("'", "")
    if key.startswith("the "):
        key = key[4:]
    return key.strip()


_TITLE_LINKS = frozenset({"of", "the", "and", "for"})
_DIRECTIONS = re.compile(
    r"^(?:(?:north|south)(?:-?(?:east|west))?ern|eastern|western|central) ", re.IGNORECASE)
_KIND_SUFFIX = re.compile(r" provinces?$", re.IGNORECASE)


def strip_titles(text: str, is_state: Callable[[str], bool] = lambda word: False) -> str:
    """A person span without its leading titles: "Prime Minister Tony Blair" -> "Tony Blair",
    "Secretary of State Condoleezza Rice" -> "Condoleezza Rice", "U.S. President George Bush"
    -> "George Bush", "Health Minister Gao Qiang" -> "Gao Qiang": everything up to the last
    title word among the first six words, when the words before it are capitalised, links
    ("of"), or a state's name or demonym (told by ``is_state``). A span that is only a title
    gives ""."""
    words = text.split()
    cut = 0
    for k, word in enumerate(words[:6]):
        folded = word.rstrip(".").casefold()
        if folded in PERSON_TITLES:
            cut = k + 1
        elif not (folded in _TITLE_LINKS or is_state(word) or word[:1].isupper()):
            break
    return " ".join(words[cut:])


def place_key(text: str) -> str:
    """A place's matching key: a leading compass adjective and a trailing "province" go
    ("eastern Afghanistan" = "Afghanistan", "Kunar province" = "Kunar"), as the corpus tags
    them both ways."""
    return normalise(_KIND_SUFFIX.sub("", _DIRECTIONS.sub("", text.strip())))


Prediction = dict[str, set[str]]
"""Surface strings found per facet."""
Extractor = Callable[[str], Prediction]


@dataclass
class Score:
    """Micro-averaged counts for one facet."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of predicted strings that are gold."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of gold strings that were predicted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Scores of one extractor on one part, with the errors of each article."""

    name: str
    part: str
    articles: int = 0
    scores: dict[str, Score] = field(default_factory=lambda: {f: Score() for f in FACETS})
    errors: list[tuple[int, str, list[str], list[str]]] = field(default_factory=list)
    """(article index, facet, false positives, false negatives)."""
    seconds: float = 0.0


@functools.cache
def is_state(word: str) -> bool:
    """Whether ``word`` names a state or is its demonym ("U.S.", "Iraqi"), by the gazetteer."""
    from searchlib.ingest.gazetteer import default_gazetteer

    gazetteer = default_gazetteer()
    name = gazetteer.canonical("actor", word)
    return name is not None and gazetteer.kind("actor", name) == "state"


def key_of(facet: str, text: str) -> str:
    """The matching key of a string of ``facet`` (see the module docstring)."""
    if facet == "person":
        return normalise(strip_titles(text, is_state))
    if facet == "location":
        return place_key(text)
    words = text.split()
    if len(words) > 1 and is_state(words[0]):
        # "Chinese Foreign Ministry" = "Foreign Ministry": the corpus tags the demonym apart.
        words = words[1:]
    return normalise(" ".join(words))


def gold_sets(article: PseudoArticle) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Gold keys per facet, and per facet the keys the gold gives other types (neutral)."""
    gold: dict[str, set[str]] = {f: set() for f in FACETS}
    other: dict[str, set[str]] = {f: set() for f in FACETS}
    for span in article.gold:
        own = _GOLD_FACET.get(span.kind)
        for facet in FACETS:
            key = key_of(facet, span.text)
            if not key:
                continue
            if facet == own:
                gold[facet].add(key)
            else:
                other[facet].add(key)
    return gold, other


def score_article(
    article: PseudoArticle, predicted: Prediction, report: Report
) -> None:
    """Add one article's comparison to ``report``."""
    gold, other = gold_sets(article)
    report.articles += 1
    for facet in FACETS:
        raw = predicted.get(facet, set())
        if facet == "organisation":
            # A description headed by a common noun ("U.S. military", "Bush administration")
            # is not a name, and the corpus tags names only.
            raw = {p for p in raw if not p.split()[-1].islower()}
        keys = {key_of(facet, p) for p in raw}
        keys.discard("")
        expected = gold[facet]
        # Strings the gold gives another type (or calls a demonym) are not counted.
        keys -= other[facet] - expected
        score = report.scores[facet]
        fp = sorted(keys - expected)
        fn = sorted(expected - keys)
        score.tp += len(keys & expected)
        score.fp += len(fp)
        score.fn += len(fn)
        if fp or fn:
            report.errors.append((article.index, facet, fp, fn))


def is_demonym(surface: str) -> bool:
    """Whether an actor's surface is a state's demonym ("Iraqi"), not its name ("Iraq")."""
    from searchlib.ingest.gazetteer import default_gazetteer

    gazetteer = default_gazetteer()
    return is_state(surface) and gazetteer.canonical("location", surface) is None


def searchlib_extractor() -> Extractor:
    """searchlib's own extraction, as surface strings per facet."""
    from searchlib.ingest.extract import extract
    from searchlib.ingest.gazetteer import default_gazetteer

    gazetteer = default_gazetteer()

    def run(text: str) -> Prediction:
        found = extract("", text, gazetteer=gazetteer)
        out: Prediction = {f: set() for f in FACETS}
        names = {"location": "location", "person": "person", "actor": "organisation"}
        for mention in found.mentions:
            if mention.facet == "actor" and is_demonym(mention.surface):
                continue  # a demonym names no organisation (spaCy's NORP, left out there too)
            out[names[mention.facet]].add(mention.surface)
        return out

    return run


def spacy_extractor() -> Extractor | None:
    """spaCy's ``en_core_web_sm`` when it is installed, else None."""
    try:
        import spacy  # type: ignore[import-not-found]

        nlp = spacy.load("en_core_web_sm")
    except (ImportError, OSError):  # spaCy or the model is not installed
        return None
    labels = {"GPE": "location", "LOC": "location", "FAC": "location", "PERSON": "person",
              "ORG": "organisation"}

    def run(text: str) -> Prediction:
        out: Prediction = {f: set() for f in FACETS}
        for ent in nlp(text).ents:
            facet = labels.get(ent.label_)
            if facet is not None:
                out[facet].add(ent.text)
        return out

    return run


def evaluate(name: str, extractor: Extractor, articles: Iterable[PseudoArticle],
             part: str) -> Report:
    """Run ``extractor`` over ``articles`` and score it."""
    report = Report(name, part)
    for article in articles:
        started = time.perf_counter()
        predicted = extractor(article.text)
        report.seconds += time.perf_counter() - started
        score_article(article, predicted, report)
    return report


def format_report(report: Report) -> str:
    """One line per facet: P, R, F1 and counts."""
    rate = report.articles / report.seconds if report.seconds else 0.0
    lines = [f"{report.name} on {report.part} ({report.articles} pseudo-articles, "
             f"{rate:.0f} articles/s)"]
    for facet in FACETS:
        s = report.scores[facet]
        lines.append(f"  {facet:<13} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}"
                     f"   (tp {s.tp}, fp {s.fp}, fn {s.fn})")
    return "\n".join(lines)


def speed(extractor: Extractor, articles: Sequence[PseudoArticle], rounds: int = 7) -> float:
    """Best-of-``rounds`` articles per second of ``extractor`` alone over ``articles``, in CPU
    time of this process (steadier than wall time on a shared machine)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for article in articles:
            extractor(article.text)
        best = min(best, time.process_time() - started)
    return len(articles) / best


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("dev", "heldout", "both"), default="both")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="list the errors of the first N development articles")
    parser.add_argument("--facet", choices=FACETS, help="list errors of this facet only")
    parser.add_argument("--spacy", action="store_true",
                        help="also run spaCy's en_core_web_sm when it is installed")
    parser.add_argument("--speed", action="store_true",
                        help="time extraction alone over every pseudo-article (CPU, best of 7)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the figures as JSON")
    parser.add_argument("--corpora", type=Path, default=None)
    args = parser.parse_args(argv)
    corpus = (args.corpora or default_corpora()) / "gmb-ner" / "ner_dataset.csv"
    if not corpus.is_file():
        print(f"gmb_eval: corpus not found at {corpus}", file=sys.stderr)
        return 2
    parts = split(pseudo_articles(load_sentences(corpus)))
    wanted = ["dev", "heldout"] if args.part == "both" else [args.part]
    extractors: list[tuple[str, Extractor]] = [("searchlib", searchlib_extractor())]
    if args.spacy:
        nlp = spacy_extractor()
        if nlp is None:
            print("spaCy or en_core_web_sm is not installed; skipping it", file=sys.stderr)
        else:
            extractors.append(("spacy en_core_web_sm", nlp))
    results: list[Report] = []
    for name, extractor in extractors:
        for part in wanted:
            report = evaluate(name, extractor, parts[part], part)
            results.append(report)
            print(format_report(report))
    if args.errors:
        dev = next((r for r in results if r.part == "dev"), None)
        if dev is None:
            print("errors are listed for the development part only", file=sys.stderr)
        else:
            text = {a.index: a.text for a in parts["dev"]}
            shown = sorted({i for i, *_ in dev.errors})[:args.errors]
            for index in shown:
                print(f"\n--- article {index}: {text[index][:200]!r}")
                for i, facet, fp, fn in dev.errors:
                    if i == index and (args.facet is None or facet == args.facet):
                        print(f"  {facet}: fp {fp}  fn {fn}")
    rates: dict[str, float] = {}
    if args.speed:
        everything = [*parts["dev"], *parts["heldout"]]
        for name, extractor in extractors:
            rates[name] = speed(extractor, everything)
            print(f"speed {name}: {rates[name]:.1f} articles/s "
                  f"({len(everything)} pseudo-articles, one process, CPU time, best of 7)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "matching": "unique normalised surface strings per pseudo-article; see gmb_eval.py",
            "sentences_per_article": SENTENCES_PER_ARTICLE,
            "dev_share": DEV_SHARE,
            "results": [{"extractor": r.name, "part": r.part, "articles": r.articles,
                         **{f: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                                "f1": round(s.f1, 4), "tp": s.tp, "fp": s.fp, "fn": s.fn}
                            for f, s in r.scores.items()}} for r in results],
            "articles_per_second": rates,
        }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
