"""Reading YAML safely, with the file and line in every error: the one loader of the rules
files (:mod:`.clean`), the gazetteer files (:mod:`.gazetteer`) and front matter (:mod:`.read`).

Only the safe loaders are used (libyaml's when available): a ``!!python/...`` tag is refused,
never constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["SafeLoader", "compose", "error_line"]

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The safe loader (libyaml's when available): never constructs Python objects from tags."""


def error_line(exc: yaml.YAMLError, first_line: int = 1) -> tuple[int | None, str]:
    """Where a YAML error is (the file line, counting the text's first line as
    ``first_line``; None when PyYAML does not say) and what it is (one line)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc).splitlines()[0]
        return (mark.line + first_line if mark is not None else None), problem
    return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def compose(text: str, label: str, error: type[Exception],
            loader_class: type[yaml.SafeLoader] = yaml.SafeLoader) -> tuple[Any, Any]:
    """The loader and the root node of ``text`` (None for an empty document), composed but
    not constructed, so that every node keeps its line. A syntax error raises ``error``
    with ``label:line: problem``. The caller constructs nodes with the loader and disposes
    of it."""
    loader = loader_class(text)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError as exc:
        loader.dispose()
        line, problem = error_line(exc)
        raise error(f"{label}:{line or 1}: {problem}") from exc
