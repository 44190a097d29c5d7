"""From a hit to a citation: title, outlet, date, URL and the matched sentence, verifiable.

A snippet is made for reading: paragraphs joined, fragments glued with ellipses. A citation
needs the words exactly as stored, so :func:`quote_for` finds the snippet's first highlighted
fragment back in the stored text and widens it to its sentence: ``Quote.text`` is always
``article.text[Quote.start:Quote.end]`` (the ``text`` of ``search show ID --json``), so a script
can check every quote against the index. :func:`cite_results` turns a page of results into
:class:`Citation` records; the ``format_*`` and ``write_*`` functions render them as JSON
lines, CSV, Markdown or one citation per line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .models import Article, Hit, SearchResults

if TYPE_CHECKING:
    from .search import Index

__all__ = [
    "CSV_COLUMNS",
    "Citation",
    "Quote",
    "citation",
    "citation_record",
    "cite_results",
    "format_cite",
    "format_markdown",
    "quote_for",
    "write_csv",
    "write_jsonl",
]

#: The columns of ``--format csv``, in order.
CSV_COLUMNS = ("rank", "id", "title", "source", "published", "url", "path", "score",
               "quote", "quote_start", "quote_end", "quote_matched", "actors", "locations",
               "people")

# How the Whoosh engine glues fragments and marks cut sentences (see its snippets.mark_cuts).
_FRAGMENT_GAP = " … "
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
# A word before a full stop that is more likely an abbreviation than a sentence's end:
# "Mr.", "Dr.", "Gen.", "U.S.", "J." (an initial).
_ABBREVIATION = re.compile(r"(?:^|[\s(\"“])(?:[A-Z][a-z]{0,2}|(?:[A-Z]\.)+[A-Z])$")
# A quote longer than this is cut to a window around the match (at word boundaries).
_MAX_QUOTE = 600
_WINDOW = 250


@dataclass(frozen=True)
class Quote:
    """A sentence of an article's stored text, with where it is."""

    text: str
    """The sentence exactly as stored (equal to ``article.text[start:end]``)."""
    start: int
    """Character offset in the stored text (``Article.text``)."""
    end: int
    """End offset, exclusive."""
    matched: bool
    """True when it holds the query's first match; False when it is the article's first
    sentence (a match-all query, or a hit matched in the title only)."""


@dataclass(frozen=True)
class Citation:
    """One hit as a reference: who published what, when, where, and the quoted sentence."""

    rank: int
    """1-based position in the result list."""
    id: str
    """Document id (``search show ID``)."""
    title: str
    """Headline."""
    source: str | None
    """Outlet: the article's source or site, else the host name of its URL, else None."""
    published: dt.date | None
    """Publication date, or None when undated."""
    url: str | None
    """Original URL when known."""
    path: str
    """Source file (plus ``#N`` for a record of a multi-article file)."""
    score: float
    """Relevance score of the hit."""
    quote: Quote
    """The matched sentence."""
    actors: tuple[str, ...] = ()
    """Actors the article mentions."""
    locations: tuple[str, ...] = ()
    """Places it mentions."""
    people: tuple[str, ...] = ()
    """People it mentions."""


def _ws_pattern(text: str) -> str:
    """``text`` as a regex in which each run of whitespace matches any run of whitespace
    (a snippet shows a paragraph break as one space)."""
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", text))


def _locate(body: str, snippet: str, span: tuple[int, int]) -> tuple[int, int] | None:
    """Where the highlighted ``snippet[span]`` is in ``body``, using its fragment as context."""
    a, b = span
    frag_start = snippet.rfind(_FRAGMENT_GAP, 0, a)
    frag_start = 0 if frag_start == -1 else frag_start + len(_FRAGMENT_GAP)
    frag_end = snippet.find(_FRAGMENT_GAP, b)
    frag_end = len(snippet) if frag_end == -1 else frag_end
    pre, word, post = snippet[frag_start:a], snippet[a:b], snippet[b:frag_end]
    if frag_start == 0 and pre.startswith("… "):
        pre = pre[2:]
    if post.endswith(" …"):
        post = post[:-2]
    pre, post = pre.lstrip(), post.rstrip()
    if not word.strip():
        return None
    attempts = [(pre, post), ("", post), (pre, ""), ("", "")]
    for before, after in attempts:
        pattern = ""
        if before:
            pattern += _ws_pattern(before.rstrip()) + (r"\s+" if before[-1:].isspace() else "")
        pattern += "(" + _ws_pattern(word) + ")"
        if after:
            pattern += (r"\s+" if after[:1].isspace() else "") + _ws_pattern(after.lstrip())
        if not before and not after:
            pattern = r"(?<!\w)" + pattern + r"(?!\w)"
        m = re.search(pattern, body)
        if m:
            return m.start(1), m.end(1)
    return None


def _sentence_start(body: str, pos: int) -> int:
    start = body.rfind("\n", 0, pos) + 1
    for m in _SENTENCE_END.finditer(body, start, pos):
        if not _is_abbreviation(body, m.start()):
            start = m.end()
    while start < pos and body[start].isspace():
        start += 1
    return start


def _sentence_end(body: str, pos: int) -> int:
    newline = body.find("\n", pos)
    limit = len(body) if newline == -1 else newline
    for m in _SENTENCE_END.finditer(body, pos, limit):
        if not _is_abbreviation(body, m.start()):
            return m.end()
    end = limit
    while end > pos and body[end - 1].isspace():
        end -= 1
    return end


