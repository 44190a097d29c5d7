"""Facet data in memory: the documents of every facet value as bitsets, and their counting.

:class:`FacetData` holds, for every facet kind, value -> bitset of live docnums, and every
dated document's publication date. Counting: :meth:`FacetData.counts` gives, for one facet
kind, how many documents of a bitset hold each value. Below :data:`DENSE_MIN_DOCS` documents
it ANDs and popcounts each value's bitset (Python ints, no import). From that size on (and for
every search after the first of an open :class:`searchlib.Index`, see ``FacetData.dense``),
where a 100,000-bit AND per value made facet counts 25 ms of each query, it uses numpy (see
:class:`_Counter`): values held by many documents as rows of a bit matrix (one vectorised AND
and popcount), the many rare ones as lists of docnums (a gather from the context's bool array
and one ``add.reduceat``): ~3 ms for all six kinds at 100,000 articles. Date ranges
(:meth:`FacetData.dated_between`) and the date order of pages sorted by date are then numpy
comparisons and a lexsort too.

Computing it from an index is :func:`searchlib.engine.whoosh.facetstore.build`; its file is
:mod:`searchlib.engine.whoosh.facetfile`.
"""

from __future__ import annotations

from typing import Any

from .bitsets import bits_of, bits_to_mask, iter_bits, mask_to_bits

__all__ = ["DENSE_MIN_DOCS", "ROW_SHARE", "FacetData", "StoredRare", "rare_lists"]

#: Indexes of at least this many documents count facets (and evaluate queries, see
#: :mod:`searchlib.engine.whoosh.evaluate`) with numpy arrays. Importing numpy costs ~0.15 s, more
#: than a
#: whole query on a smaller index, so a one-shot ``search query`` there never loads it.
DENSE_MIN_DOCS = 50_000


#: A facet kind's rare values as stored: names, docnums and counts as little-endian uint32.
StoredRare = tuple[list[str], bytes | memoryview, bytes | memoryview]


class FacetData:
    """Value -> bitset of live docnums for every facet kind, and the publication dates.

    ``key`` identifies the index state it describes (see :func:`index_key`).
    """

    def __init__(self, key: dict[str, Any], size: int, live: int,
                 values: dict[str, dict[str, int]], dates: dict[int, int],
                 rare: dict[str, StoredRare] | None = None) -> None:
        self.key = key
        self.size = size
        self.live = live
        self._values = values
        self._dates = dates
        self._lower: dict[str, dict[str, str]] = {}
        self._orders: dict[bool, list[int]] = {}
        # The dated docnums and their raw dates as numpy arrays (dense only).
        self._by_date: tuple[Any, Any] | None = None
        #: Whether counts and date ranges are computed with numpy: by default from
        #: DENSE_MIN_DOCS documents up; an index open for more than one search sets it.
        self.dense = size >= DENSE_MIN_DOCS
        self._counters: dict[str, _Counter] = {}
        # Per kind: rare value names, their docnums and counts as little-endian uint32 bytes,
        # as stored in facets.bin (see rare_lists); derived from the bitsets when absent.
        self._rare = rare or {}
        self._context: tuple[int, Any, Any] | None = None

    def values(self, kind: str) -> dict[str, int]:
        """Value -> bitset for one facet kind (empty for a kind the index has no data for)."""
        return self._values.get(kind, {})

    def lower(self, kind: str) -> dict[str, str]:
        """Lowercased value -> value as indexed."""
        found = self._lower.get(kind)
        if found is None:
            found = self._lower[kind] = {k.lower(): k for k in self.values(kind)}
        return found

    def counts(self, kind: str, within: int) -> dict[str, int]:
        """Value -> number of documents of bitset ``within`` holding it, for one facet kind
        (values with no such document left out)."""
        if not within:
            return {}
        if not self.dense:
            counts: dict[str, int] = {}
            for value, bits in self.values(kind).items():
                n = (bits & within).bit_count()
                if n:
                    counts[value] = n
            return counts
        counter = self._counters.get(kind)
        if counter is None:
            counter = self._counters[kind] = _Counter(self.values(kind), self.size,
                                                      self.rare(kind))
        context = self._context
        if context is None or context[0] is not within:
            # The facet kinds of one search mostly share one context bitset: converted once.
            context = self._context = (within, *_Counter.context(within, self.size))
        return counter.counts(context[1], context[2])

    def rare(self, kind: str) -> _Rare:
        """The rare values of a kind with their docnums (see :func:`rare_lists`)."""
        stored = self._rare.get(kind)
        if stored is None:
            return rare_lists(self.values(kind), self.size)
        import numpy as np

        names, docs, lengths = stored
        found = np.frombuffer(docs, dtype="<u4")
        counts = np.frombuffer(lengths, dtype="<u4")
        if int(counts.sum()) != len(found) or (len(found) and int(found.max()) >= self.size):
            # Lists that do not fit the bitsets they came with: trust the bitsets.
            return rare_lists(self.values(kind), self.size)
        return names, found, counts

    def dated_between(self, low: int | None, high: int | None) -> int:
        """Bitset of the dated documents whose raw date value lies in ``[low, high]``
        (an open end where None), compared as Whoosh's ``DateRange`` compares them."""
        if not self.dense:
            return bits_of((d for d, raw in self._dates.items()
                            if (low is None or raw >= low) and (high is None or raw <= high)),
                           self.size)
        import numpy as np

        docs, raws = self._date_arrays()
        keep = np.ones(len(raws), dtype=bool)
        if low is not None:
            keep &= raws >= low
        if high is not None:
            keep &= raws <= high
        mask = np.zeros(self.size, dtype=bool)
        mask[docs[keep]] = True
        return mask_to_bits(mask)

    def _date_arrays(self) -> tuple[Any, Any]:
        """The dated docnums and their raw dates as numpy arrays (made once)."""
        if self._by_date is None:
            import numpy as np

            count = len(self._dates)
            self._by_date = (np.fromiter(self._dates.keys(), dtype=np.intp, count=count),
                             np.fromiter(self._dates.values(), dtype=np.int64, count=count))
        return self._by_date

    def dates(self) -> dict[int, int]:
        """Docnum -> publication date as a sortable integer, for dated documents only."""
        return self._dates

    def date_order(self, newest: bool) -> list[int]:
        """Every live docnum by publication date (newest or oldest first), undated ones last,
        ties by docnum. Computed once: a date-sorted page then walks it."""
        found = self._orders.get(newest)
        if found is None:
            sign = -1 if newest else 1
            if self.dense:
                # The same order from one lexsort: ~0.4 s less at 100,000 articles than a
                # Python sort with a key function.
                import numpy as np

                docs, raws = self._date_arrays()
                dated = np.zeros(self.size, dtype=bool)
                dated[docs] = True
                raw = np.zeros(self.size, dtype=np.int64)
                raw[docs] = raws
                live = np.flatnonzero(bits_to_mask(self.live, self.size))
                found = live[np.lexsort((live, sign * raw[live], ~dated[live]))].tolist()
            else:
                dates = self._dates
                found = sorted(iter_bits(self.live),
                               key=lambda d: (d not in dates, sign * dates.get(d, 0), d))
            self._orders[newest] = found
        return found


