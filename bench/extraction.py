"""Main-content extraction benchmark: searchlib.ingest.htmltext against trafilatura and
BeautifulSoup.

Usage::

    python bench/extraction.py [--corpus DIR] [--json OUT] [--limit N] [--through-index]

``--through-index`` scores what a user gets: the pages are indexed with ``build_index`` (the
``search index`` path: reading, HTML extraction, cleaning) and each article's stored text is
read back with ``open_index(...).get(id).text``.

The corpus is the Zyte/Scrapinghub article-extraction benchmark (181 real article pages as
``html/<id>.html.gz`` plus ``ground-truth.json`` mapping each id to its ``articleBody``). By
default it is looked up as ``shared/corpora/extraction-benchmark`` beside the repository, or
under ``$SEARCHLIB_CORPORA``.

Metric (per page, then averaged over pages):

* Tokenisation: Unicode-aware lower-cased word tokens, ``re.findall(r"\\w+", text.lower())``.
  Punctuation and whitespace are ignored, so paragraph layout does not matter.
* Texts are compared as bags of words (multisets): the overlap is
  ``sum(min(count_pred[t], count_true[t]))`` over all tokens ``t``.
* precision = overlap / len(pred tokens), recall = overlap / len(true tokens),
  F1 = their harmonic mean. A page with an empty prediction scores P = R = F1 = 0 (unless the
  ground truth is empty too, which scores 1).

Each extractor is timed on the same pages in the same run (wall-clock ms per page, one core,
excluding gzip/decoding and imports); the extractors take turns page by page so that they
share the machine's load alike. The input to every extractor is the page decoded as UTF-8.
"""

from __future__ import annotations

# The script's own folder leaves sys.path first, so only the repository's packages resolve.
import os
import sys

if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

_TOKEN = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased Unicode word tokens (the metric's unit)."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Score:
    """Token-level scores of one prediction against one ground truth."""

    precision: float
    """Share of predicted tokens that are in the ground truth (multiset overlap)."""
    recall: float
    """Share of ground-truth tokens found in the prediction."""
    f1: float
    """Harmonic mean of precision and recall."""


def score(predicted: str, truth: str) -> Score:
    """Bag-of-words precision/recall/F1 of ``predicted`` against ``truth``."""
    pred = Counter(tokenize(predicted))
    true = Counter(tokenize(truth))
    n_pred, n_true = sum(pred.values()), sum(true.values())
    if n_pred == 0 or n_true == 0:
        same = float(n_pred == n_true)
        return Score(same, same, same)
    overlap = sum((pred & true).values())
    precision, recall = overlap / n_pred, overlap / n_true
    f1 = 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)
    return Score(precision, recall, f1)


def default_corpus() -> Path:
    """Where the benchmark corpus is expected: ``$SEARCHLIB_CORPORA`` or ``../shared/corpora``."""
    root = os.environ.get("SEARCHLIB_CORPORA")
    base = Path(root) if root else _REPO.parent / "shared" / "corpora"
    return base / "extraction-benchmark"


