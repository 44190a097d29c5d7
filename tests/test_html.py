"""Tests for searchlib.ingest.htmltext: main-content extraction and metadata from HTML pages."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.errors import DependencyError
from searchlib.ingest.htmltext import HtmlExtract, parse_html

DATA = Path(__file__).parent / "data" / "html"
REPO = Path(__file__).resolve().parents[1]


def _fixture(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _paragraphs(extract: HtmlExtract) -> list[str]:
    return extract.body.split("\n\n")


# --- chrome removed, article kept -----------------------------------------------------------


def test_article_paragraphs_kept_in_order() -> None:
    page = parse_html(_fixture("news_article.html"))
    paragraphs = _paragraphs(page)
    assert paragraphs[0].startswith("A supply depot used by Islamic State fighters")
    assert paragraphs[-1].startswith("The coalition did not immediately confirm the strikes")
    order = [
        "A supply depot used",
        "The officials said the warehouse",
        "Residents of the nearby villages",
        "Analysts said the loss of the depot",
        "The coalition did not immediately",
    ]
    positions = [page.body.index(start) for start in order]
    assert positions == sorted(positions)


def test_headings_captions_quotes_and_list_items_are_their_own_paragraphs() -> None:
    paragraphs = _paragraphs(parse_html(_fixture("news_article.html")))
    assert "mortar rounds and rifle ammunition" in paragraphs
    assert "Residents describe a night of explosions" in paragraphs
    assert "Smoke rises over farmland east of the city after the strikes." in paragraphs
    assert any(p.startswith('"We could see the flames') for p in paragraphs)
    assert all("\n\n" not in p and p == p.strip() for p in paragraphs)


@pytest.mark.parametrize(
    "chrome",
    [
        "SCRIPTTOKEN",
        "secret-style-token",
        "NOSCRIPTTOKEN",
        "COMMENTTOKEN",
        "COMMENTERTOKEN",
        "FOOTERTOKEN",
        "Subscribe today",
        "Related stories",
        "Ceasefire talks stall",
        "Accept all cookies",
        "Share on Facebook",
        "Privacy policy",
    ],
)
def test_page_chrome_removed(chrome: str) -> None:
    assert chrome not in parse_html(_fixture("news_article.html")).body


def test_headline_not_repeated_in_body() -> None:
    page = parse_html(_fixture("news_article.html"))
    assert page.title == "Drone strikes hit supply depot near Deir ez-Zor"
    assert not page.body.startswith(page.title)


def test_chrome_removed_from_plain_div_layout() -> None:
    body = parse_html(_fixture("jsonld_article.html")).body
    assert body.startswith("Iran's oil minister said on Monday")
    assert "Traders in Singapore" in body
    for chrome in ("NEWSLETTERTOKEN", "FOOTERTOKEN", "Front page"):
        assert chrome not in body


def test_body_split_into_containers_is_joined() -> None:
    page = parse_html(_fixture("split_body.html"))
    paragraphs = _paragraphs(page)
    assert paragraphs[0].startswith("Money changers in central Tehran")
    assert paragraphs[-1].startswith("A government spokesman said that the measures")
    assert len(paragraphs) == 6
    assert "Advertisement" not in page.body and "Most popular" not in page.body


def test_later_container_of_same_class_without_article_text_not_joined() -> None:
    markup = _fixture("split_body.html")
    start = markup.index("<p>Economists")
    end = markup.index("</div>", start)
    menu = "<p>Markets</p><p>Read more</p><p>Subscribe to our newsletter</p>"
    page = parse_html(markup[:start] + menu + markup[end:])
    assert page.body.startswith("Money changers in central Tehran")
    assert "Subscribe to our newsletter" not in page.body
    assert "Read more" not in page.body


# --- the extractor is trafilatura, or the build stops -----------------------------------------


@pytest.mark.parametrize("name", ["news_article.html", "jsonld_article.html", "byline_time.html"])
def test_ordinary_article_pages_take_the_trafilatura_path(name: str) -> None:
    page = parse_html(_fixture(name))
    assert page.method == "trafilatura", f"{name}: body came from {page.method!r}"
    assert page.body


def test_missing_trafilatura_raises_a_one_line_dependency_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes ``import trafilatura`` raise ImportError, as a broken install.
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    with pytest.raises(DependencyError) as raised:
        parse_html(_fixture("news_article.html"))
    message = str(raised.value)
    assert "trafilatura" in message and "\n" not in message


_BLOCK_HTML_CLEAN = (
    "import sys; sys.modules['lxml_html_clean'] = None; sys.modules['lxml.html.clean'] = None; "
    "from searchlib.cli import main; main(sys.argv[1:])"
)


def test_index_of_html_without_lxml_html_clean_fails_loudly(tmp_path: Path) -> None:
    """The fresh-install failure: lxml without lxml_html_clean breaks trafilatura's import."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "page.html").write_text(_fixture("news_article.html"), encoding="utf-8")
    (src / "note.txt").write_text("Plain notes about a supply depot.\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", _BLOCK_HTML_CLEAN, "index", str(src), "--index",
         str(tmp_path / "ix")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "trafilatura" in lines[0] and "lxml_html_clean" in lines[0]
    # Nothing was written, so nothing was indexed with a weaker extractor.
    assert not (tmp_path / "ix" / "manifest.json").exists()
    assert not (tmp_path / "ix" / "meta.json").exists()


# --- metadata -------------------------------------------------------------------------------


def test_opengraph_and_article_meta() -> None:
    page = parse_html(_fixture("news_article.html"), url="https://courier.example/x?utm=1")
    assert page.title == "Drone strikes hit supply depot near Deir ez-Zor"
    assert page.published == "2017-06-21T08:30:00+00:00"
    assert page.authors == ("Layla Haddad",)
    assert page.site == "The Desert Courier"
    # the relative canonical link is resolved against the page's URL
    assert page.url == "https://courier.example/world/deir-ez-zor-depot"
    assert page.description == (
        "A supply depot used by ISIS fighters was destroyed overnight, local officials said."
    )
    # without the page's own URL the relative canonical link is unusable: og:url is next
    assert parse_html(_fixture("news_article.html")).url == (
        "https://courier.example/world/deir-ez-zor-depot"
    )


def test_json_ld_metadata() -> None:
    page = parse_html(_fixture("jsonld_article.html"))
    assert page.title == "Tehran responds to new sanctions with oil export pledge"
    assert page.authors == ("Reza Karimi", "Sara Lind")
    assert page.published == "2018-11-05T14:00:00+03:30"
    assert page.site == "Gulf Wire"
    assert page.description == "Iran says it will keep selling oil despite the new measures."
    assert page.url is None


def test_byline_markup_time_element_and_title_suffix() -> None:
    page = parse_html(_fixture("byline_time.html"), url="https://dispatch.example/mosul")
    assert page.title == "Mosul residents return to ruined old city"
    assert page.authors == ("Omar Saleh", "Hannah Weiss")
    assert page.published == "2019-03-14"
    assert page.url == "https://dispatch.example/mosul"
    assert page.site is None
    assert "Aid workers said that roughly a third" in page.body
    assert "FOOTERTOKEN" not in page.body


def test_title_from_title_tag_without_site_suffix() -> None:
    markup = (
        "<html><head><title>Ceasefire holds in Idlib | Levant Post</title>"
        '<meta property="og:site_name" content="Levant Post"></head>'
        "<body><p>The ceasefire held for a third day.</p></body></html>"
    )
    page = parse_html(markup)
    assert page.title == "Ceasefire holds in Idlib"
    assert page.site == "Levant Post"


def test_site_prefix_and_hyphenated_titles() -> None:
    prefixed = parse_html(
        '<html><head><meta property="og:site_name" content="Wire">'
        "<title>Wire - Talks resume in Vienna</title></head><body></body></html>"
    )
    assert prefixed.title == "Talks resume in Vienna"
    # no known site name and no "|": the title may legitimately contain a dash
    plain = parse_html("<html><head><title>Iran - US talks resume</title></head></html>")
    assert plain.title == "Iran - US talks resume"


def test_author_meta_variants() -> None:
    markup = (
        "<html><head>"
        '<meta property="article:author" content="https://www.facebook.com/someprofile">'
        '<meta name="byl" content="By Ann Lee, Bo Chan and Cy Diaz">'
        "</head><body><p>Text.</p></body></html>"
    )
    assert parse_html(markup).authors == ("Ann Lee", "Bo Chan", "Cy Diaz")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Jane Doe, MS, RDN", ("Jane Doe",)),
        ("AFP", ("AFP",)),
        ("Troy L. Smith, Cleveland.com", ("Troy L. Smith",)),
        ("By Omar Saleh | Staff writer", ("Omar Saleh",)),
        ("Published 12/03/2019", ()),
    ],
)
def test_author_names_cleaned(content: str, expected: tuple[str, ...]) -> None:
    markup = f'<html><head><meta name="author" content="{content}"></head><body></body></html>'
    assert parse_html(markup).authors == expected


