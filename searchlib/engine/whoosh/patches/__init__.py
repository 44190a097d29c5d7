"""Small, targeted fixes to Whoosh-Reloaded 2.7.5 internals, applied once on import:
:mod:`.bugfixes` (patch 2), :mod:`.write` (1, 3-8, 10, 12, 15) and :mod:`.read` (9, 11, 13,
14).

Each patch keeps Whoosh's behaviour and only removes avoidable work (patch 2 fixes a wrong
answer, which searchlib's own code never asks for: it reads columns segment by segment); they
are here rather than upstream because the project pins that release.

They are applied only to the release they were tested with (:data:`TESTED_WITH`): any other
runs unpatched, slower but never wrong, with a one-line :class:`RuntimeWarning`.
``SEARCHLIB_WHOOSH_PATCHES=0`` runs unpatched on purpose (CI runs the search, index and crash
tests that way, so the unpatched path stays correct); :func:`state` says which applies.

1. ``W3PerDocReader._cached_reader`` caches the column reader of a field it finds, but asks
   the file system again (a ``stat``) on *every* call for a field that has no lengths column
   (IDs, keywords, the spelling fields). While a segment is flushed that is one ``stat`` per
   posting: about 20% of the time of a build, measured with cProfile on 1,000 articles.
   Segment files never change once written, so a negative answer can be cached as well.
2. ``MultiReader.column_reader`` leaves out the segments that have no file for the column
   (a segment none of whose documents has a publication date) but keeps the document offsets
   of the others, so every document after such a segment is looked up in the wrong segment:
   wrong dates, or ``struct.error`` reading past the end of a column. A segment reader already
   answers the column's default value for a column it lacks, so the fix asks every segment.
3. While a segment is flushed, ``add_postings`` asks the per-document reader for the field
   length of every posting, and each answer reads a byte from the lengths column file:
   about 13% of a build. :class:`_SegmentLengths` reads each column once into a list.
4. ``Positions.word_values`` and ``Characters.word_values`` (the formats of the ``title``
   and ``body`` fields) pull a ``Token`` object per word through the analyzer's generator
   and a filtering generator, then encode each term in a method call. With a
   :class:`~searchlib.engine.whoosh.analysis.NewsAnalyzer` they now take its fused
   :meth:`~searchlib.engine.whoosh.analysis.NewsAnalyzer.postings` and encode inline: the same
   ``(term, frequency, weight, bytes)`` values, byte for byte (``tests/test_analysis.py``).
5. ``SegmentWriter.add_document`` hands every posting to ``PostingPool.add``, which
   estimates its memory with seven ``len`` and constant terms and asserts its types. For
   schemas without term vectors or spelling fields (ours), postings are now appended to the
   pool's buffer directly and its size estimate (the same formula) is updated once per
   document; the pool still spills a sorted run to disk when it passes its limit.
6. ``W3PostingsWriter._write_block`` means to store blocks whose pickle is under 20 bytes
   uncompressed, but overwrites that decision on the next line, so every block, most of
   them one or two postings, pays a ``zlib.compress`` when written and a
   ``zlib.decompress`` when read (each block records its own compression level, which the
   reader honours). Blocks under :data:`_COMPRESS_FROM` bytes are now stored as they are.
7. ``PostingPool`` sorts its buffered postings, ``(field, term, docnum, weight, value)``
   tuples, with tuple comparisons: about 6% of a build. No two postings share field, term
   and docnum, so three stable sorts on those keys alone, least significant first, give the
   same order (:func:`sort_postings`); the docnum pass is nearly free, as documents arrive
   in order. Twice as fast on 1,000 articles.
8. When the pool passes its memory limit it spills a sorted run to disk, one ``pickle.dump``
   per posting, and the flush merges the runs with ``heapq.merge`` one posting at a time:
   a single spill of half a million postings cost about 6 s, a third of a worker's time at
   10,000 articles. Runs are now pickled in chunks of :data:`_RUN_CHUNK` postings and merged
   a term at a time: within a run a term's postings are consecutive, and runs hold ever
   later documents, so a term's postings from successive runs simply follow each other
   (checked, and sorted by document if ever they did not). Memory stays bounded: one chunk
   per run is held while merging.
9. Moving to a posting block (``W3LeafMatcher._goto``) unpickles the block's small info tuple
   straight from the segment file, and ``pickle.load`` then reads it a few bytes at a time,
   each a Python-level ``read`` on the compound file: some thirty calls per block, 70% of
   writing the facet data. The head of the block is now read in one call and unpickled from
   memory (the same tuple and data offset).
10. ``FieldWriter.add_postings`` takes the flushed postings one at a time through three
    method calls each (it asks the posting's field length, ``W3FieldWriter.add`` passes it
    on, ``W3PostingsWriter.add_posting`` checks its types and appends it to the block).
    :func:`_pool_terms` now cuts the sorted pool into terms with C-level comparisons of
    neighbours, and :func:`_add_term_postings` fills each block of a term with a few
    C-level calls: the same blocks, statistics and term infos, with 0.9 billion fewer
    instructions in a run of 16 billion that loads and flushes the postings of 1,000
    articles (counted with callgrind: wall-clock times on the shared machine vary more
    than that). The blocks' id deltas and weight summaries are computed without
    generators too. Each term's blocks, term info and hash-table row are then made by one
    function and written with one call to each file, instead of the half a dozen method
    calls per term of ``finish_term`` (each asking its file for its position): the flush
    of 300 real articles took 0.64 s of CPU instead of 0.89, with byte-identical segment
    files (before patch 15, which changes how a block's data is pickled).
11. A segment's term table is a hash file, and ``W3TermsReader`` looks a term up anew for
    each question asked about it (is it there, its term info, its document frequency),
    every lookup a dozen small reads of the compound file: the first pass of the
    benchmark's query mix at 10,000 articles made 5,775 lookups of 736 distinct terms,
    a quarter of its time. Each reader now remembers what a lookup found (up to
    :data:`_TERM_CACHE` terms), and answers the same from it.
12. A posting block pickles a block's docnums and weights together with every posting's
    positions and character offsets, so a search that needs only the documents and
    weights of a term (scoring it, or expanding ``b*``) decompresses and unpickles the
    positions too. The segment flush (:func:`_flush_segment`) also writes each term's
    docnums, 32-bit weights and block positions into a file beside the segment
    (:mod:`..postlists`), and ``SegmentWriter._finalize_segment`` gives that file its name
    once the compound segment is assembled. The segment's own files are unchanged (byte
    for byte, apart from patch 15's pickles), and so is the unpatched Whoosh's reading of
    them.
13. ``Searcher.avg_field_length`` sums the field's length over every segment each time a
    term's BM25 scorer asks for it; the answer is remembered per searcher, whose index
    state is fixed.
14. ``W3LeafMatcher._read_ids`` turns a block's docnum deltas into docnums through
    ``delta_decode``, a Python generator resumed for every posting (a phrase's first use
    at 100,000 articles resumed it 164,000 times); ``itertools.accumulate`` gives the same
    running sums in C.
15. ``W3PostingsWriter._write_block`` pickles a block's data with protocol 2, written for
    Python 2, in which a ``bytes`` object is pickled as a call to ``_codecs.encode`` of its
    text: every posting value is one, so pickling and compressing blocks was a tenth of a
    real-length build's CPU. Blocks are now pickled with protocol 4 (:data:`_BLOCK_PROTOCOL`):
    6x faster to pickle, half the size compressed, 3.3x faster to read back. The values are
    the same; every reader, Whoosh's own included, unpickles them with ``pickle.loads``, which
    reads any protocol, so indexes written before (or unpatched) and segments of both kinds in
    one index read alike (``tests/test_whoosh_patches.py``).
"""

