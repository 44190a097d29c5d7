"""OpenSearch as the index's engine, through the CLI and ``open_index``, on a real node.

The generated corpus (the files behind ``exported_corpus``'s Whoosh index) is indexed with
``search index --engine opensearch``; every other command then follows the folder's engine
record. Their answers are compared with the Whoosh index of the same files: equal totals,
equal facet counts, the same stored articles. Whoosh is asked with ``--no-collapse`` (the
generated corpus has no near-duplicates; collapsing is compared in
test_opensearch_collapse.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from oscluster import Cluster, ExportedCorpus

from searchlib import open_index
from searchlib.cli import cli

pytest.importorskip("opensearchpy")

pytestmark = pytest.mark.opensearch

FACET_KINDS = ("actor", "location", "person", "year", "month", "mentioned")


@dataclass
class Indexed:
    """The same files in a Whoosh index and in an OpenSearch-engine index folder."""

    whoosh: Path
    remote: Path
    docs: Path
    url: str
    first_run: dict[str, Any]


def run(*args: str, code: int = 0) -> str:
    """``search ARGS`` in-process; its stdout (asserting its exit status)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (args, result.output, result.stderr)
    return result.stdout


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


@pytest.fixture(scope="module")
def indexed(exported_corpus: ExportedCorpus, opensearch_node: Cluster,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexed]:
    docs = exported_corpus.index_dir.parent / "corpus" / "docs"
    remote = tmp_path_factory.mktemp("os-engine") / "ix"
    first = run_json("index", str(docs), "--index", str(remote), "--procs", "1",
                     "--engine", "opensearch", "--opensearch-url", opensearch_node.url,
                     "--opensearch-index", "engine-test")
    yield Indexed(whoosh=exported_corpus.index_dir, remote=remote, docs=docs,
                  url=opensearch_node.url, first_run=first)
    shutil.rmtree(remote.parent, ignore_errors=True)


def test_the_index_command_sends_every_article_once_and_then_nothing(indexed: Indexed) -> None:
    first = indexed.first_run
    assert first["engine"] == "opensearch" and first["opensearch_index"] == "engine-test"
    assert first["added"] == first["sent"] == 200 and first["failed"] == []
    # The engine is recorded: no --engine, URL or name needed to update the index.
    again = run_json("index", str(indexed.docs), "--index", str(indexed.remote))
    assert again["engine"] == "opensearch"
    assert (again["sent"], again["deleted"], again["added"], again["unchanged"]) == (0, 0, 0,
                                                                                      200)
    assert run_json("stats", "--index", str(indexed.remote))["documents"] == 200


QUERIES: list[tuple[str, ...]] = [
    ("*",), ("missile",), ("attack", "--location", "Iran"),
    ("oil prices", "--actor", "United States", "--from", "2010", "--to", "2020-06"),
    ("*", "--person", "Nikita Khrushchev"), ("*", "--to", "2015-03"),
    ('"prime minister"',), ("missile AND attack",), ("Iran NOT Iraq",),
    ("title:Iran",), ("missil*",), ("actor:Iran",), ("date:[2010 TO 2012-06]",),
    ("location:Syria attack",), ("Iran", "--sort", "newest"),
]


@pytest.mark.parametrize("args", QUERIES, ids=lambda a: " ".join(a))
def test_cli_queries_answer_as_the_whoosh_index(indexed: Indexed, args: tuple[str, ...]
                                                ) -> None:
    options = ("--no-collapse", "-n", "200")
    ours = run_json("query", *args, "--index", str(indexed.whoosh), *options)
    theirs = run_json("query", *args, "--index", str(indexed.remote), *options)
    assert theirs["total"] == ours["total"] > 0
    assert {h["id"] for h in theirs["hits"]} == {h["id"] for h in ours["hits"]}
    for kind in FACET_KINDS:
        assert theirs["facets"][kind] == ours["facets"][kind], kind


def test_cli_pages_snippets_and_offsets(indexed: Indexed) -> None:
    every = run_json("query", "attack", "--index", str(indexed.remote), "-n", "30")["hits"]
    second = run_json("query", "attack", "--index", str(indexed.remote), "-n", "10",
                      "--page", "2")["hits"]
    assert [h["id"] for h in second] == [h["id"] for h in every[10:20]]
    marked = [h["snippet"][a:b].lower() for h in every for a, b in h["highlights"]]
    assert marked and all(word.startswith("attack") for word in marked), marked


def test_show_prints_the_article_the_whoosh_index_stores(indexed: Indexed) -> None:
    hits = run_json("query", "*", "--index", str(indexed.whoosh), "-n", "25")["hits"]
    for doc_id in [h["id"] for h in hits]:
        ours = run_json("show", doc_id, "--index", str(indexed.whoosh))
        theirs = run_json("show", doc_id, "--index", str(indexed.remote))
        assert theirs == ours
    out = CliRunner().invoke(cli, ["show", "no-such-id", "--index", str(indexed.remote)])
    assert out.exit_code == 2 and "no article with id 'no-such-id'" in out.stderr


