"""Fixtures for the TUI tests: the seed index opened once and an app factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import searchlib
from searchlib import Index
from tui.app import SearchApp, make_app


@pytest.fixture(scope="session")
def seed_ix(seed_index: Path) -> Iterator[Index]:
    """The session's seed index, opened once (the tests only read it)."""
    ix = searchlib.open_index(seed_index)
    yield ix
    ix.close()


@pytest.fixture()
def app_factory(seed_ix: Index, seed_index: Path) -> Callable[..., SearchApp]:
    """Build an app on the seed index; keyword arguments go to :func:`tui.app.make_app`."""

    def build(**kwargs: object) -> SearchApp:
        kwargs.setdefault("debounce", 0.05)
        return make_app(seed_ix, index_dir=seed_index, **kwargs)  # type: ignore[arg-type]

    return build
