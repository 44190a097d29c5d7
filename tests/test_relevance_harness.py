"""Tests of the relevance harness (bench/ir_collections.py, bench/relevance.py) and of the ranking
properties it relies on.

Parser tests run on tiny inline samples. The end-to-end TIME check needs the shared test
collections (``../shared/corpora`` beside the repository, or ``$SEARCHLIB_CORPORA``) and the
``bench`` extra (ir-measures, tantivy); it skips cleanly without them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench(name: str) -> ModuleType:
    """Import ``bench.<name>`` (bench/ is not an installed package; it lives beside tests/)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"bench.{name}")


bc = _bench("ir_collections")


def _corpora() -> Path:
    env = os.environ.get("SEARCHLIB_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"


# --- TIME ------------------------------------------------------------------------------------

TIME_ALL = """*TEXT 017 01/04/63 PAGE 020

THE ALLIES AFTER NASSAU IN DECEMBER 1960, THE U.S . FIRST

PROPOSED TO HELP NATO .

*TEXT 431 08/30 63 PAGE 026

SOUTH VIET NAM TRIAL BY FIRE

*TEXT 557        12/27/63         PAGE 021

KHRUSHCHEV TURNED TO THE PAINFUL PROBLEM

*STOP
"""


def test_time_documents_are_numbered_by_position_despite_irregular_headers() -> None:
    docs = bc.parse_time_documents(TIME_ALL)
    assert [d.id for d in docs] == ["1", "2", "3"]
    assert docs[0].title is None
    # The double-spaced lines are unwrapped into one paragraph.
    assert docs[0].body == (
        "THE ALLIES AFTER NASSAU IN DECEMBER 1960, THE U.S . FIRST PROPOSED TO HELP NATO ."
    )
    assert docs[2].body == "KHRUSHCHEV TURNED TO THE PAINFUL PROBLEM"


def test_time_missing_documents_shift_later_positions() -> None:
    docs = bc.parse_time_documents(TIME_ALL, {"431": 2})
    assert [d.id for d in docs] == ["1", "2", "5"]
    # Leading zeros in the *TEXT number do not matter.
    assert [d.id for d in bc.parse_time_documents(TIME_ALL, {"17": 1})] == ["1", "3", "4"]


def test_time_queries_join_lines_and_keep_find_numbers() -> None:
    text = (
        "*FIND      1\n\n KENNEDY ADMINISTRATION PRESSURE ON NGO DINH DIEM .\n\n"
        "*FIND      2\n\n EFFORTS OF AMBASSADOR HENRY CABOT LODGE TO GET VIET NAM'S\n\n"
        "PRESIDENT DIEM TO CHANGE HIS POLICIES .\n\n*STOP\n"
    )
    queries = bc.parse_time_queries(text)
    assert [q.id for q in queries] == ["1", "2"]
    assert queries[1].text == (
        "EFFORTS OF AMBASSADOR HENRY CABOT LODGE TO GET VIET NAM'S PRESIDENT DIEM TO CHANGE "
        "HIS POLICIES ."
    )


def test_time_qrels() -> None:
    qrels = bc.parse_time_qrels("1  268 288 304\n\n2  326 334\n\n9   61 155\n")
    assert qrels == {
        "1": {"268": 1, "288": 1, "304": 1},
        "2": {"326": 1, "334": 1},
        "9": {"61": 1, "155": 1},
    }


def test_time_loader_checks_the_copy_it_maps(tmp_path: Path) -> None:
    root = tmp_path / "time"
    root.mkdir()
    (root / "TIME.ALL").write_text(TIME_ALL)
    (root / "TIME.QUE").write_text("*FIND 1\n\nNATO .\n\n*STOP\n")
    (root / "TIME.REL").write_text("1 1\n")
    with pytest.raises(ValueError, match="423-document"):
        bc.load_collection("time", tmp_path)


# --- Cranfield -------------------------------------------------------------------------------

CRAN_ALL = """.I 1
.T
experimental investigation of the aerodynamics of a
wing in a slipstream .
.A
brenckman,m.
.B
j. ae. scs. 25, 1958, 324.
.W
experimental investigation of the aerodynamics of a
wing in a slipstream .
  an experimental study of a wing in a propeller slipstream was
made .
.I 2
.T
simple shear flow past a flat plate .
.A
.B
.W
in the study of high-speed viscous flow
.W
past a body .
"""

CRAN_QRY = """.I 001
.W
what similarity laws must be obeyed when constructing aeroelastic models
of heated high speed aircraft .
.I 004
.W
what problems of heat conduction in composite slabs have been solved so
far .
"""


def test_smart_records_concatenate_repeated_fields() -> None:
    records = bc.parse_smart_records(CRAN_ALL)
    assert [ident for ident, _ in records] == ["1", "2"]
    assert records[1][1]["W"] == "in the study of high-speed viscous flow\npast a body ."
    assert records[1][1]["A"] == ""


def test_cranfield_loader_maps_queries_by_position_and_grades(tmp_path: Path) -> None:
    root = tmp_path / "cranfield"
    root.mkdir()
    (root / "cran.all.1400").write_text(CRAN_ALL)
    (root / "cran.qry").write_text(CRAN_QRY)
    (root / "cranqrel").write_text("1 2 1\n1 1 4\n2 1 -1\n2 2 3\n")
    col = bc.load_collection("cranfield", tmp_path)
    doc = col.documents[0]
    assert doc.title == "experimental investigation of the aerodynamics of a wing in a slipstream ."
    # The body repeats the title in the file; it is dropped so the article does not say it twice.
    assert doc.body.startswith("an experimental study of a wing")
    assert doc.as_text().startswith(doc.title + "\n\nan experimental")
    # cran.qry's ".I 004" is the second query, which the judgments call 2.
    assert [q.id for q in col.queries] == ["1", "2"]
    assert col.queries[1].text.startswith("what problems of heat conduction")
    # Code 1 (complete answer) gains most; -1 is judged non-relevant.
    assert col.qrels == {"1": {"2": 4, "1": 1}, "2": {"1": 0, "2": 2}}


# --- CISI ------------------------------------------------------------------------------------

CISI_ALL = """.I 1
.T
18 Editions of the Dewey Decimal Classifications
.A
Comaromi, J.P.
.W
   The present study is a history of the DEWEY Decimal
Classification.
.X
1\t5\t1
92\t1\t1
.I 2
.T\x20
Use Made of Technical Libraries
.A\x20
Slater, M.
.W
This report is an analysis of 6300 acts of use.
.X
2\t1\t2
"""

CISI_QRY = """.I 1
.W
What problems and concerns are there in making up descriptive titles?
.I 2
.T
Directions in Library Networking
.A
Avram, H.D.
.W
    Bibliographic control before and after MARC is reviewed.
.B
(JASIS, Vol. 31, No. 6, November 1980, pp. 438-444)
"""


def test_cisi_loader(tmp_path: Path) -> None:
    root = tmp_path / "cisi"
    root.mkdir()
    (root / "CISI.ALL").write_text(CISI_ALL)
    (root / "CISI.QRY").write_text(CISI_QRY)
    (root / "CISI.REL").write_text("     1     2\t0\t0.000000\n     2     1\t0\t0.000000\n")
    col = bc.load_collection("cisi", tmp_path)
    assert [(d.id, d.title) for d in col.documents] == [
        ("1", "18 Editions of the Dewey Decimal Classifications"),
        ("2", "Use Made of Technical Libraries"),
    ]
    # Citations (.X) and authors are not article text.
    assert "92" not in col.documents[0].body
    assert "Slater" not in col.documents[1].body
    assert col.queries[0].text.startswith("What problems and concerns")
    # A query with a title is pasted as title + abstract; the citation is left out.
    assert col.queries[1].text == (
        "Directions in Library Networking Bibliographic control before and after MARC is reviewed."
    )
    assert col.qrels == {"1": {"2": 1}, "2": {"1": 1}}
    assert [q.id for q in col.judged_queries()] == ["1", "2"]


def test_unknown_collection() -> None:
    with pytest.raises(ValueError, match="unknown collection"):
        bc.load_collection("trec", "/nonexistent")


# --- metrics ---------------------------------------------------------------------------------


def test_evaluate_counts_missing_queries_as_zero_and_keeps_engine_order() -> None:
    pytest.importorskip("ir_measures")
    br = _bench("relevance")
    col = bc.Collection(
        name="toy",
        documents=tuple(bc.Document(id=str(i), title=None, body="x") for i in range(1, 5)),
        queries=(bc.Query("1", "a"), bc.Query("2", "b"), bc.Query("3", "c")),
        qrels={"1": {"1": 1, "2": 0}, "2": {"3": 1}, "3": {"4": 0}},
    )
    # Query 3 has no relevant document, so only 1 and 2 are judged; query 2 returned nothing.
    scores = br.evaluate(col, {"1": ["2", "1"], "3": ["4"]})
    assert scores["MAP"] == pytest.approx((0.5 + 0.0) / 2)
    assert scores["P@10"] == pytest.approx((0.1 + 0.0) / 2)
    perfect = br.evaluate(col, {"1": ["1", "2"], "2": ["3"]})
    assert perfect["MAP"] == pytest.approx(1.0)
    assert perfect["nDCG@10"] == pytest.approx(1.0)


# --- ranking property: short keyword queries put all-term matches first ----------------------


# Plain BM25 would rank the one-word documents first; ranking.coordinate prevents it.
def test_short_queries_rank_documents_matching_all_terms_first(tmp_path: Path) -> None:
    import searchlib

    filler = "The committee met again on Tuesday to discuss the budget and other matters. "
    docs = {
        # Both words once, in a long article.
        "both.txt": "Budget talks\n\n" + filler * 8 + "Iran rejected new sanctions. " + filler * 8,
        # One word many times, in short articles: plain BM25 would rank these higher.
        "iran.txt": "Iran Iran\n\nIran, Iran and Iran again: Iran.",
        "sanctions.txt": "Sanctions\n\nSanctions, sanctions, sanctions and sanctions.",
    }
    for name, text in docs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    searchlib.build_index([tmp_path / n for n in docs], tmp_path / "index", procs=1)
    with searchlib.open_index(tmp_path / "index") as index:
        for query in ("iran sanctions", "sanctions Iran"):
            hits = index.search(query, limit=10, snippets=False).hits
            assert Path(hits[0].path).name == "both.txt", query
            assert len(hits) == 3, "OR semantics: partial matches are still found"


# --- end to end on TIME ----------------------------------------------------------------------


def test_time_end_to_end(tmp_path: Path) -> None:
    corpora = _corpora()
    if not (corpora / "time" / "TIME.ALL").is_file():
        pytest.skip(f"TIME collection not found under {corpora}")
    pytest.importorskip("ir_measures")
    pytest.importorskip("tantivy")
    br = _bench("relevance")
    full = bc.load_collection("time", corpora)
    # A slice that indexes and runs in well under a minute: 20 queries, every document judged
    # for them, and every third other document as competition. The full run is
    # ``python -m bench.relevance`` (docs/relevance.md).
    queries = full.judged_queries()[:20]
    judged = {d for q in queries for d in full.qrels[q.id]}
    docs = tuple(d for i, d in enumerate(full.documents) if d.id in judged or i % 3 == 0)
    part = bc.Collection("time", docs, queries, {q.id: full.qrels[q.id] for q in queries})
    scores, runs = br.run_collection(part, tmp_path)
    failures = {engine: run.failures for engine, run in runs.items() if run.failures}
    assert not failures, failures
    assert all(len(run.rankings) == len(queries) for run in runs.values())
    # With the right id mapping the baselines find most judged documents near the top.
    assert scores["fts5"]["MAP"] > 0.6, scores
    assert scores["tantivy"]["MAP"] > 0.6, scores
    # TIME is held out from tuning: our engine must still hold its own there.
    best = max(scores["fts5"]["MAP"], scores["tantivy"]["MAP"])
    assert scores["ours"]["MAP"] >= 0.95 * best, scores


#: Our MAP on all of Cranfield, as committed in docs/relevance.md ("Current" table).
CRANFIELD_MAP = 0.304


def test_cranfield_map_does_not_regress(tmp_path: Path) -> None:
    """Fails if a change drops our Cranfield MAP more than 0.01 below the committed figure."""
    corpora = _corpora()
    if not (corpora / "cranfield" / "cran.all.1400").is_file():
        pytest.skip(f"Cranfield collection not found under {corpora}")
    pytest.importorskip("ir_measures")
    br = _bench("relevance")
    collection = bc.load_collection("cranfield", corpora)
    run = br.run_ours(collection, tmp_path)
    assert not run.failures, run.failures
    score = br.evaluate(collection, run.rankings)["MAP"]
    assert score >= CRANFIELD_MAP - 0.01, f"Cranfield MAP {score:.3f} < {CRANFIELD_MAP} - 0.01"


# --- ranking.py on a bare Whoosh index (independent of how search.py wires it) ---------------


def _ranked(docs: dict[str, tuple[str, str]], text: str, coordinated: bool) -> list[str]:
    from whoosh import qparser
    from whoosh.filedb.filestore import RamStorage

    from searchlib.engine.whoosh import ranking
    from searchlib.engine.whoosh.schema import SEARCH_FIELDS, make_schema

    ix = RamStorage().create_index(make_schema())
    with ix.writer() as writer:
        for doc_id, (title, body) in docs.items():
            writer.add_document(id=doc_id, path=doc_id, title=title, body=body)
    parser = qparser.MultifieldParser(
        list(SEARCH_FIELDS),
        ix.schema,
        fieldboosts=ranking.FIELD_BOOSTS,
        group=ranking.query_group(),
    )
    q = parser.parse(text)
    if coordinated:
        q = ranking.coordinate(q)
    with ix.searcher(weighting=ranking.weighting()) as searcher:
        return [hit["id"] for hit in searcher.search(q, limit=None, terms=True)]


_FILLER = "The committee met again on Tuesday to discuss the budget and other matters. "
_SHORT_DOCS = {
    "both": ("Budget talks", _FILLER * 8 + "Iran rejected new sanctions. " + _FILLER * 8),
    "iran": ("Iran", "Iran, Iran and Iran again: Iran."),
    "sanctions": ("Sanctions", "Sanctions, sanctions, sanctions and sanctions."),
}


def test_coordinate_puts_documents_with_every_word_first() -> None:
    plain = _ranked(_SHORT_DOCS, "iran sanctions", coordinated=False)
    assert plain[0] != "both", "the fixture must defeat plain BM25, or the test proves nothing"
    assert _ranked(_SHORT_DOCS, "iran sanctions", coordinated=True)[0] == "both"
    # With three words, two matched words beat one, whatever the term frequencies.
    assert _ranked(_SHORT_DOCS, "iran sanctions talks", coordinated=True)[0] == "both"
    # Function words are not words to match: "why" does not make a third word here.
    assert _ranked(_SHORT_DOCS, "why iran sanctions", coordinated=True)[0] == "both"


def test_function_words_weigh_nothing() -> None:
    docs = {"a": ("Note", "why why why why"), "b": ("Note", "parliament")}
    assert _ranked(docs, "why parliament", coordinated=False)[0] == "b"


def test_feedback_reorders_but_never_adds_documents() -> None:
    from searchlib.engine.whoosh import ranking

    topic = (
        "reactor coolant pressure vessel turbine steam generator uranium fuel rods control "
        "neutron moderator containment cooling tower grid operator megawatt plant"
    )
    query_words = topic.split()[: ranking.FEEDBACK_MIN_WORDS]
    # Vocabulary the best matches share but the query does not use.
    shared = "fission isotope enrichment centrifuge "
    docs = {
        f"top{i}": ("Plant report", " ".join(query_words) + " " + shared * 3 + f"unit {i}")
        for i in range(6)
    }
    # One query word plus the shared vocabulary: feedback should lift it.
    docs["related"] = ("Plant news", "reactor " + shared)
    # One query word, twice, in a very short text: plain BM25 prefers it.
    docs["stray"] = ("Weather", "pressure, pressure")
    docs["unrelated"] = ("Sports", "the home team won the final in extra time")
    query = " ".join(query_words)
    plain = _ranked(docs, query, coordinated=False)
    fed = _ranked(docs, query, coordinated=True)
    assert sorted(plain) == sorted(fed) and "unrelated" not in fed
    assert plain.index("related") > plain.index("stray"), "fixture must defeat plain BM25"
    assert fed.index("related") < fed.index("stray")
