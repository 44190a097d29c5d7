"""The README's key table and the app's bindings say the same thing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tui.app import SearchApp
from tui.facets import FacetTree
from tui.reader import ReaderScreen
from tui.results import ResultsList
from tui.timeline import Timeline

README = Path(__file__).resolve().parents[2] / "README.md"

# Where a README row's keys work (the parenthesised scope after the keys) -> the classes
# whose bindings serve them there.
SCOPES: dict[str, tuple[type, ...]] = {
    "": (SearchApp,),
    "reader": (ReaderScreen,),
    "sidebar": (FacetTree,),
    "timeline": (Timeline,),
    "results": (ResultsList,),
}
_NAMES = {"?": "question_mark", "/": "slash", "esc": "escape", "enter": "enter",
          "space": "space", "←": "left", "→": "right"}


def _textual_key(label: str) -> str:
    """``Ctrl+O`` -> ``ctrl+o``, ``Shift+←`` -> ``shift+left``, ``?`` -> ``question_mark``."""
    *mods, name = label.split("+") if label != "+" else ["+"]
    if len(name) == 1 and name.isalpha():
        key = name if not mods else name.lower()  # a bare ``N`` is Textual's ``N``
    else:
        key = _NAMES.get(name.lower(), name.lower())
    return "+".join([*(m.lower() for m in mods), key])


def _readme_rows() -> list[tuple[str, list[str], str]]:
    """``(scope, keys, description)`` for each row of the README's key table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| key | does |"):]
    table = table[: table.index("\n\n")]
    rows = []
    for line in table.splitlines()[2:]:
        keys_cell, does = (cell.strip() for cell in line.strip("|").split("|"))
        scope = re.search(r"\((\w+)\)\s*$", keys_cell)
        keys = [_textual_key(k) for k in re.findall(r"`([^`]+)`", keys_cell)]
        rows.append((scope.group(1) if scope else "", keys, does))
    return rows


def _bound(classes: tuple[type, ...]) -> set[str]:
    keys = {App.COMMAND_PALETTE_BINDING} if SearchApp in classes else set()
    for cls in classes:
        keys |= set(cls._merged_bindings.key_to_bindings)
    return keys


def test_every_readme_key_is_bound_where_the_readme_says() -> None:
    rows = _readme_rows()
    assert len(rows) >= 10
    for scope, keys, does in rows:
        assert scope in SCOPES, f"unknown scope {scope!r} in the README's key table"
        missing = set(keys) - _bound(SCOPES[scope])
        where = scope or "anywhere"
        assert not missing, f"README says {keys} ({where}) {does!r}; unbound: {missing}"


def test_every_shown_binding_is_in_the_readme() -> None:
    documented = {(scope, key) for scope, keys, _ in _readme_rows() for key in keys}
    for scope, classes in SCOPES.items():
        for cls in classes:
            for binding in cls.BINDINGS:
                assert isinstance(binding, Binding)
                first = binding.key.split(",")[0]
                if binding.show or scope == "sidebar":
                    assert (scope, first) in documented, (
                        f"{cls.__name__}: {first} ({binding.description}) missing from README")


def test_sidebar_enter_checks_and_space_expands() -> None:
    """The README's words match the actions the keys run (the issue: Space vs Enter)."""
    rows = {key: does for scope, keys, does in _readme_rows() if scope == "sidebar"
            for key in keys}
    actions = {b.key: b.action for b in FacetTree.BINDINGS if isinstance(b, Binding)}
    assert actions["enter"] == "select_cursor" and "check" in rows["enter"]
    assert actions["space"] == "toggle_node" and "expand" in rows["space"]


def test_tui_without_a_terminal_exits_at_once(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "searchlib", "tui", "--index", str(tmp_path / "none")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "terminal" in lines[0], proc.stderr
