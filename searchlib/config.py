"""The one place that resolves configuration: the index location and extra YAML files.

Precedence for the index directory: an explicit argument, then ``$SEARCH_INDEX``, then
``index`` in the current directory. A config file (``$SEARCHLIB_CONFIG`` or
``~/.config/searchlib/config.yaml``) may name extra gazetteer and cleaning-rule files and the
default index directory::

    index: ~/news/index
    gazetteer: [~/news/my-gazetteer.yaml]
    cleaning_rules: [~/news/my-rules.yaml]
    opensearch_url: https://search.example.org:9200   # for `search index --engine opensearch`
    opensearch_index: news                            # the OpenSearch index name
    opensearch_user: analyst                          # credentials: here or in the environment
    opensearch_password: ...
    opensearch_ca_certs: ~/news/cluster-ca.pem
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["Config", "load_config", "resolve_index_dir", "state_dir"]

DEFAULT_INDEX_DIR = "index"
#: The config file's ``opensearch_*`` settings.
_OPENSEARCH_KEYS = ("url", "index", "user", "password", "ca_certs")


@dataclass(frozen=True)
class Config:
    """User configuration read from the config file (all optional)."""

    index: Path | None = None
    """Default index directory."""
    gazetteer: tuple[Path, ...] = ()
    """Extra gazetteer files layered over the shipped one."""
    cleaning_rules: tuple[Path, ...] = ()
    """Extra cleaning-rule files layered over the shipped ones."""
    source: Path | None = None
    """The file this came from, if any."""
    opensearch: dict[str, str] = field(default_factory=dict, repr=False)
    """OpenSearch settings (``url``, ``index``, ``user``, ``password``, ``ca_certs``) from the
    file's ``opensearch_*`` keys; the environment overrides them. Kept out of ``repr``."""


def _config_path() -> Path | None:
    explicit = os.environ.get("SEARCHLIB_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidate = home / "searchlib" / "config.yaml"
    return candidate if candidate.is_file() else None


def _paths(value: Any, origin: Path, key: str) -> tuple[Path, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: '{key}' must be a file path or a list of paths")
    return tuple((origin.parent / Path(v).expanduser()).resolve() for v in value)


def load_config() -> Config:
    """Read the config file if there is one; raise :class:`ConfigError` naming it if bad."""
    path = _config_path()
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    # Imported here: the YAML reader costs a one-shot command ~40 ms when no file exists.
    from .ingest.read import load_yaml_safely

    try:
        data = load_yaml_safely(text, str(path))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if data is None:
        return Config(source=path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: config must be a mapping of settings")
    unknown = set(data) - {"index", "gazetteer", "cleaning_rules",
                           *(f"opensearch_{key}" for key in _OPENSEARCH_KEYS)}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(map(str, unknown)))}")
    index = data.get("index")
    if index is not None and not isinstance(index, str):
        raise ConfigError(f"{path}: 'index' must be a directory path")
    opensearch: dict[str, str] = {}
    for key in _OPENSEARCH_KEYS:
        value = data.get(f"opensearch_{key}")
        if value is None:
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{path}: 'opensearch_{key}' must be text")
        opensearch[key] = (str((path.parent / Path(value).expanduser()).resolve())
                           if key == "ca_certs" else value)
    return Config(
        opensearch=opensearch,
        index=(path.parent / Path(index).expanduser()).resolve() if index else None,
        gazetteer=_paths(data.get("gazetteer"), path, "gazetteer"),
        cleaning_rules=_paths(data.get("cleaning_rules"), path, "cleaning_rules"),
        source=path)


def resolve_index_dir(explicit: str | os.PathLike[str] | None = None, *,
                      config: Config | None = None) -> Path:
    """The index directory to use: argument, ``$SEARCH_INDEX``, config file, ``index/``.

    Pass ``config`` when it is already loaded, so the file is not read again.
    """
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("SEARCH_INDEX")
    if env:
        return Path(env).expanduser()
    config = config or load_config()
    return config.index or Path(DEFAULT_INDEX_DIR)


def state_dir(index_dir: str | os.PathLike[str]) -> Path:
    """Where the user's state for one index lives (saved searches, query history).

    ``$SEARCHLIB_STATE_DIR`` if set (tests, several profiles), else
    ``$XDG_STATE_HOME/searchlib`` (default ``~/.local/state/searchlib``); inside it, one
    folder per index, named after the index folder plus a hash of its absolute path, so two
    indexes called ``index`` in different places keep apart. Nothing is created here.
    """
    explicit = os.environ.get("SEARCHLIB_STATE_DIR")
    if explicit:
        base = Path(explicit).expanduser()
    else:
        home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        base = Path(home).expanduser() / "searchlib"
    resolved = Path(index_dir).expanduser().resolve()
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name)[:40].strip("._") or "index"
    digest = hashlib.sha1(str(resolved).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return base / f"{label}-{digest}"
