"""A one-shot ``search query`` loads only what answering needs (start-up time at scale)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import io, json, sys, contextlib
from searchlib.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(["query", "Iran missile", "--index", sys.argv[1], "--json"])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "total": json.loads(out.getvalue())["total"],
                  "modules": sorted(sys.modules)}))
"""


def _probe(index: Path, tmp_path: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "SEARCHLIB_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")  # no config file: no YAML needed
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", _PROBE, str(index)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_query_imports_no_tui_network_or_async_modules(seed_index: Path, tmp_path: Path) -> None:
    result = _probe(seed_index, tmp_path)
    assert result["code"] == 0 and result["total"] == 5
    modules = set(result["modules"])  # type: ignore[call-overload]
    # numpy (~0.15 s to import) only pays for itself on large indexes (facetstore.DENSE_MIN_DOCS).
    for unwanted in ("textual", "tui", "asyncio", "urllib.request", "http.client", "yaml",
                     "searchlib.build", "searchlib.ingest.clean", "searchlib.ingest.gazetteer",
                     "numpy",
                     "dateutil.parser", "whoosh.lang.morph_en"):
        assert unwanted not in modules, unwanted


def test_stand_ins_do_not_outlive_the_whoosh_import(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from searchlib import search\n"
        "assert 'urllib.request' not in sys.modules and 'asyncio' not in sys.modules\n"
        "import urllib.request, cached_property\n"
        "assert urllib.request.urlopen and cached_property.threaded_cached_property\n"
        "from whoosh import reading\n"
        "assert reading.SegmentReader.deleted_docs_set is not None\n"
        "assert 'whoosh.lang.morph_en' not in sys.modules\n"
        "from whoosh.query import terms\n"
        "assert 'rendered' in terms.variations('render')\n"  # the real module, loaded now
        "from whoosh.lang import morph_en\n"
        "assert morph_en.__file__ and sys.modules['whoosh.lang.morph_en'] is morph_en\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True)