def test_facets_command_counts_as_the_whoosh_index(indexed: Indexed) -> None:
    ours = run_json("facets", "--index", str(indexed.whoosh))
    theirs = run_json("facets", "--index", str(indexed.remote))
    assert theirs == ours and theirs["actor"]


def test_open_index_follows_the_engine_record(indexed: Indexed) -> None:
    with open_index(indexed.whoosh) as whoosh, open_index(indexed.remote) as remote:
        assert type(remote._reader).__name__ == "OpenSearchReader"
        assert remote.doc_count == whoosh.doc_count == 200
        for kind in FACET_KINDS:
            assert remote.facet_values(kind) == whoosh.facet_values(kind), kind
        ids = [h.id for h in whoosh.search("attack", limit=5, snippets=False).hits]
        within = remote.search("*", ids=ids, snippets=False)
        assert within.total == len(ids) and {h.id for h in within.hits} == set(ids)
        assert (sorted(remote.near_duplicate_groups())
                == sorted(whoosh.near_duplicate_groups()))
        assert {a.id for a in remote.articles()} == {a.id for a in whoosh.articles()}
        assert remote.search("goverment", snippets=False).suggestion == "government"
        similar = remote.similar(ids[0])
        assert similar and ids[0] not in {h.id for h in similar}
        with pytest.raises(KeyError):
            remote.get("no-such-id")


def test_changed_and_removed_files_reach_the_cluster(indexed: Indexed, tmp_path: Path
                                                     ) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(indexed.docs, docs)
    folder = tmp_path / "ix"
    args = ("--index", str(folder), "--procs", "1")
    first = run_json("index", str(docs), *args, "--engine", "opensearch",
                     "--opensearch-url", indexed.url, "--opensearch-index", "engine-incr")
    assert first["sent"] == 200
    files = sorted(p for p in docs.rglob("*") if p.is_file())
    files[0].unlink()
    files[1].write_text(files[1].read_text(encoding="utf-8") + "\nZanzibarian postscript.\n",
                        encoding="utf-8")
    second = run_json("index", str(docs), *args)
    assert (second["removed"], second["updated"]) == (1, 1)
    assert (second["sent"], second["deleted"], second["failed"]) == (1, 1, [])
    assert run_json("stats", *args[:2])["documents"] == 199
    found = run_json("query", "zanzibarian", *args[:2])
    assert found["total"] == 1
    third = run_json("index", str(docs), *args)
    assert (third["sent"], third["deleted"]) == (0, 0)
    # --rebuild starts over in the cluster too: a fresh index, every article sent once.
    rebuilt = run_json("index", str(docs), *args, "--rebuild")
    assert (rebuilt["added"], rebuilt["sent"], rebuilt["engine"]) == (199, 199, "opensearch")
    assert run_json("stats", *args[:2])["documents"] == 199


