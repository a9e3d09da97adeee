"""ensure_topics against the real broker: creates what is missing, tolerates what exists."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from confluent_kafka.admin import ConfigResource

from gateway.topics import TopicError, TopicSpec, ensure_topics


@pytest.fixture
def topic_names(kafka_admin):
    """Fresh names for topics the test itself creates; deleted afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(f"test-topics-{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield make
    existing = kafka_admin.list_topics(timeout=10).topics
    if doomed := [name for name in names if name in existing]:
        for future in kafka_admin.delete_topics(doomed, operation_timeout=10).values():
            future.exception()


def test_creates_missing_topics_with_partitions_and_config(kafka_admin, topic_names):
    """A compacted 3-partition topic is created as specified and has leaders when the call returns."""
    name = topic_names()

    created = ensure_topics(kafka_admin, [TopicSpec(name, 3, config={"cleanup.policy": "compact"})])

    assert created == [name]
    partitions = kafka_admin.list_topics(name, timeout=10).topics[name].partitions
    assert sorted(partitions) == [0, 1, 2]
    assert all(p.leader >= 0 for p in partitions.values())
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    configs = kafka_admin.describe_configs([resource])[resource].result(timeout=10)
    assert configs["cleanup.policy"].value == "compact"


def test_existing_topics_are_left_alone(kafka, topic_names):
    """A second call (here by bootstrap string and by client config) creates nothing and succeeds."""
    specs = [TopicSpec(topic_names()), TopicSpec(topic_names(), 2)]

    assert ensure_topics(kafka, specs) == [spec.name for spec in specs]
    assert ensure_topics({"bootstrap.servers": kafka}, specs) == []


def test_concurrent_callers_all_succeed(kafka, topic_names):
    """Gateway instances starting together: exactly one creates, the others see TOPIC_ALREADY_EXISTS."""
    specs = [TopicSpec(topic_names(), 2)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ensure_topics(kafka, specs), range(4)))

    assert sorted(len(created) for created in results) == [0, 0, 0, 1]


def test_a_rejected_topic_raises_topic_error(kafka, topic_names):
    """The broker's refusal names the topic and its reason."""
    name = topic_names()

    with pytest.raises(TopicError, match=name):
        ensure_topics(kafka, [TopicSpec(name, config={"cleanup.policy": "sometimes"})])
