"""A transaction that fails in the background is aborted and retried, not taken for a bug."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer

from gateway.testing import read_topic
from gateway.transaction import must_abort, produce_in_transaction


def test_a_delivery_failure_makes_the_next_produce_abortable_and_the_retry_commits(
    kafka: str, topic_factory
) -> None:
    """The broker rejects a record; the next produce says "abort", and after the abort all is well.

    The rejection (a record over the topic's max.message.bytes) stands for any delivery that
    fails in the background, such as the OUT_OF_ORDER_SEQUENCE_NUMBER seen mid-rebalance.
    """
    topic = topic_factory(config={"max.message.bytes": "1024"})
    producer = Producer({"bootstrap.servers": kafka, "transactional.id": f"txn-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    produce_in_transaction(producer, topic, b"big", b"x" * 4096)
    producer.flush(30)  # the broker's MESSAGE_TOO_LARGE arrives: the transaction has failed

    with pytest.raises(KafkaException) as raised:
        produce_in_transaction(producer, topic, b"small", b"kept")
    error = raised.value.args[0]
    assert error.txn_requires_abort()
    assert not error.fatal()
    assert must_abort(error)

    # What the gateway does: abort, process the batch again, commit. The first retry may fail
    # too: the rejected record used a sequence number, and librdkafka answers the broker's
    # OUT_OF_ORDER_SEQUENCE_NUMBER with one more abortable error, whose abort bumps the epoch.
    failures = []
    while (failure := _retry(producer, topic)) is not None:
        failures.append(failure)
        assert must_abort(failure), failure.str()
        assert len(failures) < 3, "still failing after the epoch bump"
    assert [(r.key, r.value) for r in read_topic(kafka, topic)] == [(b"small", b"kept")]


def _retry(producer: Producer, topic: str) -> KafkaError | None:
    """Abort, then produce and commit the retried record; the error if that failed."""
    producer.abort_transaction(30)
    producer.begin_transaction()
    try:
        produce_in_transaction(producer, topic, b"small", b"kept", partition=0)
        producer.commit_transaction(30)
    except KafkaException as exc:
        return exc.args[0]
    return None
