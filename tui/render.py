"""Turning document text into styled Textual :class:`~textual.content.Content`, safely.

Document text may contain anything, including square brackets and escape sequences, so it is
never interpolated into markup: it goes through :func:`searchlib.textsafe.terminal_safe` and
into ``Content`` objects whose spans carry theme-variable styles (``$text-accent`` ...), which
Textual resolves at render time so the light and dark themes both work.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text
from textual.content import Content, Span

from searchlib import Hit
from searchlib.textsafe import terminal_safe

__all__ = [
    "MATCH_STYLE",
    "Hanging",
    "HitStyles",
    "display_path",
    "find_matches",
    "format_date",
    "hit_renderable",
    "safe",
    "styled_spans",
    "trim_snippet",
]

#: Style of a matched query term (theme variables, resolved when rendered).
MATCH_STYLE = "bold $text-warning on $warning-muted"
_SNIPPET_LIMIT = 320


def safe(text: str, *, single_line: bool = False) -> str:
    """``text`` with control and bidi-override characters made visible."""
    return terminal_safe(text, single_line=single_line)


def display_path(path: str) -> str:
    """A source path relative to the working directory when it lies inside it (shorter)."""
    file_part, sep, record = path.partition("#")
    try:
        rel = os.path.relpath(file_part)
    except ValueError:  # another drive on Windows
        return path
    shown = file_part if rel.startswith("..") else rel
    return shown + sep + record


def format_date(day: dt.date | None) -> str:
    """ISO date, or a dash placeholder of the same width for undated articles."""
    return day.isoformat() if day else "    —     "


def styled_spans(text: str, spans: Iterable[tuple[int, int]], style: str) -> Content:
    """``text`` as Content with ``style`` over each ``[start, end)`` span.

    ``terminal_safe`` may lengthen the text (one control char becomes ``\\xNN``), so the text is
    made safe piece by piece to keep the spans on the characters they were computed for.
    """
    parts: list[str] = []
    out_spans: list[Span] = []
    pos = 0
    out_len = 0
    for start, end in sorted(spans):
        if start < pos or end <= start or end > len(text):
            continue
        before = safe(text[pos:start])
        parts.append(before)
        out_len += len(before)
        inner = safe(text[start:end])
        parts.append(inner)
        out_spans.append(Span(out_len, out_len + len(inner), style))
        out_len += len(inner)
        pos = end
    parts.append(safe(text[pos:]))
    return Content("".join(parts), out_spans, strip_control_codes=False)


def trim_snippet(snippet: str, spans: Sequence[tuple[int, int]],
                 limit: int = _SNIPPET_LIMIT) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Cut a long snippet at a word boundary after ``limit`` chars, keeping its spans valid."""
    if len(snippet) <= limit:
        return snippet, tuple(spans)
    cut = snippet.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    kept = tuple((s, e) for s, e in spans if e <= cut)
    return snippet[:cut].rstrip() + " …", kept


@dataclass(frozen=True)
class HitStyles:
    """Rich styles for the parts of a result, taken from the list's component classes."""

    rank: Style = field(default_factory=Style)
    date: Style = field(default_factory=Style)
    title: Style = field(default_factory=lambda: Style(bold=True))
    meta: Style = field(default_factory=Style)
    match: Style = field(default_factory=lambda: Style(bold=True, reverse=True))


def _unique(values: Iterable[str], limit: int) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out[:limit]


class Hanging:
    """A gutter (the rank) beside text whose wrapped lines stay aligned under its first line.

    Does what a two-column ``Table.grid`` would, at a third of the cost: results are
    re-rendered on every keystroke's search, so this matters while typing.
    """

    def __init__(self, gutter: Text, body: Text, width: int) -> None:
        self.gutter = gutter
        self.body = body
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Wrap the body to the room beside the gutter, one Text per line."""
        lines = self.body.wrap(console, max(1, options.max_width - self.width))
        blank = Text(" " * self.width)
        for index, line in enumerate(lines):
            line.rstrip()
            yield Text.assemble(self.gutter if index == 0 else blank, line)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """As narrow as the gutter plus one cell, as wide as allowed."""
        return Measurement(self.width + 1, options.max_width)


def hit_renderable(hit: Hit, styles: HitStyles, *, snippet: bool = True) -> Hanging:
    """A result: rank, then title / date and entities / snippet, wrapped beside the rank."""
    # Styles go on appended pieces: a Text's own style would spill over everything after it.
    body = Text()
    body.append(safe(hit.title, single_line=True) or "(untitled)", styles.title)
    meta = Text()
    meta.append(hit.published.isoformat() if hit.published else "undated", styles.date)
    if hit.copies:
        # Near-duplicates folded into this hit (search duplicates / --no-collapse lists them).
        meta.append(f"  +{len(hit.copies)} cop{'y' if len(hit.copies) == 1 else 'ies'}",
                    styles.meta)
    who = _unique(hit.actors, 3)
    where = _unique(hit.locations, 3)
    if who:
        meta.append("  who ", styles.meta)
        meta.append(safe(", ".join(who), single_line=True))
    if where:
        meta.append("  where ", styles.meta)
        meta.append(safe(", ".join(where), single_line=True))
    body.append("\n")
    body.append_text(meta)
    if snippet and hit.snippet:
        # One space per whitespace character keeps the highlight offsets valid.
        text, spans = trim_snippet(re.sub(r"\s", " ", hit.snippet), hit.highlights)
        body.append("\n")
        body.append_text(_rich_spans(text, spans, styles.match))
    gutter = Text(f"{hit.rank}.".rjust(4) + " ", style=styles.rank)
    return Hanging(gutter, body, 5)


def _rich_spans(text: str, spans: Sequence[tuple[int, int]], style: Style) -> Text:
    out = Text()
    pos = 0
    for start, end in sorted(spans):
        if start < pos or end <= start or end > len(text):
            continue
        out.append(safe(text[pos:start]))
        out.append(safe(text[start:end]), style)
        pos = end
    out.append(safe(text[pos:]))
    return out


def _term_pattern(term: str) -> str:
    if "*" in term or "?" in term:
        body = "".join(r"\w*" if c == "*" else r"\w" if c == "?" else re.escape(c)
                       for c in term)
        return rf"\b{body}\b"
    # The index stems words, so "strike" also found "strikes"/"striking": accept the common
    # English inflections after the query word.
    return rf"\b{re.escape(term)}(?:s|es|ed|d|ing|'s|’s)?\b"


def find_matches(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping ``[start, end)`` spans where any of ``terms`` occurs (case-insensitive)."""
    words = [t for t in terms if t.strip("*?")]
    if not words:
        return []
    ordered = sorted(words, key=lambda t: (-len(t), t))
    pattern = re.compile("|".join(_term_pattern(t) for t in ordered), re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]
