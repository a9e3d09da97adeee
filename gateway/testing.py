"""Helpers for tests, demos and benchmarks that talk to a real broker.

Shipped with the package (as structlog ships ``structlog.testing``) because the
demo and the benchmarks need the same things the tests do: settings whose topics
do not collide with anyone else's, and reading a topic to its end, committed
records only, without sleeping until something appears.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from gateway.localkafka import LocalKafka
from gateway.settings import GatewaySettings, KafkaSettings, Settings, TopicSettings


def isolated_settings(bootstrap: str, tag: str | None = None, **gateway: object) -> Settings:
    """Settings whose every topic and group carries a unique tag, so runs never share data."""
    tag = tag or uuid.uuid4().hex[:10]
    defaults = TopicSettings()
    topics = TopicSettings(
        raw={channel: f"{name}.{tag}" for channel, name in defaults.raw.items()},
        reports=f"reports.{tag}",
        deadletter=f"deadletter.{tag}",
        tickets=f"tickets.{tag}",
        ticket_events=f"ticket-events.{tag}",
        ticket_status=f"ticket-status.{tag}",
        department_prefix=f"tickets.{tag}.",
        changelog=f"changelog.{tag}",
        partitions=3,
    )
    return Settings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=topics,
        gateway=GatewaySettings(group_id=f"gateway-{tag}", instance_id=f"i-{tag}", http_port=0, **gateway),
    )


def with_outputs(settings: Settings, tag: str) -> Settings:
    """Another deployment reading the same ``reports``, with its own outputs, state and group."""
    t = settings.topics
    topics = t.model_copy(
        update={
            "tickets": f"{t.tickets}.{tag}",
            "ticket_events": f"{t.ticket_events}.{tag}",
            "deadletter": f"{t.deadletter}.{tag}",
            "department_prefix": f"{t.department_prefix}{tag}.",
            "changelog": f"{t.changelog}.{tag}",
        }
    )
    gateway = settings.gateway.model_copy(
        update={
            "group_id": f"{settings.gateway.group_id}-{tag}",
            "instance_id": f"{settings.gateway.instance_id}-{tag}",
        }
    )
    return settings.model_copy(update={"topics": topics, "gateway": gateway})


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed record."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def read_topic(
    bootstrap: str, topic: str, *, committed_only: bool = True, timeout_s: float = 60
) -> list[Record]:
    """Every record of ``topic`` up to its current end, in partition then offset order."""
    records = list(iter_topic(bootstrap, topic, committed_only=committed_only, timeout_s=timeout_s))
    records.sort(key=lambda r: (r.partition, r.offset))
    return records


def iter_topic(
    bootstrap: str, topic: str, *, committed_only: bool = True, timeout_s: float = 60
) -> Iterator[Record]:
    """The records of ``topic`` up to its current end, as they arrive (partitions interleaved).

    For reading more than is worth holding at once (a benchmark counting a run's output).
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"read-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if committed_only else "read_uncommitted",
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        assignment = []
        ends: dict[int, int] = {}
        for partition in sorted(metadata.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                assignment.append(TopicPartition(topic, partition, low))
                ends[partition] = high
        if not assignment:
            return
        consumer.assign(assignment)
        pending = set(ends)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: partitions {sorted(pending)} did not reach their end")
            for message in consumer.consume(5000, 0.5):
                error = message.error()
                if error is not None:
                    if (
                        error.code() == KafkaError._PARTITION_EOF
                        and message.offset() >= ends[message.partition()]
                    ):
                        pending.discard(message.partition())
                    continue
                yield Record(message.partition(), message.offset(), message.key(), message.value())
    finally:
        consumer.close()


def latest_by_key(records: Iterable[Record]) -> dict[bytes, bytes]:
    """What a compacted topic converges to: the last value per key, tombstones removing keys."""
    latest: dict[bytes, bytes] = {}
    for record in records:
        if record.key is None:
            continue
        if record.value is None:
            latest.pop(record.key, None)
        else:
            latest[record.key] = record.value
    return latest


def produce_all(bootstrap: str, topic: str, items: Iterable[tuple[str | None, bytes]]) -> int:
    """Produce (key, value) pairs and wait until every one is acknowledged; returns the count."""
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error.str())

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 10, "enable.idempotence": True})
    count = 0
    for key, value in items:
        while True:
            try:
                producer.produce(topic, key=key.encode() if key else None, value=value, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    producer.flush(60)
    if failures:
        raise RuntimeError(f"{len(failures)} records not delivered to {topic}: {failures[0]}")
    return count


def _reveal(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as a YAML file a child ``bingxian`` process starts with.

    Secrets (contact key, ingest tokens) are written in clear so the child uses the same
    ones: the file is for local runs (tests, the demo under the git-ignored ``.bingxian/``)
    and is created readable by its owner only.
    """
    data = to_jsonable_python(_reveal(settings.model_dump()))
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class GatewayProcess:
    """``bingxian run`` in a child process, to be stopped gracefully or killed with SIGKILL."""

    def __init__(
        self, settings: Settings, workdir: Path, name: str = "gateway", log_level: str = "INFO"
    ) -> None:
        self.config = write_config(settings, workdir / f"{name}.yaml")
        self.log_path = workdir / f"{name}.log"
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> GatewayProcess:
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable,
            "-m",
            "gateway",
            "run",
            "--config",
            str(self.config),
            "--log-level",
            self.log_level,
        ]
        self._proc = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        return self

    def kill(self) -> None:
        """kill -9: no chance to finish the transaction or leave the group."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(30)

    def stop(self, timeout: float = 60, how: signal.Signals = signal.SIGTERM) -> int:
        """SIGTERM (or Ctrl-C's SIGINT) and wait: the service ends its transaction and leaves the group."""
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.send_signal(how)
        return self._proc.wait(timeout)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cpu_seconds(self) -> float | None:
        """CPU the process has used so far (user + system, from /proc); None where there is no /proc."""
        assert self._proc is not None
        return cpu_seconds_of(self._proc.pid)


def cpu_seconds_of(pid: int) -> float | None:
    """CPU process ``pid`` has used so far (user + system, all threads, from /proc); None without it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


_COORDINATOR_MOVING = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
    }
)


def log_events(text: str) -> list[str]:
    """The ``event`` of every JSON log line in ``text`` (a process's log file), in order.

    Lines that are not JSON log lines (a command's printed summary) are passed over, so
    tests match on what was logged, not on how the JSON happens to be spaced.
    """
    events: list[str] = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("event"), str):
            events.append(record["event"])
    return events


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of ``topic`` (-1001 where none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        found = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: tp.offset for tp in found}
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The high watermark of every partition of ``topic`` (waiting while a new topic elects leaders)."""
    from gateway.service import watermarks  # the service's own retry; imported here to keep this light

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"ends-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: watermarks(consumer, TopicPartition(topic, p), timeout_s=60)[1] for p in partitions}
    finally:
        consumer.close()


def wait_caught_up(
    bootstrap: str, group: str, topic: str, *, timeout_s: float = 300, every_s: float = 0.5
) -> None:
    """Block until ``group`` has committed the end of every partition of ``topic`` (bounded)."""
    ends = end_offsets(bootstrap, topic)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            committed = committed_offsets(bootstrap, group, topic)
        except KafkaException as exc:
            if exc.args[0].code() not in _COORDINATOR_MOVING:
                raise
            committed = {}  # the group coordinator is still loading on a young broker: ask again
        if all(max(committed.get(p, -1), 0) >= end for p, end in ends.items()):  # -1001: none yet
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{group} did not reach the end of {topic}: {committed} < {ends}")
        time.sleep(every_s)


#: The local brokers ``bench_cluster`` runs, by bootstrap address.
_BENCH_BROKERS: dict[str, LocalKafka] = {}


@contextmanager
def bench_cluster() -> Iterator[str]:
    """Bootstrap servers for a benchmark: ``KAFKA_BOOTSTRAP_SERVERS`` when set, else a local broker.

    The local broker runs from the Maven jar cache for the ``with`` block, in a fresh
    directory under ``.bingxian/``, and is stopped after it.
    """
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap:
        yield bootstrap
        return
    broker = LocalKafka(Path(".bingxian") / f"bench-kafka-{uuid.uuid4().hex[:6]}")
    started = ""
    try:
        started = broker.start()
        _BENCH_BROKERS[started] = broker
        yield started
    finally:
        _BENCH_BROKERS.pop(started, None)
        broker.stop()


def local_broker_pid(bootstrap: str) -> int | None:
    """The process id of the broker ``bench_cluster`` runs at ``bootstrap``; None for an external one.

    Benchmarks read its CPU from /proc (``cpu_seconds_of``), since it shares the machine's cores.
    """
    broker = _BENCH_BROKERS.get(bootstrap)
    return None if broker is None else broker.status().pid