#: A value held by fewer than ``size / ROW_SHARE`` documents is counted from its list of
#: docnums (a gather per document), a commoner one from its bitset (a popcount per 64
#: documents of the index): the cheaper of the two.
ROW_SHARE = 64

#: The rare values of one facet kind: their names, their docnums laid end to end (uint32
#: numpy array, ascending within a value), and how many docnums each has.
_Rare = tuple[list[str], Any, Any]


def rare_lists(values: dict[str, int], size: int) -> _Rare:
    """The rare values of ``values`` (see :data:`ROW_SHARE`) with their docnums."""
    import numpy as np

    width = (size + 63) // 64 * 8
    names = [value for value, bits in values.items() if bits.bit_count() * ROW_SHARE < size]
    # Every docnum at once, from the non-zero 64-bit words of the bitsets laid end to end (a
    # rare value's bitset is mostly zero words): a few passes over arrays, no Python loop.
    joined = np.frombuffer(b"".join(values[value].to_bytes(width, "little")
                                    for value in names), dtype=np.uint8)
    per_row = width // 8
    words = np.flatnonzero(joined.view(np.uint64))
    hits = np.flatnonzero(np.unpackbits(joined.reshape(-1, 8)[words].ravel(),
                                        bitorder="little"))
    word = words[hits >> 6]
    docs = ((word % per_row) * 64 + (hits & 63)).astype(np.uint32)
    lengths = np.bincount(word // per_row, minlength=len(names)).astype(np.uint32)
    return names, docs, lengths


class _Counter:
    """One facet kind's value -> documents, in the two forms numpy counts fastest.

    Values held by many documents are rows of a bit matrix (64 documents a word): a count is
    an AND and a popcount over the row. Rare values, most of them, are lists of docnums: a
    count is a gather from the context's bool array and a sum, and costs only as many
    operations as the value has documents, where a bitset row costs the index's size.
    """

    def __init__(self, values: dict[str, int], size: int, rare: _Rare) -> None:
        import numpy as np

        names, docs, lengths = rare
        listed = set(names)
        width = (size + 63) // 64 * 8
        self.row_names = [value for value in values if value not in listed]
        rows = b"".join(values[value].to_bytes(width, "little") for value in self.row_names)
        self.rows = np.frombuffer(rows, dtype=np.uint64).reshape(len(self.row_names), width // 8)
        self.list_names = names
        self.docs = docs.astype(np.intp)
        ends = np.cumsum(lengths, dtype=np.intp)
        self.starts = ends - lengths

    @staticmethod
    def context(within: int, size: int) -> tuple[Any, Any]:
        """``within`` as 64-bit words and as a bool array (the two forms :meth:`counts` reads)."""
        import numpy as np

        words = (size + 63) // 64
        data = within.to_bytes(words * 8, "little")
        return np.frombuffer(data, dtype=np.uint64), bits_to_mask(within, size)

    def counts(self, words: Any, mask: Any) -> dict[str, int]:
        """Value -> count of the context given as :meth:`context` returns it (non-zero only)."""
        import numpy as np

        out: dict[str, int] = {}
        if self.row_names:
            found = np.bitwise_count(self.rows & words).sum(axis=1, dtype=np.int64)
            out.update((self.row_names[i], n) for i, n in
                       zip(np.flatnonzero(found).tolist(), found[found > 0].tolist(),
                           strict=True))
        if self.list_names:
            found = np.add.reduceat(mask[self.docs], self.starts, dtype=np.int64)
            out.update((self.list_names[i], n) for i, n in
                       zip(np.flatnonzero(found).tolist(), found[found > 0].tolist(),
                           strict=True))
        return out
