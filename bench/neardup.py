"""Near-duplicate detection: precision and recall of the MinHash threshold on labelled pairs.

Labelled pairs are built from real text (the TIME, CISI and Cranfield collections and the
seeds): every document of at least 60 words gets one *copy* made the ways copies arise (chrome
added around it, a changed headline line, 2% of words edited, the last 10% cut, or all of
these together; labelled positive) and is paired with every other document of its collection
(labelled negative; those include the hardest negatives: abstracts on the same subject,
TIME stories on the same event). For each threshold the script prints the precision and
recall of ``searchlib.neardup``'s decision (LSH candidates, then estimated similarity >=
threshold), and the cost of a signature per article (numpy here; datasketch when installed).

    python bench/neardup.py [--corpora DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ir_collections import load_collection  # noqa: E402

from searchlib import neardup  # noqa: E402

CHROME_TOP = ["Share this article on Facebook Twitter WhatsApp Email",
              "Subscribe to our newsletter for the latest news and analysis delivered daily",
              "Advertisement"]
CHROME_BOTTOM = ["Read more: the week in review and what comes next for the region",
                 "Copyright 2024 the publisher. All rights reserved. Reproduction prohibited",
                 "Comments are closed for this article. Follow us for updates"]
FILLER = ["reported", "officials", "said", "week", "government", "statement", "local",
          "according", "sources", "announced"]


def perturb(text: str, kind: str, rng: random.Random) -> str:
    """A copy of ``text`` as a re-post, a re-save or a lightly edited wire copy would be."""
    words = text.split()
    if kind in ("edit", "all"):
        for i in rng.sample(range(len(words)), max(1, len(words) // 50)):
            words[i] = rng.choice(FILLER)
    if kind in ("trim", "all"):
        words = words[: int(len(words) * 0.9)]
    body = " ".join(words)
    if kind in ("chrome", "all"):
        body = "\n".join([*rng.sample(CHROME_TOP, 2), "UPDATED: " + " ".join(words[:8]),
                          body, *rng.sample(CHROME_BOTTOM, 2)])
    return body


def documents(corpora: Path) -> dict[str, list[str]]:
    """Texts of at least 60 words per collection."""
    out: dict[str, list[str]] = {}
    for name in ("time", "cisi", "cranfield"):
        collection = load_collection(name, corpora)
        out[name] = [d.as_text() for d in collection.documents
                     if len(d.as_text().split()) >= 60]
    out["seeds"] = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=os.environ.get("SEARCHLIB_CORPORA",
                                                            str(REPO.parent / "shared" /
                                                                "corpora")))
    args = parser.parse_args()
    rng = random.Random(7)
    kinds = ["chrome", "edit", "trim", "all"]
    thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    per_threshold = {t: [0, 0, 0] for t in thresholds}  # tp, fp, fn
    pairs = positives = 0
    hardest_negative = 0.0
    words = 0
    started = time.perf_counter()
    signed = 0
    by_kind: dict[str, list[float]] = {k: [] for k in kinds}
    for name, texts in documents(Path(args.corpora)).items():
        originals = {f"{name}:{i}": t for i, t in enumerate(texts)}
        copies = {f"{name}:{i}:copy": perturb(t, kinds[i % len(kinds)], rng)
                  for i, t in enumerate(texts)}
        t0 = time.perf_counter()
        signatures = {}
        for doc, text in {**originals, **copies}.items():
            sig = neardup.signature(text)
            if sig is not None:
                signatures[doc] = sig
            words += len(text.split())
        signed += len(originals) + len(copies)
        sign_time = time.perf_counter() - t0
        print(f"{name}: {len(originals)} documents, {len(originals) + len(copies)} signed "
              f"in {sign_time:.2f}s", file=sys.stderr)
        for threshold in thresholds:
            grouped = neardup.members_of(neardup.group(signatures, threshold=threshold))
            for i, _ in enumerate(texts):
                a, b = f"{name}:{i}", f"{name}:{i}:copy"
                same = a in grouped and grouped[a] is grouped.get(b)
                per_threshold[threshold][0 if same else 2] += 1
            # Every original-original pair is a negative; count those grouped together.
            for group in {id(g): g for g in grouped.values()}.values():
                heads = sorted({d.removesuffix(":copy") for d in group.ids})
                per_threshold[threshold][1] += len(heads) * (len(heads) - 1) // 2
        positives += len(texts)
        pairs += len(texts) * (len(texts) - 1) // 2
        for i in range(len(texts)):
            a, b = f"{name}:{i}", f"{name}:{i}:copy"
            if a in signatures and b in signatures:
                by_kind[kinds[i % len(kinds)]].append(neardup.similarity(signatures[a],
                                                                        signatures[b]))
        # The most similar distinct originals (exact Jaccard of the top candidates).
        best = sorted(((neardup.similarity(signatures[x], signatures[y]), x, y)
                       for x in originals for y in originals
                       if x < y and x in signatures and y in signatures
                       and signatures[x][:16] == signatures[y][:16]), reverse=True)[:3]
        for _, x, y in best:
            hardest_negative = max(hardest_negative,
                                   neardup.jaccard(originals[x], originals[y]))
    total = time.perf_counter() - started
    print(f"\nlabelled pairs: {positives} positive (original, copy), {pairs:,} negative "
          f"(distinct originals of one collection)")
    for kind, values in by_kind.items():
        values.sort()
        print(f"  copy kind {kind:<6}: estimated similarity min {values[0]:.2f}, "
              f"median {values[len(values) // 2]:.2f}")
    print(f"  most similar distinct originals: exact Jaccard {hardest_negative:.2f}")
    print("\nthreshold  precision  recall   (tp / fp / fn)")
    for threshold, (tp, fp, fn) in per_threshold.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        mark = "  <- searchlib.neardup.THRESHOLD" if threshold == neardup.THRESHOLD else ""
        print(f"  {threshold:.2f}     {precision:.4f}     {recall:.4f}   "
              f"({tp} / {fp} / {fn}){mark}")
    print(f"\nsignature cost: {signed} texts, {words:,} words; "
          f"{1000 * total / max(signed, 1):.3f} ms per text (this run, grouping included)")
    sample = [t for ts in documents(Path(args.corpora)).values() for t in ts][:400]
    t0 = time.perf_counter()
    for text in sample:
        neardup.signature(text)
    ours = (time.perf_counter() - t0) / len(sample)
    print(f"numpy signature: {1000 * ours:.3f} ms per text "
          f"({sum(len(t.split()) for t in sample) / len(sample):.0f} words on average)")
    try:
        from datasketch import MinHash
    except ImportError:
        print("datasketch not installed: no comparison")
        return
    t0 = time.perf_counter()
    for text in sample:
        m = MinHash(num_perm=neardup.NUM_PERM)
        m.update_batch([s.encode() for s in neardup.shingles(text)])
    theirs = (time.perf_counter() - t0) / len(sample)
    print(f"datasketch MinHash.update_batch: {1000 * theirs:.3f} ms per text "
          f"({theirs / ours:.1f}x ours)")


if __name__ == "__main__":
    main()
