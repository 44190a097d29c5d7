"""Real OpenSearch clusters for the tests: build the launcher, start nodes, watch them, stop them.

Each node is a separate JVM running ``searchlib.testcluster.TestNode`` (``launcher/``), i.e.
``org.opensearch.node.Node`` from the 2.19 server jar with the netty4 transport and the common
analysis module on its classpath, HTTP and transport bound to loopback ports chosen here. A
cluster of several nodes discovers itself through ``discovery.seed_hosts`` on those ports.

This module speaks plain HTTP through ``urllib`` so that starting a cluster depends on nothing
but the JDK and Maven; the tests talk to the cluster through ``opensearch-py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().parent / "launcher"
TARGET = LAUNCHER / "target"
STAMP = TARGET / "searchlib-build.sha256"
MAIN_CLASS = "searchlib.testcluster.TestNode"
#: Articles in the generated corpus loaded while a node is killed (enough for the load to be
#: in flight for several seconds on three nodes).
INGEST_CORPUS_SIZE = 3000
#: Small heaps: the machines running the suite have 2 cores and share 24 GiB between sessions.
HEAP = ("-Xms256m", "-Xmx512m")
#: The system properties the distribution's launcher always passes (SystemJvmOptions): keep
#: log4j's own shutdown hook out of the node's (the node logs while closing), no JMX.
JVM_FLAGS = (
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dfile.encoding=UTF-8",
    "-XX:-OmitStackTraceInFastThrow",
    # Stop when the fixture's process is gone (its end of the stdin pipe closes).
    "-Dsearchlib.exitOnStdinEof=true",
)


class ClusterUnavailable(Exception):
    """Java or Maven is missing, or too old, to start test nodes (the tests skip or fail)."""


class ClusterError(Exception):
    """A node did not start or the cluster did not form; the message carries the log tail."""


@dataclass
class BuildInfo:
    """The launcher's runtime classpath and what building it cost."""

    classpath: str
    """``target/classes`` plus every runtime jar, for ``java -cp``."""
    seconds: float
    """Wall time of ``mvn package`` (0 when an up-to-date build was reused)."""
    built: bool
    """Whether Maven ran in this session."""


def java_major(java: str) -> int:
    """The feature version of ``java`` (17 for "17.0.15"), from ``java -version``."""
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if not m:
        raise ClusterUnavailable(f"cannot read the version of {java}: {proc.stderr.strip()}")
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def _tools() -> tuple[str, str]:
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None:
        raise ClusterUnavailable("OpenSearch tests need Java 17 (`java` is not on PATH)")
    if mvn is None:
        raise ClusterUnavailable("OpenSearch tests need Maven (`mvn` is not on PATH) to fetch "
                                 "the OpenSearch jars")
    major = java_major(java)
    if major < 17:
        raise ClusterUnavailable(f"OpenSearch 2.19 needs Java 17 or newer; `java` is {major}")
    return java, mvn


def _sources_digest() -> str:
    """A digest of everything the build reads, so an unchanged launcher is not rebuilt."""
    digest = hashlib.sha256()
    files = [LAUNCHER / "pom.xml", *sorted((LAUNCHER / "src").rglob("*"))]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(LAUNCHER)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_launcher(*, timeout: float = 1800) -> BuildInfo:
    """Build the launcher with Maven (resolving the OpenSearch jars) unless it is up to date.

    ``$SEARCHLIB_MAVEN_REPO`` chooses the local repository (``~/.m2/repository`` by default).
    """
    _java, mvn = _tools()
    digest = _sources_digest()
    dependency = TARGET / "dependency"
    seconds, built = 0.0, False
    fresh = (STAMP.is_file() and STAMP.read_text().strip() == digest
             and (TARGET / "classes").is_dir() and any(dependency.glob("opensearch-*.jar")))
    if not fresh:
        cmd = [mvn, "-B", "-q", "package"]
        repo = os.environ.get("SEARCHLIB_MAVEN_REPO")
        if repo:
            cmd.append(f"-Dmaven.repo.local={repo}")
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=LAUNCHER, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"`{' '.join(cmd)}` took over {timeout:.0f} s") from None
        seconds, built = time.perf_counter() - started, True
        if proc.returncode != 0:
            raise ClusterError(f"building the OpenSearch launcher failed ({' '.join(cmd)}):\n"
                               + (proc.stdout + proc.stderr)[-4000:])
        STAMP.write_text(digest + "\n")
    classpath = os.pathsep.join([str(TARGET / "classes"), str(dependency / "*")])
    return BuildInfo(classpath=classpath, seconds=seconds, built=built)


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def http_json(url: str, *, method: str = "GET", timeout: float = 10.0) -> Any:
    """GET (or another bodiless method) ``url`` and decode its JSON answer."""
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


