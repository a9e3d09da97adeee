"""The session broker is the real thing: aborted transactions stay invisible to read_committed."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

TIMEOUT = 30.0


def _write_aborted_then_committed(config: dict[str, Any], topic: str) -> None:
    producer = Producer({**config, "transactional.id": f"test-{topic}"})
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=f"aborted-{i}".encode())
    producer.flush(TIMEOUT)  # the aborted records reach the log; only the abort marker hides them
    producer.abort_transaction(TIMEOUT)
    producer.begin_transaction()
    for i in range(2):
        producer.produce(topic, value=f"committed-{i}".encode())
    producer.commit_transaction(TIMEOUT)


def _read_to_end(config: dict[str, Any], topic: str, isolation: str) -> tuple[list[str], int]:
    """Every value up to the end of partition 0 (the end librdkafka reports as PARTITION_EOF)."""
    consumer = Consumer(
        {
            **config,
            "group.id": f"test-{uuid.uuid4().hex}",
            "isolation.level": isolation,
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    partition = TopicPartition(topic, 0, OFFSET_BEGINNING)
    consumer.assign([partition])
    values: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                _, high = consumer.get_watermark_offsets(partition, timeout=TIMEOUT, cached=False)
                return values, high
            if error is not None:
                raise KafkaException(error)
            values.append(message.value().decode())
    finally:
        consumer.close()
    pytest.fail(f"{isolation} consumer did not reach the end of {topic} within {TIMEOUT} s")


def test_read_committed_sees_only_the_committed_transaction(kafka_config, unique_topic):
    """3 aborted + 2 committed records: read_committed gets the 2, read_uncommitted all 5."""
    _write_aborted_then_committed(kafka_config, unique_topic)

    committed, high = _read_to_end(kafka_config, unique_topic, "read_committed")
    everything, _ = _read_to_end(kafka_config, unique_topic, "read_uncommitted")

    assert committed == ["committed-0", "committed-1"]
    assert everything == ["aborted-0", "aborted-1", "aborted-2", "committed-0", "committed-1"]
    assert high == 7  # five records and two transaction markers (abort, commit): a real log


def test_tests_using_the_broker_are_marked_kafka(request, kafka):
    """Asking for the broker marks the test, so `-m "not kafka"` can leave it out."""
    assert request.node.get_closest_marker("kafka") is not None
