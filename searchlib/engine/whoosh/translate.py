"""The query AST (:mod:`searchlib.query`) as Whoosh query objects.

Each node becomes the query Whoosh's own parser made for the same text (the equivalence
tests compare them over hand-written and generated queries): leaves are analysed by the
field's analyzer exactly as the parser analyses them (a word with its stop words removed, a
pattern without), groups drop what analyses to nothing the way the parser's groups do.
Normalise the result (``.normalize()``) as the parser does.
"""

from __future__ import annotations

from typing import Any

from ._importing import import_whoosh

import_whoosh()

from whoosh import qparser  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.qparser.common import get_single_text  # noqa: E402

from ...query import ast  # noqa: E402

__all__ = ["WhooshTranslator"]


class WhooshTranslator:
    """Translates AST nodes into queries on one schema."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        # Only its analysis helpers are used (term_query, multitoken_query): the same ones,
        # with the same default grouping (OR), as the parser searchlib reads queries with.
        self._parser = qparser.QueryParser(None, schema, group=qparser.OrGroup)

    def translate(self, node: ast.Node | None) -> Any:
        """The Whoosh query of ``node`` (None: every document), not yet normalised."""
        if node is None:
            return wq.Every()
        return self._query(node) or wq.NullQuery

    def _query(self, node: ast.Node) -> Any:
        q = self._build(node)
        span = getattr(node, "span", None)
        if q and span is not None:
            q.startchar, q.endchar = span
        return q

    def _build(self, node: ast.Node) -> Any:
        if isinstance(node, (ast.And, ast.Or)):
            subs = [q for q in (self._query(c) for c in node.children) if q is not None]
            return (wq.And if isinstance(node, ast.And) else wq.Or)(subs, boost=node.boost)
        if isinstance(node, ast.Not):
            child = self._query(node.child)
            return wq.Not(child) if child else None
        if isinstance(node, (ast.AndNot, ast.AndMaybe, ast.Require)):
            a, b = (self._query(c) for c in ast.children(node))
            if a is None and b is None:
                return wq.NullQuery
            if a is None or b is None:
                return a if b is None else b
            qclass = {ast.AndNot: wq.AndNot, ast.AndMaybe: wq.AndMaybe,
                      ast.Require: wq.Require}[type(node)]
            return qclass(a, b)
        if isinstance(node, ast.Every):
            return wq.Every(node.field, boost=node.boost) if node.field else wq.Every()
        if isinstance(node, ast.DateRange):
            return wq.DateRange("date", node.start, node.end, boost=node.boost)
        if isinstance(node, ast.Range):
            return self._range(node)
        if isinstance(node, ast.Phrase):
            return self._phrase(node)
        if isinstance(node, ast.Term):
            return self._parser.term_query(node.field, node.text, wq.Term, boost=node.boost,
                                           tokenize=True, removestops=True)
        if isinstance(node, ast.Fuzzy):
            q = self._parser.term_query(node.field, node.text, wq.FuzzyTerm, boost=node.boost,
                                        tokenize=False, removestops=False)
            # As the parser does: set on whatever the analysis made (an error when nothing).
            q.maxdist = node.max_edits
            q.prefixlength = node.prefix
            return q
        qclass = wq.Prefix if isinstance(node, ast.Prefix) else wq.Wildcard
        return self._parser.term_query(node.field, node.text, qclass, boost=node.boost,
                                       tokenize=False, removestops=False)

    def _range(self, node: ast.Range) -> Any:
        start, end = node.start, node.end
        if node.field in self.schema:
            field = self.schema[node.field]
            if start:
                start = get_single_text(field, start, tokenize=False, removestops=False)
            if end:
                end = get_single_text(field, end, tokenize=False, removestops=False)
        return wq.TermRange(node.field, start, end, node.start_excl, node.end_excl,
                            boost=node.boost)

    def _phrase(self, node: ast.Phrase) -> Any:
        offset = node.span[0] if node.span else 0
        words: list[str] = []
        char_ranges: list[tuple[int | None, int | None]] = []
        if node.field in self.schema:
            field = self.schema[node.field]
            if field.analyzer:
                for t in field.tokenize(node.text, mode="query", chars=True):
                    words.append(t.text)
                    char_ranges.append((offset + t.startchar, offset + t.endchar))
            else:
                words = list(field.process_text(node.text, mode="query"))
                char_ranges = [(None, None)] * len(words)
        else:
            for m in qparser.PhrasePlugin.wordexpr.finditer(node.text):
                words.append(m.group(0))
                char_ranges.append((offset + m.start(), offset + m.end()))
        return wq.Phrase(node.field, words, slop=node.slop, boost=node.boost,
                         char_ranges=char_ranges)
