"""Facet quality: extracted actors, places, people and publication dates against hand annotations.

Usage::

    python bench/facets_eval.py [--json OUT] [--corpora DIR] [--source seed|benchmark|time]

The annotations are ``tests/data/facets_eval/*.yaml``, one file per article (the format and the
annotation guidelines are in ``tests/data/facets_eval/README.md``). Each names its text:

* ``seed``: a file of the repository's ``seeds/`` folder, read as a text article;
* ``benchmark``: an item of the Zyte/Scrapinghub article-extraction benchmark. The page's HTML goes
  through :func:`searchlib.ingest.clean.clean_document` for its title and metadata (the published
  date
  comes from the page's own meta tags), while the body is the benchmark's ground-truth
  ``articleBody`` through :func:`searchlib.ingest.clean.clean_text`, so that main-content extraction
  errors do not count as facet errors;
* ``time``: a ``*TEXT`` document of the TIME 1963 collection (all upper case). Its header date is
  passed as ``published`` metadata, as a reader of that format would.

Corpora are looked up under ``$SEARCHLIB_CORPORA`` or ``shared/corpora`` beside the repository;
annotations whose corpus is absent are skipped and listed.

Every article is cleaned, then :func:`searchlib.ingest.extract.extract` runs on it. Metrics per
facet
(``actor``, ``location``, ``person``), comparing sets of canonical names (case-insensitive,
whitespace-collapsed):

* micro precision / recall: over all (article, name) pairs;
* macro precision / recall: the mean over articles of per-article precision (articles where
  something was predicted) and recall (articles whose annotation lists something);
* published-date accuracy: share of articles whose extracted ``published`` equals the
  annotation (an annotated ``null`` is right only when nothing is extracted).

The false positives and false negatives are listed per article so the gazetteer can be fixed.
"""

from __future__ import annotations

import os
import sys

# The script's own folder leaves sys.path first, so only the repository's packages resolve.
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import datetime as dt
import gzip
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from searchlib.models import CleanedArticle, Extraction, SourceDocument  # noqa: E402

ANNOTATIONS = _REPO / "tests" / "data" / "facets_eval"
SEEDS = _REPO / "seeds"
FACETS: tuple[str, ...] = ("actor", "location", "person")
SOURCES: tuple[str, ...] = ("seed", "benchmark", "time")
_FACET_FIELDS = {"actor": "actors", "location": "locations", "person": "people"}
_TIME_HEADER = re.compile(
    r"^\*TEXT\s+(\d+)\s+(\d{1,2})/(\d{1,2})\s*/?\s*(\d{2})\s+PAGE\s+\d+\s*$", re.MULTILINE
)


class CorpusMissing(Exception):
    """The corpus an annotation refers to is not on this machine."""


@dataclass(frozen=True)
class Annotation:
    """One hand-annotated article."""

    id: str
    """Annotation id (the file name without ``.yaml``)."""
    source: str
    """Where the text is: ``seed``, ``benchmark`` or ``time``."""
    ref: str
    """Seed file name, benchmark item id, or TIME document number."""
    published: dt.date | None
    """The true publication date, or None when the article does not state one."""
    actors: frozenset[str]
    """Canonical actor names."""
    locations: frozenset[str]
    """Canonical location names."""
    people: frozenset[str]
    """Person names."""
    optional: frozenset[str] = frozenset()
    """Names that may be extracted or not (debatable mentions): in a facet whose annotated names
    do not include them, extracting them counts neither way."""
    title: str | None = None
    """Headline, for sources whose text has none."""

    def gold(self, facet: str) -> frozenset[str]:
        """The annotated names of one facet."""
        names: frozenset[str] = getattr(self, _FACET_FIELDS[facet])
        return names


@dataclass(frozen=True)
class ArticleInput:
    """What the extraction receives for one article."""

    title: str
    body: str
    dateline: str | None
    metadata: Mapping[str, Any]


