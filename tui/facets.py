"""The facet sidebar: actors, places, people and years with counts for the current results.

Selecting a value toggles it as a filter (OR within a facet, AND across facets). Counts come
straight from the library, which computes them disjunctively: the counts of a facet ignore that
facet's own selection, so the other values of a facet show what adding them would bring in.
Values with a gazetteer parent present in the counts are nested under it (Syria > Deir ez-Zor),
and years expand into months.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from .render import safe
from .state import FILTER_KINDS, FilterKind, SearchState

__all__ = ["FacetItem", "FacetTree", "fold"]

_TITLES = {"actor": "Actors", "location": "Locations", "person": "People", "year": "Years"}
_SHOWN = 12
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Ancestors = Callable[[str, str], tuple[str, ...]]


@dataclass(frozen=True)
class FacetItem:
    """What a sidebar line stands for."""

    kind: str
    """"actor", "location", "person", "year" or "month"."""
    value: str | None = None
    """The facet value; None for a section heading or a "more" line."""
    count: int = 0
    """Documents with this value among the current results (disjunctive)."""
    selected: bool = False
    """Whether the value is an active filter."""
    more: bool = False
    """A "show all" line under a section heading."""
    width: int = 3
    """Digits of the largest count in the section, so counts line up."""

    @property
    def key(self) -> tuple[str, str | None, bool]:
        """Identity across rebuilds (for keeping the cursor and expanded sections)."""
        return (self.kind, self.value, self.more)


class FacetTree(Tree[FacetItem]):
    """The sidebar tree; posts :class:`Toggle` and :class:`DateChosen` when values are chosen."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "facet-tree--count", "facet-tree--selected", "facet-tree--heading"}

    BINDINGS: ClassVar[list[BindingType]] = [
        # Tree's own keys, restated so that the help screen and the README name what they do.
        Binding("enter", "select_cursor", "Check / uncheck a value, choose a year or month",
                show=False),
        Binding("space", "toggle_node", "Expand / collapse (Syria > Deir ez-Zor)", show=False),
        Binding("escape", "back_to_query", "Query", show=False),
    ]

    @dataclass
    class Toggle(Message):
        """Add or remove a value of an actor/location/person facet."""

        kind: FilterKind
        value: str

    @dataclass
    class DateChosen(Message):
        """A year or month was chosen: filter to it (or clear it when already the filter)."""

        value: str

    def __init__(self, ancestors: Ancestors, *, id: str | None = None) -> None:
        super().__init__("Facets", id=id)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 2
        self._ancestors = ancestors
        self._expanded: set[tuple[str, str | None, bool]] = {
            (k, None, False) for k in ("actor", "location", "person", "year")}
        self._show_all: set[str] = set()
        self.items: dict[tuple[str, str | None, bool], TreeNode[FacetItem]] = {}
        self.filter_text = ""
        """What was typed in the sidebar: only values containing it are listed."""
        self._last: tuple[Mapping[str, Mapping[str, int]], SearchState] | None = None

    # --- building ----------------------------------------------------------------------------

    def show_facets(self, facets: Mapping[str, Mapping[str, int]], state: SearchState) -> None:
        """Rebuild from a search's facet counts, keeping expanded sections and the cursor."""
        self._last = (facets, state)
        cursor = self.cursor_node.data.key if self.cursor_node and self.cursor_node.data else None
        self.clear()
        self.items = {}
        if self.filter_text:
            self.root.add_leaf(Text.assemble(("filter: ", "dim"), self.filter_text, "▏",
                                             ("  Esc clears", "dim")),
                               FacetItem("filter", count=-1))
        for kind in FILTER_KINDS:
            self._add_section(kind, facets.get(kind, {}), state.selected(kind))
        self._add_years(facets.get("year", {}), facets.get("month", {}), state)
        if cursor is not None and cursor in self.items:
            self.move_to(cursor)

    def move_to(self, key: tuple[str, str | None, bool]) -> bool:
        """Put the cursor on ``key``'s line (expanding its parents); False if not listed."""
        node = self.items.get(key)
        if node is None:
            return False
        parent = node.parent
        while parent is not None and parent is not self.root:
            parent.expand()
            parent = parent.parent
        _ = self.last_line  # numbers the lines now rather than at the next idle
        self.move_cursor(node, animate=False)
        return True

    def _node(self, parent: TreeNode[FacetItem], item: FacetItem, *,
              leaf: bool) -> TreeNode[FacetItem]:
        if item.value is None:
            label = Text(_TITLES[item.kind])
        elif item.kind == "month":
            label = Text(_MONTHS[int(item.value[5:7]) - 1])
        else:
            label = Text(safe(item.value, single_line=True))
        node = (parent.add_leaf(label, item) if leaf
                else parent.add(label, item, expand=item.key in self._expanded))
        self.items[item.key] = node
        return node

    def _add_section(self, kind: FilterKind, counts: Mapping[str, int],
                     selected: tuple[str, ...]) -> None:
        heading = self._node(self.root, FacetItem(kind, count=len(counts)), leaf=False)
        values = dict(counts)
        for value in selected:  # a selected value stays visible (and removable) even at 0
            values.setdefault(value, 0)
        parents: dict[str, str | None] = {}
        for value in values:
            parents[value] = next(
                (a for a in self._ancestors(kind, value) if a in values and a != value), None)
        if self.filter_text:
            # Typed text keeps the values containing it, the selected ones, and the parents
            # they hang under; counts stay the library's (disjunctive) counts.
            wanted = fold(self.filter_text)
            keep = {v for v in values if wanted in fold(v) or v in selected}
            for value in list(keep):
                parent = parents[value]
                while parent is not None and parent not in keep:
                    keep.add(parent)
                    parent = parents[parent]
            values = {v: c for v, c in values.items() if v in keep}
        children: dict[str | None, list[str]] = {}
        for value in values:
            children.setdefault(parents[value], []).append(value)

        def order(names: list[str]) -> list[str]:
            return sorted(names, key=lambda v: (v not in selected, -values[v], v.casefold()))

        def add(parent: TreeNode[FacetItem], name: str) -> None:
            kids = children.get(name, [])
            item = FacetItem(kind, name, values[name], name in selected, width=width)
            node = self._node(parent, item, leaf=not kids)
            for kid in order(kids):
                add(node, kid)

        width = len(str(max(values.values(), default=0)))
        roots = order(children.get(None, []))
        limit = len(roots) if kind in self._show_all or self.filter_text else _SHOWN
        for name in roots[:limit]:
            add(heading, name)
        if len(roots) > limit:
            more = FacetItem(kind, count=len(roots) - limit, more=True)
            self.items[more.key] = heading.add_leaf(
                Text(f"… {len(roots) - limit} more"), more)
        if not values:
            heading.add_leaf(Text("(no match)" if self.filter_text else "(none)"),
                             FacetItem(kind, more=False, count=-1))

    def _add_years(self, years: Mapping[str, int], months: Mapping[str, int],
                   state: SearchState) -> None:
        heading = self._node(self.root, FacetItem("year", count=len(years)), leaf=False)
        active = state.date_from if state.date_from == state.date_to else None
        width = len(str(max(years.values(), default=0)))
        for year in sorted(years, reverse=True):
            in_year = sorted((m for m in months if m.startswith(year + "-")), reverse=True)
            item = FacetItem("year", year, years[year], active == year, width=width)
            node = self._node(heading, item, leaf=not in_year)
            for month in in_year:
                self._node(node, FacetItem("month", month, months[month], active == month,
                                           width=width), leaf=True)
        if not years:
            heading.add_leaf(Text("(none)"), FacetItem("year", count=-1))

    # --- rendering ---------------------------------------------------------------------------

    def render_label(self, node: TreeNode[FacetItem], base_style: Style,
                     style: Style) -> Text:
        """Heading with its value count; values with a check box and document count."""
        item = node.data
        if item is None:
            return super().render_label(node, base_style, style)
        count_style = self.get_component_rich_style("facet-tree--count", partial=True)
        if item.value is None and not item.more and item.count >= 0:
            heading = self.get_component_rich_style("facet-tree--heading", partial=True)
            text = super().render_label(node, base_style, style + heading)
            text.append(f" {item.count}", count_style)
            return self._fit(node, text)
        if item.value is None:
            return self._fit(node, super().render_label(node, base_style, style + count_style))
        # Count before the name, right-aligned, so counts line up and long names are what
        # gets cut in a narrow sidebar.
        text = super().render_label(node, base_style, style)
        if item.selected:
            text.stylize(self.get_component_rich_style("facet-tree--selected", partial=True))
        icon = len(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) \
            if node.allow_expand else 0
        head, *tail = text.divide([icon]) if icon else [Text(), text]
        # Leaves get blank space where parents have their arrow, to keep the columns aligned.
        inserted = Text(" " * len(self.ICON_NODE) if not icon else "")
        if item.kind in FILTER_KINDS:
            inserted.append("☑ " if item.selected else "☐ ", base_style)
        inserted.append(f"{item.count:>{item.width}} ", count_style)
        return self._fit(node, Text.assemble(head, inserted, *tail))

    def _fit(self, node: TreeNode[FacetItem], label: Text) -> Text:
        """Cut a label that does not fit the sidebar with an ellipsis (never a sideways
        scroll: a narrow terminal shows "United Kingd…", and the whole name on the chip)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return label
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth += 1
            parent = parent.parent
        room = max(4, width - self.guide_depth * depth)
        if label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label

    def on_resize(self) -> None:
        """Labels are cut to the width: lay them out again for the new one."""
        self._invalidate()

    # --- interaction -------------------------------------------------------------------------

    def on_tree_node_selected(self, event: Tree.NodeSelected[FacetItem]) -> None:
        """Enter/click: toggle a value, choose a year/month, expand a heading or "more"."""
        event.stop()
        item = event.node.data
        if item is None:
            return
        if item.more:
            self._show_all.add(item.kind)
            self.post_message(self.Refresh())
        elif item.value is None:
            event.node.toggle()
        elif item.kind in FILTER_KINDS:
            self.post_message(self.Toggle(item.kind, item.value))
        else:
            self.post_message(self.DateChosen(item.value))

    @dataclass
    class Refresh(Message):
        """The tree needs the latest facet counts again (after "more" was chosen)."""

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[FacetItem]) -> None:
        """Remember expanded nodes across rebuilds."""
        if event.node.data is not None:
            self._expanded.add(event.node.data.key)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[FacetItem]) -> None:
        """Remember collapsed nodes across rebuilds."""
        if event.node.data is not None:
            self._expanded.discard(event.node.data.key)

    def action_back_to_query(self) -> None:
        """Escape clears the typed filter, or else returns to the query box."""
        if self.filter_text:
            self.set_filter("")
            return
        self.screen.query_one("#query").focus()

    def set_filter(self, text: str) -> None:
        """List only the values containing ``text`` (any case, any accents)."""
        self.filter_text = text
        if self._last is not None:
            self.show_facets(*self._last)
        if text:
            first = next((node for node in self.items.values()
                          if node.data is not None and node.data.value is not None
                          and node.data.kind in FILTER_KINDS
                          and fold(text) in fold(node.data.value)), None)
            if first is not None:
                self.move_to(first.data.key)  # type: ignore[union-attr]

    def on_key(self, event: events.Key) -> None:
        """Typing filters the values; Backspace takes back a character."""
        if event.key == "backspace" and self.filter_text:
            event.stop()
            event.prevent_default()
            self.set_filter(self.filter_text[:-1])
        elif (event.character and event.character.isprintable() and event.key != "space"
              and not event.character.isspace()) or (event.key == "space" and self.filter_text):
            event.stop()
            event.prevent_default()
            self.set_filter(self.filter_text + (event.character or " "))


def fold(text: str) -> str:
    """``text`` without case or accents, for matching ("sao" finds "São Paulo")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
