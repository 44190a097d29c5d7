"""Near-duplicate groups: signatures, grouping, the index's groups and collapsed results."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import neardup
from searchlib.build import doc_id
from searchlib.cli import cli

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "seeds").glob("*.txt"))


def corpora_dir() -> Path | None:
    """The shared corpora, as tests/conftest.py finds them (not imported from there: another
    conftest module in tests/ shadows that name)."""
    env = os.environ.get("SEARCHLIB_CORPORA")
    path = Path(env) if env else REPO.parent / "shared" / "corpora"
    return path if path.is_dir() else None


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def repost(text: str, rng: random.Random) -> str:
    """The same story re-posted: new chrome, a new first line, a few words changed."""
    words = text.split()
    for i in rng.sample(range(len(words)), len(words) // 60):
        words[i] = "reportedly"
    return ("Share this story\n\nUPDATED: " + " ".join(words[:6]) + "\n\n" + " ".join(words)
            + "\n\nSubscribe to our newsletter for more.")


def test_signatures_estimate_jaccard_and_are_stable_across_processes() -> None:
    rng = random.Random(3)
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    sigs = [neardup.signature(t) for t in texts]
    assert all(s is not None and len(s) == neardup.NUM_PERM * 4 for s in sigs)
    for text, sig in zip(texts, sigs, strict=True):
        copy = repost(text, rng)
        estimate = neardup.similarity(sig, neardup.signature(copy))  # type: ignore[arg-type]
        exact = neardup.jaccard(text, copy)
        assert estimate >= neardup.THRESHOLD and abs(estimate - exact) < 0.2
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert neardup.similarity(sigs[i], sigs[j]) < 0.2  # type: ignore[arg-type]
    assert neardup.signature("too short to be a copy of anything") is None
    # Stored on disk and compared across builds: no per-process hash seed may enter.
    code = ("import sys; from searchlib import neardup; "
            "print(neardup.signature(open(sys.argv[1]).read()).hex())")
    outputs = {subprocess.run([sys.executable, "-c", code, str(SEEDS[0])], check=True,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
               for seed in ("1", "2")}
    assert outputs == {sigs[0].hex()}  # type: ignore[union-attr]


def test_group_joins_transitively_and_orders_representatives() -> None:
    base = SEEDS[0].read_text(encoding="utf-8")
    rng = random.Random(5)
    a, b = repost(base, rng), repost(base, rng)
    other = SEEDS[1].read_text(encoding="utf-8")
    sigs = {k: neardup.signature(t) for k, t in
            {"x": base, "y": a, "z": b, "w": other}.items()}
    groups = neardup.group({k: v for k, v in sigs.items() if v is not None},
                           order=["z", "x", "y", "w"])
    assert [g.ids for g in groups] == [("z", "x", "y")]
    assert neardup.THRESHOLD <= groups[0].similarity <= 1.0


def test_index_groups_collapsed_results_show_and_duplicates_command(tmp_path: Path) -> None:
    corpus, ix = tmp_path / "corpus", str(tmp_path / "ix")
    corpus.mkdir()
    original = SEEDS[3].read_text(encoding="utf-8")
    (corpus / "original.txt").write_text(original, encoding="utf-8")
    (corpus / "copy.txt").write_text(repost(original, random.Random(1)), encoding="utf-8")
    (corpus / "other.txt").write_text(SEEDS[4].read_text(encoding="utf-8"), encoding="utf-8")
    assert run("index", str(corpus), "--index", ix, "--procs", "1")[0] == 0

    code, out, _ = run("duplicates", "--json", "--index", ix)
    (group,) = json.loads(out)
    paths = [a["path"] for a in group["articles"]]
    assert sorted(paths) == sorted([str(corpus / "original.txt"), str(corpus / "copy.txt")])
    first, second = (a["id"] for a in group["articles"])

    code, out, _ = run("query", "missile", "--json", "--index", ix)
    data = json.loads(out)
    collapsed = [h for h in data["hits"] if h["id"] in (first, second)]
    assert len(collapsed) == 1 and collapsed[0]["id"] == first
    assert collapsed[0]["copies"] == [second] and data["total"] == 2
    code, out, _ = run("query", "missile", "--no-collapse", "--json", "--index", ix)
    data = json.loads(out)
    assert data["total"] == 3 and all(h["copies"] == [] for h in data["hits"])
    code, out, _ = run("query", "missile", "--index", ix)
    assert "+1 copy" in out
    code, out, _ = run("show", second, "--json", "--index", ix)
    assert json.loads(out)["near_duplicates"] == [first]

    # Without the groups file (an older index), the next run rebuilds it from stored fields.
    (tmp_path / "ix" / neardup.GROUPS_FILE).unlink()
    assert run("index", str(corpus), "--index", ix, "--procs", "1")[0] == 0
    assert [a["id"] for a in json.loads(run("duplicates", "--json", "--index", ix)[1])[0][
        "articles"]] == [first, second]

    # Removing the copy ends the group: both other articles are hits again.
    (corpus / "copy.txt").unlink()
    assert run("index", str(corpus), "--index", ix, "--procs", "1")[0] == 0
    assert json.loads(run("duplicates", "--json", "--index", ix)[1]) == []
    code, out, _ = run("query", "missile", "--json", "--index", ix)
    assert code == 0 and json.loads(out)["total"] == 2


def _bench_module() -> object:
    spec = importlib.util.spec_from_file_location("_bench_neardup", REPO / "bench" / "neardup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(corpora_dir() is None, reason="shared corpora not available")
def test_precision_and_recall_on_labelled_time_pairs() -> None:
    """TIME stories and their perturbed copies: the threshold separates them."""
    bench = _bench_module()
    texts = bench.documents(corpora_dir())["time"]  # type: ignore[attr-defined]
    rng = random.Random(11)
    kinds = ["chrome", "edit", "trim", "all"]
    sigs = {}
    for i, text in enumerate(texts):
        sigs[f"{i}"] = neardup.signature(text)
        sigs[f"{i}:copy"] = neardup.signature(
            bench.perturb(text, kinds[i % 4], rng))  # type: ignore[attr-defined]
    grouped = neardup.members_of(neardup.group({k: v for k, v in sigs.items() if v}))
    found = sum(1 for i in range(len(texts))
                if f"{i}" in grouped and grouped[f"{i}"] is grouped.get(f"{i}:copy"))
    wrong = sum(len({d.removesuffix(":copy") for d in g.ids}) - 1
                for g in {id(g): g for g in grouped.values()}.values())
    assert found / len(texts) >= 0.95
    assert found / (found + wrong) >= 0.99


def test_the_first_indexed_of_equally_dated_copies_represents_the_group(tmp_path: Path) -> None:
    corpus, ix = tmp_path / "corpus", str(tmp_path / "ix")
    corpus.mkdir()
    original = SEEDS[0].read_text(encoding="utf-8")  # undated, like its copy
    first = corpus / "original.txt"
    # A name for the copy whose id sorts before the original's: only arrival can put the
    # original first.
    later = next(corpus / f"copy-{n}.txt" for n in range(100)
                 if doc_id(str(corpus / f"copy-{n}.txt")) < doc_id(str(first)))
    first.write_text(original, encoding="utf-8")
    assert run("index", str(corpus), "--index", ix, "--procs", "1")[0] == 0
    later.write_text(repost(original, random.Random(2)), encoding="utf-8")
    assert run("index", str(corpus), "--index", ix, "--procs", "1")[0] == 0
    (group,) = json.loads(run("duplicates", "--json", "--index", ix)[1])
    assert [a["path"] for a in group["articles"]] == [str(first), str(later)]


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(
    [*"aZq_9 \t\n.,'-", "’", "é", "\u00a0", "\u2009", "ß", "İ", "\u0301", "—", "ǅ", "Σ",
     "\x85", "\x1c", "\ud800", "中"])))
def test_word_bytes_are_the_regex_words(text: str) -> None:
    """The byte-translating word split gives exactly the ``\\w+`` words of the lower-cased
    text, in UTF-8 (what the signatures hash), whatever the characters."""
    expected = [w.encode("utf-8", "surrogatepass") for w in neardup._words(text)]
    assert neardup._word_keys(text) == expected


@pytest.mark.parametrize("size", [0, 1, 4999, 5000, 5001, 12345])
def test_the_groups_file_written_in_pieces_is_the_whole_dump(size: int) -> None:
    """neardup.groups_json's pieces join to json.dumps of the whole file, byte for byte."""
    documents = {f"h{i:05d}é": [f"sig{i}", None if i % 3 else f"2017-01-0{i % 9 + 1}"]
                 for i in range(size)}
    groups = [neardup.NearDuplicateGroup(ids=("a", "b"), similarity=0.91)] if size else []
    whole = json.dumps({
        "version": 1, "threshold": neardup.THRESHOLD, "shingle": neardup.SHINGLE,
        "num_perm": neardup.NUM_PERM,
        "groups": [{"ids": list(g.ids), "similarity": g.similarity} for g in groups],
        "documents": documents}, ensure_ascii=False)
    assert "".join(neardup.groups_json(groups, documents)) == whole