def _names(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of strings")
    return frozenset(value)


def load_annotation(path: Path) -> Annotation:
    """Read one annotation file; raise ``ValueError`` naming the file when it is malformed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    source = data.get("source")
    if source not in SOURCES:
        raise ValueError(f"{path}: source must be one of {', '.join(SOURCES)}")
    published = data.get("published")
    if published is not None and not isinstance(published, dt.date):
        raise ValueError(f"{path}: published must be a YYYY-MM-DD date or null")
    title = data.get("title")
    optional = _names(data.get("optional"), f"{path}: optional")
    return Annotation(
        id=path.stem,
        source=source,
        ref=str(data["ref"]),
        published=published,
        actors=_names(data.get("actors"), f"{path}: actors"),
        locations=_names(data.get("locations"), f"{path}: locations"),
        people=_names(data.get("people"), f"{path}: people"),
        optional=optional,
        title=title if isinstance(title, str) else None,
    )


def load_annotations(directory: Path = ANNOTATIONS) -> list[Annotation]:
    """All annotations of ``directory``, sorted by id."""
    return [load_annotation(path) for path in sorted(directory.glob("*.yaml"))]


def default_corpora() -> Path:
    """Where the corpora are expected: ``$SEARCHLIB_CORPORA`` or ``../shared/corpora``."""
    root = os.environ.get("SEARCHLIB_CORPORA")
    return Path(root) if root else _REPO.parent / "shared" / "corpora"


@lru_cache(maxsize=4)
def _time_documents(path: Path) -> dict[str, tuple[dt.date, str]]:
    """TIME documents by number (without leading zeros): header date and text."""
    text = path.read_text(encoding="latin-1")
    headers = list(_TIME_HEADER.finditer(text))
    documents: dict[str, tuple[dt.date, str]] = {}
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body = text[header.end() : end].replace("*STOP", "").strip()
        number, month, day, year = (int(group) for group in header.groups())
        documents[str(number)] = (dt.date(1900 + year, month, day), body)
    return documents


@lru_cache(maxsize=4)
def _benchmark_truth(path: Path) -> dict[str, Any]:
    truth: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return truth


def _from_cleaned(cleaned: CleanedArticle, metadata: Mapping[str, Any]) -> ArticleInput:
    return ArticleInput(cleaned.title, cleaned.body, cleaned.dateline, metadata)


def load_article(annotation: Annotation, corpora: Path) -> ArticleInput:
    """Read and clean the text an annotation refers to; raise :class:`CorpusMissing` if absent."""
    from searchlib.ingest.clean import clean_document, clean_text

    if annotation.source == "seed":
        path = SEEDS / annotation.ref
        document = SourceDocument(
            path=str(path), key=str(path), format="text", text=path.read_text(encoding="utf-8")
        )
        cleaned = clean_document(document)
        return _from_cleaned(cleaned, cleaned.metadata)
    if annotation.source == "time":
        collection = corpora / "time" / "TIME.ALL"
        if not collection.is_file():
            raise CorpusMissing(str(collection))
        header_date, text = _time_documents(collection)[str(int(annotation.ref))]
        cleaned = clean_text(text)
        return _from_cleaned(cleaned, {**cleaned.metadata, "published": header_date.isoformat()})
    benchmark = corpora / "extraction-benchmark"
    page = benchmark / "html" / f"{annotation.ref}.html.gz"
    truth_file = benchmark / "ground-truth.json"
    if not page.is_file() or not truth_file.is_file():
        raise CorpusMissing(str(page))
    with gzip.open(page, "rb") as handle:
        markup = handle.read().decode("utf-8", errors="replace")
    truth = _benchmark_truth(truth_file)[annotation.ref]
    document = SourceDocument(
        path=str(page),
        key=str(page),
        format="html",
        text=markup,
        metadata={"url": truth["url"]},
    )
    from_page = clean_document(document)
    title = annotation.title or from_page.title
    cleaned = clean_text(truth["articleBody"], title_hint=title)
    return ArticleInput(
        title, cleaned.body, cleaned.dateline or from_page.dateline, from_page.metadata
    )


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


@dataclass
class FacetScore:
    """Counts and rates for one facet."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)

    def add(
        self, gold: Iterable[str], predicted: Iterable[str], optional: Iterable[str] = ()
    ) -> tuple[list[str], list[str]]:
        """Count one article; return its false positives and false negatives (sorted).

        Predicted names listed in ``optional`` (and not in ``gold``) are left out of the counts.
        """
        gold_keys = {_key(name): name for name in gold}
        ignored = {_key(name) for name in optional} - gold_keys.keys()
        predicted_keys = {_key(name): name for name in predicted if _key(name) not in ignored}
        hits = gold_keys.keys() & predicted_keys.keys()
        false_positives = sorted(predicted_keys[k] for k in predicted_keys.keys() - hits)
        false_negatives = sorted(gold_keys[k] for k in gold_keys.keys() - hits)
        self.tp += len(hits)
        self.fp += len(false_positives)
        self.fn += len(false_negatives)
        if predicted_keys:
            self.precisions.append(len(hits) / len(predicted_keys))
        if gold_keys:
            self.recalls.append(len(hits) / len(gold_keys))
        return false_positives, false_negatives

    @property
    def micro_precision(self) -> float:
        """Share of predicted names that are annotated (1.0 when nothing was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def micro_recall(self) -> float:
        """Share of annotated names that were predicted (1.0 when nothing is annotated)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def macro_precision(self) -> float:
        """Mean per-article precision over articles with predictions."""
        return sum(self.precisions) / len(self.precisions) if self.precisions else 1.0

    @property
    def macro_recall(self) -> float:
        """Mean per-article recall over articles with annotations."""
        return sum(self.recalls) / len(self.recalls) if self.recalls else 1.0

    def summary(self) -> dict[str, float | int]:
        """The figures, for printing and JSON."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "micro_precision": round(self.micro_precision, 4),
            "micro_recall": round(self.micro_recall, 4),
            "macro_precision": round(self.macro_precision, 4),
            "macro_recall": round(self.macro_recall, 4),
        }


@dataclass
class ArticleResult:
    """Errors found on one article."""

    id: str
    source: str
    published_expected: str | None
    published_found: str | None
    published_source: str | None
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def date_ok(self) -> bool:
        """Whether the extracted publication date equals the annotation."""
        return self.published_expected == self.published_found


@dataclass
class Report:
    """The whole evaluation."""

    facets: dict[str, FacetScore]
    articles: list[ArticleResult]
    skipped: list[str]
    seconds: float

    @property
    def date_accuracy(self) -> float:
        """Share of evaluated articles whose publication date is right."""
        if not self.articles:
            return 1.0
        return sum(result.date_ok for result in self.articles) / len(self.articles)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form of the report."""
        return {
            "articles": len(self.articles),
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "facets": {facet: score.summary() for facet, score in self.facets.items()},
            "published_accuracy": round(self.date_accuracy, 4),
            "per_article": [
                {**asdict(result), "date_ok": result.date_ok} for result in self.articles
            ],
        }


Extractor = Callable[[ArticleInput], Extraction]


def default_extractor(article: ArticleInput) -> Extraction:
    """Run the library's extraction on a cleaned article."""
    from searchlib.ingest.extract import extract

    return extract(
        article.title, article.body, metadata=article.metadata, dateline=article.dateline
    )


def evaluate(
    annotations: Sequence[Annotation],
    corpora: Path,
    extractor: Extractor = default_extractor,
) -> Report:
    """Clean, extract and score every annotation whose text is available."""
    facets = {facet: FacetScore() for facet in FACETS}
    articles: list[ArticleResult] = []
    skipped: list[str] = []
    started = time.perf_counter()
    for annotation in annotations:
        try:
            article = load_article(annotation, corpora)
        except CorpusMissing as missing:
            skipped.append(f"{annotation.id}: {missing} not found")
            continue
        extraction = extractor(article)
        result = ArticleResult(
            id=annotation.id,
            source=annotation.source,
            published_expected=_iso(annotation.published),
            published_found=_iso(extraction.published),
            published_source=extraction.published_source,
        )
        for facet in FACETS:
            predicted: tuple[str, ...] = getattr(extraction, _FACET_FIELDS[facet])
            false_positives, false_negatives = facets[facet].add(
                annotation.gold(facet), predicted, annotation.optional
            )
            if false_positives or false_negatives:
                result.errors[facet] = {"fp": false_positives, "fn": false_negatives}
        articles.append(result)
    return Report(facets, articles, skipped, time.perf_counter() - started)


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date is not None else None


def format_report(report: Report) -> str:
    """The human-readable report: a table per facet, date accuracy, then the errors."""
    lines = [
        f"{len(report.articles)} articles evaluated in {report.seconds:.2f} s"
        + (f", {len(report.skipped)} skipped (corpus absent)" if report.skipped else ""),
        "",
        f"{'facet':<10}{'micro P':>9}{'micro R':>9}{'macro P':>9}{'macro R':>9}"
        f"{'TP':>6}{'FP':>6}{'FN':>6}",
    ]
    for facet, score in report.facets.items():
        lines.append(
            f"{facet:<10}{score.micro_precision:>9.3f}{score.micro_recall:>9.3f}"
            f"{score.macro_precision:>9.3f}{score.macro_recall:>9.3f}"
            f"{score.tp:>6}{score.fp:>6}{score.fn:>6}"
        )
    right = sum(result.date_ok for result in report.articles)
    lines += [
        "",
        f"published date: {right}/{len(report.articles)} right ({report.date_accuracy:.3f})",
    ]
    for result in report.articles:
        if not result.date_ok:
            lines.append(
                f"  {result.id}: expected {result.published_expected}, "
                f"got {result.published_found} ({result.published_source})"
            )
    lines += ["", "errors (FP = extracted but not annotated, FN = annotated but missed):"]
    for result in report.articles:
        for facet, errors in result.errors.items():
            if errors["fp"]:
                lines.append(f"  {result.id} {facet} FP: {', '.join(errors['fp'])}")
            if errors["fn"]:
                lines.append(f"  {result.id} {facet} FN: {', '.join(errors['fn'])}")
    for reason in report.skipped:
        lines.append(f"skipped {reason}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--corpora", type=Path, default=None, help="corpora root directory")
    parser.add_argument("--source", choices=SOURCES, help="evaluate one kind of source only")
    args = parser.parse_args(argv)
    annotations = [
        annotation
        for annotation in load_annotations()
        if args.source is None or annotation.source == args.source
    ]
    report = evaluate(annotations, args.corpora or default_corpora())
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
