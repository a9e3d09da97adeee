"""``bingxian connect``: raw topics → ``reports`` and ``deadletter``, at least once, nothing lost.

The loop, top to bottom, for each channel's consumer (group ``bingxian-connect-<channel>``):

1. consume a batch of raw records;
2. map the batch through the one mapping path (``Ingestor.ingest_many``) → per record a
   Report (keyed by district code) or a DeadLetter (keyed by its id, with
   topic/partition/offset);
3. produce them, then ``flush``: every delivery callback has fired and none failed;
4. only then commit the offsets after the batch.

A crash anywhere before 4 re-reads the batch after restart: at least once. Report ids
are deterministic and ``received_at`` is the raw record's Kafka timestamp, so a re-read
record produces the same Report bytes again, which the gateway's dedup drops.
Bad input never stops the loop (it is a DeadLetter); a delivery failure does (it is
raised, the batch is not committed).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

import structlog
from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from connectors.batches import next_batch
from connectors.delivery import TrackedProducer, output_producer
from connectors.exceptions import ConnectorError
from connectors.ingest import Arrival, Ingestor
from connectors.outputs import OutputEncoder
from connectors.topics import ensure_connector_topics
from gateway.logs import get_logger, librdkafka_logger
from schemas.models import DeadLetter, DeadLetterSource, Transport
from schemas.serde import Codec, make_codec

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

log = get_logger(__name__)

#: Commit failures that only mean "this member no longer owns these partitions".
_LOST_TO_REBALANCE = {
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError._ASSIGNMENT_LOST,
}


@dataclass
class ConnectStats:
    """What one run did, per channel."""

    read: dict[str, int] = field(default_factory=dict)
    reports: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.read.values())

    def add(self, channel: str, reports: int, dead_letters: int) -> None:
        self.read[channel] = self.read.get(channel, 0) + reports + dead_letters
        self.reports[channel] = self.reports.get(channel, 0) + reports
        self.dead_letters[channel] = self.dead_letters.get(channel, 0) + dead_letters


def received_at(msg: Message) -> datetime:
    """The raw record's Kafka timestamp (deterministic on re-reads), else now."""
    kind, millis = msg.timestamp()
    if kind == TIMESTAMP_NOT_AVAILABLE or millis < 0:
        return datetime.now(UTC)
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


