"""Near-duplicates folded into one hit on the OpenSearch engine, as on Whoosh (real node).

The generated corpus plus re-posts of 25 of its stories (new chrome, a new first line, a few
words changed; every third also re-posted a second way), indexed by both engines: with
collapsing on, the same totals (groups), the same hits with the same ``copies``, the same
facet counts (which count articles), for queries, facet and date filters, ``ids`` and sorts.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from oscluster import Cluster, ExportedCorpus
from test_neardup import repost  # tests/ is on the path (its conftest.py)

from searchlib import build_index, open_index
from searchlib.cli import cli

pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

#: Stories re-posted (each with a group of 2 or 3).
REPOSTED = 25


@dataclass
class Pair:
    """The same files, near-duplicates included, in a Whoosh and an OpenSearch folder."""

    whoosh: Path
    remote: Path


@pytest.fixture(scope="module")
def pair(exported_corpus: ExportedCorpus, opensearch_node: Cluster,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("os-collapse")
    docs = root / "docs"
    shutil.copytree(exported_corpus.index_dir.parent / "corpus" / "docs", docs)
    rng = random.Random(5)
    reposts = docs / "reposts"
    reposts.mkdir()
    for i, path in enumerate(sorted(docs.rglob("*.txt"))[:REPOSTED]):
        text = path.read_text(encoding="utf-8")
        (reposts / f"repost{i}.txt").write_text(repost(text, rng), encoding="utf-8")
        if i % 3 == 0:
            (reposts / f"repost{i}b.txt").write_text(
                text.replace(".", ". Indeed,", 1) + "\n\nRead more.", encoding="utf-8")
    build_index([docs], root / "whoosh", procs=1)
    result = CliRunner().invoke(cli, [
        "index", str(docs), "--index", str(root / "remote"), "--procs", "1",
        "--engine", "opensearch", "--opensearch-url", opensearch_node.url,
        "--opensearch-index", "collapse-test"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield Pair(whoosh=root / "whoosh", remote=root / "remote")
    shutil.rmtree(root, ignore_errors=True)


def _cases(whoosh: Any) -> list[tuple[str, dict[str, Any]]]:
    everything = whoosh.search("*")
    actor = next(iter(everything.facets["actor"]))
    location = next(iter(everything.facets["location"]))
    groups = whoosh.near_duplicate_groups()
    # Some groups whole, some by a later member only, some by their representative only.
    ids = {g[1] for g in groups[:10]} | {g[0] for g in groups[5:15]}
    return [("*", {}), ("government", {}), ("reportedly", {}), ("share story", {}),
            ("indeed", {}), ("*", {"sort": "newest"}), ("government", {"sort": "oldest"}),
            ("*", {"actors": [actor]}), ("*", {"locations": [location], "date_from": "2019"}),
            ("*", {"ids": ids}), ("government", {"ids": ids}), (f'actor:"{actor}"', {})]


def test_collapsed_hits_totals_copies_and_counts_equal_whoosh_s(
        pair: Pair, capsys: pytest.CaptureFixture[str]) -> None:
    overlaps: list[float] = []
    with open_index(pair.whoosh) as whoosh, open_index(pair.remote) as remote:
        groups = whoosh.near_duplicate_groups()
        assert len(groups) >= REPOSTED - 2 and any(len(g) == 3 for g in groups)
        assert sorted(remote.near_duplicate_groups()) == sorted(groups)
        folded_somewhere = False
        for text, options in _cases(whoosh):
            ours = whoosh.search(text, limit=300, **options)
            theirs = remote.search(text, limit=300, **options)
            assert theirs.total == ours.total == len(ours.hits), (text, options)
            assert ({h.id: h.copies for h in theirs.hits}
                    == {h.id: h.copies for h in ours.hits}), (text, options)
            assert theirs.facets == ours.facets, (text, options)
            flat = remote.search(text, limit=300, collapse=False, **options)
            assert flat.total == ours.total + sum(len(h.copies) for h in ours.hits)
            folded_somewhere |= flat.total > theirs.total
            first = whoosh.search(text, limit=10, page=2, **options)
            second = remote.search(text, limit=10, page=2, **options)
            assert second.total == first.total and len(second.hits) == len(first.hits)
            if options.get("sort", "relevance") == "relevance" and text != "*":
                top = {h.id for h in ours.hits[:10]} & {h.id for h in theirs.hits[:10]}
                overlaps.append(len(top) / min(10, len(ours.hits)))
        assert folded_somewhere
    mean = sum(overlaps) / len(overlaps)
    with capsys.disabled():
        print(f"\ncollapse: {len(groups)} groups; mean top-10 overlap {mean:.2f} over "
              f"{len(overlaps)} relevance-ranked cases")
    assert mean >= 0.8


def test_the_cli_folds_copies_and_no_collapse_lists_them(pair: Pair) -> None:
    def query(folder: Path, *extra: str) -> Any:
        result = CliRunner().invoke(cli, ["query", "reportedly OR share", "--json", "--limit",
                                          "300", "--index", str(folder), *extra],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    ours, theirs = query(pair.whoosh), query(pair.remote)
    assert theirs["total"] == ours["total"]
    assert ({h["id"]: h["copies"] for h in theirs["hits"]}
            == {h["id"]: h["copies"] for h in ours["hits"]})
    assert any(h["copies"] for h in theirs["hits"])
    flat = query(pair.remote, "--no-collapse")
    assert all(h["copies"] == [] for h in flat["hits"])
    assert flat["total"] == theirs["total"] + sum(len(h["copies"]) for h in theirs["hits"])


def test_an_index_made_before_the_collapse_fields_gains_them_on_the_next_run(
        pair: Pair, opensearch_node: Cluster, tmp_path: Path) -> None:
    """An index written by a searchlib without ``near_key``/``near_rank``: searched as it
    is (not collapsed, no error), then ``search index`` adds the fields to its mapping and
    sends every document again, after which its hits collapse as Whoosh's."""
    from dataclasses import replace

    from searchlib.engine.opensearch import connection_settings
    from searchlib.engine.opensearch.ingest import _records, engine_mapping, fingerprint
    from searchlib.engine.opensearch.record import read_engine_record, write_engine_record
    from searchlib.opensearch import OpenSearchIndex

    folder = tmp_path / "old"
    docs = pair.whoosh.parent / "docs"
    args = ["index", str(docs), "--index", str(folder), "--procs", "1"]
    result = CliRunner().invoke(cli, [*args, "--engine", "opensearch", "--opensearch-url",
                                      opensearch_node.url, "--opensearch-index",
                                      "collapse-old"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # What the older searchlib left: its mapping and records without the two fields, and
    # the fingerprints of those records.
    mapping = engine_mapping()
    for name in ("near_key", "near_rank"):
        del mapping["mappings"]["properties"][name]
    with open_index(folder) as current:  # the records as this searchlib makes them
        old = [{k: v for k, v in r.items() if k not in ("near_key", "near_rank")}
               for r in _records(current)]
    with OpenSearchIndex(connection_settings(opensearch_node.url, env={}),
                         "collapse-old") as remote:
        client = remote._client
        client.indices.delete(index="collapse-old")
        client.indices.create(index="collapse-old", body=mapping)
        assert remote.load(old).failed == ()
    record = read_engine_record(folder)
    assert record is not None
    write_engine_record(folder, replace(record, sent={r["id"]: fingerprint(r) for r in old}))

    with open_index(pair.whoosh) as whoosh:
        expected = whoosh.search("*", limit=300)
    with open_index(folder) as before:
        flat = before.search("*", limit=300)
        assert flat.total == len(old) > expected.total  # not collapsed, and no error
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sent"] == len(old)
    with open_index(folder) as after:
        folded = after.search("*", limit=300)
        assert folded.total == expected.total
        assert ({h.id: h.copies for h in folded.hits}
                == {h.id: h.copies for h in expected.hits})
