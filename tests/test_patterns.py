"""Fuzzy, wildcard and prefix terms: expanded from the stored term list, within a budget.

The expansions must find exactly the terms Whoosh's own ``FuzzyTerm``, ``Prefix`` and
``Wildcard`` find (when no cap cuts them), the searches the same documents, and a query past
the budget must be refused with one line naming the part, or answered with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from whoosh import query as wq

from searchlib import QueryError, build_index, open_index, search
from searchlib.cli import cli
from searchlib.engine.whoosh import lexicon
from searchlib.engine.whoosh.facetstore import index_key
from searchlib.search import Index

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory,
              gen_corpus: ModuleType) -> Iterator[Path]:
    """An index of 150 generated articles, built in two batches (two segments at least)."""
    base = tmp_path_factory.mktemp("patterns")
    gen_corpus.generate(150, 3, base / "corpus")
    docs = base / "corpus" / "docs"
    files = sorted(p for p in docs.rglob("*") if p.is_file())
    hold = base / "hold"
    hold.mkdir()
    for path in files[75:]:
        path.rename(hold / path.name)
    build_index([docs], base / "index", procs=1)
    for path in sorted(hold.iterdir()):
        path.rename(files[0].parent / path.name)
    build_index([docs], base / "index", procs=1)
    yield base / "index"


def _words(ix: Index, count: int) -> list[str]:
    """Body terms of the index spread over its vocabulary (every n-th)."""
    terms = ix._lexicon().field("body").terms
    step = max(1, len(terms) // count)
    return [t for t in terms[::step] if t.isalpha() and len(t) >= 3][:count]


def _whoosh_terms(reader: object, q: object) -> set[str]:
    return {t.decode("utf-8") if isinstance(t, bytes) else t
            for _, t in q.expanded_terms(reader)}  # type: ignore[attr-defined]


def test_expansions_find_what_whoosh_finds(generated: Path) -> None:
    with open_index(generated) as ix:
        reader = ix._fresh().reader()
        terms = ix._lexicon()
        big = 10**9
        for field in ("title", "body"):
            own = terms.field(field)
            for word in _words(ix, 40):
                for dist, prefix in ((1, 0), (2, 0), (1, 1), (2, 2)):
                    mine = set(own.fuzzy(word, dist, prefix, big).terms)
                    theirs = _whoosh_terms(reader, wq.FuzzyTerm(field, word, maxdist=dist,
                                                                prefixlength=prefix))
                    assert mine == theirs, (field, word, dist, prefix)
                for pattern in (word[:2], word[:3]):
                    assert set(own.prefix(pattern, big).terms) == \
                        _whoosh_terms(reader, wq.Prefix(field, pattern))
                for low, high, lx, hx in ((word[:2], word, False, False),
                                          (word[:2], word, True, True), (None, word, False, True),
                                          (word, None, True, False)):
                    assert set(own.between(low, high, lx, hx, big).terms) == _whoosh_terms(
                        reader, wq.TermRange(field, low, high, lx, hx)), (low, high)
                for pattern in (f"*{word[-3:]}", f"{word[0]}*{word[-1]}", f"{word[:2]}?*",
                                f"*{word[1:3]}*", "?" * len(word)):
                    assert set(own.wildcard(pattern, big).terms) == \
                        _whoosh_terms(reader, wq.Wildcard(field, pattern)), pattern


def _reference(searcher: object, q: object) -> object:
    """``q`` with each fuzzy term replaced by the terms within its edit distance, found by
    comparing it with every term of the field (optimal string alignment, as the expansions
    count). Whoosh's own ``FuzzyTerm`` is not the reference for documents: its automaton walk
    misses terms two edits away ("fruit" for ``erupt~2``) and counts no transpositions.
    Prefix and wildcard terms are Whoosh's own (exact)."""
    from rapidfuzz.distance import OSA

    if isinstance(q, wq.FuzzyTerm):
        reader = searcher.reader()  # type: ignore[attr-defined]
        near = [t for t in reader.field_terms(q.fieldname)
                if t.startswith(q.text[:q.prefixlength])
                and OSA.distance(q.text, t) <= q.maxdist]
        return wq.Or([wq.Term(q.fieldname, t) for t in near]) if near else wq.NullQuery
    if isinstance(q, wq.CompoundQuery):
        return q.__class__([_reference(searcher, sub) for sub in q.subqueries], boost=q.boost)
    return q


