"""The article reader: cleaned text with the query terms highlighted, metadata and entities.

n / N jump between matches, s lists similar articles, Escape goes back to the results (the
results screen stays underneath, so its list, cursor and scroll position are untouched).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content, Span
from textual.geometry import Region
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from searchlib import Article

from .render import MATCH_STYLE, display_path, find_matches, format_date, safe, styled_spans

__all__ = ["CURRENT_STYLE", "EntityList", "ReaderScreen"]

#: Style of the match the n/N keys are on.
CURRENT_STYLE = "bold reverse $text-accent"
_ENTITY_STYLE = "underline"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class _Match:
    paragraph: int
    start: int
    end: int


class EntityList(OptionList):
    """The reader's entity panel: actors, places and people to filter by, then other facts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back_to_text", "Back to the text", show=False),
    ]

    def action_back_to_text(self) -> None:
        """Escape returns to the article's text."""
        self.screen.query_one("#reader-body").focus()


class ReaderScreen(Screen[None]):
    """One article, full screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "next_match", "Next match"),
        Binding("N,shift+n", "previous_match", "Prev match", key_display="N"),
        Binding("s", "similar", "Similar"),
        Binding("e", "toggle_entities", "Entities"),
        Binding("f", "focus_entities", "Filter by entity",
                tooltip="move to the entity panel: Enter on an entity filters the results"),
        Binding("o", "open_source", "Open source",
                tooltip="the source file in $VISUAL/$EDITOR (at the current match) or the "
                "system opener; the URL when the file is gone"),
    ]

    @dataclass
    class SimilarRequested(Message):
        """The user asked for articles like this one (the app looks them up)."""

        doc_id: str

    @dataclass
    class FilterRequested(Message):
        """An entity was chosen in the panel: filter the results by it (toggle)."""

        kind: str
        value: str

    def __init__(self, article: Article, terms: Sequence[str], *,
                 counter: Callable[[str, str], int] | None = None,
                 selected: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(classes="reader")
        self.article = article
        self.terms = list(terms)
        self.counter = counter
        """Hits the results would have with an entity's filter toggled (None: no counts)."""
        self.selected = {k: tuple(v) for k, v in (selected or {}).items()}
        self.entity_counts: dict[tuple[str, str], int] = {}
        self._paragraphs = self._split(article.text)
        self.matches: list[_Match] = []
        for index, (_, text) in enumerate(self._paragraphs):
            self.matches += [_Match(index, s, e) for s, e in find_matches(text, self.terms)]
        self.current: int | None = None

    @staticmethod
    def _split(text: str) -> list[tuple[int, str]]:
        """Paragraphs with their offsets in the body (for entity spans)."""
        out: list[tuple[int, str]] = []
        pos = 0
        for m in _PARAGRAPH_BREAK.finditer(text):
            if text[pos:m.start()].strip():
                out.append((pos, text[pos:m.start()]))
            pos = m.end()
        if text[pos:].strip():
            out.append((pos, text[pos:]))
        return out or [(0, "(this article has no text)")]

    def compose(self) -> ComposeResult:
        """Title block, body and the entity side panel."""
        a = self.article
        title = styled_spans(a.title, find_matches(a.title, self.terms), MATCH_STYLE)
        yield Static(title.stylize("bold"), id="reader-title")
        if a.subtitle:
            yield Static(Content(safe(a.subtitle)), id="reader-subtitle")
        yield Static(self._meta(), id="reader-meta")
        yield Static(self._status(), id="reader-status")
        with Horizontal(id="reader-main"):
            with VerticalScroll(id="reader-body"):
                for index in range(len(self._paragraphs)):
                    yield Static(self._paragraph(index), classes="paragraph",
                                 id=f"para-{index}")
            yield EntityList(*self._entity_options(), id="entities")
        yield Footer()

    def on_mount(self) -> None:
        """Scroll the body with the keyboard straight away; count the entities' hits."""
        self.query_one("#reader-body").focus()
        self._count_entities()

    # --- content -----------------------------------------------------------------------------

    def _meta(self) -> Content:
        a = self.article
        parts: list[tuple[str, str] | str] = [(format_date(a.published).strip(), "$text-accent")]
        if a.authors:
            parts += ["  ·  ", safe(", ".join(a.authors), single_line=True)]
        if a.source:
            parts += ["  ·  ", safe(a.source, single_line=True)]
        parts += ["\n", (safe(a.url or display_path(a.path), single_line=True), "$text-muted")]
        parts += [("  ·  id ", "$text-muted"), (a.id, "$text-muted")]
        return Content.assemble(*parts)

    def _status(self) -> Content:
        if not self.terms:
            return Content.styled("No query terms to highlight.", "$text-muted")
        words = ", ".join(self.terms[:8]) + (" …" if len(self.terms) > 8 else "")
        if not self.matches:
            where = "Only the title matches " if find_matches(self.article.title, self.terms) \
                else "No matches in the text for "
            return Content.assemble((where, "$text-muted"), safe(words, single_line=True))
        where = "n/N to jump" if self.current is None else (
            f"match {self.current + 1} of {len(self.matches)}")
        return Content.assemble(
            (f"{len(self.matches)} matches", "bold"), " of ", safe(words, single_line=True),
            ("  ·  " + where, "$text-muted"))

    def _paragraph(self, index: int) -> Content:
        offset, text = self._paragraphs[index]
        spans = [(m.start, m.end) for m in self.matches if m.paragraph == index]
        content = styled_spans(text, spans, MATCH_STYLE)
        if content.plain != text:
            return content  # control characters were escaped: entity offsets no longer apply
        # Mentions are offsets into title + blank line + body.
        base = len(self.article.title) + 2 + offset
        extra = [Span(m.start - base, m.end - base, _ENTITY_STYLE)
                 for m in self.article.mentions
                 if base <= m.start and m.end <= base + len(text)]
        if self.current is not None:
            cur = self.matches[self.current]
            if cur.paragraph == index:
                extra.append(Span(cur.start, cur.end, CURRENT_STYLE))
        return Content(content.plain, [*content.spans, *extra], strip_control_codes=False)

    def _entity_options(self) -> list[Option]:
        """Entities as choosable lines (Enter filters the results by one), then the other
        facts as plain lines."""
        a = self.article
        options: list[Option] = []

        def section(title: str, values: Sequence[str], kind: str | None = None) -> None:
            if not values:
                return
            if options:
                options.append(Option("", disabled=True))
            options.append(Option(Content.styled(f"{title} ({len(values)})",
                                                 "bold $text-primary"), disabled=True))
            for value in values:
                if kind is None:
                    options.append(Option(Content(safe(f"• {value}", single_line=True)),
                                          disabled=True))
                else:
                    options.append(Option(self._entity_label(kind, value),
                                          id=f"{kind}\t{value}"))

        section("Actors", a.actors, "actor")
        section("Locations", a.locations, "location")
        section("People", a.people, "person")
        section("Dates mentioned", [d.isoformat() for d in a.mentioned_dates[:20]])
        section("Authors", a.authors)
        section("Also saved as", a.duplicates)
        section("Near copies (ids)", a.near_duplicates)
        if not options:
            options.append(Option(Content.styled("No entities were recognised in this "
                                                 "article.", "$text-muted"), disabled=True))
        return options

    def _entity_label(self, kind: str, value: str) -> Content:
        count = self.entity_counts.get((kind, value))
        selected = value in self.selected.get(kind, ())
        parts: list[tuple[str, str] | str] = [("✓ " if selected else "• ", "$text-accent"),
                                              safe(value, single_line=True)]
        if count is not None:
            parts.append((f"  {count:,}", "$text-muted"))
        return Content.assemble(*parts)

    @work(thread=True, exclusive=True, group="entity-counts")
    def _count_entities(self) -> None:
        """How many hits choosing each entity would give (the app knows how to count)."""
        counter = self.counter
        if counter is None:
            return
        counts = {}
        for kind, values in (("actor", self.article.actors), ("location", self.article.locations),
                             ("person", self.article.people)):
            for value in values:
                if get_current_worker().is_cancelled:
                    return
                counts[(kind, value)] = counter(kind, value)
        self.app.call_from_thread(self._show_counts, counts)

    def _show_counts(self, counts: dict[tuple[str, str], int]) -> None:
        self.entity_counts = counts
        panel = self.query_one("#entities", EntityList)
        for (kind, value) in counts:
            panel.replace_option_prompt(f"{kind}\t{value}", self._entity_label(kind, value))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an entity: filter the results by it (or drop that filter)."""
        event.stop()
        if event.option.id and "\t" in event.option.id:
            kind, value = event.option.id.split("\t", 1)
            self.post_message(self.FilterRequested(kind, value))

    # --- actions -----------------------------------------------------------------------------

    def _jump(self, step: int) -> None:
        if not self.matches:
            self.notify("The query terms do not occur in this article's text.",
                        severity="warning", timeout=3)
            return
        previous = self.current
        if self.current is None:
            self.current = 0 if step > 0 else len(self.matches) - 1
        else:
            self.current = (self.current + step) % len(self.matches)
        touched = {self.matches[self.current].paragraph}
        if previous is not None:
            touched.add(self.matches[previous].paragraph)
        for index in touched:
            self.query_one(f"#para-{index}", Static).update(self._paragraph(index))
        self.query_one("#reader-status", Static).update(self._status())
        self._scroll_to_current()

    def _scroll_to_current(self) -> None:
        if self.current is None:
            return
        match = self.matches[self.current]
        para = self.query_one(f"#para-{match.paragraph}", Static)
        body = self.query_one("#reader-body", VerticalScroll)
        width = max(1, para.content_size.width)
        # Wrapped lines are about as long as the width, so this finds the match's line closely
        # enough to keep it in the middle of the view.
        line = match.start // width
        region = para.virtual_region.translate((0, line))
        body.scroll_to_region(Region(region.x, region.y, 1, 1), animate=False, center=True,
                              force=True)

    def action_next_match(self) -> None:
        """Go to the next highlighted term (wraps around)."""
        self._jump(1)

    def action_previous_match(self) -> None:
        """Go to the previous highlighted term (wraps around)."""
        self._jump(-1)

    def action_back(self) -> None:
        """Back to the results."""
        self.dismiss(None)

    def action_similar(self) -> None:
        """List articles similar to this one."""
        self.post_message(self.SimilarRequested(self.article.id))

    def action_toggle_entities(self) -> None:
        """Show or hide the entity panel (more room for text on narrow terminals)."""
        panel = self.query_one("#entities")
        panel.display = not panel.display

    def action_focus_entities(self) -> None:
        """Move to the entity panel (showing it), on its first entity."""
        panel = self.query_one("#entities", EntityList)
        panel.display = True
        panel.focus()
        if panel.highlighted is None or panel.get_option_at_index(panel.highlighted).disabled:
            first = next((i for i in range(panel.option_count)
                          if not panel.get_option_at_index(i).disabled), None)
            panel.highlighted = first

    def action_open_source(self) -> None:
        """Open the source file, at the line of the current (or first) match."""
        from .opening import open_article_source

        words: list[str] = []
        context = ""
        if self.matches:
            match = self.matches[self.current or 0]
            text = self._paragraphs[match.paragraph][1]
            words, context = [text[match.start:match.end]], text
        open_article_source(self.app, self.article, words, context)
