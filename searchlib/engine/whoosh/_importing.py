"""Import Whoosh without two standard-library packages it loads for nothing.

``whoosh.compat`` imports ``urllib.request`` (and with it ``http.client``, ``email``,
``ssl``...) only to re-export ``urlretrieve``, which Whoosh never calls; ``whoosh.reading``
imports the ``cached_property`` package, which imports ``asyncio``, for one property that
``functools.cached_property`` serves the same way. Together they were about a quarter of the
start-up of a one-shot ``search query``. ``whoosh.query.terms`` also imports
``whoosh.lang.morph_en`` for its ``variations`` function, which compiles a few hundred
regular expressions (~15 ms) for the ``Variations`` query that searchlib's parser never makes;
it now gets a stand-in ``variations`` that imports the real module when first called.

:func:`import_whoosh` loads Whoosh's modules while those names resolve to small
stand-ins, then takes the stand-ins out of ``sys.modules``: any later import of
``urllib.request``, ``cached_property`` or ``whoosh.lang.morph_en`` gets the real module.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

__all__ = ["import_whoosh"]


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:
    """``urllib.request.urlretrieve``, imported when (if ever) it is called."""
    import urllib.request

    return urllib.request.urlretrieve(*args, **kwargs)


def _variations(word: str) -> Any:
    """``whoosh.lang.morph_en.variations``, imported when (if ever) it is called."""
    from whoosh.lang.morph_en import variations

    return variations(word)


_WANTED = ("whoosh.compat", "whoosh.reading", "whoosh.query")


def import_whoosh() -> None:
    """Import ``whoosh.compat``, ``whoosh.reading`` and ``whoosh.query`` cheaply
    (idempotent)."""
    if all(name in sys.modules for name in _WANTED):
        return
    stand_ins: dict[str, types.ModuleType] = {}
    if "urllib.request" not in sys.modules and "whoosh.compat" not in sys.modules:
        request = types.ModuleType("urllib.request")
        request.urlretrieve = _urlretrieve  # type: ignore[attr-defined]
        stand_ins["urllib.request"] = request
    if "cached_property" not in sys.modules and "whoosh.reading" not in sys.modules:
        cached = types.ModuleType("cached_property")
        cached.cached_property = functools.cached_property  # type: ignore[attr-defined]
        stand_ins["cached_property"] = cached
    if "whoosh.lang.morph_en" not in sys.modules and "whoosh.query" not in sys.modules:
        morph = types.ModuleType("whoosh.lang.morph_en")
        morph.variations = _variations  # type: ignore[attr-defined]
        stand_ins["whoosh.lang.morph_en"] = morph
    sys.modules.update(stand_ins)
    try:
        import whoosh.compat
        import whoosh.query
        import whoosh.reading  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
