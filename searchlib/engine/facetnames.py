"""Facet values as users type them -> the names an index holds, for every engine.

A user types ``actor:irgc`` or ``--location "the US"``; the index holds ``IRGC`` and
``United States``. :class:`FacetNames` resolves such a value the same way whichever engine
holds the index: a gazetteer given at query time first (it may know aliases the build did
not), then the alias table the build wrote into the index folder, then an indexed value of
the same letters in another case (the engine supplies those), else the value as typed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..ingest.gazetteer import Gazetteer

__all__ = ["FacetNames"]


class FacetNames:
    """The facet-name resolution of one index folder (the gazetteer loaded on first use)."""

    def __init__(self, path: str | os.PathLike[str],
                 gazetteer: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.path = Path(path)
        self._files = [Path(p) for p in gazetteer]
        self._gazetteer: Gazetteer | None = None
        self._aliases: dict[str, dict[str, str]] | None = None

    @property
    def gazetteer(self) -> Gazetteer:
        """The user's gazetteer files layered over the shipped one, else the shipped one."""
        if self._gazetteer is None:
            from ..ingest.gazetteer import Gazetteer, default_gazetteer

            self._gazetteer = Gazetteer.load(self._files) if self._files else default_gazetteer()
        return self._gazetteer

    def forget(self) -> None:
        """Read the alias table again on next use (the index was rebuilt)."""
        self._aliases = None

    def resolve(self, facet: str, value: str,
                lowercased: Callable[[str], Mapping[str, str]]) -> str:
        """The indexed name ``value`` stands for in ``facet``; ``lowercased(facet)`` maps the
        lowercased indexed names of the facet to themselves."""
        key = value.strip().lower()
        if self._files:
            canonical = self.gazetteer.canonical(facet, value)  # type: ignore[arg-type]
            if canonical:
                return canonical
        if self._aliases is None:
            # Imported here: searchlib.layout reads the Whoosh schema's version.
            from ..layout import load_aliases

            self._aliases = load_aliases(self.path)
        found = self._aliases.get(facet, {}).get(key)
        if found:
            return found
        return lowercased(facet).get(key, value)
