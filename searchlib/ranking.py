"""Ranking model: BM25F parameters, field weights and how free-text queries are grouped.

Kept apart from ``search`` so that relevance tuning (see ``bench/relevance.py``) touches one place.
"""

from __future__ import annotations

from typing import Any

from whoosh import qparser, scoring

__all__ = ["FIELD_BOOSTS", "query_group", "weighting"]

#: Query-time weight of each searchable field (title matches weigh more than body matches).
FIELD_BOOSTS: dict[str, float] = {"title": 2.0, "body": 1.0}

#: BM25F saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.75


def weighting() -> Any:
    """Return the Whoosh weighting model used for every search."""
    return scoring.BM25F(B=BM25_B, K1=BM25_K1)


def query_group() -> Any:
    """Return the parser's default grouping for bare terms.

    OR with a coordination bonus: a sentence pasted as a query still finds documents that match
    only some of its words, while documents matching all terms of a short query come first.
    """
    return qparser.OrGroup.factory(0.9)