def test_searches_match_the_documents_whoosh_matches(generated: Path) -> None:
    with open_index(generated) as ix:
        searcher = ix._fresh()
        for word in _words(ix, 12):
            for text in (f"{word}~", f"{word}~2", f"{word[:3]}*", f"*{word[-3:]}",
                         f"{word[0]}?{word[2:4]}*"):
                # Whoosh's own parse keeps FuzzyTerm, Prefix and Wildcard queries.
                whooshs = ix._parser.parse(text)
                assert any(isinstance(q, (wq.FuzzyTerm, wq.Prefix, wq.Wildcard))
                           for q in whooshs.leaves())
                expected = set(searcher.docs_for_query(_reference(searcher, whooshs)))
                results = ix.search(text, limit=1000, snippets=False)
                if results.warnings:
                    continue  # cut: fewer documents by design (tested below)
                found = {searcher.document_number(id=h.id) for h in results.hits}
                assert found == expected, text


def test_an_expansion_over_its_cap_keeps_the_most_frequent_and_warns(
        generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_index(generated) as ix:
        body = ix._lexicon().field("body")
        letter = max("abcdefghijklmnopqrstuvwxyz", key=lambda c: len(body.prefix(c, 10**9).terms))
        everything = body.prefix(letter, 10**9)
        assert len(everything.terms) > 20
        monkeypatch.setattr(search, "EXPANSION_CAP", 5)
        results = ix.search(f"{letter}*")
        assert len(results.warnings) == 1
        assert re.fullmatch(rf"'{letter}\*' matches [\d,]+ terms; searched the 5 most frequent",
                            results.warnings[0])
        kept = body.prefix(letter, 5)
        assert kept.cut and kept.found == len(everything.terms)
        freq = dict(zip(body.terms, body.freqs, strict=True))
        lowest_kept = min(freq[t] for t in kept.terms)
        assert all(freq[t] <= lowest_kept for t in everything.terms if t not in kept.terms)
        # The JSON and the stderr line of the CLI carry the same warning.
        result = CliRunner().invoke(cli, ["query", f"{letter}*", "--json", "--index",
                                          str(generated)], catch_exceptions=False)
        assert f"search: warning: {results.warnings[0]}" in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    (" ".join(f"economy{i}~" for i in range(40)), "too many fuzzy or wildcard terms (40"),
    ("a*b*c*d*e*f*g*h*i*j*", "too many wildcards in 'a*b*c*d*e*f*g*h*i*j*'"),
    ("iran~3", "'iran~3' allows too many edits (at most 2)"),
])
def test_too_broad_queries_are_refused_in_one_line(generated: Path, text: str,
                                                   message: str) -> None:
    with open_index(generated) as ix, pytest.raises(QueryError, match=re.escape(message)):
        ix.search(text)
    result = CliRunner().invoke(cli, ["query", text, "--index", str(generated)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_twenty_fuzzy_terms_are_answered(generated: Path) -> None:
    with open_index(generated) as ix:
        results = ix.search(" ".join(f"economy{i}~2" for i in range(20)))
    assert results.total >= 0


def test_the_term_list_is_stored_at_commit_and_checked(generated: Path, tmp_path: Path) -> None:
    assert (generated / lexicon.TERMS_FILE).is_file()
    with open_index(generated) as ix:
        reader = ix._fresh().reader()
        stored = lexicon.load(generated, index_key(reader))
        assert stored is not None
        built = lexicon.build(reader, ("title", "body"), index_key(reader))
        for field in ("title", "body"):
            assert stored.field(field).terms == built.field(field).terms
            assert list(stored.field(field).freqs) == list(built.field(field).freqs)
            # The fast reader of Whoosh's terms file agrees with Whoosh's own iter_field.
            reference: dict[str, int] = {}
            for leaf, _ in reader.leaf_readers():
                for btext, info in leaf.iter_field(field):
                    term = btext.decode("utf-8")
                    reference[term] = reference.get(term, 0) + info.doc_frequency()
            assert dict(zip(built.field(field).terms, built.field(field).freqs,
                            strict=True)) == reference
        assert lexicon.load(generated, {"generation": -1, "segments": []}) is None
    damaged = tmp_path / "ix"
    damaged.mkdir()
    (damaged / lexicon.TERMS_FILE).write_bytes(b"not a terms file")
    assert lexicon.load(damaged, {}) is None
