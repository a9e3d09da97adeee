"""Start, watch and stop one Apache Kafka broker (KRaft, single node) from its jars.

Everything about a broker lives in its state directory, so that ``bingxian kafka
status`` or ``down`` in a later process finds what ``up`` started::

    <state dir>/server.properties   rendered at every start (gateway.localkafka.config)
    <state dir>/data/               the log directory, formatted once with a new cluster id
    <state dir>/logs/server.log     the broker's log; its tail explains a failed start
    <state dir>/logs/kafka.out      the JVM's stdout and stderr
    <state dir>/kafka.pid           the broker's process id while it runs
    <state dir>/bootstrap.servers   where clients connect, once the broker has answered
    <state dir>/kafka.version       the Kafka version the directory was started with

The broker runs in its own session: it outlives the command that started it, and a
Ctrl-C meant for that command does not reach it.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from gateway.localkafka import config
from gateway.localkafka.exceptions import BrokerStartError
from gateway.localkafka.jars import DEPLOY_DIR, KafkaJars, fetch
from gateway.localkafka.process import accepts_connections, find_java, is_alive
from gateway.logs import get_logger, librdkafka_logger

log = get_logger(__name__)

LOG4J_CONFIG = DEPLOY_DIR / "log4j2.properties"
# Kafka's own scripts use G1 with short pauses; a broken broker should exit, not limp on.
JVM_OPTIONS = (
    "-Xms512m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


@dataclass(frozen=True)
class BrokerStatus:
    """What ``status`` reports. ``topics`` is None when the broker did not answer."""

    state_dir: Path
    pid: int | None
    bootstrap_servers: str | None
    version: str | None
    topics: int | None

    @property
    def running(self) -> bool:
        """A broker process of this state directory is alive."""
        return self.pid is not None

    @property
    def answering(self) -> bool:
        """The broker answered a metadata request just now."""
        return self.topics is not None


class LocalKafka:
    """One local broker, its state in ``state_dir``; ports by argument or free ones picked at start."""

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int | None = None,
        version: str | None = None,
        cache: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self._port = port
        self._version = version
        self._cache = cache
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None

    # -- files of the state directory -------------------------------------------------

    @property
    def properties_path(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    @property
    def _bootstrap_file(self) -> Path:
        return self.state_dir / "bootstrap.servers"

    @property
    def _version_file(self) -> Path:
        return self.state_dir / "kafka.version"

    @property
    def bootstrap_servers(self) -> str:
        """The address clients use; known once the broker has started (in any process)."""
        bootstrap = _read(self._bootstrap_file)
        if bootstrap is None:
            raise BrokerStartError(f"no broker has been started in {self.state_dir}")
        return bootstrap

    # -- lifecycle --------------------------------------------------------------------

    def fetch(self) -> KafkaJars:
        """The broker's jars, downloaded by Maven only when the cache lacks them."""
        return fetch(self._version, self._cache)

    def format(self, jars: KafkaJars | None = None, ports: config.Ports | None = None) -> config.Ports:
        """Write ``server.properties``, format the data directory if it is new; returns the ports."""
        jars = jars or self.fetch()
        ports = ports or self._choose_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(config.render(ports, self.data_dir), encoding="utf-8")
        if (self.data_dir / "meta.properties").is_file():
            return ports
        cluster_id = _new_cluster_id()
        command = [
            *self._java_command(jars),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--cluster-id",
            cluster_id,
            "--config",
            str(self.properties_path),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerStartError(
                f"formatting {self.data_dir} failed (exit {result.returncode}):\n"
                + (result.stdout + result.stderr).strip()
            )
        log.info("kafka_formatted", data_dir=str(self.data_dir), cluster_id=cluster_id)
        return ports

    def start(self) -> str:
        """Start the broker unless it already runs, wait until it answers; returns bootstrap servers."""
        current = self._running_pid()
        if current is not None:
            if not self._bootstrap_file.is_file():
                raise BrokerStartError(
                    f"a broker of {self.state_dir} (pid {current}) runs but has not answered yet; "
                    "wait for it, or stop it with `bingxian kafka down`"
                )
            log.info("kafka_already_running", pid=current, bootstrap=self.bootstrap_servers)
            return self.bootstrap_servers
        # Cheap checks of the user's machine first, then the (first time: slow) download.
        find_java()
        ports = self._choose_ports()
        config.ensure_free(ports.broker, "Kafka clients")
        config.ensure_free(ports.controller, "KRaft controller")
        jars = self.fetch()
        self.format(jars, ports)
        bootstrap = f"{config.HOST}:{ports.broker}"
        self._bootstrap_file.unlink(missing_ok=True)

        started = time.monotonic()
        with (self.logs_dir / "kafka.out").open("ab") as out:
            process = self._process = subprocess.Popen(
                [*self._java_command(jars), "kafka.Kafka", str(self.properties_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                start_new_session=True,
            )
        self._pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
        self._version_file.write_text(f"{jars.version}\n", encoding="utf-8")
        try:
            self._wait_until_answering(process, bootstrap, started + self._start_timeout)
        except BaseException:  # a failed start, or Ctrl-C while waiting: leave no broker behind
            self.stop(timeout=5.0)
            raise
        self._bootstrap_file.write_text(f"{bootstrap}\n", encoding="utf-8")
        seconds = round(time.monotonic() - started, 2)
        log.info("kafka_started", bootstrap=bootstrap, pid=process.pid, version=jars.version, seconds=seconds)
        return bootstrap

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``); returns its pid, or None if none ran."""
        pid = self._running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                log.warning("kafka_kill", pid=pid, after_seconds=timeout)
                os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 10.0)
            log.info("kafka_stopped", pid=pid)
        self._pid_file.unlink(missing_ok=True)
        self._bootstrap_file.unlink(missing_ok=True)
        self._process = None
        return pid

    def status(self, timeout: float = 3.0) -> BrokerStatus:
        """Whether the broker runs, where, and how many (non-internal) topics it has."""
        pid = self._running_pid()
        bootstrap = _read(self._bootstrap_file) if pid is not None else None
        topics = None
        if bootstrap is not None:
            try:
                metadata = _admin(bootstrap).list_topics(timeout=timeout)
                topics = sum(1 for name in metadata.topics if not name.startswith("__"))
            except KafkaException:
                topics = None
        version = _read(self._version_file)
        return BrokerStatus(self.state_dir, pid, bootstrap, version, topics)

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ----------------------------------------------------------------------

    def _choose_ports(self) -> config.Ports:
        recorded = config.read_ports(self.properties_path)
        if recorded is None:
            picked = config.pick_free_ports()
            return config.Ports(self._port or picked.broker, picked.controller)
        # The controller port is part of the formatted metadata (the voter's endpoint): keep it.
        return config.Ports(self._port or recorded.broker, recorded.controller)

    def _java_command(self, jars: KafkaJars) -> list[str]:
        return [
            find_java(),
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            jars.classpath,
        ]

    def _wait_until_answering(
        self, process: subprocess.Popen[bytes], bootstrap: str, deadline: float
    ) -> None:
        admin: AdminClient | None = None
        while True:
            code = process.poll()
            if code is not None:
                raise BrokerStartError(f"Kafka exited with code {code} while starting.\n{self._log_tail()}")
            # A TCP probe first: an admin client aimed at a closed port fills stderr with errors.
            if admin is None and accepts_connections(bootstrap):
                admin = _admin(bootstrap)
            if admin is not None:
                try:
                    admin.list_topics(timeout=1.0)
                    return
                except KafkaException:
                    pass
            if time.monotonic() > deadline:
                raise BrokerStartError(
                    f"Kafka did not answer at {bootstrap} within {self._start_timeout:.0f} s.\n"
                    + self._log_tail()
                )
            time.sleep(0.1)

    def _running_pid(self) -> int | None:
        """The pid in the pid file if that process is alive and is this directory's broker."""
        try:
            pid = int(self._pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        if not is_alive(pid):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        # Guards against a recycled pid; where /proc does not exist, trust the pid file.
        if cmdline.exists() and str(self.properties_path).encode() not in cmdline.read_bytes():
            return None
        return pid

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._process is not None and self._process.pid == pid:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while is_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.logs_dir / "kafka.out", self.logs_dir / "server.log"):
            if path.is_file() and path.stat().st_size:
                tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- last lines of {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no log output in {self.logs_dir})"


def _new_cluster_id() -> str:
    """A Kafka cluster id (a base64url UUID, as `kafka-storage random-uuid` makes) without a JVM start."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka avoids ids that look like command-line options
            return cluster_id


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap}, logger=librdkafka_logger())
