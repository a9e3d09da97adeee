"""The local launcher as a user meets it: `bingxian kafka up/status/down` in separate processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway.localkafka import BrokerStartError, KafkaJars, LocalKafka, MavenError, default_version, fetch
from gateway.localkafka.config import pick_free_ports
from gateway.settings import CONFIG_ENV, Settings

REPO = Path(__file__).resolve().parents[1]
BINGXIAN = Path(sys.executable).with_name("bingxian")


@pytest.fixture(scope="module")
def kafka_jars() -> KafkaJars:
    """The jar cache, downloaded here by Maven if this machine has never fetched it."""
    return fetch()


@pytest.fixture
def bin_without_maven(tmp_path: Path) -> Path:
    """A PATH directory with java and an `mvn` that only records that it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = shutil.which("java")
    if java is not None:
        (bin_dir / "java").symlink_to(Path(java).resolve())
    mvn = bin_dir / "mvn"
    mvn.write_text(f'#!/bin/sh\ntouch "{tmp_path / "mvn-was-called"}"\nexit 99\n')
    mvn.chmod(0o755)
    return bin_dir


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BINGXIAN), "kafka", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "JAVA_HOME")}
    return {**env, **overrides}


@pytest.mark.kafka  # starts a broker of its own, through the CLI
def test_up_status_down_with_a_warm_cache_and_no_maven(kafka_jars, bin_without_maven, tmp_path):
    """up → status running → down → status not running; the complete cache keeps Maven out."""
    state = str(tmp_path / "state")
    port = pick_free_ports().broker
    env = _env(PATH=str(bin_without_maven), BINGXIAN_CACHE=str(kafka_jars.root.parent))
    try:
        up = _cli("up", "--port", str(port), "--dir", state, env=env)
        assert up.returncode == 0, up.stderr
        assert f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}" in up.stdout.splitlines()

        running = _cli("status", "--dir", state, env=env)
        assert running.returncode == 0, running.stdout + running.stderr
        assert f"running: Apache Kafka {kafka_jars.version}" in running.stdout
        assert f"bootstrap 127.0.0.1:{port}" in running.stdout
    finally:
        down = _cli("down", "--dir", state, env=env)
    assert down.returncode == 0, down.stderr
    assert down.stdout.startswith("stopped")

    stopped = _cli("status", "--dir", state, env=env)
    assert stopped.returncode == 1
    assert stopped.stdout.startswith("not running")
    assert not (tmp_path / "mvn-was-called").exists()


@pytest.mark.kafka  # runs the broker's JVM until it gives up
def test_a_broker_that_exits_while_starting_reports_its_log_tail(kafka_jars, tmp_path):
    """The error carries the broker's own explanation, and no process or pid file stays behind."""
    broker = LocalKafka(tmp_path / "state", cache=kafka_jars.root.parent)
    broker.format()
    meta = broker.data_dir / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=7"))  # data of another node

    with pytest.raises(BrokerStartError, match="exited with code") as failure:
        broker.start()

    assert "Stored node id 7 doesn't match" in str(failure.value)
    assert not broker.status().running
    assert not (broker.state_dir / "kafka.pid").exists()


def test_busy_port_is_one_clear_line(tmp_path):
    """A taken port is reported with the port number, a non-zero exit and no traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _cli("up", "--port", str(port), "--dir", str(tmp_path / "state"), env=_env())
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_java_is_one_clear_line(tmp_path):
    """Without java on PATH or JAVA_HOME the user is told to install Java 17+, before any download."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = _cli("up", "--dir", str(tmp_path / "state"), env=_env(PATH=str(empty)))
    assert result.returncode == 1
    assert "Java 17 or newer is needed" in result.stderr
    assert "Traceback" not in result.stderr


def test_complete_cache_is_used_without_maven(tmp_path, monkeypatch):
    """fetch() trusts a cache whose marker lists jars that are all present, and never runs Maven."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    root = tmp_path / "kafka-9.9.9"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "kafka_2.13-9.9.9.jar").write_bytes(b"")
    (root / "COMPLETE").write_text("kafka_2.13-9.9.9.jar\n")

    assert fetch("9.9.9", cache=tmp_path).lib == root / "lib"


@pytest.mark.parametrize("marker", [None, "kafka_2.13-9.9.9.jar\nmissing.jar\n"])
def test_incomplete_cache_needs_maven(tmp_path, monkeypatch, marker):
    """No marker, or a marker naming a missing jar, is not a cache: Maven is asked for, clearly."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    root = tmp_path / "kafka-9.9.9"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "kafka_2.13-9.9.9.jar").write_bytes(b"")
    if marker is not None:
        (root / "COMPLETE").write_text(marker)

    with pytest.raises(MavenError, match=r"Maven \(mvn\) is needed"):
        fetch("9.9.9", cache=tmp_path)


def test_compose_runs_the_kafka_version_of_the_local_launcher():
    """deploy/docker-compose.yml and deploy/local-kafka/pom.xml name the same Kafka release."""
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{default_version()}"


def test_example_gateway_config_is_valid(monkeypatch):
    """deploy/gateway.yaml loads into Settings (unknown keys would be rejected)."""
    for name in [name for name in os.environ if name.startswith("BINGXIAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(CONFIG_ENV, str(REPO / "deploy" / "gateway.yaml"))
    assert Settings().kafka.bootstrap_servers
