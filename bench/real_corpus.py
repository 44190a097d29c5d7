"""A real-length corpus for the scale benchmark: whole real documents, sampled by length.

``bench/gen_corpus.py`` builds articles out of real sentences, 200-3,000 words each. This
script builds the other corpus ``bench/scale.py`` reports: every file is one whole real
document, unedited, and the documents are drawn so that the corpus's length distribution
follows real news (log-normal, median about 500 words, a long tail) instead of the sources'
own (mostly short abstracts).

Sources (``$SEARCHLIB_CORPORA``, else ``shared/corpora`` beside the repository; read each
``SOURCE.md``):

* TIME (423 news articles of 1963, median ~480 words; all upper case, as distributed),
* the extraction benchmark's ground-truth article bodies (181 real web articles of 2010s
  news and blogs, median ~530 words, up to ~8,000),
* Cranfield (1,400 aeronautics abstracts) and CISI (1,460 library-science abstracts), title
  line, blank line, abstract (median ~145 and ~120 words).

GMB-NER is left out: it is sentences without article boundaries, and grouping them into
articles would be writing documents, not sampling them.

Sampling: documents are put in length bins (a quarter of a power of two wide, by word count);
each bin gets the share of the target log-normal distribution that falls in it, spread evenly
over the documents in it (bins the sources leave empty give their share to the rest). Drawing
``--n`` documents with replacement by those weights gives the target shape; since the sources
hold only ~600 documents over 400 words, most of them are drawn several times. Each copy is a
file of its own (``docs/NNN/NNNNNN-<source>-<id>.txt``), byte-identical to the other copies of
the same document. ``corpus.json`` records how many distinct documents were used.

What duplicates do to searchlib's build: every copy is read, cleaned, extracted and written to
a worker's segment like any file (so ingest does the full work for every file), then the
copies of one cleaned text are grouped by content hash at commit and only one stays live
(the others are deleted in the new segment and listed as paths of the kept document). The
near-duplicate grouping that follows sees only the live, distinct texts; it is kept on (it is
part of every default build). The baselines index every copy as a document of its own.

``manifest.jsonl`` has one line per file in the format ``gen_corpus.py`` writes, so the
benchmark tools read both corpora alike: the title is the file's first non-blank line, and
there is no ground truth for facets or dates (``actors``, ``locations``, ``people`` empty,
``published`` null): the baselines index no facet values, and the query mix has no actor or
place filters on this corpus.

Usage::

    python bench/real_corpus.py --n 10000 --seed 1 --out bench/corpora/real10000

Without the shared corpora it prints why and exits with status 0 having written nothing (the
benchmark skips this corpus then).
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/real_corpus.py``, bench/ is first on sys.path instead of the
# repository: swap them so ``bench.*`` imports from the checkout. Only ``os`` and ``sys``
# (already loaded by the interpreter) may be imported before the path is fixed.
if not __package__:
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse
import json
import math
import random
import shutil
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ir_collections import load_collection

__all__ = [
    "DEFAULT_CORPORA",
    "MEDIAN_WORDS",
    "SIGMA",
    "CorporaMissing",
    "RealText",
    "generate",
    "load_texts",
    "main",
    "sample",
]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = Path(os.environ.get("SEARCHLIB_CORPORA") or REPO.parent / "shared" / "corpora")
VERSION = 1
MEDIAN_WORDS = 500
"""Median of the target length distribution, in words."""
SIGMA = 0.75
"""Spread of the target log-normal (natural log): 5% of articles under ~145 words, 5% over
~1,700, 1% over ~2,900 (a long tail, as in news archives that mix briefs and features)."""
BINS_PER_OCTAVE = 4
SHARD_SIZE = 500


class CorporaMissing(Exception):
    """The shared corpora are not where they were looked for."""


@dataclass(frozen=True)
class RealText:
    """One whole source document, as a plain-text file holds it."""

    name: str
    """``<source>-<id>``, unique over all sources."""
    source: str
    """``time``, ``cranfield``, ``cisi`` or ``extraction-benchmark``."""
    text: str
    """The file's text: the document unchanged (a title line first where it has a title)."""

    @property
    def words(self) -> int:
        """Whitespace-separated words in the text."""
        return len(self.text.split())


def load_texts(corpora: Path) -> list[RealText]:
    """Every document of the four sources, in a stable order.

    Raises :class:`CorporaMissing` when a source is absent.
    """
    needed = [corpora / "time" / "TIME.ALL", corpora / "cranfield" / "cran.all.1400",
              corpora / "cisi" / "CISI.ALL", corpora / "extraction-benchmark" / "ground-truth.json"]
    absent = [str(p) for p in needed if not p.is_file()]
    if absent:
        raise CorporaMissing(f"shared corpora not found ({', '.join(absent)}); set "
                             "SEARCHLIB_CORPORA or pass --corpora")
    texts: list[RealText] = []
    for name in ("time", "cranfield", "cisi"):
        for doc in load_collection(name, corpora).documents:
            texts.append(RealText(f"{name}-{doc.id}", name, doc.as_text()))
    truth = json.loads((corpora / "extraction-benchmark" / "ground-truth.json")
                       .read_text(encoding="utf-8"))
    for item in sorted(truth):
        body = str(truth[item].get("articleBody") or "").strip()
        if body:
            texts.append(RealText(f"eb-{item}", "extraction-benchmark", body + "\n"))
    return texts


