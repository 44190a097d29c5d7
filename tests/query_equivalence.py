"""The Whoosh parser path and the AST path, side by side (used by tests/test_query_ast.py).

``whoosh_side(text)`` runs what ``WhooshReader._parse_filters`` (the Whoosh engine's
searcher) runs before it touches an index (prepare, the Whoosh parser, the lifting of
filters, the query of what remains, normalised);
``ast_side(text)`` parses the AST (``searchlib.query.parse_query``) and translates it with
``searchlib.engine.whoosh.translate``. Both answer ``(query, values, clauses, dates)`` or
``("error", message)``.
"""

from __future__ import annotations

from typing import Any

from whoosh import query as wq

from searchlib.engine.whoosh import searcher as search
from searchlib.engine.whoosh.parsing import QueryFilters, find_error, lift_filters
from searchlib.engine.whoosh.schema import make_schema
from searchlib.engine.whoosh.translate import WhooshTranslator
from searchlib.errors import QueryError
from searchlib.query import parse_query
from searchlib.query.parser import parenthesized

SCHEMA = make_schema()


class _Parsing(search.WhooshReader):
    """A WhooshReader with only the parser: what parsing needs, without an index folder."""

    def __init__(self) -> None:  # no super().__init__: there is no folder to open
        self._ix = type("Ix", (), {"schema": SCHEMA})()
        self._parser = self._make_parser()


_INDEX = _Parsing()
_TRANSLATOR = WhooshTranslator(SCHEMA)


def _error(message: str) -> tuple[str, str]:
    return ("error", message)


def whoosh_side(text: str) -> tuple[Any, ...]:
    """The current parser path's answer for ``text``, and whether Whoosh dropped an error."""
    try:
        stripped = search.WhooshReader._prepare(text)
        if stripped is None:
            return (wq.Every(), {}, {}, [])
        nodes = _INDEX._process(stripped)
        filters = QueryFilters()
        rest = nodes if parenthesized(stripped) else \
            lift_filters(nodes, filters, _INDEX._parser)
        if rest is None:
            q = wq.Every()
        else:
            try:
                raw = rest.query(_INDEX._parser) or wq.NullQuery
                q = raw.normalize()
            except QueryError:
                raise
            except Exception as exc:  # as Index._to_query: Whoosh raises assorted types
                raise QueryError(f"cannot parse query: {exc}") from None
            error = find_error(q)
            if error:
                raise QueryError(error)
            dropped = find_error(raw)
            if dropped:
                # Normalisation dropped an error-carrying clause: Whoosh ignores it.
                return ("dropped", dropped, q)
    except QueryError as exc:
        return _error(str(exc))
    return (q, _listed(filters.values), _listed(filters.clauses), list(filters.dates))


def _listed(mapping: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: list(v) for k, v in mapping.items() if v}


def ast_side(text: str) -> tuple[Any, ...]:
    """The AST path's answer for ``text``."""
    try:
        parsed = parse_query(text)
        try:
            q = _TRANSLATOR.translate(parsed.query).normalize() if parsed.query is not None \
                else wq.Every()
            clauses = {k: [_TRANSLATOR.translate(c) for c in v]
                       for k, v in parsed.filters.clauses.items() if v}
            dates = [_TRANSLATOR.translate(c) for c in parsed.filters.dates]
        except Exception as exc:  # the same wrapping as Index._to_query
            raise QueryError(f"cannot parse query: {exc}") from None
    except QueryError as exc:
        return _error(str(exc))
    values = {k: list(v) for k, v in parsed.filters.values.items() if v}
    return (q, values, clauses, dates)


def agree(text: str) -> tuple[bool, Any, Any]:
    """Whether both paths give ``text`` the same meaning (the one tolerated difference: a
    bad ``date:`` value nested where Whoosh's normalisation dropped its error is an error
    on the AST path); with both answers."""
    old, new = whoosh_side(text), ast_side(text)
    if old[0] == "dropped":
        return new == _error(old[1]), old, new
    return old == new, old, new


def whoosh_unlifted(text: str) -> Any:
    """``Index.parse``'s parsing (every clause in place), normalised, or ("error", message)."""
    try:
        stripped = search.WhooshReader._prepare(text)
        if stripped is None:
            return wq.Every()
        try:
            raw = _INDEX._process(stripped).query(_INDEX._parser) or wq.NullQuery
            q = raw.normalize()
        except QueryError:
            raise
        except Exception as exc:  # as Index._to_query
            raise QueryError(f"cannot parse query: {exc}") from None
        error = find_error(q) or find_error(raw)
        if error:
            raise QueryError(error)
    except QueryError as exc:
        return _error(str(exc))
    return q


def ast_unlifted(text: str) -> Any:
    """``searchlib.query.parse`` translated and normalised, or ("error", message)."""
    from searchlib.query import parse

    try:
        node = parse(text)
        try:
            return _TRANSLATOR.translate(node).normalize()
        except Exception as exc:  # as Index._to_query
            raise QueryError(f"cannot parse query: {exc}") from None
    except QueryError as exc:
        return _error(str(exc))