def test_time_datetime_inside_article_preferred() -> None:
    markup = (
        "<html><body><header><time datetime='2020-01-01'>Today</time></header>"
        "<article><time datetime='2019-12-24T10:00'>Dec 24</time><p>Story.</p></article>"
        "</body></html>"
    )
    assert parse_html(markup).published == "2019-12-24T10:00"


def test_date_without_date_markup_found_by_htmldate() -> None:
    article = "<html><body><article><p>Story text here.</p></article>{}</body></html>"
    from_url = parse_html(article.format(""), url="https://news.example/2019/03/14/story")
    assert from_url.published == "2019-03-14"
    dated_line = '<p class="date">Posted on 14 March 2019</p>'
    assert parse_html(article.format(dated_line)).published == "2019-03-14"
    assert parse_html(article.format("<footer>© 2018 Foo</footer>")).published is None


def test_bytes_input_with_declared_charset() -> None:
    markup = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 attack in Paris</title></head>'
        "<body><article><p>Police said the caf\xe9 was closed at the time.</p></article>"
        "</body></html>"
    ).encode("iso-8859-1")
    page = parse_html(markup)
    assert page.title == "Café attack in Paris"
    assert "the café was closed" in page.body


# --- robustness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        "",
        b"",
        "   \n ",
        "plain text, no markup at all",
        "<",
        "</p></div></body>",
        "<html><body><p>unclosed <b>bold <i>italic <p>next",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "<html>\x00<body><p>nul\x00byte</p></body></html>",
        b"\xff\xfe\x00<\x00h\x00t\x00m\x00l\x00>",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary garbage \xde\xad\xbe\xef",
        '<script type="application/ld+json">{"author": [[[[[[]]]]]], "@graph": {</script>',
        '<meta property="og:title" content="">' "<title></title><h1></h1>",
        "<table><tr><td><table><tr><td>cell</td></tr></table></td></tr></table>",
        "<svg><script>alert(1)</script></svg><math><mi>x</mi></math>",
    ],
)
def test_malformed_or_empty_input_does_not_raise(markup: str | bytes) -> None:
    page = parse_html(markup)
    assert isinstance(page, HtmlExtract)
    assert isinstance(page.body, str)
    assert "alert(1)" not in page.body


