"""searchlib: full-text search for collections of news articles.

Typical use::

    import searchlib
    searchlib.build_index(["seeds/"], "index")
    with searchlib.open_index("index") as ix:
        results = ix.search("missile strike", actors=["IRGC"], date_from="2017")
        for hit in results.hits:
            print(hit.rank, hit.title, hit.published, hit.snippet)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConfigError,
    GazetteerError,
    IndexClosedError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    QueryError,
    SearchCancelled,
    SearchlibError,
)
from .models import (
    Article,
    CleanedArticle,
    EntityMention,
    Extraction,
    Hit,
    IndexStats,
    IndexSummary,
    SearchResults,
    SkippedFile,
    SourceDocument,
)

__all__ = [
    "Article",
    "CleanedArticle",
    "ConfigError",
    "EntityMention",
    "Extraction",
    "GazetteerError",
    "Hit",
    "Index",
    "IndexClosedError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexStats",
    "IndexSummary",
    "QueryError",
    "SearchCancelled",
    "SearchResults",
    "SearchlibError",
    "SkippedFile",
    "SourceDocument",
    "__version__",
    "build_index",
    "open_index",
]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .build import build_index
    from .search import Index, open_index

# The engine modules import Whoosh, the cleaner and the gazetteer; loading them lazily keeps
# ``import searchlib`` (and so every CLI start) cheap until they are actually used.
_LAZY = {"build_index": ".build", "Index": ".search", "open_index": ".search"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'searchlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
