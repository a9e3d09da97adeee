"""``bingxian replay``: re-run the pipeline over a range of ``reports``, deterministically.

Operators replay after a fix, an outage or for an audit. The replay starts each
partition with empty state at ``--from`` and feeds the same :class:`PartitionProcessor`
the live service uses, so with content-derived ids and event-time windows the same
range always yields byte-identical tickets. Output goes to a separate prefix
(``replay.<name>.tickets`` …), never to the live topics; ``--dry-run`` produces
nothing and prints how the result differs from the live ``tickets`` topic, which is
how the effect of a new dedup model is seen before switching to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from dedup import TicketIndex
from gateway.logs import librdkafka_logger
from gateway.positions import Position, resolve
from gateway.processor import Emit, PartitionProcessor, Stats
from gateway.routing import Router
from gateway.settings import Settings, TopicSettings
from gateway.topics import ensure_topics
from gateway.topology import topic_specs
from schemas.exceptions import SchemaError
from schemas.models import DeadLetterSource, ErrorKind, Transport
from schemas.serde import Codec


def replay_topics(topics: TopicSettings, name: str) -> TopicSettings:
    """The output topics of a named replay: every output name prefixed with ``replay.<name>.``."""
    prefix = f"replay.{name}."
    return topics.model_copy(
        update={
            "tickets": prefix + topics.tickets,
            "ticket_events": prefix + topics.ticket_events,
            "deadletter": prefix + topics.deadletter,
            "department_prefix": prefix + topics.department_prefix,
            "changelog": prefix + topics.changelog,
        }
    )


@dataclass(slots=True)
class ReplayResult:
    """What a replay read and produced; ``tickets`` is the final state per ticket id."""

    records: int = 0
    stats: list[Stats] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    produced: int = 0


def read_range(
    consumer: Consumer, topic: str, partition: int, start: int, stop: int
) -> Iterator[tuple[int, bytes | None, bytes]]:
    """Committed records of one partition in ``[start, stop)``: (offset, key, value)."""
    if stop <= start:
        return
    consumer.assign([TopicPartition(topic, partition, start)])
    try:
        while True:
            for message in consumer.consume(2000, 1.0):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        return
                    continue
                if message.offset() >= stop:
                    return
                yield message.offset(), message.key(), message.value() or b""
                if message.offset() + 1 >= stop:
                    return
    finally:
        consumer.unassign()


def run_replay(
    settings: Settings,
    *,
    codec: Codec,
    router: Router,
    index_factory: Callable[[], TicketIndex],
    start: Position | None,
    stop: Position | None,
    name: str | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay ``[start, stop)`` of ``reports``; produce to ``replay.<name>.*`` unless ``name`` is None."""
    kafka = settings.kafka
    logger = librdkafka_logger()
    consumer = Consumer(
        kafka.client_config(
            **{
                "group.id": "bingxian-replay",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            }
        ),
        logger=logger,
    )
    topics = replay_topics(settings.topics, name) if name else settings.topics
    producer = None
    if name:
        ensure_topics(kafka.client_config(), _output_specs(settings, topics, router))
        producer = Producer(
            kafka.client_config(**{"enable.idempotence": True, "linger.ms": 20}), logger=logger
        )
    result = ReplayResult()
    try:
        metadata = consumer.list_topics(settings.topics.reports, timeout=10).topics[settings.topics.reports]
        partitions = sorted(metadata.partitions)
        starts = resolve(consumer, settings.topics.reports, partitions, start, end=False)
        stops = resolve(consumer, settings.topics.reports, partitions, stop, end=True)
        total = sum(max(0, stops[p] - starts[p]) for p in partitions)
        for partition in partitions:
            processor = PartitionProcessor(
                partition, index=index_factory(), router=router, codec=codec, topics=topics
            )
            for offset, _, raw in read_range(
                consumer, settings.topics.reports, partition, starts[partition], stops[partition]
            ):
                result.records += 1
                for emit in _process(processor, codec, settings.topics.reports, partition, offset, raw):
                    _collect(result, emit, topics, codec)
                    if producer is not None:
                        _produce(producer, emit)
                        result.produced += 1
                if on_progress is not None:
                    on_progress(result.records, total)
            result.stats.append(processor.stats)
        if producer is not None:
            producer.flush(60)
    finally:
        consumer.close()
    return result


