"""Exceptions raised by searchlib. Each carries a one-line message fit to show a user."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DependencyError",
    "GazetteerError",
    "IndexClosedError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "QueryError",
    "SearchCancelled",
    "SearchlibError",
]


class SearchlibError(Exception):
    """Base class: every error searchlib raises on purpose is one of these."""


class QueryError(SearchlibError):
    """The query text could not be parsed or refers to an unknown field."""


class SearchCancelled(SearchlibError):
    """The caller cancelled the search while it ran (``Index.search(cancel=...)``)."""


class IndexNotFoundError(SearchlibError):
    """There is no index at the given directory."""


class IndexCorruptError(SearchlibError):
    """The index exists but cannot be read (damaged, truncated or from another version)."""


class IndexClosedError(SearchlibError):
    """An :class:`~searchlib.search.Index` was used after ``close()``."""


class IndexLockedError(SearchlibError):
    """Another process is writing to the index."""


class GazetteerError(SearchlibError):
    """A gazetteer file is malformed; the message names the file and line."""


class ConfigError(SearchlibError):
    """A configuration file or value is invalid; the message names the file."""


class DependencyError(SearchlibError):
    """A package searchlib needs is missing or broken; the message names what to install."""
