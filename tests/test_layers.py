"""The package layers, read from the source: Whoosh is imported by ``searchlib/engine/whoosh``
alone, and ``searchlib/ingest`` imports no engine at all.

Every ``import`` and ``from ... import`` statement is found with :mod:`ast`, function-level
imports included, relative imports resolved; a subprocess then imports the ingest package and
the engine-neutral modules and inspects ``sys.modules``, which also catches imports made by name
at run time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ENGINE_LIBRARIES = ("whoosh", "opensearchpy")
"""Top-level names of search-engine client libraries."""

WHOOSH_PACKAGE = "searchlib.engine.whoosh"



def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Iterator[tuple[str, Path]]:
    for top in ("searchlib", "tui"):
        for path in sorted((ROOT / top).rglob("*.py")):
            yield _module_name(path), path


def _imports(module: str, path: Path) -> set[str]:
    """The absolute names of every module ``module`` imports (``from a import b`` gives both
    ``a`` and ``a.b``, as ``b`` may be a submodule)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


IMPORTS = {module: _imports(module, path) for module, path in _modules()}


def test_the_scan_sees_the_packages_and_their_imports() -> None:
    # Guards the guard: a scan that found nothing would pass every rule below.
    assert "searchlib.ingest.clean" in IMPORTS and "tui.app" in IMPORTS
    assert any(_is_under(name, "whoosh") for name in IMPORTS[f"{WHOOSH_PACKAGE}.schema"])
    assert "searchlib.models" in IMPORTS["searchlib.ingest.read"]


def test_only_the_whoosh_engine_imports_whoosh() -> None:
    offenders = sorted(
        module for module, names in IMPORTS.items()
        if not _is_under(module, WHOOSH_PACKAGE)
        and any(_is_under(name, "whoosh") for name in names))
    assert offenders == []


def test_ingest_imports_no_engine() -> None:
    # Ingest turns files into prepared documents for any engine: besides itself it may use the
    # errors, the models, the atomic writer, and libraries that are not search engines.
    allowed = ("searchlib.ingest", "searchlib.errors", "searchlib.models", "searchlib.atomic")
    offenders = {
        module: sorted(name for name in names
                       if (_is_under(name, "searchlib") and not any(_is_under(name, a)
                                                                    for a in allowed))
                       or any(_is_under(name, lib) for lib in ENGINE_LIBRARIES))
        for module, names in IMPORTS.items() if _is_under(module, "searchlib.ingest")}
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_engine_protocols_import_no_engine() -> None:
    names = IMPORTS["searchlib.engine"]
    assert not [name for name in names
                if any(_is_under(name, lib) for lib in ENGINE_LIBRARIES)
                or _is_under(name, WHOOSH_PACKAGE)]


def test_the_builder_reaches_the_whoosh_engine_through_its_writer_only() -> None:
    # build.py talks to the engine's Writer protocol: from the Whoosh engine it takes only the
    # writer module's entry points, never its storage, segments or schema.
    names = {name for name in IMPORTS["searchlib.build"] if _is_under(name, WHOOSH_PACKAGE)}
    assert f"{WHOOSH_PACKAGE}.writer" in names
    assert sorted(n for n in names if not _is_under(n, f"{WHOOSH_PACKAGE}.writer")) == []


@pytest.mark.parametrize("modules", [
    ["searchlib.ingest.read", "searchlib.ingest.clean", "searchlib.ingest.cleaning_rules",
     "searchlib.ingest.htmltext",
     "searchlib.ingest.extract", "searchlib.ingest.gazetteer", "searchlib.ingest.tokens",
     "searchlib.ingest.geodata", "searchlib.ingest.gazetteer_files", "searchlib.ingest.gaps",
     "searchlib.ingest.dates",
     "searchlib.ingest.date_manifest", "searchlib.ingest.fingerprint", "searchlib.ingest.prepare"],
    ["searchlib.engine", "searchlib.models", "searchlib.errors", "searchlib.search",
     "searchlib.engine.opensearch", "searchlib.engine.opensearch.record",
     "searchlib.engine.facetnames"],
    # The query language: parsed once, translated by each engine.
    ["searchlib.query", "searchlib.query.parser", "searchlib.query.ast", "searchlib.query.dates"],
])
def test_importing_the_engine_neutral_modules_loads_no_engine(modules: list[str]) -> None:
    code = (f"import importlib, json, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                                       capture_output=True, text=True).stdout)
    assert set(modules) <= set(loaded)
    assert [name for name in loaded
            if any(_is_under(name, lib) for lib in ENGINE_LIBRARIES)
            or _is_under(name, WHOOSH_PACKAGE)] == []


def test_only_the_opensearch_engine_imports_the_opensearch_client() -> None:
    # The engine package, and the earlier client module it builds on (to move into it).
    allowed = ("searchlib.engine.opensearch", "searchlib.opensearch")
    offenders = sorted(
        module for module, names in IMPORTS.items()
        if not any(_is_under(module, a) for a in allowed)
        and any(_is_under(name, "opensearchpy") for name in names))
    assert offenders == []
    assert any(_is_under(name, "opensearchpy") for name in IMPORTS["searchlib.opensearch"])


def test_the_engine_record_imports_no_engine() -> None:
    # open_index reads it for every index, Whoosh ones included.
    names = IMPORTS["searchlib.engine.opensearch.record"] | IMPORTS["searchlib.engine.opensearch"]
    assert not [name for name in names
                if any(_is_under(name, lib) for lib in ENGINE_LIBRARIES)
                or _is_under(name, WHOOSH_PACKAGE)]