def test_documents_the_cluster_refuses_are_reported_and_sent_again(indexed: Indexed,
                                                                  tmp_path: Path) -> None:
    from opensearchpy import OpenSearch

    docs = tmp_path / "docs"
    shutil.copytree(indexed.docs, docs)
    args = ("--index", str(tmp_path / "ix"), "--procs", "1")
    run("index", str(docs), *args, "--engine", "opensearch", "--opensearch-url", indexed.url,
        "--opensearch-index", "engine-fail")
    client = OpenSearch(hosts=[indexed.url])
    # A write block makes the cluster refuse each document of a bulk request on its own.
    client.indices.put_settings(index="engine-fail", body={"index.blocks.write": True})
    changed = sorted(p for p in docs.rglob("*") if p.is_file())[:2]
    for path in changed:
        path.write_text(path.read_text(encoding="utf-8") + "\nA quixotrelbian postscript.\n",
                        encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", str(docs), *args, "--json"])
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    refused = summary["failed"]
    assert summary["sent"] == 0 and len(refused) == summary["updated"] >= 1
    assert all("cluster_block_exception" in f["reason"] for f in refused)
    listed = [line for line in result.stderr.splitlines() if line.startswith("  not indexed ")]
    assert len(listed) == len(refused)
    assert (result.stderr.strip().splitlines()[-1] == f"search: {len(refused)} document(s) "
            "were not indexed by OpenSearch (listed above); run the same command again to "
            "retry them")
    client.indices.put_settings(index="engine-fail", body={"index.blocks.write": False})
    again = run_json("index", str(docs), *args)
    assert (again["sent"], again["failed"]) == (len(refused), [])
    assert run_json("query", "quixotrelbian", *args[:2])["total"] == len(refused)
    assert run_json("index", str(docs), *args)["sent"] == 0
    client.close()


def test_an_index_the_folder_did_not_fill_is_never_overwritten(indexed: Indexed,
                                                               tmp_path: Path) -> None:
    args = ["index", str(indexed.docs), "--index", str(tmp_path / "other"), "--procs", "1",
            "--engine", "opensearch", "--opensearch-url", indexed.url,
            "--opensearch-index", "engine-test"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"search: OpenSearch index 'engine-test' at {indexed.url} exists and was not built "
        "from this index folder; choose another --opensearch-index, or pass --rebuild to "
        "replace it"]
    assert run_json("stats", "--index", str(indexed.remote))["documents"] == 200


def _check(folder: Path, code: int) -> dict[str, Any]:
    """``search check --json`` on ``folder``, asserting its exit status."""
    result = CliRunner().invoke(cli, ["check", "--index", str(folder), "--json"])
    assert result.exit_code == code, (result.output, result.stderr)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_check_agrees_with_a_healthy_index(indexed: Indexed) -> None:
    report = _check(indexed.remote, 0)
    assert report["ok"] and report["up_to_date"] and report["problems"] == []
    assert report["engine"] == "opensearch" and report["opensearch_index"] == "engine-test"
    assert (report["documents"], report["recorded_documents"], report["local_documents"],
            report["manifest_documents"]) == (200, 200, 200, 200)
    assert report["cluster_status"] == "green"
    text = run("check", "--index", str(indexed.remote))
    assert text.splitlines()[1] == (f"  200 documents in OpenSearch index engine-test at "
                                    f"{indexed.url} (green), 200 recorded as sent, 200 in the "
                                    "manifest")


def test_check_finds_documents_changed_behind_its_back(indexed: Indexed, tmp_path: Path
                                                       ) -> None:
    from opensearchpy import OpenSearch

    folder = tmp_path / "ix"
    args = ("--index", str(folder), "--procs", "1")
    run("index", str(indexed.docs), *args, "--engine", "opensearch", "--opensearch-url",
        indexed.url, "--opensearch-index", "engine-check")
    assert _check(folder, 0)["documents"] == 200
    client = OpenSearch(hosts=[indexed.url])
    victim = sorted(json.loads((folder / "engine.json").read_text())["sent"])[7]
    client.delete(index="engine-check", id=victim, refresh=True)
    client.index(index="engine-check", id="stray", refresh=True,
                 body={"id": "stray", "title": "Not from the folder", "body": "stray"})
    report = _check(folder, 2)
    assert (report["documents"], report["recorded_documents"]) == (200, 200)
    assert report["problems"] == [
        f"1 document(s) (e.g. {victim}) acknowledged by OpenSearch are missing from index "
        "'engine-check'; run `search index` to send them again",
        "1 document(s) (e.g. stray) in OpenSearch index 'engine-check' were not sent from "
        "this folder; run `search index --rebuild`"]
    # The fixes the lines name work: after them the check is clean again.
    client.delete(index="engine-check", id="stray", refresh=True)
    assert run_json("index", str(indexed.docs), *args)["sent"] == 200
    assert _check(folder, 0)["documents"] == 200
    # An index of the same name with someone else's mapping is not searchlib's.
    client.indices.delete(index="engine-check")
    client.indices.create(index="engine-check")
    client.index(index="engine-check", id="x", refresh=True, body={"id": 1, "body": "x"})
    problems = _check(folder, 2)["problems"]
    assert problems[0].startswith("the mapping of OpenSearch index 'engine-check' is not "
                                  "searchlib's (dynamic is None, expected strict and ")
    assert problems[0].endswith("; run `search index --rebuild`")
    client.indices.delete(index="engine-check")
    assert _check(folder, 2)["problems"] == [
        f"OpenSearch at {indexed.url} has no index 'engine-check'; run `search index "
        "--rebuild`"]
    client.close()


#: The cluster's bucket limit in the next test: under every facet's number of values here.
LOW_MAX_BUCKETS = 20


def test_facet_counts_stay_exact_past_the_cluster_s_bucket_limit(indexed: Indexed) -> None:
    """``search.max_buckets`` lowered to 20 (65,535 by default) instead of indexing 65,000
    values: one request cannot hold the counts; they come in ``composite`` pages, equal to
    the Whoosh index's for every facet, in queries and in ``search facets``."""
    import opensearchpy

    admin = opensearchpy.OpenSearch(hosts=[indexed.url])
    with open_index(indexed.whoosh) as whoosh:
        widest = max(len(whoosh.facet_values(kind)) for kind in FACET_KINDS)
    assert widest > 5 * LOW_MAX_BUCKETS  # paging, not one page, is what is tested
    admin.cluster.put_settings(body={"transient": {"search.max_buckets": LOW_MAX_BUCKETS}})
    try:
        # Past the limit the cluster refuses a plain request: what the engine works around.
        with pytest.raises(opensearchpy.TransportError) as refused:
            admin.search(index="engine-test", body={"size": 0, "aggs": {
                "a": {"terms": {"field": "actor", "size": 1000}}}})
        assert "too_many_buckets_exception" in str(refused.value.info)
        for args in QUERIES[:6]:
            options = ("--no-collapse", "-n", "200")
            ours = run_json("query", *args, "--index", str(indexed.whoosh), *options)
            theirs = run_json("query", *args, "--index", str(indexed.remote), *options)
            assert theirs["total"] == ours["total"]
            for kind in FACET_KINDS:
                assert theirs["facets"][kind] == ours["facets"][kind], (args, kind)
        assert (run_json("facets", "--index", str(indexed.remote))
                == run_json("facets", "--index", str(indexed.whoosh)))
    finally:
        admin.cluster.put_settings(body={"transient": {"search.max_buckets": None}})
        admin.close()
