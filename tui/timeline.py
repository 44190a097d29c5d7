"""The timeline: a per-month bar chart of the current results; choosing a span filters by date.

Months come from the library's ``month`` facet, which ignores the date filter, so the chart
keeps showing what lies outside the chosen span. When there are more months than columns the
bars are grouped into quarters or years. Keys: Left/Right move, Shift+Left/Right or Space mark
a span, Enter applies it, Delete clears the date filter; dragging with the mouse works too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["Bucket", "Timeline", "make_buckets"]

_BLOCKS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Bucket:
    """A run of consecutive months drawn as one bar."""

    first: str
    """First month, ``YYYY-MM``."""
    last: str
    """Last month, ``YYYY-MM`` (equal to ``first`` for monthly bars)."""
    count: int
    """Documents published in these months."""
    unit: str
    """"month", "quarter" or "year": how the span is named in a date filter."""

    @property
    def date_from(self) -> str:
        """Lower bound for a date filter."""
        return self.first[:4] if self.unit == "year" else self.first

    @property
    def date_to(self) -> str:
        """Upper bound for a date filter."""
        return self.last[:4] if self.unit == "year" else self.last

    @property
    def label(self) -> str:
        """How the bucket is named in the info line."""
        if self.unit == "month":
            return self.first
        if self.unit == "quarter":
            return f"{self.first[:4]} Q{(int(self.first[5:7]) - 1) // 3 + 1}"
        return self.first[:4] if self.first[:4] == self.last[:4] else (
            f"{self.first[:4]}–{self.last[:4]}")


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def make_buckets(months: Mapping[str, int], width: int) -> list[Bucket]:
    """Bars for every month between the first and the last, grouped to fit ``width`` columns."""
    valid = [m for m in months if len(m) == 7 and m[:4].isdigit() and m[5:7].isdigit()]
    if not valid or width < 1:
        return []
    lo = min(_month_index(m) for m in valid)
    hi = max(_month_index(m) for m in valid)
    counts = {_month_index(m): months[m] for m in valid}
    choices = [(span, unit) for span, unit in ((1, "month"), (3, "quarter"), (12, "year"))
               if (hi - (lo - lo % span)) // span + 1 <= width]
    if choices:
        span, unit = choices[0]
    else:
        # Decades of data in a narrow terminal: several years per bar.
        years = hi // 12 - lo // 12 + 1
        span, unit = 12 * -(-years // width), "year"
    start = lo - lo % min(span, 12)
    buckets = []
    for first in range(start, hi + 1, span):
        last = first + span - 1
        total = sum(counts.get(i, 0) for i in range(first, last + 1))
        buckets.append(Bucket(_month_name(first), _month_name(last), total, unit))
    return buckets


class Timeline(Widget, can_focus=True):
    """Bar chart of results per month; posts :class:`SpanChosen` to set the date filter."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--bar", "timeline--selected", "timeline--cursor", "timeline--axis",
        "timeline--info"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("shift+left", "extend(-1)", "Extend span left", show=False),
        Binding("shift+right", "extend(1)", "Extend span right", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("space", "mark", "Mark span", show=False),
        Binding("enter", "apply", "Filter dates", show=False),
        Binding("delete,backspace", "clear", "Clear dates", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    position: reactive[int] = reactive(0)
    mark_start: reactive[int | None] = reactive(None)

    @dataclass
    class SpanChosen(Message):
        """The user chose a span (both None: clear the date filter)."""

        date_from: str | None
        date_to: str | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.months: dict[str, int] = {}
        self.date_from: str | None = None
        self.date_to: str | None = None
        self._dragging = False

    # --- data ----------------------------------------------------------------------------------

    def show_months(self, months: Mapping[str, int], date_from: str | None,
                    date_to: str | None) -> None:
        """Draw a search's month counts with the active date filter marked."""
        self.months = dict(months)
        self.date_from, self.date_to = date_from, date_to
        self.mark_start = None
        self.refresh()

    @property
    def buckets(self) -> list[Bucket]:
        """The bars as currently laid out."""
        return make_buckets(self.months, max(1, self.content_size.width))

    @property
    def column_width(self) -> int:
        """Columns per bar (bars are at most 6 columns wide)."""
        count = len(self.buckets)
        return max(1, min(6, self.content_size.width // count)) if count else 1

    def _clamp(self, index: int) -> int:
        count = len(self.buckets)
        return max(0, min(index, count - 1)) if count else 0

    # --- rendering -----------------------------------------------------------------------------

    def _in_filter(self, bucket: Bucket) -> bool:
        if not (self.date_from or self.date_to):
            return False
        lo = (self.date_from or "0000") + "-00"
        hi = (self.date_to or "9999") + "-99"
        return not (bucket.last + "-99" < lo or bucket.first + "-00" > hi)

    def render(self) -> Text:
        """Info line, bars and a year axis."""
        width = self.content_size.width
        height = max(2, self.content_size.height)
        buckets = make_buckets(self.months, max(1, width))
        info_style = self.get_component_rich_style("timeline--info")
        if not buckets:
            return Text("Timeline: no dated articles in these results", style=info_style)
        cursor = self._clamp(self.position)
        col = max(1, min(6, width // len(buckets)))
        bar_w = col - 1 if col >= 3 else col
        peak = max(b.count for b in buckets) or 1
        rows = height - 2
        styles = {
            "bar": self.get_component_rich_style("timeline--bar"),
            "sel": self.get_component_rich_style("timeline--selected"),
            "cur": self.get_component_rich_style("timeline--cursor"),
            "axis": self.get_component_rich_style("timeline--axis"),
        }
        marking = (min(self.mark_start, cursor), max(self.mark_start, cursor)) \
            if self.mark_start is not None else None
        out = Text(no_wrap=True, overflow="crop")
        out.append_text(self._info(buckets, cursor, marking, info_style))
        for row in range(rows):
            out.append("\n")
            for i, bucket in enumerate(buckets):
                style = self._bar_style(i, bucket, cursor, marking, styles)
                eighths = round(bucket.count / peak * rows * 8) if bucket.count else 0
                if bucket.count and eighths == 0:
                    eighths = 1  # a month with one article must still show
                level = max(0, min(8, eighths - (rows - 1 - row) * 8))
                out.append(_BLOCKS[level] * bar_w, style)
                out.append(" " * (col - bar_w))
        out.append("\n")
        out.append_text(self._axis(buckets, col, width, styles["axis"]))
        return out

    def _bar_style(self, i: int, bucket: Bucket, cursor: int,
                   marking: tuple[int, int] | None, styles: dict[str, Style]) -> Style:
        if self.has_focus and i == cursor:
            return styles["cur"]
        if marking is not None:
            return styles["sel"] if marking[0] <= i <= marking[1] else styles["bar"]
        return styles["sel"] if self._in_filter(bucket) else styles["bar"]

    def _info(self, buckets: list[Bucket], cursor: int, marking: tuple[int, int] | None,
              style: Style) -> Text:
        total = sum(b.count for b in buckets)
        text = Text(f"{buckets[0].label} – {buckets[-1].label} · {total} dated", style=style)
        if self.date_from or self.date_to:
            span = (self.date_from or "…") + " – " + (self.date_to or "…")
            text.append(f" · filter {span}")
        if self.has_focus:
            b = buckets[cursor]
            text.append(f" · ▸ {b.label}: {b.count}")
            if marking is not None:
                text.append(f" · span {buckets[marking[0]].label} – "
                            f"{buckets[marking[1]].label}: Enter applies")
            else:
                text.append(" · Shift+←→ span, Enter filter, Del clear")
        return text

    def _axis(self, buckets: list[Bucket], col: int, width: int, style: Style) -> Text:
        chars = [" "] * width
        last_end = -1
        for i, bucket in enumerate(buckets):
            year = bucket.first[:4]
            starts_year = i == 0 or buckets[i - 1].first[:4] != year
            x = i * col
            if starts_year and x > last_end and x + len(year) <= width:
                chars[x:x + len(year)] = year
                last_end = x + len(year)
        return Text("".join(chars), style=style)

    # --- interaction ---------------------------------------------------------------------------

    def _emit(self, lo: int, hi: int) -> None:
        buckets = self.buckets
        if not buckets:
            return
        lo, hi = self._clamp(min(lo, hi)), self._clamp(max(lo, hi))
        self.mark_start = None
        self.post_message(self.SpanChosen(buckets[lo].date_from, buckets[hi].date_to))

    def action_move(self, step: int) -> None:
        """Move the cursor by ``step`` bars (extending a span being marked)."""
        self.position = self._clamp(self._clamp(self.position) + step)

    def action_extend(self, step: int) -> None:
        """Start marking a span at the cursor if needed, then move."""
        if self.mark_start is None:
            self.mark_start = self._clamp(self.position)
        self.action_move(step)

    def action_jump(self, index: int) -> None:
        """Jump to the first (0) or last (-1) bar."""
        self.position = self._clamp(len(self.buckets) - 1 if index < 0 else index)

    def action_mark(self) -> None:
        """Space: start marking a span, or apply the marked one."""
        if self.mark_start is None:
            self.mark_start = self._clamp(self.position)
        else:
            self._emit(self.mark_start, self.position)

    def action_apply(self) -> None:
        """Enter: filter to the marked span, or to the bar under the cursor."""
        anchor = self.position if self.mark_start is None else self.mark_start
        self._emit(anchor, self.position)

    def action_clear(self) -> None:
        """Remove the date filter."""
        self.mark_start = None
        self.post_message(self.SpanChosen(None, None))

    def action_cancel(self) -> None:
        """Escape: drop a span being marked, else go back to the query box."""
        if self.mark_start is not None:
            self.mark_start = None
        else:
            self.screen.query_one("#query").focus()

    def _bucket_at(self, event: events.MouseEvent) -> int:
        offset = event.get_content_offset_capture(self)
        return self._clamp(offset.x // self.column_width)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Start a span where the mouse is pressed."""
        self.focus()
        self.position = self.mark_start = self._bucket_at(event)
        self._dragging = True
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Drag to extend the span."""
        if self._dragging:
            self.position = self._bucket_at(event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """Release to filter by the dragged span (a click filters by one bar)."""
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            self.position = self._bucket_at(event)
            if self.mark_start is not None:
                self._emit(self.mark_start, self.position)

    def on_focus(self) -> None:
        """Show the cursor and the key hints."""
        self.refresh()

    def on_blur(self) -> None:
        """Hide the cursor."""
        self.mark_start = None
        self.refresh()
