"""Saved searches and query history, kept per index under the user's state directory.

A saved search is a query plus its filters under a name (``search save iran-isis ...``);
running it with ``new_since="last"`` returns only the articles that arrived in the index
since the previous such run (:mod:`searchlib.arrivals`), which makes it a watch a cron job
can poll. The query history is the TUI's list of past queries (most recent last, bounded).
Both live in :func:`searchlib.config.state_dir` of the index, as small JSON files written
atomically under an advisory lock, so a cron job and a TUI session can share them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import state_dir
from .errors import SearchlibError

__all__ = ["HISTORY_LIMIT", "QueryHistory", "SavedSearch", "SavedSearchError", "SavedSearches",
           "parse_since"]

#: Queries the history keeps (the oldest go first).
HISTORY_LIMIT = 500
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SORTS = ("relevance", "date", "newest", "oldest")


class SavedSearchError(SearchlibError):
    """A saved search that does not exist, a bad name, or an unreadable state file."""


@dataclass(frozen=True)
class SavedSearch:
    """A named query with its filters."""

    name: str
    """Letters, digits, ``.``, ``_`` and ``-``; at most 64 characters."""
    query: str
    """The query text, in the query language."""
    actors: tuple[str, ...] = ()
    """Actor filter (OR within, AND across facets)."""
    locations: tuple[str, ...] = ()
    """Location filter."""
    people: tuple[str, ...] = ()
    """Person filter."""
    date_from: str | None = None
    """Publication date lower bound (YYYY, YYYY-MM or YYYY-MM-DD)."""
    date_to: str | None = None
    """Publication date upper bound."""
    sort: str = "relevance"
    """Result order."""
    created: dt.datetime | None = None
    """When it was saved (UTC)."""
    last_checked: dt.datetime | None = None
    """When it last ran with ``--new-since last`` (UTC); None before the first such run."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the form stored and printed by ``search saved --json``)."""
        return {"name": self.name, "query": self.query, "actors": list(self.actors),
                "locations": list(self.locations), "people": list(self.people),
                "from": self.date_from, "to": self.date_to, "sort": self.sort,
                "created": _iso(self.created), "last_checked": _iso(self.last_checked)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SavedSearch:
        """Read the form :meth:`to_json` writes."""
        return cls(name=str(data["name"]), query=str(data["query"]),
                   actors=_strings(data.get("actors")),
                   locations=_strings(data.get("locations")),
                   people=_strings(data.get("people")), date_from=data.get("from") or None,
                   date_to=data.get("to") or None, sort=str(data.get("sort") or "relevance"),
                   created=_time(data.get("created")),
                   last_checked=_time(data.get("last_checked")))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="microseconds") if value else None


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_since(text: str) -> dt.datetime:
    """Read a ``--new-since`` time: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (the start of that
    span, local time) or an ISO date-time (``2026-12-03T08:00``, ``...Z``, ``...+01:00``).

    Raises :class:`SavedSearchError` with a one-line message for anything else.
    """
    from .ingest.dates import parse_date_bound

    cleaned = text.strip()
    try:
        day = parse_date_bound(cleaned, end=False)
        return dt.datetime(day.year, day.month, day.day).astimezone()
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise SavedSearchError(
            f"invalid --new-since {text!r}: expected 'last', YYYY-MM-DD or an ISO date-time"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


class _JsonFile:
    """A small JSON file in the state directory, read and replaced under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SavedSearchError(f"{self.path} is unreadable ({exc}); fix or delete it"
                                   ) from None
        if not isinstance(data, dict):
            raise SavedSearchError(f"{self.path} is malformed; fix or delete it")
        return data

    def write(self, data: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock for a read-modify-write (another process may do one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


class SavedSearches:
    """The saved searches of one index (``saved.json`` in its state directory)."""

    def __init__(self, index_dir: str | os.PathLike[str], *,
                 directory: Path | None = None) -> None:
        self.file = _JsonFile((directory or state_dir(index_dir)) / "saved.json")

    def _all(self) -> dict[str, SavedSearch]:
        raw = self.file.read().get("searches", {})
        out: dict[str, SavedSearch] = {}
        if isinstance(raw, dict):
            for name, item in raw.items():
                try:
                    out[name] = SavedSearch.from_json(item)
                except (KeyError, TypeError):
                    continue  # a damaged entry is left out, the others still work
        return out

    def _write(self, searches: Mapping[str, SavedSearch]) -> None:
        self.file.write({"version": 1, "searches": {
            n: s.to_json() for n, s in sorted(searches.items())}})

    def list(self) -> list[SavedSearch]:
        """Every saved search, by name."""
        return [s for _, s in sorted(self._all().items())]

    def get(self, name: str) -> SavedSearch:
        """The saved search ``name``, or :class:`SavedSearchError` listing the known ones."""
        found = self._all().get(name)
        if found is None:
            known = ", ".join(self._all()) or "none yet (see `search save --help`)"
            raise SavedSearchError(f"no saved search {name!r}; saved searches: {known}")
        return found

    def save(self, search: SavedSearch, *, replace_existing: bool = False) -> SavedSearch:
        """Store ``search`` (stamped with its creation time); refuses to overwrite unless
        ``replace_existing``. Returns what was stored."""
        if not _NAME.fullmatch(search.name):
            raise SavedSearchError(
                f"invalid name {search.name!r}: use letters, digits, '.', '_' and '-' "
                "(at most 64, starting with a letter or digit)")
        if search.sort not in _SORTS:
            raise SavedSearchError(f"unknown sort {search.sort!r}")
        with self.file.locked():
            searches = self._all()
            if search.name in searches and not replace_existing:
                raise SavedSearchError(f"a saved search {search.name!r} exists already; "
                                       "pass --force to replace it")
            stored = replace(search, created=search.created or _now())
            searches[search.name] = stored
            self._write(searches)
        return stored

    def delete(self, name: str) -> None:
        """Remove the saved search ``name`` (:class:`SavedSearchError` if there is none)."""
        with self.file.locked():
            searches = self._all()
            if name not in searches:
                self.get(name)  # raises with the list of known names
            del searches[name]
            self._write(searches)

    def mark_checked(self, name: str, when: dt.datetime) -> None:
        """Record that ``name`` was run with ``--new-since last`` as of ``when``."""
        with self.file.locked():
            searches = self._all()
            if name in searches:
                searches[name] = replace(searches[name], last_checked=when)
                self._write(searches)


class QueryHistory:
    """Past queries of one index, oldest first, without repeats, at most ``limit``."""

    def __init__(self, index_dir: str | os.PathLike[str], *, limit: int = HISTORY_LIMIT,
                 directory: Path | None = None) -> None:
        self.file = _JsonFile((directory or state_dir(index_dir)) / "history.json")
        self.limit = limit

    def entries(self) -> list[str]:
        """The queries, oldest first."""
        raw = self.file.read().get("queries", [])
        return [q for q in raw if isinstance(q, str)] if isinstance(raw, list) else []

    def add(self, query: str) -> None:
        """Append ``query`` (moved to the end if already there); blank queries are ignored."""
        query = query.strip()
        if not query:
            return
        with self.file.locked():
            entries = [q for q in self.entries() if q != query] + [query]
            self.file.write({"version": 1, "queries": entries[-self.limit:]})

    def clear(self) -> None:
        """Forget every query."""
        with self.file.locked():
            self.file.write({"version": 1, "queries": []})

