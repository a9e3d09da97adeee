"""A transaction that fails in the background is aborted and retried, not taken for a bug."""

from __future__ import annotations

import threading
import uuid

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from gateway.routing import load_catalogue
from gateway.service import GatewayError, GatewayService
from gateway.testing import committed_offsets, isolated_settings, produce_all, read_topic
from gateway.topics import TopicSpec, ensure_topics
from gateway.topology import topic_specs
from gateway.transaction import must_abort, produce_in_transaction
from schemas import SingleObjectCodec, examples

CODEC = SingleObjectCodec()


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


def test_input_that_aborts_every_transaction_stops_the_service_and_waits_uncommitted(kafka: str) -> None:
    """A failure that recurs on every retry stops the gateway with its reason, not an endless loop.

    The operator's mistake stands for any such cause: the dispatch queue refuses records of a
    normal ticket's size. Nothing is committed, so after the fix a restart places the report
    exactly once.
    """
    settings = isolated_settings(kafka, max_aborts_in_row=3)
    tickets = settings.topics.tickets
    specs = topic_specs(settings, load_catalogue().all_departments())
    ensure_topics(
        kafka, [_with_config(s, {"max.message.bytes": "200"}) if s.name == tickets else s for s in specs]
    )
    report = examples.report()
    produce_all(kafka, settings.topics.reports, [("310115", CODEC.encode(report))])

    error = _run(GatewayService(settings))
    assert isinstance(error, GatewayError), error
    assert "3 transactions in a row were aborted" in str(error)
    assert "too large" in str(error).lower()
    committed = committed_offsets(kafka, settings.gateway.group_id, settings.topics.reports)
    assert all(offset < 0 for offset in committed.values()), committed
    assert read_topic(kafka, tickets) == []

    admin = AdminClient({"bootstrap.servers": kafka})
    change = ConfigResource(
        ResourceType.TOPIC,
        tickets,
        incremental_configs=[
            ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for future in admin.incremental_alter_configs([change]).values():
        future.result(30)
    assert _run(GatewayService(settings), idle_exit_s=3) is None
    placed = [CODEC.decode_dict(r.value)[1] for r in read_topic(kafka, tickets)]
    assert [t["report_ids"] for t in placed] == [[report.report_id]]


def _with_config(spec: TopicSpec, extra: dict[str, str]) -> TopicSpec:
    return TopicSpec(spec.name, spec.partitions, spec.replication, {**spec.config, **extra})


def _run(service: GatewayService, idle_exit_s: float | None = None) -> BaseException | None:
    """Run the service in a thread, bounded; the exception it stopped with, if any."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            service.run(idle_exit_s=idle_exit_s, serve_http=False)
        except BaseException as exc:  # handed to the test thread
            raised.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if thread.is_alive():
        service.stop()
        thread.join(60)
        pytest.fail("the gateway neither stopped on the recurring abort nor went idle within 120 s")
    return raised[0] if raised else None