def _is_abbreviation(body: str, dot: int) -> bool:
    if body[dot] != ".":
        return False
    return bool(_ABBREVIATION.search(body[max(0, dot - 12):dot]))


def _clip(body: str, start: int, end: int, a: int, b: int) -> tuple[int, int]:
    """Cut an overlong sentence to a window around ``[a, b)``, at word boundaries."""
    if end - start <= _MAX_QUOTE:
        return start, end
    lo = max(start, a - _WINDOW)
    if lo > start:
        space = body.find(" ", lo, a)
        lo = space + 1 if space != -1 else lo
    hi = min(end, b + _WINDOW)
    if hi < end:
        space = body.rfind(" ", b, hi)
        hi = space if space != -1 else hi
    return lo, hi


def quote_for(body: str, snippet: str = "",
              highlights: Sequence[tuple[int, int]] = ()) -> Quote:
    """The sentence of ``body`` that holds a hit's first highlighted match.

    ``snippet`` and ``highlights`` are a :class:`~searchlib.models.Hit`'s. Without a match
    found in the body, the quote is the body's first sentence (``matched`` False).
    """
    located = None
    for span in highlights:
        located = _locate(body, snippet, span)
        if located:
            break
    matched = located is not None
    if located is None:
        first = len(body) - len(body.lstrip())
        located = (first, first)
    a, b = located
    start, end = _sentence_start(body, a), _sentence_end(body, max(b, a))
    start, end = _clip(body, start, end, a, b)
    return Quote(body[start:end], start, end, matched)


def _outlet(article: Article) -> str | None:
    if article.source and str(article.source).strip():
        return str(article.source).strip()
    if article.url:
        host = urlsplit(article.url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def citation(hit: Hit, article: Article) -> Citation:
    """The citation of ``hit``, whose stored article is ``article``."""
    return Citation(
        rank=hit.rank, id=hit.id, title=article.title or hit.title, source=_outlet(article),
        published=article.published, url=article.url or None, path=article.path,
        score=hit.score, quote=quote_for(article.text, hit.snippet, hit.highlights),
        actors=article.actors, locations=article.locations, people=article.people)


def cite_results(ix: Index, results: SearchResults) -> tuple[Citation, ...]:
    """Citations of the hits of ``results`` (a search of ``ix`` made with snippets)."""
    return tuple(citation(hit, ix.get(hit.id)) for hit in results.hits)


def citation_record(c: Citation) -> dict[str, Any]:
    """A citation as a JSON-ready dict (one line of ``--format jsonl``)."""
    return {"rank": c.rank, "id": c.id, "title": c.title, "source": c.source,
            "published": c.published.isoformat() if c.published else None, "url": c.url,
            "path": c.path, "score": round(c.score, 4), "quote": c.quote.text,
            "quote_start": c.quote.start, "quote_end": c.quote.end,
            "quote_matched": c.quote.matched, "actors": list(c.actors),
            "locations": list(c.locations), "people": list(c.people)}


def write_jsonl(citations: Iterable[Citation]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps(citation_record(c), ensure_ascii=False) + "\n"
                   for c in citations)


def write_csv(citations: Iterable[Citation]) -> str:
    """CSV with a header row (:data:`CSV_COLUMNS`); lists are joined with ``"; "``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in citations:
        record = citation_record(c)
        writer.writerow(["; ".join(v) if isinstance(v, list) else
                         "" if v is None else v for v in (record[k] for k in CSV_COLUMNS)])
    return out.getvalue()


def _where(c: Citation) -> str:
    return c.url or c.path


def _date(c: Citation) -> str:
    return c.published.isoformat() if c.published else "undated"


def format_cite(c: Citation) -> str:
    """One line: ``Title. Outlet, date. URL-or-path. [id:start-end] "quote"``.

    The quote is the last ``end - start`` characters before the closing quotation mark, so
    a script can take it back exactly (the offsets are into ``search show ID --json``'s
    ``text``).
    """
    parts = [c.title.strip().rstrip(".") or "(untitled)"]
    parts.append(f"{c.source}, {_date(c)}" if c.source else _date(c))
    parts.append(_where(c))
    head = ". ".join(p.replace("\n", " ") for p in parts)
    return f'{head}. [{c.id}:{c.quote.start}-{c.quote.end}] "{c.quote.text}"'


def _md(text: str) -> str:
    """Escape the characters that would turn text into Markdown markup."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text.replace("\n", " "))


def format_markdown(citations: Sequence[Citation], query: str) -> str:
    """A Markdown list: linked title, outlet and date, the quote as a block quote."""
    lines = [f"## Results for `{query.replace('`', '')}`", ""]
    for c in citations:
        title = _md(c.title or "(untitled)")
        link = f"[{title}](<{c.url}>)" if c.url else f"{title} (`{c.path.replace('`', '')}`)"
        lines.append(f"{c.rank}. {link} — {_md(c.source) + ', ' if c.source else ''}{_date(c)}")
        lines.append("")
        lines.append(f"   > {_md(c.quote.text)}")
        lines.append(f"   > — `{c.id}` characters {c.quote.start}–{c.quote.end}")
        lines.append("")
    return "\n".join(lines)
