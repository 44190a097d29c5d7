"""Write the posting-list files (searchlib/engine/whoosh/postlists.py) of an index's segments
that have none, from their posting blocks: to measure an index built before those files
existed without building it again.

    python bench/postlists_backfill.py INDEX_DIR

The files hold what the segment flush would have written (the tests compare both); a segment
that already has its file is left alone.
"""

from __future__ import annotations

import argparse
import os
import time
from array import array

from searchlib.engine.whoosh import patches, postlists
from searchlib.engine.whoosh.evaluate import _read_postings
from searchlib.engine.whoosh.storage import open_storage
from searchlib.layout import index_paths


def backfill(index_dir: str) -> int:
    """Write the missing files of ``index_dir``'s segments; returns how many were written."""
    patches.apply()
    folder = str(index_paths(index_dir)[0])
    ix = open_storage(folder).open_index()
    written = 0
    with ix.reader() as reader:
        for leaf, _offset in reader.leaf_readers():
            segment_id = leaf.segment().segment_id()
            if os.path.exists(os.path.join(folder, segment_id + postlists.SUFFIX)):
                continue
            entries = []
            for fieldname, btext in leaf.all_terms():
                offset = getattr(leaf.term_info(fieldname, btext), "_offset", None)
                if offset is None:
                    continue
                blocks: list[tuple[int, int]] = []
                ids, weights, _ = _read_postings(leaf, fieldname, btext, values=False,
                                                 blocks=blocks)
                entries.append((offset, ids, weights, blocks))
            entries.sort(key=lambda entry: entry[0])  # the file lists terms by offset
            sink = postlists.Sink(postlists.temp_path(folder, segment_id))
            for offset, ids, weights, blocks in entries:
                sink.add(offset, ids, array("f", weights), [b[0] for b in blocks],
                         [b[1] for b in blocks])
            sink.close()
            postlists.finish(folder, segment_id)
            written += 1
            print(f"{segment_id}: {len(entries):,} terms", flush=True)
    ix.close()
    return written


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index")
    args = parser.parse_args()
    started = time.perf_counter()
    count = backfill(args.index)
    print(f"{count} segment file(s) written in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
