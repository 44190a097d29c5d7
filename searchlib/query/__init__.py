"""searchlib's query language, independent of any engine: the AST and the parser.

``parse_query(text)`` gives a :class:`ParsedQuery`: the AST of the clauses that match and
score (:mod:`searchlib.query.ast`) and the :class:`Filters` its top-level ``actor:``,
``location:``, ``person:`` and ``date:`` clauses state. Each engine translates the AST into its
own queries (the Whoosh engine into ``whoosh.query`` objects, the OpenSearch engine into the
query DSL). This package imports no engine.
"""

from __future__ import annotations

from .ast import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    Require,
    Term,
    Wildcard,
)
from .parser import Filters, ParsedQuery, parse, parse_query, prepare

__all__ = [
    "And", "AndMaybe", "AndNot", "DateRange", "Every", "Filters", "Fuzzy", "Node", "Not", "Or",
    "ParsedQuery", "Phrase", "Prefix", "Range", "Require", "Term", "Wildcard", "parse",
    "parse_query", "prepare",
]
