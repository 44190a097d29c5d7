"""Snippets of a hit: the matched passage of the body, cut at sentence edges, with the
matched words' spans (or the article's lead when nothing in the body matched).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import highlight  # noqa: E402
from whoosh import query as wq  # noqa: E402

SENTINEL_START, SENTINEL_END = "\x02", "\x03"
_ELLIPSIS = " … "
#: Matched terms a snippet marks per field of a hit.
_HIGHLIGHT_TERMS = 24
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]?\s+")


class SnippetFormatter(highlight.Formatter):  # type: ignore[misc]
    """Marks matches with sentinel characters; :func:`split_marks` turns them into offsets.

    Cleaned text never contains control characters, so the sentinels cannot collide.
    """

    between = _ELLIPSIS

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return SENTINEL_START + str(highlight.get_text(text, token, replace)) + SENTINEL_END


class SnippetHighlighter(highlight.Highlighter):  # type: ignore[misc]
    """Whoosh's highlighter, told to use the character offsets found for a page's hits
    (:func:`.evaluate.preload_chars`) also when the field does not store them: Whoosh would
    otherwise analyse each text again token by token, in Python, for every hit."""

    def __init__(self) -> None:
        super().__init__(fragmenter=SentenceSnapFragmenter(), formatter=SnippetFormatter())

    def can_load_chars(self, results: Any, fieldname: str) -> bool:
        """Whether the offsets of ``fieldname``'s matches are at hand (or can be read)."""
        if fieldname in results._char_cache:
            return True
        return bool(super().can_load_chars(results, fieldname))


class SentenceSnapFragmenter(highlight.PinpointFragmenter):  # type: ignore[misc]
    """Pinpoint fragments (built from stored character offsets, no re-analysis) whose edges
    are moved to the nearest sentence boundary when one is close, else to a word boundary."""

    def __init__(self) -> None:
        super().__init__(maxchars=170, surround=50, autotrim=False)

    def fragment_matches(self, text: str, tokens: Any) -> Iterator[Any]:
        for frag in super().fragment_matches(text, tokens):
            first = min(t.startchar for t in frag.matches)
            last = max(t.endchar for t in frag.matches)
            start = _snap_start(text, frag.startchar, first)
            end = _snap_end(text, frag.endchar, last)
            yield highlight.Fragment(text, frag.matches, start, end)


def _snap_start(text: str, start: int, first_match: int) -> int:
    window = text[max(0, start - 60):first_match]
    offset = max(0, start - 60)
    best = None
    for m in _SENTENCE_END.finditer(window):
        best = offset + m.end()
    if "\n" in window:
        best = max(best or 0, offset + window.rindex("\n") + 1)
    if best is not None and best <= first_match:
        return best
    if start <= 0:
        return 0
    space = text.find(" ", start, first_match)
    return space + 1 if space != -1 else start


def _snap_end(text: str, end: int, last_match: int) -> int:
    window = text[last_match:min(len(text), end + 60)]
    newline = window.find("\n")
    if newline != -1:
        # A fragment never runs on into the next paragraph.
        window = window[:newline]
        end = min(end, last_match + newline)
    m = _SENTENCE_END.search(window)
    if m:
        # Keep the punctuation and a closing quote, drop the whitespace after them.
        return last_match + m.start() + len(m.group().rstrip())
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", last_match, end)
    return space if space != -1 else end


def split_marks(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The highlighter's marked text as plain text and the spans of its marked words."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    start = None
    for ch in marked:
        if ch == SENTINEL_START:
            start = pos
        elif ch == SENTINEL_END:
            if start is not None and pos > start:
                spans.append((start, pos))
            start = None
        elif ch == "\n" or (ch == " " and out and out[-1] == " "):
            # Paragraph breaks inside a fragment read as one space on a result line.
            if out and out[-1] != " ":
                out.append(" ")
                pos += 1
        else:
            out.append(ch)
            pos += 1
    return "".join(out), tuple(spans)


def mark_cuts(snippet: str, spans: tuple[tuple[int, int], ...]
               ) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Show with an ellipsis where the snippet starts or stops inside a sentence."""
    if snippet[-1:] not in ".!?\"”’)]:" and not snippet.endswith("…"):
        snippet += " …"
    if snippet[:1].islower():
        snippet = "… " + snippet
        spans = tuple((a + 2, b + 2) for a, b in spans)
    return snippet, spans


def lead_snippet(body: str, limit: int = 240) -> str:
    """The article's opening, cut at a word boundary, for hits without a body match."""
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


def highlighted_terms(terms: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The matched terms of a hit its snippet marks: at most :data:`_HIGHLIGHT_TERMS` per
    field, in query order (``a*`` matches dozens of terms in each article; loading the
    positions of all of them took most of such a search)."""
    kept: list[tuple[str, bytes]] = []
    per_field: dict[str, int] = {}
    for term in terms:
        count = per_field.get(term[0], 0)
        if count < _HIGHLIGHT_TERMS:
            per_field[term[0]] = count + 1
            kept.append(term)
    return kept


def snippet_of(hit: Any, body: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet of a Whoosh hit whose ``body`` is given, and the spans of its marked words:
    the best passages of the body, or its lead when the query marks nothing there."""
    snippet = ""
    spans: tuple[tuple[int, int], ...] = ()
    marked = ""
    if hit.results.q and not isinstance(hit.results.q, wq.Every):
        try:
            marked = hit.highlights("body", text=body, top=3)
        except Exception:  # a highlighter failure must not lose the hit
            marked = ""
    if marked and SENTINEL_START in marked:
        snippet, spans = split_marks(marked)
        snippet, spans = mark_cuts(snippet, spans)
    else:
        snippet = lead_snippet(body)
    return snippet, spans