@dataclass
class Node:
    """One node's process and where it listens."""

    name: str
    http_port: int
    transport_port: int
    home: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_seconds: float | None = None
    """Seconds from launching the JVM to its HTTP port answering."""

    @property
    def url(self) -> str:
        """The node's HTTP address."""
        return f"http://127.0.0.1:{self.http_port}"

    def alive(self) -> bool:
        """Whether the JVM is still running."""
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the node's log, for error messages."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


@dataclass
class Cluster:
    """A cluster of ``size`` real OpenSearch nodes on loopback, rooted in ``root``."""

    classpath: str
    root: Path
    size: int = 1
    java: str = "java"
    extra_settings: dict[str, str] = field(default_factory=dict)
    """More node settings, for the tests that need a node configured otherwise."""
    nodes: list[Node] = field(default_factory=list)
    name: str = field(default_factory=lambda: f"searchlib-test-{uuid.uuid4().hex[:8]}")
    formed_seconds: float | None = None
    """Seconds from launching the first JVM to the cluster reporting all nodes, yellow or green."""

    @property
    def urls(self) -> list[str]:
        """HTTP addresses of the nodes still running."""
        return [n.url for n in self.nodes if n.alive()]

    @property
    def url(self) -> str:
        """The HTTP address of the first node still running."""
        urls = self.urls
        if not urls:
            raise ClusterError("no node of the cluster is running")
        return urls[0]

    def _settings(self, node: Node, peers: list[Node]) -> list[str]:
        settings = {
            "cluster.name": self.name,
            "node.name": node.name,
            "path.home": str(node.home),
            "network.host": "127.0.0.1",
            "http.port": str(node.http_port),
            "transport.port": str(node.transport_port),
            # The test machines' disks may be nearly full; the watermarks would then refuse
            # to allocate shards, which is not what these tests are about.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            # searchlib always creates its index with its mapping first: a request to an
            # index that does not exist must fail, not create one with a dynamic mapping.
            "action.auto_create_index": "false",
            # A node reads its clock for search timeouts from a cache refreshed every 200 ms
            # by default, so a 1 ms budget would cut a query only when the refresh falls
            # inside it; 0 makes the node read the clock itself, and the budget tests exact.
            "thread_pool.estimated_time_interval": "0",
        }
        if self.size == 1:
            settings["discovery.type"] = "single-node"
        else:
            settings["discovery.seed_hosts"] = ",".join(
                f"127.0.0.1:{p.transport_port}" for p in peers)
            settings["cluster.initial_cluster_manager_nodes"] = ",".join(p.name for p in peers)
        settings.update(self.extra_settings)
        return [f"{k}={v}" for k, v in settings.items()]

    def start(self, *, timeout: float = 240.0) -> None:
        """Launch every node and wait until the cluster has them all and is yellow or green."""
        ports = free_ports(2 * self.size)
        self.nodes = [
            Node(name=f"node-{i}", http_port=ports[2 * i], transport_port=ports[2 * i + 1],
                 home=self.root / f"node-{i}", log=self.root / f"node-{i}.log")
            for i in range(self.size)]
        started = time.perf_counter()
        for node in self.nodes:
            self._launch(node)
        self._wait_answering(list(self.nodes), started, timeout)
        remaining = max(5.0, started + timeout - time.perf_counter())
        self.wait_for(status="yellow", nodes=self.size, timeout=remaining)
        self.formed_seconds = time.perf_counter() - started

    def _launch(self, node: Node) -> None:
        """Start ``node``'s JVM (its home, and so its data, kept from an earlier run)."""
        node.home.mkdir(parents=True, exist_ok=True)
        with open(node.log, "ab") as log:
            node.process = subprocess.Popen(
                [self.java, *HEAP, *JVM_FLAGS, "-cp", self.classpath, MAIN_CLASS,
                 *self._settings(node, self.nodes)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                cwd=node.home, start_new_session=True)

    def restart(self, index: int, *, timeout: float = 240.0) -> None:
        """Start node ``index`` again after :meth:`kill`, on the same data path and ports, and
        wait until it answers HTTP."""
        node = self.nodes[index]
        if node.alive():
            raise ClusterError(f"{node.name} is still running")
        started = time.perf_counter()
        self._launch(node)
        self._wait_answering([node], started, timeout)

    def _wait_answering(self, pending: list[Node], started: float, timeout: float) -> None:
        """Wait until every node of ``pending`` answers on its HTTP port."""
        deadline = started + timeout
        while pending:
            for node in list(pending):
                if not node.alive():
                    raise ClusterError(f"{node.name} exited during start-up:\n{node.log_tail()}")
                with contextlib.suppress(OSError, ValueError):
                    http_json(node.url, timeout=2)
                    node.started_seconds = time.perf_counter() - started
                    pending.remove(node)
            if pending and time.perf_counter() > deadline:
                raise ClusterError(f"{pending[0].name} did not answer on {pending[0].url} "
                                   f"within {timeout:.0f} s:\n{pending[0].log_tail()}")
            if pending:
                time.sleep(0.2)

    def health(self, *, timeout: float = 10.0) -> dict[str, Any]:
        """``_cluster/health`` as answered by the first running node."""
        result: dict[str, Any] = http_json(f"{self.url}/_cluster/health", timeout=timeout)
        return result

    def wait_for(self, *, status: str = "yellow", nodes: int | None = None,
                 timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the cluster is at least ``status`` with exactly ``nodes`` nodes."""
        query = f"wait_for_status={status}&timeout={max(1, int(timeout))}s"
        if nodes is not None:
            query += f"&wait_for_nodes={nodes}"
        deadline = time.perf_counter() + timeout
        last: Any = None
        while time.perf_counter() < deadline:
            try:
                last = http_json(f"{self.url}/_cluster/health?{query}",
                                 timeout=timeout + 5)
            except urllib.error.HTTPError as exc:  # 408 when the wait itself timed out
                last = exc.read().decode("utf-8", "replace")
            except (OSError, ValueError) as exc:  # the cluster is still electing
                last = repr(exc)
            else:
                if not last.get("timed_out"):
                    return dict(last)
            time.sleep(0.5)
        tails = "\n".join(f"--- {n.name}\n{n.log_tail(1500)}" for n in self.nodes)
        raise ClusterError(f"cluster not {status} with {nodes} nodes after {timeout:.0f} s: "
                           f"{last}\n{tails}")

    def kill(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to node ``index`` and wait until its process is gone."""
        node = self.nodes[index]
        if node.process is not None and node.alive():
            node.process.send_signal(sig)
            node.process.wait(timeout=60)
            if node.process.stdin is not None:
                node.process.stdin.close()

    def stop(self) -> None:
        """Stop every node: SIGTERM (the node closes cleanly), SIGKILL after 30 s."""
        for node in self.nodes:
            if node.alive():
                assert node.process is not None
                node.process.terminate()
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=30)
            if node.process.stdin is not None:
                node.process.stdin.close()


@dataclass(frozen=True)
class ExportedCorpus:
    """Generated news articles, indexed by searchlib and exported for OpenSearch."""

    index_dir: Path
    """The Whoosh index (the reference answers)."""
    export_dir: Path
    """``search export --format opensearch`` output: mapping.json and bulk-*.ndjson."""
    from_corpora: bool
    """Whether the sentences came from the shared test collections (the tests that query
    particular words need them); else from the five seed articles only."""
