"""searchlib.opensearch without a cluster: settings from the environment, a cluster that is
down. (The tests against real nodes are in tests/opensearch/.)"""

from __future__ import annotations

import socket

import pytest

from searchlib.errors import SearchlibError

pytest.importorskip("opensearchpy")

from searchlib.opensearch import (
    ClusterUnavailableError,
    ConnectionSettings,
    OpenSearchIndex,
    facet_request,
)


def test_settings_come_from_the_environment_and_verify_tls() -> None:
    env = {"SEARCH_OPENSEARCH_URL": "https://search.example.org:9200/",
           "SEARCH_OPENSEARCH_USER": "analyst", "SEARCH_OPENSEARCH_PASSWORD": "s3cret"}
    settings = ConnectionSettings.from_env(env=env)
    assert settings.url == "https://search.example.org:9200"
    assert (settings.username, settings.password) == ("analyst", "s3cret")
    assert settings.verify_certs is True
    assert "s3cret" not in repr(settings)
    assert ConnectionSettings.from_env("http://127.0.0.1:9200", env=env).url.startswith("http:")


def test_several_nodes_are_one_url_separated_by_commas() -> None:
    settings = ConnectionSettings.from_env("http://a:9200/, http://b:9201", env={})
    assert settings.url == "http://a:9200,http://b:9201"
    assert settings.hosts == ["http://a:9200", "http://b:9201"]
    with pytest.raises(SearchlibError, match=r"not an http\(s\) URL: 'b:9201'"):
        ConnectionSettings.from_env("http://a:9200,b:9201", env={})


@pytest.mark.parametrize(("env", "message"), [
    ({}, "no OpenSearch URL"),
    ({"SEARCH_OPENSEARCH_URL": "localhost:9200"}, r"not an http\(s\) URL"),
    ({"SEARCH_OPENSEARCH_URL": "http://h:9200", "SEARCH_OPENSEARCH_USER": "u"}, "set both"),
])
def test_bad_settings_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(SearchlibError, match=message) as info:
        ConnectionSettings.from_env(env=env)
    assert "\n" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_cluster_that_is_down_is_one_line() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with OpenSearchIndex(ConnectionSettings(url=url, timeout=2)) as index:
        for call in (index.health, index.count, lambda: index.search("missile"),
                     lambda: index.load([{"id": "x"}])):
            with pytest.raises(ClusterUnavailableError) as info:
                call()
            assert str(info.value) == f"cannot reach OpenSearch at {url}: is the cluster running?"


def test_facet_request_keeps_each_selection_out_of_its_own_counts() -> None:
    body = facet_request("missile", {"location": ["Syria"], "actor": ["IRGC"]},
                         date_from="2017", date_to="2017-06")
    assert body["post_filter"]["bool"]["filter"] == [
        {"terms": {"actor": ["IRGC"]}}, {"terms": {"location": ["Syria"]}},
        {"range": {"published": {"gte": "2017-01-01", "lte": "2017-06-30"}}}]
    location = body["aggs"]["location"]["filter"]["bool"]["filter"]
    assert {"terms": {"location": ["Syria"]}} not in location
    assert {"terms": {"actor": ["IRGC"]}} in location
    # The timeline ignores the date range; the entity counts do not.
    assert all("range" not in f for f in body["aggs"]["year"]["filter"]["bool"]["filter"])
    assert any("range" in f for f in body["aggs"]["person"]["filter"]["bool"]["filter"])
