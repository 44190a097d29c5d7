"""The OpenSearch engine without a server: a cluster that is down, settings, the record."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib import build_index
from searchlib.cli import cli
from searchlib.engine.opensearch import connection_settings
from searchlib.engine.opensearch.record import (
    ENGINE_FILE,
    EngineRecord,
    read_engine_record,
    write_engine_record,
)
from searchlib.errors import IndexCorruptError, SearchlibError

pytest.importorskip("opensearchpy")

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def down_url() -> str:
    return f"http://127.0.0.1:{_closed_port()}"


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cluster settings from the developer's environment (the config file is isolated by
    tests/conftest.py)."""
    for name in ("SEARCH_OPENSEARCH_URL", "SEARCH_OPENSEARCH_USER",
                 "SEARCH_OPENSEARCH_PASSWORD", "SEARCH_OPENSEARCH_CA_CERTS"):
        monkeypatch.delenv(name, raising=False)


def _one_line_exit_2(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_indexing_into_a_cluster_that_is_down_is_one_line(clean_env: None, down_url: str,
                                                          tmp_path: Path) -> None:
    line = _one_line_exit_2(["index", str(SEEDS), "--index", str(tmp_path / "ix"),
                             "--engine", "opensearch", "--opensearch-url", down_url])
    assert f"cannot reach OpenSearch at {down_url}" in line
    assert not (tmp_path / "ix" / ENGINE_FILE).exists()


@pytest.mark.parametrize("command", [["query", "missile"], ["show", "abc"], ["facets"],
                                     ["stats"], ["similar", "abc"], ["check"]])
def test_commands_on_an_index_whose_cluster_is_down_are_one_line(
        clean_env: None, down_url: str, tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "ix"
    build_index([SEEDS], folder, procs=1)
    write_engine_record(folder, EngineRecord(engine="opensearch", url=down_url, index="news"))
    line = _one_line_exit_2([*command, "--index", str(folder)])
    assert line == f"search: cannot reach OpenSearch at {down_url}: is the cluster running?"


def test_the_url_comes_from_the_option_the_environment_or_the_config_file(
        clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("opensearch_url: https://from-config:9200\nopensearch_user: ana\n"
                      "opensearch_password: secret\n", encoding="utf-8")
    monkeypatch.setenv("SEARCHLIB_CONFIG", str(config))
    settings = connection_settings()
    assert (settings.url, settings.username, settings.verify_certs) == (
        "https://from-config:9200", "ana", True)
    assert "secret" not in repr(settings)
    monkeypatch.setenv("SEARCH_OPENSEARCH_URL", "https://from-env:9200")
    assert connection_settings().url == "https://from-env:9200"
    assert connection_settings("https://given:9200").url == "https://given:9200"
    config.write_text("opensearch_url: [1]\n", encoding="utf-8")
    with pytest.raises(SearchlibError, match="'opensearch_url' must be text"):
        connection_settings()


def test_opensearch_options_need_the_engine(clean_env: None, tmp_path: Path) -> None:
    line = _one_line_exit_2(["index", str(SEEDS), "--index", str(tmp_path / "ix"),
                             "--opensearch-url", "http://127.0.0.1:9"])
    assert "need --engine opensearch" in line
    line = _one_line_exit_2(["index", str(SEEDS), "--index", str(tmp_path / "ix"),
                             "--engine", "opensearch", "--opensearch-url",
                             "http://127.0.0.1:9", "--opensearch-index", "Bad Name"])
    assert "not a valid OpenSearch index name" in line


def test_the_engine_record_round_trips_and_a_damaged_one_is_reported(tmp_path: Path) -> None:
    assert read_engine_record(tmp_path) is None
    record = EngineRecord(engine="opensearch", url="https://x:9200", index="news",
                          sources=("docs",), sent={"a": "1"})
    write_engine_record(tmp_path, record)
    assert read_engine_record(tmp_path) == record
    assert "password" not in json.loads((tmp_path / ENGINE_FILE).read_text())
    (tmp_path / ENGINE_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="damaged engine record"):
        read_engine_record(tmp_path)
