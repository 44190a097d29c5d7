"""Indexes written before the engine moved into ``searchlib/engine/whoosh`` still open."""

from __future__ import annotations

import pickle

from searchlib.engine.whoosh import analysis, schema


def test_old_module_paths_in_a_pickled_schema_resolve_to_the_engine_modules() -> None:
    # A table of contents written by searchlib before 2026-12-03 pickles these global names;
    # protocol 0 spells them out as text, as any protocol records module and name.
    assert pickle.loads(b"csearchlib.analysis\nNewsAnalyzer\n.") is analysis.NewsAnalyzer
    assert pickle.loads(b"csearchlib.schema\nmake_schema\n.") is schema.make_schema
