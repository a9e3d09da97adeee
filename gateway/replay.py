"""``bingxian replay``: re-run the pipeline over a range of ``reports``, deterministically.

Operators replay after a fix, an outage or for an audit. The replay starts each
partition with empty state at ``--from`` and feeds the same :class:`PartitionProcessor`
the live service uses, so with content-derived ids and event-time windows the same
range always yields byte-identical tickets. Output goes to a separate prefix
(``replay.<name>.tickets`` …), never to the live topics; ``--dry-run`` produces
nothing and prints how the result differs from the live ``tickets`` topic, which is
how the effect of a new dedup model is seen before switching to it.

``--source raw`` replays the raw topics instead, mapped again through the connectors
(after a mapping fix), with each report placed in the partition its key would get
live and the status changes of ``ticket-status`` placed as the service forwards them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from connectors.delivery import TrackedProducer, output_producer
from dedup import TicketIndex
from gateway.logs import librdkafka_logger
from gateway.partitioner import partition_for
from gateway.positions import Position, PositionError, resolve
from gateway.processor import Emit, PartitionProcessor, Stats
from gateway.routing import Router
from gateway.service import route_status
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


class ReplayOutputExistsError(Exception):
    """The named replay's output topics already hold records (of an earlier or broken run)."""


class ReplaySource(StrEnum):
    """What a replay reads: the ``reports`` topic, or the raw topics mapped again."""

    REPORTS = "reports"
    RAW = "raw"


@dataclass(slots=True)
class ReplayResult:
    """What a replay read and produced; ``tickets`` is the final state per ticket id."""

    records: int = 0
    stats: list[Stats] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    produced: int = 0
    mapping_dead_letters: int = 0


#: One input of a partition's processor: where it came from, and its bytes as on ``reports``.
Input = tuple[DeadLetterSource, bytes]


def read_range(consumer: Consumer, topic: str, partition: int, start: int, stop: int) -> Iterator[Message]:
    """Committed records of one partition in ``[start, stop)``."""
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
                yield message
                if message.offset() + 1 >= stop:
                    return
    finally:
        consumer.unassign()


def _partitions(consumer: Consumer, topic: str) -> list[int]:
    """The topic's partitions; none when it does not exist (a channel that never sent anything)."""
    metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return []
    return sorted(metadata.partitions)


def read_topic_range(
    consumer: Consumer, topic: str, start: Position | None, stop: Position | None
) -> Iterator[Message]:
    """Every partition of ``topic`` in ``[start, stop)``, one partition after another."""
    partitions = _partitions(consumer, topic)
    starts = resolve(consumer, topic, partitions, start, end=False)
    stops = resolve(consumer, topic, partitions, stop, end=True)
    for partition in partitions:
        yield from read_range(consumer, topic, partition, starts[partition], stops[partition])


def _kafka_source(message: Message) -> DeadLetterSource:
    return DeadLetterSource(
        transport=Transport.KAFKA,
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
    )


def _reports_inputs(consumer: Consumer, topic: str, partition: int, start: int, stop: int) -> Iterator[Input]:
    for message in read_range(consumer, topic, partition, start, stop):
        yield _kafka_source(message), message.value() or b""


def raw_inputs(
    settings: Settings,
    consumer: Consumer,
    codec: Codec,
    topics: TopicSettings,
    partitions: int,
    start: Position | None,
    stop: Position | None,
) -> tuple[dict[int, list[Input]], list[Emit]]:
    """The raw topics and ``ticket-status`` of ``[start, stop)``, placed as the live path places them.

    Each raw record goes through the connectors' one mapping path (so a fixed mapping
    table takes effect) and lands in the ``reports`` partition of its district key;
    each status change in the partition of its ticket, as the live gateway forwards it.
    Within a partition, inputs are ordered by their arrival on Kafka (record timestamp,
    then topic, partition and offset): the order the live service saw them in, up to
    the connectors' batching, and the same on every replay. Records the mapping rejects
    come back as dead letters for ``topics.deadletter``.
    """
    from connectors.connect import received_at
    from connectors.ingest import Ingestor
    from connectors.outputs import OutputEncoder

    channels = list(settings.topics.raw)
    ingestor = Ingestor(settings, channels)
    encoder = OutputEncoder(settings, codec)
    arrivals: dict[int, list[tuple[tuple[int, str, int, int], Input]]] = defaultdict(list)
    letters: list[Emit] = []

    def place(message: Message, key: bytes, value: bytes) -> None:
        arrival = (message.timestamp()[1], message.topic(), message.partition(), message.offset())
        arrivals[partition_for(key, partitions)].append((arrival, (_kafka_source(message), value)))

    for channel in channels:
        for message in read_topic_range(
            consumer, ingestor.registry[channel].raw_topic(settings), start, stop
        ):
            source = _kafka_source(message)
            mapped = ingestor.ingest(channel, message.value() or b"", source, received_at(message))
            output = encoder.encode(mapped, source)
            if output.is_report:
                place(message, output.key, output.value or b"")
            else:
                letters.append(Emit(topics.deadletter, output.key.decode(), output.value))
    for message in read_topic_range(consumer, settings.topics.ticket_status, start, stop):
        emit = route_status(
            codec, topics, message.value() or b"", _kafka_source(message), received_at(message)
        )
        if emit.topic == topics.deadletter:
            letters.append(emit)
        else:
            place(message, emit.key.encode(), emit.value or b"")
    return {
        p: [i for _, i in sorted(items, key=lambda item: item[0])] for p, items in arrivals.items()
    }, letters


