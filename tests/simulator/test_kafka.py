"""``produce`` writes the raw topics and the closing lifecycles to a real broker."""

from __future__ import annotations

import time

from confluent_kafka import Consumer

from connectors.simulator import department_changes, generate, produce
from gateway.settings import TopicSettings
from schemas import SingleObjectCodec


def _drain(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    config = {"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "auto.offset.reset": "earliest"}
    consumer = Consumer(config)
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while len(values) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                values.append(message.value())
    finally:
        consumer.close()
    return values


def test_produce_sends_every_record_and_change(kafka: str, topic_factory) -> None:
    """Each channel's raw topic gets its records in order; ticket-status gets the encoded lifecycles."""
    sim = generate(8, 300)
    raw = {channel: topic_factory() for channel in ("12345", "12319", "962121", "grid")}
    topics = TopicSettings(raw=raw, ticket_status=topic_factory())
    counts = produce(sim, {"bootstrap.servers": kafka}, topics)
    for channel, topic in raw.items():
        expected = [r.raw for r in sim.records if r.channel == channel]
        assert counts[topic] == len(expected)
        assert _drain(kafka, topic, len(expected)) == expected
    changes = list(department_changes(sim))
    values = _drain(kafka, topics.ticket_status, len(changes))
    codec = SingleObjectCodec()
    assert [codec.decode_dict(v)[1]["change_id"] for v in values] == [c.change_id for c in changes]