def _process(
    processor: PartitionProcessor, codec: Codec, topic: str, partition: int, offset: int, raw: bytes
) -> list[Emit]:
    source = DeadLetterSource(transport=Transport.KAFKA, topic=topic, partition=partition, offset=offset)
    try:
        name, value = codec.decode_dict(raw, topic=topic)
    except SchemaError as exc:
        return [processor.dead_letter(source, raw, ErrorKind.SCHEMA_ERROR, str(exc))]
    if name == "Report":
        return processor.on_report(value)
    if name == "TicketStatusChange":
        return processor.on_status(value, source, raw)
    return [
        processor.dead_letter(source, raw, ErrorKind.SCHEMA_ERROR, f"a {name} does not belong on {topic}")
    ]


def _collect(result: ReplayResult, emit: Emit, topics: TopicSettings, codec: Codec) -> None:
    if emit.topic == topics.tickets and emit.value is not None:
        result.tickets[emit.key] = codec.decode_dict(emit.value, topic=emit.topic)[1]


def _produce(producer: Producer, emit: Emit) -> None:
    while True:
        try:
            producer.produce(emit.topic, key=emit.key.encode(), value=emit.value)
            return
        except BufferError:
            producer.poll(0.05)


def _output_specs(settings: Settings, topics: TopicSettings, router: Router) -> list:
    wanted = {topics.tickets, topics.ticket_events, topics.deadletter}
    replay_settings = settings.model_copy(update={"topics": topics})
    specs = topic_specs(replay_settings, router.catalogue.all_departments())
    return [s for s in specs if s.name in wanted or s.name.startswith(topics.department_prefix)]


def read_latest(settings: Settings, topic: str, codec: Codec) -> dict[str, dict[str, Any]]:
    """The latest committed value per key of a (compacted) ticket topic, decoded."""
    consumer = Consumer(
        settings.kafka.client_config(
            **{
                "group.id": "bingxian-replay-diff",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            }
        ),
        logger=librdkafka_logger(),
    )
    latest: dict[str, dict[str, Any]] = {}
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return latest
        for partition in sorted(metadata.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            for _, key, value in read_range(consumer, topic, partition, low, high):
                if key is None:
                    continue
                if value:
                    latest[key.decode()] = codec.decode_dict(value, topic=topic)[1]
                else:
                    latest.pop(key.decode(), None)
    finally:
        consumer.close()
    return latest


@dataclass(frozen=True, slots=True)
class TicketDiff:
    """How a replay's tickets differ from the live ones."""

    only_in_replay: list[str]
    only_in_live: list[str]
    merged_differently: list[str]
    routed_differently: list[str]

    @property
    def empty(self) -> bool:
        return not (
            self.only_in_replay or self.only_in_live or self.merged_differently or self.routed_differently
        )


def diff_tickets(replayed: dict[str, dict[str, Any]], live: dict[str, dict[str, Any]]) -> TicketDiff:
    """Compare final ticket states by id: creation, membership (merges) and routing."""
    common = sorted(replayed.keys() & live.keys())
    return TicketDiff(
        only_in_replay=sorted(replayed.keys() - live.keys()),
        only_in_live=sorted(live.keys() - replayed.keys()),
        merged_differently=[t for t in common if replayed[t]["report_ids"] != live[t]["report_ids"]],
        routed_differently=[
            t
            for t in common
            if (replayed[t]["lead_department"], replayed[t]["assisting_departments"])
            != (live[t]["lead_department"], live[t]["assisting_departments"])
        ],
    )
