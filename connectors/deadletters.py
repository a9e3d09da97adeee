"""The ``deadletter`` topic as an operator sees it: list what is pending, redrive it after a fix.

The topic is an append-only log keyed by ``dead_letter_id``. Its current state is the
last record per key: a ``DeadLetter`` (pending; ``redrive_count`` says how often it has
been retried) or an empty value (a tombstone: redriven successfully, its Report is in
``reports``). Reading the log to its end and folding it that way gives the pending list,
whatever the topic's cleanup policy. Records of other writers (the gateway's own dead
letters) are listed too; only channel records can be redriven.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from connectors.delivery import TrackedProducer, output_producer
from connectors.exceptions import ConnectorError
from connectors.ingest import Ingestor
from connectors.outputs import OutputEncoder
from gateway.logs import get_logger, librdkafka_logger
from schemas.exceptions import SchemaError
from schemas.models import DeadLetter, ErrorKind, Report
from schemas.serde import Codec, decode, make_codec

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

log = get_logger(__name__)


@dataclass
class Pending:
    """The folded state of the topic: pending dead letters in first-seen order, and what was unreadable."""

    letters: dict[str, DeadLetter] = field(default_factory=dict)
    unreadable: int = 0


def read_pending(settings: Settings, codec: Codec, *, timeout_s: float = 60) -> Pending:
    """Read ``deadletter`` from its beginning to its current end and fold it by id."""
    topic = settings.topics.deadletter
    consumer = Consumer(
        settings.kafka.client_config(
            **{
                "group.id": f"bingxian-deadletter-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        ),
        logger=librdkafka_logger(),
    )
    pending = Pending()
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise ConnectorError(f"topic {topic!r} does not exist")
        ends: dict[int, int] = {}
        starts = []
        for partition in sorted(metadata.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
                starts.append(TopicPartition(topic, partition, low))
        consumer.assign(starts)
        _fold(consumer, ends, codec, topic, pending, timeout_s)
    except KafkaException as exc:
        raise ConnectorError(f"cannot read {topic}: {exc}") from exc
    finally:
        consumer.close()
    return pending


def _fold(
    consumer: Consumer, ends: dict[int, int], codec: Codec, topic: str, pending: Pending, timeout: float
) -> None:
    left = {p for p, end in ends.items() if end > 0}
    deadline = time.monotonic() + timeout
    while left:
        if time.monotonic() > deadline:
            raise ConnectorError(
                f"{topic}: partitions {sorted(left)} did not reach their end in {timeout:g} s"
            )
        for msg in consumer.consume(1000, 0.5):
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    left.discard(msg.partition())
                continue
            if msg.offset() + 1 >= ends[msg.partition()]:
                left.discard(msg.partition())
            key = (msg.key() or b"").decode("utf-8", "replace")
            if msg.value() is None:
                pending.letters.pop(key, None)
                continue
            try:
                letter = decode(codec, msg.value(), topic=topic, expect="DeadLetter")
            except (SchemaError, ValueError):
                pending.unreadable += 1
                continue
            assert isinstance(letter, DeadLetter)
            pending.letters.pop(letter.dead_letter_id, None)  # re-insert: order by latest version
            pending.letters[letter.dead_letter_id] = letter


def select(
    letters: Iterable[DeadLetter],
    *,
    ids: Iterable[str] = (),
    channel: str | None = None,
    kind: ErrorKind | None = None,
) -> list[DeadLetter]:
    """The dead letters matching every given criterion."""
    wanted = set(ids)
    return [
        letter
        for letter in letters
        if (not wanted or letter.dead_letter_id in wanted)
        and (channel is None or letter.channel == channel)
        and (kind is None or letter.error_kind is kind)
    ]


@dataclass
class RedriveResult:
    """What a redrive did: ids now mapped, ids still failing, ids that are not channel records."""

    redriven: list[str] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def redrive(
    settings: Settings,
    letters: Iterable[DeadLetter],
    *,
    ingestor: Ingestor | None = None,
    codec: Codec | None = None,
    producer: TrackedProducer | None = None,
) -> RedriveResult:
    """Re-map each dead letter's original bytes through the current mapping.

    A success writes the Report to ``reports`` and a tombstone for the dead letter; a
    failure writes the dead letter again (same id, new error, ``redrive_count`` + 1).
    Everything is flushed before returning; a delivery failure raises ``DeliveryError``.
    """
    ingestor = ingestor or Ingestor(settings)
    encoder = OutputEncoder(
        settings, codec or make_codec(settings.schema_registry.url, settings.schema_registry.extra)
    )
    producer = producer or TrackedProducer(output_producer(settings))
    result = RedriveResult()
    for letter in letters:
        if letter.channel not in ingestor.channels:
            result.skipped.append(letter.dead_letter_id)
            continue
        mapped = ingestor.ingest(letter.channel, letter.raw, letter.source, letter.received_at)
        if isinstance(mapped, Report):
            output = encoder.encode(mapped, letter.source)
            if output.is_report:
                producer.produce(output.topic, output.value, output.key)
                tombstone = encoder.resolved(letter.dead_letter_id, mapped)
                producer.produce(tombstone.topic, tombstone.value, tombstone.key)
                result.redriven.append(letter.dead_letter_id)
                log.info(
                    "dead letter redriven", dead_letter_id=letter.dead_letter_id, report_id=mapped.report_id
                )
                continue
            assert isinstance(output.result, DeadLetter)
            mapped = output.result
        again = mapped.model_copy(
            update={"dead_letter_id": letter.dead_letter_id, "redrive_count": letter.redrive_count + 1}
        )
        output = encoder.dead_letter(again)
        producer.produce(output.topic, output.value, output.key)
        result.still_failing.append(letter.dead_letter_id)
        log.warning(
            "dead letter still failing",
            dead_letter_id=letter.dead_letter_id,
            kind=again.error_kind.value,
            redrive_count=again.redrive_count,
        )
    producer.flush(settings.connectors.connect.flush_timeout_s)
    return result
