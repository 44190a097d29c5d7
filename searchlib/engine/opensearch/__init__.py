"""The OpenSearch engine: an index folder whose documents live in an OpenSearch cluster.

* :mod:`.record`: the folder's engine record (``engine.json``: engine, URL, index name,
  what was sent), read by :func:`searchlib.search.open_index` to pick the reader;
* :mod:`.reader`: :class:`~.reader.OpenSearchReader`, the :class:`searchlib.engine.Reader`;
* :mod:`.ingest`: ``search index --engine opensearch`` (the pipeline, then ``_bulk``).

Only this package and :mod:`searchlib.opensearch` import ``opensearchpy``
(``tests/test_layers.py``), and only when a cluster is used: importing this package loads
no client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .record import EngineRecord

if TYPE_CHECKING:
    from ...opensearch import ConnectionSettings
    from .reader import OpenSearchReader

__all__ = ["DEFAULT_INDEX_NAME", "connection_settings", "open_reader"]

DEFAULT_INDEX_NAME = "searchlib"
"""The OpenSearch index name when neither an option nor the config file names one."""


def connection_settings(url: str | None = None,
                        env: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Where the cluster is and how to log in: ``url`` (else ``$SEARCH_OPENSEARCH_URL``,
    else the config file's ``opensearch_url``); user, password and CA bundle from the
    environment (``$SEARCH_OPENSEARCH_USER``...) or else the config file
    (``opensearch_user``...). Never from the command line."""
    from ...config import load_config
    from ...opensearch import ENV_CA_CERTS, ENV_PASSWORD, ENV_URL, ENV_USER, ConnectionSettings

    config = load_config().opensearch
    merged = {name: config[key] for name, key in ((ENV_URL, "url"), (ENV_USER, "user"),
                                                  (ENV_PASSWORD, "password"),
                                                  (ENV_CA_CERTS, "ca_certs"))
              if config.get(key)}
    merged.update({k: v for k, v in (os.environ if env is None else env).items() if v})
    return ConnectionSettings.from_env(url, env=merged)


def open_reader(path: str | os.PathLike[str], record: EngineRecord, *,
                gazetteer: Sequence[str | os.PathLike[str]] = ()) -> OpenSearchReader:
    """The reader of the index folder ``path`` whose engine record is ``record``: the
    cluster at the recorded URL (``$SEARCH_OPENSEARCH_URL`` overrides it, for a cluster that
    moved), credentials from the environment or the config file."""
    from .reader import OpenSearchReader

    settings = connection_settings(os.environ.get("SEARCH_OPENSEARCH_URL") or record.url)
    return OpenSearchReader(Path(path), record, settings, gazetteer=gazetteer)
