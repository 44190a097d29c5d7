"""Exporting a result set: jsonl, csv, markdown and cite, with quotes verifiable by offset."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib.cite import quote_for
from searchlib.cli import cli

QUERIES = ['"missile strike"', "Soleimani", "ISIS attack on Iran", "border guards", "*",
           "title:attacked"]
_REF = re.compile(r"\[(?P<id>[0-9a-f]{16}):(?P<start>\d+)-(?P<end>\d+)\] \"")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def stored_text(index: Path, doc_id: str, cache: dict[str, str]) -> str:
    if doc_id not in cache:
        code, out, _ = run("show", doc_id, "--json", "--index", str(index))
        assert code == 0
        cache[doc_id] = json.loads(out)["text"]
    return cache[doc_id]


@pytest.mark.parametrize("query", QUERIES)
def test_every_cite_quote_is_the_stored_text_at_its_offsets(seed_index: Path,
                                                           query: str) -> None:
    code, out, _ = run("query", query, "--format", "cite", "-n", "10", "--index",
                       str(seed_index))
    assert code == 0
    lines = out.splitlines()
    assert lines
    texts: dict[str, str] = {}
    for line in lines:
        ref = _REF.search(line)
        assert ref, line
        start, end = int(ref["start"]), int(ref["end"])
        assert line.endswith('"')
        quote = line[ref.end():-1]
        assert len(quote) == end - start > 0
        assert stored_text(seed_index, ref["id"], texts)[start:end] == quote


def test_jsonl_and_csv_carry_the_same_verifiable_quotes(seed_index: Path) -> None:
    code, out, _ = run("query", "ISIS attack", "--format", "jsonl", "--index", str(seed_index))
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["rank"] for r in records] == list(range(1, len(records) + 1))
    texts: dict[str, str] = {}
    for r in records:
        text = stored_text(seed_index, r["id"], texts)
        assert text[r["quote_start"]:r["quote_end"]] == r["quote"]
        assert r["quote_matched"] is True
        words = r["quote"].lower()
        assert "isis" in words or "attack" in words
    code, out, _ = run("query", "ISIS attack", "--format", "csv", "--index", str(seed_index))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    assert [row["quote"] for row in rows] == [r["quote"] for r in records]
    code, out, _ = run("query", "ISIS attack", "--format", "markdown", "--index",
                       str(seed_index))
    assert out.startswith("## Results for `ISIS attack`")
    assert out.count("\n1. ") == 1 and records[0]["id"] in out


def test_json_flag_still_works_and_conflicts_are_usage_errors(seed_index: Path) -> None:
    code, out, _ = run("query", "Kerman", "--json", "--index", str(seed_index))
    assert code == 0 and "hits" in json.loads(out)
    code, out, _ = run("query", "Kerman", "--format", "json", "--index", str(seed_index))
    assert code == 0 and "hits" in json.loads(out)
    code, _, err = run("query", "Kerman", "--json", "--format", "csv", "--index",
                       str(seed_index))
    assert code == 2 and "query: --json and --format csv disagree" in err.splitlines()[0]
    code, out, _ = run("query", "zzzqqq", "--format", "cite", "--index", str(seed_index))
    assert (code, out) == (1, "")


def test_quote_units() -> None:
    body = ("Officials in the U.S. said on Monday that the strike was a warning. "
            "It came after weeks of threats.\n\nA second paragraph talks about the "
            "missile strike again. The end.")
    # A snippet joins paragraphs with a space and fragments with an ellipsis.
    snippet = ("… threats. A second paragraph talks about the missile strike again. … "
               "the strike was a warning.")
    start = snippet.index("missile")
    quote = quote_for(body, snippet, [(start, start + len("missile"))])
    assert quote.text == "A second paragraph talks about the missile strike again."
    assert body[quote.start:quote.end] == quote.text and quote.matched
    # "U.S." does not end the sentence.
    start = snippet.rindex("strike")
    quote = quote_for(body, snippet, [(start, start + 6)])
    assert quote.text == ("Officials in the U.S. said on Monday that the strike was a "
                          "warning.")
    # No highlight: the first sentence, marked as not matched.
    quote = quote_for(body)
    assert not quote.matched and quote.text.startswith("Officials") and quote.start == 0
    # A sentence without punctuation is cut to a window around the match, still exact.
    long_body = " ".join(["word"] * 400 + ["needle"] + ["word"] * 400)
    quote = quote_for(long_body, "word needle word", [(5, 11)])
    assert "needle" in quote.text and len(quote.text) < 600
    assert long_body[quote.start:quote.end] == quote.text
