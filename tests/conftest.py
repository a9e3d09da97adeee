"""Session-wide fixtures: one real Apache Kafka broker, and uniquely named topics on it.

Where the broker comes from (first that applies):

1. ``KAFKA_BOOTSTRAP_SERVERS`` is set: that cluster (CI service, ``bingxian kafka up``).
2. A Docker engine answers: testcontainers' ``KafkaContainer``.
3. Otherwise: ``LocalKafka`` from the Maven jar cache, on free ports in a pytest tmp dir.

Never a stand-in (librdkafka's mock cluster delivers aborted records to read_committed
consumers). A test is a Kafka test because it asks for ``kafka``, directly or through
another fixture; it is then marked ``kafka``, so ``pytest -m "not kafka"`` runs the rest.
Areas add their own fixtures in ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from gateway.localkafka import LocalKafka
from gateway.topics import TopicSpec, ensure_topics

# The image testcontainers-python's own KafkaContainer tests use in KRaft mode.
KAFKA_CONTAINER_IMAGE = "confluentinc/cp-kafka:7.6.0"

TopicFactory = Callable[..., str]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the broker, however indirectly it asks for it."""
    for item in items:
        if "kafka" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:  # no client library, no socket, no daemon: all mean "no Docker here"
        return False
    return True


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real Apache Kafka broker, shared by the whole session."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
    elif _docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        container = (
            KafkaContainer(KAFKA_CONTAINER_IMAGE)
            .with_kraft()
            # The image leaves these at Kafka's default of 3: transactions would never start.
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        )
        with container:
            yield container.get_bootstrap_server()
    else:
        broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
        try:
            yield broker.start()
        finally:
            broker.stop()


@pytest.fixture
def kafka_config(kafka: str) -> dict[str, Any]:
    """A librdkafka configuration for the session's broker; add client settings to a copy."""
    return {"bootstrap.servers": kafka}


@pytest.fixture(scope="session")
def kafka_admin(kafka: str) -> AdminClient:
    """An admin client of the session's broker."""
    return AdminClient({"bootstrap.servers": kafka})


@pytest.fixture
def topic_factory(kafka_admin: AdminClient, request: pytest.FixtureRequest) -> Iterator[TopicFactory]:
    """Create topics named after the test plus a uuid suffix; deleted when the test ends."""
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:100]
    created: list[str] = []

    def create(partitions: int = 1, config: Mapping[str, str] | None = None) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        ensure_topics(kafka_admin, [TopicSpec(name, partitions, config=config or {})])
        created.append(name)
        return name

    yield create
    if created:
        # Matters on a shared external cluster; a failed deletion must not fail the test.
        for future in kafka_admin.delete_topics(created, operation_timeout=10).values():
            future.exception()


@pytest.fixture
def unique_topic(topic_factory: TopicFactory) -> str:
    """One fresh single-partition topic."""
    return topic_factory()
