"""Page strategies: the documents of one page of results, with their scores and matched terms.

By relevance, from the evaluation's scores (a top-N of them) or, for the queries
:mod:`.evaluate` does not handle, from Whoosh's own search within the time budget; by date,
from a walk of the cached date order (undated documents last), scored only for the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh.searching import Hit as WhooshHit  # noqa: E402

from . import evaluate, facetstore, ranking  # noqa: E402
from .snippets import highlighted_terms  # noqa: E402

_iter_bits = facetstore.iter_bits

__all__ = ["rank", "select_page"]


def select_page(searcher: Any, q: Any, final: int, *, start: int, wanted: int, sort: str,
                filtered: bool, evaluation: evaluate.Evaluation | None,
                facet_cache: Callable[[], facetstore.FacetData]) -> tuple[Any, list[Any]]:
    """The hits ``start:wanted`` of the documents ``final`` (a bitset) matching ``q``, in the
    ``sort`` order, and the Whoosh results object they belong to (highlighting reads it).
    ``filtered`` says whether ``final`` is narrower than the query's matches; ``evaluation``
    holds their scores when :mod:`.evaluate` computed them."""
    if sort == "relevance" and evaluation is None:
        docset = set(_iter_bits(final)) if filtered else None
        results = ranking.search_within_budget(searcher, q, limit=wanted, filter=docset,
                                               terms=True)
        page_hits = list(results[start:wanted])
    else:
        terms: dict[int, list[tuple[str, bytes]]] = {}
        if sort == "relevance":
            assert evaluation is not None
            ranked = rank(evaluation, final, wanted, filtered)[start:wanted]
        else:
            # Ordered from the cached date column rather than Whoosh's sort, which files
            # undated documents among the dated ones; here they always come last.
            cache = facet_cache()
            order = cache.date_order(sort != "oldest")
            if final == cache.live:
                chosen = order[start:wanted]
            else:
                # Membership read from the bitset's bytes: the walk usually stops after
                # a few dozen documents, long before a set of every match would be built.
                members = final.to_bytes((cache.size + 7) // 8, "little")
                chosen = list(itertools.islice(
                    (d for d in order if facetstore.has_bit(members, d)), start, wanted))
            if evaluation is not None:
                ranked = [(evaluation.score(d), d) for d in chosen]
            else:
                exact = evaluate.exact_scores(searcher, q, sorted(chosen))
                ranked = [(exact[d][0], d) for d in chosen if d in exact]
                terms = {d: found for d, (_, found) in exact.items()}
        if evaluation is not None:
            terms = {d: highlighted_terms(evaluation.terms_of(d)) for _, d in ranked}
        # The scores and matched terms of just the hits shown, in a Results object like
        # the one a scored search with terms=True returns (highlighting reads it).
        results = evaluate.results_for(searcher, q, ranked, terms)
        page_hits = [WhooshHit(results, docnum, pos, score)
                     for pos, (score, docnum) in enumerate(ranked)]
    return results, page_hits


def rank(evaluation: evaluate.Evaluation, final: int, wanted: int, filtered: bool
         ) -> list[tuple[float, int]]:
    """The best ``wanted`` documents of ``final``: by score, then docnum (as Whoosh's
    top-N collector keeps them)."""
    whole = not filtered and evaluation.count == final.bit_count()
    return evaluation.best(wanted, None if whole else final)