def run_replay(
    settings: Settings,
    *,
    codec: Codec,
    router: Router,
    index_factory: Callable[[], TicketIndex],
    start: Position | None,
    stop: Position | None,
    name: str | None,
    source: ReplaySource = ReplaySource.REPORTS,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay ``[start, stop)`` of ``source``; produce to ``replay.<name>.*`` unless ``name`` is None."""
    if source is ReplaySource.RAW and any(p is not None and p.time_ms is None for p in (start, stop)):
        raise PositionError("a replay of the raw topics takes times, not offsets: offsets differ per topic")
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
        written = _holding_records(consumer, [topics.tickets, topics.ticket_events])
        if written:
            consumer.close()
            raise ReplayOutputExistsError(
                f"{', '.join(written)} already hold(s) records: a replay's output is one whole run, "
                f"so choose another --name, or delete the replay.{name}.* topics first"
            )
        ensure_topics(kafka.client_config(), _output_specs(settings, topics, router))
        # The connectors' producer of mapped results: idempotent, acks=all, and able to send a
        # dead letter carrying a whole input record; every failed delivery is raised.
        producer = TrackedProducer(output_producer(settings))
    result = ReplayResult()

    def emit(out: Emit) -> None:
        _collect(result, out, topics, codec)
        if producer is not None:
            producer.produce(out.topic, out.value, out.key.encode())
            result.produced += 1

    try:
        reports = settings.topics.reports
        partitions = _partitions(consumer, reports)
        inputs: dict[int, Iterable[Input]]
        if source is ReplaySource.RAW:
            mapped, letters = raw_inputs(settings, consumer, codec, topics, len(partitions), start, stop)
            result.mapping_dead_letters = len(letters)
            for letter in letters:
                emit(letter)
            inputs = {p: mapped.get(p, []) for p in partitions}
            total = sum(len(items) for items in mapped.values())
        else:
            starts = resolve(consumer, reports, partitions, start, end=False)
            stops = resolve(consumer, reports, partitions, stop, end=True)
            inputs = {p: _reports_inputs(consumer, reports, p, starts[p], stops[p]) for p in partitions}
            total = sum(max(0, stops[p] - starts[p]) for p in partitions)
        for partition in partitions:
            processor = PartitionProcessor(
                partition,
                index=index_factory(),
                router=router,
                codec=codec,
                topics=topics,
                retention=timedelta(days=settings.gateway.retention_days),
                open_retention=timedelta(days=settings.gateway.open_retention_days),
                evidence_kept=settings.gateway.ticket_evidence,
            )
            for where, raw in inputs[partition]:
                result.records += 1
                for out in _process(processor, codec, reports, where, raw):
                    emit(out)
                if on_progress is not None:
                    on_progress(result.records, total)
            result.stats.append(processor.stats)
        if producer is not None:
            producer.flush(60)
    finally:
        consumer.close()
    return result


def _process(
    processor: PartitionProcessor, codec: Codec, topic: str, source: DeadLetterSource, raw: bytes
) -> list[Emit]:
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


def _holding_records(consumer: Consumer, topics: list[str]) -> list[str]:
    """Those of ``topics`` that exist and hold at least one record."""
    found = []
    for topic in topics:
        for partition in _partitions(consumer, topic):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                found.append(topic)
                break
    return found


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
            for message in read_range(consumer, topic, partition, low, high):
                key, value = message.key(), message.value()
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
