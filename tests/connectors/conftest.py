"""Fixtures of the connector tests: settings with a known HMAC key, and an Ingestor built from them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connectors import Ingestor
from gateway.settings import PrivacySettings, Settings

TEST_KEY = b"connectors-test-key"
RECEIVED = datetime(2026, 11, 1, 0, 16, tzinfo=UTC)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default settings with a known contact key (and no config file from the environment)."""
    return Settings(privacy=PrivacySettings(contact_hmac_key=SecretStr(TEST_KEY.decode())))


@pytest.fixture(scope="session")
def ingestor(settings: Settings) -> Ingestor:
    """The Ingestor of the shipped Shanghai tables."""
    return Ingestor(settings)


@pytest.fixture
def received_at() -> datetime:
    """A fixed receive time, so mapped Reports are comparable."""
    return RECEIVED


@pytest.fixture
def kafka_settings(kafka: str) -> Settings:
    """Settings on the session's broker with unique topics and groups; the topics exist."""
    from connectors.settings import ConnectorSettings, ConnectSettings
    from gateway.testing import isolated_settings
    from gateway.topics import ensure_topics
    from gateway.topology import topic_specs

    base = isolated_settings(kafka)
    tag = base.topics.reports.rsplit(".", 1)[-1]
    settings = base.model_copy(
        update={
            "privacy": PrivacySettings(contact_hmac_key=SecretStr(TEST_KEY.decode())),
            "connectors": ConnectorSettings(connect=ConnectSettings(group_prefix=f"connect-{tag}-")),
        }
    )
    t = settings.topics
    names = {*t.raw.values(), t.reports, t.deadletter}
    ensure_topics(settings.kafka.client_config(), [s for s in topic_specs(settings) if s.name in names])
    _wait_serving(kafka, names)
    return settings


def _wait_serving(bootstrap: str, topics: set[str], timeout_s: float = 30) -> None:
    """Block until every partition's leader answers offset requests (leaders lag a new topic's metadata)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "connectors-tests-probe"})
    deadline = time.monotonic() + timeout_s
    try:
        for topic in sorted(topics):
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            for partition in partitions:
                while True:
                    try:
                        consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)
                        break
                    except KafkaException:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
    finally:
        consumer.close()
