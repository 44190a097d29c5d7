"""The one Whoosh schema of a searchlib index, and the names of its fields.

Searchable text fields: ``title`` and ``body`` (English stemming and stopwords, with positions
for phrases). ``body`` stores no character offsets: snippets find their words by analysing the
shown articles again (:func:`.evaluate.preload_chars`), which costs a query less than reading
them from the posting blocks did and spares every build 6-10% of its CPU. Indexes written
with offsets keep them and are read as before. Facet fields ``actor``,
``location`` and ``person`` hold canonical names *rolled up* to every ancestor (an article that
mentions Deir ez-Zor also carries Syria), which makes hierarchical filters plain term queries.
The direct (not rolled-up) values are stored separately for display.
"""

from __future__ import annotations

import sys
from typing import Any

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import fields, query  # noqa: E402

from ...models import ENTITY_FACETS  # noqa: E402
from ...query.dates import range_bounds, span_bounds, span_edge  # noqa: E402
from . import analysis, patches  # noqa: E402
from .analysis import NewsAnalyzer  # noqa: E402

patches.apply()

__all__ = [
    "FACET_FIELDS",
    "SCHEMA_VERSION",
    "SEARCH_FIELDS",
    "DateField",
    "make_schema",
    "self_test",
    "span_edge",
]

#: Bumped whenever the schema or the analysis changes in a way old indexes cannot serve.
SCHEMA_VERSION = 3

#: Fields a bare query term searches.
SEARCH_FIELDS = ("title", "body")

#: Facet kind -> index field.
FACET_FIELDS = {kind: kind for kind in ENTITY_FACETS}


def _text_analyzer() -> Any:
    # Whoosh's StemmingAnalyzer, fused into one loop (same tokens, ~1.8x faster).
    return NewsAnalyzer()


class DateField(fields.DATETIME):  # type: ignore[misc]
    """A DATETIME field whose query syntax is the one the CLI uses: YYYY, YYYY-MM, YYYY-MM-DD.

    ``date:2017-06`` means all of June 2017, ``date:[2017-06 TO 2017-07]`` June and July,
    ``date:>2020`` from 2021 on and ``date:<2019`` before 2019 (Whoosh's own date parser reads
    ``2017-06`` as all of 2017 and ``<2019`` as up to the end of 2019).
    """

    def parse_query(self, fieldname: str, qstring: str, boost: float = 1.0) -> Any:
        """Parse ``date:SPAN`` into the range covering that span."""
        if qstring.strip() == "*":
            return query.Every(fieldname, boost=boost)
        lo, hi = span_bounds(qstring)
        return query.DateRange(fieldname, lo, hi, boost=boost)

    def parse_range(self, fieldname: str, start: str | None, end: str | None,
                    startexcl: bool, endexcl: bool, boost: float = 1.0) -> Any:
        """Parse ``date:[A TO B]``, ``{A TO B}``, ``>A``, ``<=B`` with whole-span semantics."""
        lo, hi = range_bounds(start, end, startexcl, endexcl)
        return query.DateRange(fieldname, lo, hi, boost=boost)


def make_schema(*, body_chars: bool = False) -> Any:
    """Build the schema (a ``whoosh.fields.Schema``; typed ``Any`` as Whoosh has no hints).

    ``body_chars`` stores the body's character offsets in its postings, as indexes written
    before 2026-12-04 do (tests build such indexes to keep that reading path checked).
    """
    analyzer = _text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        # No spelling=True side fields: they doubled analysis and postings at index time.
        # Did-you-mean corrects against the stemmed lexicon instead (see search.py).
        title=fields.TEXT(analyzer=analyzer, stored=True),
        body=fields.TEXT(analyzer=analyzer, stored=True, chars=body_chars),
        date=DateField(stored=True, sortable=True),
        mentioned=fields.KEYWORD(commas=True, lowercase=False, scorable=False),
        actor=fields.KEYWORD(commas=True, lowercase=False, scorable=False),
        location=fields.KEYWORD(commas=True, lowercase=False, scorable=False),
        person=fields.KEYWORD(commas=True, lowercase=False, scorable=False),
        # Display and provenance data, stored as one JSON string to keep the stored-field
        # record compact and versionable.
        info=fields.STORED(),
    )


def self_test() -> str:
    """Create an index of this schema in memory (for ``search doctor``); the detail line
    says whether Whoosh runs patched (see :func:`.patches.state`)."""
    from whoosh.filedb.filestore import RamStorage

    RamStorage().create_index(make_schema()).close()
    return f"Whoosh imports, creates an index in memory (patches: {patches.state()})"


# Indexes written before the engine moved into this package (searchlib 2026-12-03) name
# ``searchlib.analysis`` and ``searchlib.schema`` in the pickled schema of their table of
# contents; both names resolve to these modules, so such an index opens as it is instead of
# being reported as damaged.
sys.modules.setdefault("searchlib.analysis", analysis)
sys.modules.setdefault("searchlib.schema", sys.modules[__name__])