_SOUP = st.lists(
    st.sampled_from(
        [
            "<html>", "<head>", "<body>", "<p>", "</p>", "<div class='article-body'>", "</div>",
            "<article>", "</article>", "<nav>", "<script>", "</script>", "<style>", "<!--",
            "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xD800;", "<h1>", "<title>",
            "<meta property='og:title' content='", "<meta name='author' content='By ", "'>",
            "<time datetime='", "<script type='application/ld+json'>", '{"author":',
            '"@graph":[', "[", "]", "}", "<table><tr><td>", "<figure><figcaption>", "<br>",
            "<?xml version='1.0'?>", "\x00", "\u202e", "Raqqa", "Iran said on Monday ",
            "<link rel='canonical' href='", "javascript:alert(1)", " ",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=80, deadline=None)
@given(markup=_SOUP)
def test_random_tag_soup_does_not_raise(markup: str) -> None:
    page = parse_html(markup, url="https://example.org/a")
    assert isinstance(page.body, str)
    assert all(isinstance(a, str) and a for a in page.authors)


@settings(max_examples=40, deadline=None)
@given(markup=st.binary(max_size=300) | st.text(max_size=300))
def test_random_bytes_and_text_do_not_raise(markup: bytes | str) -> None:
    assert isinstance(parse_html(markup).body, str)


def test_tag_with_huge_attribute_list_is_quick() -> None:
    attributes = " ".join(f'a{i}="{i}"' for i in range(30_000))
    start = time.perf_counter()
    page = parse_html(f"<html><body><p {attributes}>Text after the tag.</p></body></html>")
    assert "Text after the tag." in page.body
    assert time.perf_counter() - start < 10


def test_empty_input_gives_empty_body() -> None:
    assert parse_html("") == HtmlExtract(None, "", (), None, None, None, None)
    assert parse_html("", url="https://x.example/a").url == "https://x.example/a"


def test_deeply_nested_markup_does_not_raise_and_is_quick() -> None:
    depth = 20_000
    markup = "<div>" * depth + "<p>Deep text about Raqqa.</p>" + "</div>" * depth
    start = time.perf_counter()
    page = parse_html(markup)
    assert isinstance(page.body, str)
    assert time.perf_counter() - start < 10


def test_short_page_keeps_its_text() -> None:
    markup = (
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<article><p>Kurdish forces entered the town on Tuesday.</p></article>"
        "<footer>Contact us</footer></body></html>"
    )
    body = parse_html(markup).body
    assert "Kurdish forces entered the town on Tuesday." in body
    assert "Contact us" not in body


# --- benchmark pages ------------------------------------------------------------------------


def _corpus() -> Path | None:
    env = os.environ.get("SEARCHLIB_CORPORA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"
    corpus = root / "extraction-benchmark"
    return corpus if (corpus / "ground-truth.json").is_file() else None


def _bench_module() -> ModuleType:
    """bench/extraction.py, loaded by path (bench/ is not a package), for its metric."""
    name = "searchlib_bench_extraction"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "extraction.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_metric_is_bag_of_words_f1() -> None:
    bench = _bench_module()
    assert bench.score("The cat sat.", "the CAT sat").f1 == 1.0
    half = bench.score("a b", "a c")
    assert (half.precision, half.recall) == (0.5, 0.5)
    assert bench.score("", "a").f1 == 0.0


# Every 20th page of the sorted ids: a fixed, varied sample (news, blogs, several languages).
SAMPLE_STEP = 20


def test_benchmark_sample_mean_f1() -> None:
    corpus = _corpus()
    if corpus is None:
        pytest.skip("extraction benchmark corpus not available (set SEARCHLIB_CORPORA)")
    bench = _bench_module()
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[::SAMPLE_STEP]
    scores = []
    for page_id in ids:
        markup = gzip.decompress((corpus / "html" / f"{page_id}.html.gz").read_bytes())
        body = parse_html(markup, url=truth[page_id].get("url")).body
        scores.append(bench.score(body, truth[page_id]["articleBody"]).f1)
    mean = sum(scores) / len(scores)
    assert len(scores) >= 9
    assert mean >= 0.9, f"mean F1 {mean:.3f} over {len(scores)} pages: {scores}"


def test_benchmark_pages_through_the_index_keep_their_text() -> None:
    """What a user gets: pages indexed as files, text read back from the index."""
    corpus = _corpus()
    if corpus is None:
        pytest.skip("extraction benchmark corpus not available (set SEARCHLIB_CORPORA)")
    result = _bench_module().through_index(corpus, limit=12)
    assert len(result.per_page_f1) == 12
    assert result.f1 >= 0.95, f"mean F1 {result.f1:.3f}: {result.per_page_f1}"


def test_missing_htmldate_raises_a_dependency_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "htmldate", None)
    with pytest.raises(DependencyError, match="htmldate"):
        parse_html("<html><body><article><p>No date markup here at all, so the page's "
                   "date is looked for with htmldate.</p></article></body></html>")