from __future__ import annotations

import os
import warnings

import whoosh

__all__ = ["SWITCH", "TESTED_WITH", "apply", "state"]

TESTED_WITH = (2, 7, 5)
"""The Whoosh-Reloaded release the patches were written for and tested with."""

SWITCH = "SEARCHLIB_WHOOSH_PATCHES"
"""Environment variable: ``0`` runs Whoosh unpatched."""

_state = "pending"


def state() -> str:
    """``applied``; ``off`` (``SEARCHLIB_WHOOSH_PATCHES=0``); ``untested`` (another Whoosh
    release); or ``pending`` before :func:`apply` ran."""
    return _state


def apply() -> None:
    """Install the patches once, if this Whoosh release is the tested one and the switch is
    not ``0`` (idempotent)."""
    global _state
    if _state != "pending":
        return
    if os.environ.get(SWITCH, "").strip() == "0":
        _state = "off"
        return
    if tuple(whoosh.__version__) != TESTED_WITH:
        _state = "untested"
        warnings.warn(
            f"Whoosh {whoosh.versionstring()} is not the release searchlib's patches were "
            f"tested with ({'.'.join(map(str, TESTED_WITH))}): running unpatched (slower, "
            "same results)", RuntimeWarning, stacklevel=2)
        return
    # Imported only now: their module-level references to Whoosh internals are read from
    # the tested release alone.
    from . import bugfixes, read, write

    for part in (bugfixes, write, read):
        part.install()
    _state = "applied"