class Connector:
    """Consumes the raw topics of some channels and maps them, one process, one thread."""

    def __init__(
        self,
        settings: Settings,
        channels: Iterable[str],
        *,
        ingestor: Ingestor | None = None,
        codec: Codec | None = None,
        create_topics: bool = True,
    ) -> None:
        self.settings = settings
        self.create_topics = create_topics
        self.channels = list(channels)
        self.ingestor = ingestor or Ingestor(settings, self.channels)
        codec = codec or make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        self.encoder = OutputEncoder(settings, codec)
        self.options = settings.connectors.connect
        self.producer = TrackedProducer(output_producer(settings))
        self._stopping = False
        self._consumers: list[tuple[str, str, Consumer]] = []

    def stop(self, *_: object) -> None:
        """Finish the batch in hand, commit it, and return from ``run`` (also the signal handler)."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("stop requested", signal=signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _consumer(self, channel: str) -> Consumer:
        config = self.settings.kafka.client_config(
            **{
                "group.id": f"{self.options.group_prefix}{channel}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            }
        )
        consumer = Consumer(config, logger=librdkafka_logger())
        consumer.subscribe([self.ingestor.registry[channel].raw_topic(self.settings)])
        return consumer

    def run(self, *, max_records: int | None = None, idle_exit_s: float | None = None) -> ConnectStats:
        """Process until stopped, ``max_records`` processed, or ``idle_exit_s`` without input."""
        stats = ConnectStats()
        if self.create_topics:
            ensure_connector_topics(self.settings, self.channels)
        self._consumers = [
            (c, self.ingestor.registry[c].raw_topic(self.settings), self._consumer(c)) for c in self.channels
        ]
        log.info("connect started", channels=self.channels, topics=[t for _, t, _ in self._consumers])
        last_input = time.monotonic()
        timeout = self.options.poll_timeout_s / len(self._consumers)
        try:
            while not self._stopping:
                for channel, topic, consumer in self._consumers:
                    remaining = None if max_records is None else max_records - stats.total
                    if remaining is not None and remaining <= 0:
                        self._stopping = True
                        break
                    size = (
                        self.options.batch_size
                        if remaining is None
                        else min(remaining, self.options.batch_size)
                    )
                    messages = next_batch(consumer, size, timeout)
                    if messages:
                        last_input = time.monotonic()
                        with structlog.contextvars.bound_contextvars(channel=channel, topic=topic):
                            self._process(channel, consumer, messages, stats)
                if idle_exit_s is not None and time.monotonic() - last_input >= idle_exit_s:
                    log.info("idle, exiting", idle_s=idle_exit_s)
                    break
        finally:
            self._close()
        log.info("connect stopped", read=stats.read, reports=stats.reports, dead_letters=stats.dead_letters)
        return stats

    def _process(
        self, channel: str, consumer: Consumer, messages: list[Message], stats: ConnectStats
    ) -> None:
        """Map, produce, flush, commit: one unit of at-least-once."""
        reports = dead_letters = 0
        offsets: dict[tuple[str, int], int] = {}
        trace = log.is_enabled_for(logging.DEBUG)  # decided once per batch: per-record lines cost a render
        arrivals: list[Arrival] = []
        for msg in messages:
            error = msg.error()
            if error is not None:
                self._consumer_error(error)
                continue
            position = DeadLetterSource(
                transport=Transport.KAFKA, topic=msg.topic(), partition=msg.partition(), offset=msg.offset()
            )
            arrivals.append(Arrival(msg.value() or b"", position, received_at(msg)))
            offsets[(msg.topic(), msg.partition())] = msg.offset() + 1
        results = self.ingestor.ingest_many(channel, arrivals)
        outputs = [self.encoder.encode(r, a.position) for r, a in zip(results, arrivals, strict=True)]
        for output, arrival in zip(outputs, arrivals, strict=True):
            self.producer.produce(output.topic, output.value, output.key)
            if isinstance(output.result, DeadLetter):
                dead_letters += 1
                log.warning(
                    "dead letter",
                    dead_letter_id=output.result.dead_letter_id,
                    kind=output.result.error_kind.value,
                    error=output.result.error_message,
                    partition=arrival.position.partition,
                    offset=arrival.position.offset,
                )
            else:
                reports += 1
                if trace:
                    with structlog.contextvars.bound_contextvars(report_id=output.result.report_id):
                        log.debug("report mapped", offset=arrival.position.offset, key=output.key.decode())
        self.producer.flush(self.options.flush_timeout_s)
        if offsets:
            commit = [
                TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()
            ]
            try:
                consumer.commit(offsets=commit, asynchronous=False)
            except KafkaException as exc:
                if exc.args[0].code() not in _LOST_TO_REBALANCE:
                    raise ConnectorError(f"cannot commit offsets of {channel}: {exc}") from exc
                # The partitions moved on: their new owner re-reads the batch (same ids, absorbed downstream).
                log.warning("commit lost to a rebalance; the batch will be read again", error=str(exc))
        stats.add(channel, reports, dead_letters)
        log.info("batch committed", reports=reports, dead_letters=dead_letters)

    @staticmethod
    def _consumer_error(error: KafkaError) -> None:
        if error.fatal():
            raise ConnectorError(f"consumer failed: {error.str()}")
        log.warning("consumer error", error=error.str(), code=error.name())

    def _close(self) -> None:
        for _, _, consumer in self._consumers:
            consumer.close()
        self._consumers = []
