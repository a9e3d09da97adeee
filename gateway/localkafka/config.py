"""The single-node broker's ``server.properties``, and the loopback ports it listens on.

One process is both broker and KRaft controller; every internal topic has one replica,
because on one node a replication factor of 3 (Kafka's default) makes transactions and
consumer groups wait forever for replicas that will never exist.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

from gateway.localkafka.exceptions import PortInUseError

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """The client (PLAINTEXT) port and the KRaft controller port."""

    broker: int
    controller: int


def pick_free_ports() -> Ports:
    """Two distinct ports the kernel reports free now (both held open while picking)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(2)]
        for sock in sockets:
            sock.bind((HOST, 0))
        broker, controller = (sock.getsockname()[1] for sock in sockets)
    return Ports(broker, controller)


def ensure_free(port: int, role: str) -> None:
    """Fail with a clear message if something already listens on ``port``."""
    with socket.socket() as sock:
        # The JVM binds with SO_REUSEADDR too, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise PortInUseError(
                f"port {port} on {HOST} ({role}) is in use by another process: "
                "choose another with --port, or stop what listens there"
            ) from exc


def render(ports: Ports, data_dir: Path) -> str:
    """The broker configuration; rendered at every start so changes here reach old state dirs."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{HOST}:{ports.controller}",
        "listeners": f"PLAINTEXT://{HOST}:{ports.broker},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        # As in production, topics are created deliberately (gateway.topics.ensure_topics):
        # a misspelt topic name must fail, not silently create a new topic.
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Fewer internal partitions than the default 50: created on first use, and on two
        # cores fifty of them make the first consumer group or transaction wait seconds.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
        "group.initial.rebalance.delay.ms": "0",
        # Kafka's default (15 min), stated because producers' transaction.timeout.ms must not exceed it.
        "transaction.max.timeout.ms": "900000",
    }
    lines = ["# Written by `bingxian kafka` at every start; edit gateway/localkafka/config.py instead."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def read_ports(properties: Path) -> Ports | None:
    """The ports of an earlier start, kept so a restarted node finds its own controller again."""
    if not properties.is_file():
        return None
    for line in properties.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "listeners":
            ports = {
                name: int(address.rsplit(":", 1)[1])
                for name, _, address in (item.partition("://") for item in value.split(","))
            }
            return Ports(ports["PLAINTEXT"], ports["CONTROLLER"])
    return None