def load_corpus(corpus: Path, limit: int | None = None) -> list[tuple[str, str, str]]:
    """Return ``(id, html, ground_truth_body)`` for each page with a ground truth, sorted by id."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages: list[tuple[str, str, str]] = []
    for page_id in sorted(truth):
        path = corpus / "html" / f"{page_id}.html.gz"
        if not path.exists():
            continue
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        pages.append((page_id, html, truth[page_id].get("articleBody") or ""))
        if limit is not None and len(pages) >= limit:
            break
    return pages


def _searchlib(html: str) -> str:
    from searchlib.ingest.htmltext import parse_html

    return parse_html(html).body


def _trafilatura(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def _get_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "lxml").get_text(" ")


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "searchlib.ingest.htmltext": _searchlib,
    "trafilatura.extract": _trafilatura,
    "bs4 get_text": _get_text,
}


@dataclass(frozen=True)
class Result:
    """Mean figures of one extractor over the corpus."""

    name: str
    """Extractor label."""
    precision: float
    """Mean per-page precision."""
    recall: float
    """Mean per-page recall."""
    f1: float
    """Mean per-page F1."""
    ms_per_page: float
    """Mean wall-clock milliseconds per page."""
    per_page_f1: dict[str, float]
    """F1 of each page id (for finding the pages an extractor gets wrong)."""


def run(
    name: str, extractor: Callable[[str], str], pages: Iterable[tuple[str, str, str]]
) -> Result:
    """Run one extractor over the pages and average its scores."""
    return run_all({name: extractor}, pages)[0]


def run_all(
    extractors: dict[str, Callable[[str], str]], pages: Iterable[tuple[str, str, str]]
) -> list[Result]:
    """Run every extractor on each page in turn and average their scores.

    Interleaving page by page (rather than one extractor after the other) exposes all of them
    to the same machine load, so their time ratios stay meaningful on a shared machine.
    """
    scores: dict[str, dict[str, Score]] = {name: {} for name in extractors}
    elapsed = dict.fromkeys(extractors, 0.0)
    for page_id, html, truth in pages:
        for name, extractor in extractors.items():
            start = time.perf_counter()
            predicted = extractor(html)
            elapsed[name] += time.perf_counter() - start
            scores[name][page_id] = score(predicted, truth)
    results = []
    for name, by_page in scores.items():
        values = list(by_page.values())
        results.append(
            Result(
                name=name,
                precision=statistics.fmean(s.precision for s in values) if values else 0.0,
                recall=statistics.fmean(s.recall for s in values) if values else 0.0,
                f1=statistics.fmean(s.f1 for s in values) if values else 0.0,
                ms_per_page=1000 * elapsed[name] / max(len(values), 1),
                per_page_f1={k: s.f1 for k, s in by_page.items()},
            )
        )
    return results


def through_index(corpus: Path, limit: int | None) -> Result:
    """Index the benchmark pages as files and score the text the index stores for each."""
    import tempfile

    import searchlib
    from searchlib.build import doc_id

    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[:limit] if limit is not None else sorted(truth)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "pages"
        src.mkdir()
        for page_id in ids:
            # The pages as a user saves them: one .html.gz file each (read decompresses).
            (src / f"{page_id}.html.gz").write_bytes((corpus / "html" / f"{page_id}.html.gz")
                                                     .read_bytes())
        start = time.perf_counter()
        searchlib.build_index([src], Path(tmp) / "ix")
        elapsed = time.perf_counter() - start
        scores: dict[str, Score] = {}
        with searchlib.open_index(Path(tmp) / "ix") as ix:
            for page_id in ids:
                try:
                    text = ix.get(doc_id(str(src / f"{page_id}.html.gz"))).text
                except KeyError:
                    text = ""  # skipped or merged: scores 0, as a user would find nothing
                scores[page_id] = score(text, truth[page_id].get("articleBody") or "")
    values = list(scores.values())
    return Result(
        name="index -> get().text",
        precision=statistics.fmean(s.precision for s in values),
        recall=statistics.fmean(s.recall for s in values),
        f1=statistics.fmean(s.f1 for s in values),
        ms_per_page=1000 * elapsed / max(len(values), 1),
        per_page_f1={k: s.f1 for k, s in scores.items()},
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the comparison table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus(), help="benchmark dir")
    parser.add_argument("--json", type=Path, default=None, help="write results as JSON here")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument(
        "--only", action="append", choices=sorted(EXTRACTORS), help="run only these extractors"
    )
    parser.add_argument(
        "--through-index", action="store_true",
        help="also index the pages with build_index and score the stored text")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    pages = load_corpus(args.corpus, args.limit)
    names = args.only or list(EXTRACTORS)
    # import the libraries before timing so that no extractor pays for an import
    for name in names:
        EXTRACTORS[name]("<html><body><p>warm up</p></body></html>")
    results = run_all({name: EXTRACTORS[name] for name in names}, pages)
    if args.through_index:
        # ms/page here is the whole build (read, extract, clean, facets, index) per page.
        results.append(through_index(args.corpus, args.limit))

    baseline = next((r for r in results if r.name == "trafilatura.extract"), None)
    print(f"{len(pages)} pages from {args.corpus}")
    header = f"{'extractor':<22} {'precision':>9} {'recall':>7} {'F1':>7} {'ms/page':>8}"
    if baseline is not None:
        header += f" {'F1 vs traf.':>11} {'time vs traf.':>13}"
    print(header)
    print("-" * len(header))
    for r in results:
        line = (
            f"{r.name:<22} {r.precision:>9.3f} {r.recall:>7.3f} {r.f1:>7.3f} {r.ms_per_page:>8.1f}"
        )
        if baseline is not None:
            ratio = r.ms_per_page / baseline.ms_per_page if baseline.ms_per_page else 0.0
            line += f" {r.f1 - baseline.f1:>+11.3f} {ratio:>12.2f}x"
        print(line)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "corpus": str(args.corpus),
            "pages": len(pages),
            "results": [r.__dict__ for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
