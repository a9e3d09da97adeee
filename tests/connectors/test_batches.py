"""``connectors.batches.next_batch`` against the real broker: no wait to fill, nothing lost or doubled."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from connectors.batches import next_batch


def _produce(config: dict[str, Any], topic: str, count: int) -> None:
    producer = Producer(config)
    for i in range(count):
        producer.produce(topic, value=str(i).encode())
    assert producer.flush(30) == 0


def _consumer(config: dict[str, Any], topic: str) -> Consumer:
    consumer = Consumer({**config, "group.id": f"{topic}-reader", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    return consumer


def test_a_few_records_are_returned_without_waiting_out_the_timeout(kafka_config, unique_topic) -> None:
    """Three records and a batch size of 500: ``consume(500, 60)`` would sit for the whole minute."""
    _produce(kafka_config, unique_topic, 3)
    consumer = _consumer(kafka_config, unique_topic)
    try:
        started = time.monotonic()
        got: list[bytes] = []
        while len(got) < 3:
            got += [m.value() for m in next_batch(consumer, 500, 60.0)]
        assert time.monotonic() - started < 30  # far below the 60 s a filling batch would wait
        assert got == [b"0", b"1", b"2"]
        assert next_batch(consumer, 500, 0.2) == []  # nothing more: empty after the timeout
    finally:
        consumer.close()


def test_a_backlog_comes_in_whole_batches_each_record_once_in_order(kafka_config, unique_topic) -> None:
    _produce(kafka_config, unique_topic, 250)
    consumer = _consumer(kafka_config, unique_topic)
    try:
        batches: list[list[bytes]] = []
        while sum(map(len, batches)) < 250:
            batch = next_batch(consumer, 100, 30.0)
            assert batch, "the backlog stopped before all 250 records were read"
            batches.append([m.value() for m in batch])
        assert [v for b in batches for v in b] == [str(i).encode() for i in range(250)]
        assert max(map(len, batches)) == 100  # what was fetched fills the batch, up to its size
        assert next_batch(consumer, 100, 0.2) == []
    finally:
        consumer.close()
