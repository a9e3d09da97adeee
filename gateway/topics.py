"""Create the topics a process needs, idempotently, and wait until they can be used.

Why not broker auto-creation: it is off on our brokers (and should be in production),
because an auto-created topic gets the broker's defaults (one partition, delete
cleanup) where a changelog needs ``cleanup.policy=compact`` and the partition count of
its input. Several gateway instances may start at once, so "already exists" is success.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic

from gateway.logs import get_logger, librdkafka_logger

log = get_logger(__name__)


class TopicError(Exception):
    """A topic could not be created or did not become usable."""


class TopicsNotReadyError(TopicError, TimeoutError):
    """Topics exist (or were requested) but have no leader for every partition in time."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic as it should exist. ``replication=None`` takes the cluster's default factor."""

    name: str
    partitions: int = 1
    replication: int | None = None
    config: Mapping[str, str] = field(default_factory=dict, hash=False)

    def new_topic(self) -> NewTopic:
        return NewTopic(
            self.name,
            num_partitions=self.partitions,
            replication_factor=-1 if self.replication is None else self.replication,
            config=dict(self.config),
        )


def ensure_topics(
    target: AdminClient | str | Mapping[str, Any],
    specs: Iterable[TopicSpec],
    *,
    timeout: float = 30.0,
) -> list[str]:
    """Create the missing topics of ``specs`` and wait until all have leaders; returns the names created.

    ``target`` is an AdminClient, a bootstrap servers string, or a librdkafka client
    configuration (``KafkaSettings.client_config()``, which carries SASL settings).
    An existing topic is left as it is; a partition count differing from its spec is
    logged, not changed (Kafka can only add partitions, and that would move keys).
    """
    admin = _admin(target)
    specs = list(specs)
    deadline = time.monotonic() + timeout
    existing = _metadata(admin, timeout).topics
    missing = [spec for spec in specs if spec.name not in existing]
    created: list[str] = []
    if missing:
        futures = admin.create_topics(
            [spec.new_topic() for spec in missing], operation_timeout=timeout, request_timeout=timeout
        )
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:  # another instance was faster
                    raise TopicError(f"cannot create topic {name!r}: {error.str()}") from exc
            else:
                created.append(name)
        log.info("topics_created", topics=created)
    _wait_until_ready(admin, specs, deadline)
    return created


def _wait_until_ready(admin: AdminClient, specs: list[TopicSpec], deadline: float) -> None:
    pending = {spec.name: spec for spec in specs}
    while True:
        remaining = max(deadline - time.monotonic(), 0.1)
        topics = _metadata(admin, remaining).topics
        for name in list(pending):
            meta = topics.get(name)
            partitions = meta.partitions if meta is not None and meta.error is None else {}
            if partitions and all(p.leader >= 0 and p.error is None for p in partitions.values()):
                expected = pending.pop(name).partitions
                if len(partitions) != expected:
                    log.warning(
                        "topic_partitions_differ", topic=name, expected=expected, actual=len(partitions)
                    )
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise TopicsNotReadyError(f"topics without a leader for every partition: {sorted(pending)}")
        time.sleep(0.05)


def _metadata(admin: AdminClient, timeout: float) -> ClusterMetadata:
    try:
        return admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise TopicError(f"cannot read cluster metadata: {exc.args[0].str()}") from exc


def _admin(target: AdminClient | str | Mapping[str, Any]) -> AdminClient:
    if isinstance(target, AdminClient):
        return target
    conf = {"bootstrap.servers": target} if isinstance(target, str) else dict(target)
    return AdminClient(conf, logger=librdkafka_logger())