def _bin(words: int) -> int:
    return math.floor(math.log2(max(words, 1)) * BINS_PER_OCTAVE)


def _target_mass(b: int) -> float:
    """Share of the target log-normal falling in length bin ``b``."""
    lo, hi = 2 ** (b / BINS_PER_OCTAVE), 2 ** ((b + 1) / BINS_PER_OCTAVE)

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((math.log(x) - math.log(MEDIAN_WORDS)) / (SIGMA * math.sqrt(2))))

    return cdf(hi) - cdf(lo)


def sample(texts: Sequence[RealText], n: int, seed: int) -> list[RealText]:
    """``n`` documents drawn with replacement so that their lengths follow the target."""
    by_bin: dict[int, list[int]] = {}
    for i, text in enumerate(texts):
        by_bin.setdefault(_bin(text.words), []).append(i)
    weights = [0.0] * len(texts)
    for b, members in by_bin.items():
        for i in members:
            weights[i] = _target_mass(b) / len(members)
    rng = random.Random(seed)
    return [texts[i] for i in rng.choices(range(len(texts)), weights, k=n)]


def generate(n: int, seed: int, out: Path, *, corpora: Path = DEFAULT_CORPORA) -> dict[str, Any]:
    """Write ``n`` files under ``out/docs`` with ``manifest.jsonl`` and ``corpus.json``.

    ``out`` is replaced if it exists and is a corpus (it has ``corpus.json``); otherwise a
    non-empty ``out`` is refused. Raises :class:`CorporaMissing` without the sources.
    """
    if n < 1:
        raise ValueError("--n must be at least 1")
    texts = load_texts(corpora)
    if out.exists():
        if any(out.iterdir()) and not (out / "corpus.json").is_file():
            raise FileExistsError(f"{out} exists and is not a corpus; not replacing")
        shutil.rmtree(out)
    (out / "docs").mkdir(parents=True)
    (out / "corpus.json").write_text('{"complete": false}\n', encoding="utf-8")
    chosen = sample(texts, n, seed)
    total = 0
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for number, text in enumerate(chosen):
            rel = f"docs/{number // SHARD_SIZE:03d}/{number:06d}-{text.name}.txt"
            path = out / rel
            path.parent.mkdir(exist_ok=True)
            data = text.text.encode("utf-8")
            path.write_bytes(data)
            total += len(data)
            title = next((line.strip()[:300] for line in text.text.splitlines() if line.strip()),
                         "")
            manifest.write(json.dumps({
                "key": rel, "format": "text", "title": title, "published": None,
                "date_in": "none", "source": text.source, "origin": text.name,
                "actors": [], "locations": [], "people": [], "words": text.words,
            }, ensure_ascii=False) + "\n")
    words = sorted(t.words for t in chosen)
    distinct = Counter(t.name for t in chosen)
    summary: dict[str, Any] = {
        "kind": "real-length",
        "version": VERSION,
        "ground_truth": False,
        "n": n,
        "seed": seed,
        "files": n,
        "bytes": total,
        "target": {"median_words": MEDIAN_WORDS, "sigma": SIGMA},
        "words": {
            "median": statistics.median(words),
            "mean": round(statistics.fmean(words), 1),
            "p5": words[int(0.05 * (n - 1))],
            "p95": words[int(0.95 * (n - 1))],
            "max": words[-1],
        },
        "distinct_documents": len(distinct),
        "most_copies": max(distinct.values()),
        "documents_by_source": dict(sorted(Counter(t.source for t in chosen).items())),
        "available_by_source": dict(sorted(Counter(t.source for t in texts).items())),
        "docs_dir": "docs",
        "manifest": "manifest.jsonl",
    }
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of files (documents)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (replaced)")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA,
                        help="shared corpora folder (TIME, Cranfield, CISI, extraction benchmark)")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.n, args.seed, args.out, corpora=args.corpora)
    except CorporaMissing as exc:
        print(f"real_corpus: skipped: {exc}", file=sys.stderr)
        return 0
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    w = summary["words"]
    print(f"{summary['n']} files ({summary['distinct_documents']} distinct documents, at most "
          f"{summary['most_copies']} copies of one), {summary['bytes'] / 1e6:.1f} MB, words "
          f"median {w['median']}, mean {w['mean']}, p95 {w['p95']}, max {w['max']} -> "
          f"{args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
