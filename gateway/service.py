"""``bingxian run``: the exactly-once gateway service.

One loop, one unit of commit (confluent's ``eos_transactions`` example, quix's
checkpoint): consume a batch from ``reports``; run each report through its
partition's :class:`~gateway.processor.PartitionProcessor`; produce the tickets,
department copies, events, dead letters and the partition's state changes to the
changelog; send the consumed offsets into the same transaction; commit. Either all
of it becomes visible to ``read_committed`` readers, or none of it.

Status changes arrive on ``ticket-status`` keyed however the sender likes. Their
ticket id carries the district, so the gateway forwards each one, in a transaction
of its own, into the ``reports`` partition that owns the ticket; it is then applied
in order with that partition's reports. One ordered log per partition keeps state
changes deterministic and replayable. Forwarding holds no state, so it has its own
consumer group (``<group_id>-status``): in one group with ``reports`` the sticky
assignor balances the partition count over both topics, and a second instance could
be given every ``reports`` partition while the first kept only ``ticket-status``.

On assignment a partition's state is rebuilt from its changelog partition before
its first record is processed (readiness is false meanwhile); on revocation it is
dropped. A failed transaction is aborted, the state of every owned partition is
rebuilt from the changelog and the consumer rewinds to the committed offsets, so
an abort can never leave memory ahead of Kafka.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from connectors.batches import next_batch
from dedup import TicketIndex
from dedup.decision import HELD_BACK_SAYS
from gateway.changelog import LatestPerKey
from gateway.health import HealthServer, Heartbeat
from gateway.heap import HeapKeeper
from gateway.logs import get_logger, librdkafka_logger
from gateway.metrics import GatewayMetrics
from gateway.processor import Emit, PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.settings import Settings, TopicSettings
from gateway.topics import ensure_topics
from gateway.topology import topic_specs
from gateway.transaction import must_abort, produce_in_transaction, producer_config
from schemas import ids
from schemas.exceptions import SchemaError
from schemas.models import DeadLetterSource, ErrorKind, Transport
from schemas.serde import Codec, make_codec

log = get_logger(__name__)

IndexFactory = Callable[[], TicketIndex]


class GatewayError(Exception):
    """The service cannot go on (fatal producer error, restore timed out)."""


def default_index_factory(settings: Settings) -> IndexFactory:
    """A factory of empty dedup indexes with the configured (or shipped) model."""
    from dedup import load_model  # local: the model file is read once, at start

    model = load_model(settings.gateway.dedup_model)
    return lambda: TicketIndex(model)


@dataclass(slots=True)
class _Batch:
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    received: list[datetime] = field(default_factory=list)
    partitions: set[int] = field(default_factory=set)


class GatewayService:
    """The long-running service; ``run()`` blocks until ``stop()`` or a signal."""

    def __init__(
        self,
        settings: Settings,
        *,
        index_factory: IndexFactory | None = None,
        codec: Codec | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.topics = settings.topics
        self.codec = codec or make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        self.router = Router(load_catalogue(settings.gateway.routing_file))
        self.index_factory = index_factory or default_index_factory(settings)
        self.metrics = m = metrics or GatewayMetrics()
        # Which metric each processor counter feeds (``_count``), labels resolved once.
        self._counters = (
            ("capped", m.candidates_capped),
            ("merged", m.merges),
            ("review", m.review),
            *((f"held_back:{reason}", m.held_back.labels(reason=reason)) for reason in HELD_BACK_SAYS),
            ("filed", m.filed),
            ("status_changes", m.status_changes),
            ("dead_letters", m.dead_letters),
            ("released_open", m.released),
            ("merged_by_person", m.merged_by_person),
            ("duplicates_dropped", m.dropped.labels(reason="report already placed")),
            ("status_dropped", m.dropped.labels(reason="status change already applied")),
        )
        self.processors: dict[int, PartitionProcessor] = {}
        self.heartbeat = Heartbeat()
        self._stop = threading.Event()
        self._started = False
        self._joined = False  # the group gave this instance its first assignment (possibly empty)
        self._restoring = False
        self._last_lag_check = 0.0
        self._aborts_in_row = 0  # transactions aborted since the last commit
        # What this instance knows the group has committed, per (topic, partition).
        self._committed: dict[tuple[str, int], int] = {}
        self._consumer: Consumer | None = None
        self._status_consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._restore_consumer: Consumer | None = None
        self.health: HealthServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def ready(self) -> bool:
        """Joined the group and every assigned partition's state restored (``/readyz``)."""
        return self._started and self._joined and not self._restoring

    def stop(self, *_: object) -> None:
        """Ask the loop to finish its current transaction and leave the group."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, idle_exit_s: float | None = None, serve_http: bool = True) -> None:
        """Run until stopped; with ``idle_exit_s``, also stop after that long without input."""
        g = self.settings.gateway
        kafka = self.settings.kafka
        ensure_topics(
            kafka.client_config(), topic_specs(self.settings, self.router.catalogue.all_departments())
        )
        if serve_http:
            self.health = HealthServer(
                g.http_host,
                g.http_port,
                registry=self.metrics.registry,
                live=self.heartbeat.alive,
                ready=self.ready,
            ).start()
            log.info("health endpoints up", url=self.health.url)
        logger = librdkafka_logger()
        self._producer = Producer(
            producer_config(self.settings, f"bingxian-gateway-{g.instance_id}"),
            logger=logger,
        )
        # Fences a crashed predecessor with the same instance id and aborts its open transaction.
        self._producer.init_transactions(60)
        self._restore_consumer = Consumer(
            kafka.client_config(
                **{
                    "group.id": f"{g.group_id}-restore",
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "enable.partition.eof": True,
                    # It reads a partition to its end: a fetch at the end should come back at
                    # once with the end-of-partition event, not long-poll for 500 ms of new data.
                    "fetch.wait.max.ms": 10,
                }
            ),
            logger=logger,
        )
        self._consumer = self._group_consumer(g.group_id)
        self._consumer.subscribe(
            [self.topics.reports],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self._status_consumer = self._group_consumer(g.status_group_id)
        self._status_consumer.subscribe(
            [self.topics.ticket_status],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self._started = True
        log.info("gateway running", instance=g.instance_id, group=g.group_id, status_group=g.status_group_id)
        last_input = time.monotonic()
        inputs = ((self._consumer, g.poll_timeout_ms / 1000), (self._status_consumer, 0.0))
        heap = HeapKeeper(g.gc_sweep_seconds)
        try:
            while not self._stop.is_set():
                self.heartbeat.beat()
                arrived = False
                for consumer, timeout in inputs:
                    batch = next_batch(consumer, g.batch_size, timeout)
                    messages = [m for m in batch if self._usable(m)]
                    if messages:
                        arrived = True
                        self._commit_batch(consumer, messages)
                    else:
                        self._commit_skipped_markers(consumer)
                now = time.monotonic()
                if arrived or not self.processors:  # idle only counts once partitions are owned
                    last_input = now
                elif idle_exit_s is not None and now - last_input > idle_exit_s:
                    log.info("no input, stopping", idle_seconds=idle_exit_s)
                    break
                self._update_lag()
                heap.settle()
        except GatewayError as exc:
            log.error("gateway stopping on an error", error=str(exc))
            raise
        finally:
            heap.release()
            self._shutdown()

    def _group_consumer(self, group_id: str) -> Consumer:
        return Consumer(
            self.settings.kafka.client_config(
                **{
                    "group.id": group_id,
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "auto.offset.reset": "earliest",
                    "partition.assignment.strategy": "cooperative-sticky",
                }
            ),
            logger=librdkafka_logger(),
        )

    def _shutdown(self) -> None:
        log.info("gateway stopping")
        for consumer in (self._consumer, self._status_consumer):
            if consumer is not None:
                consumer.close()  # leaves the group so partitions move at once
        if self._restore_consumer is not None:
            self._restore_consumer.close()
        if self._producer is not None:
            self._producer.flush(10)
        if self.health is not None:
            self.health.stop()
        self._started = False

    # -- the transaction --------------------------------------------------------------------------

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.fatal():
            raise GatewayError(f"consumer fatal error: {error.str()}")
        log.warning("consumer error", error=error.str(), topic=message.topic())
        return False

    def _commit_batch(self, consumer: Consumer, messages: list[Message]) -> None:
        assert self._producer is not None
        producer = self._producer
        batch = _Batch()
        try:
            producer.begin_transaction()
            for message in messages:
                batch.offsets[(message.topic(), message.partition())] = message.offset() + 1
                for emit in self._handle(message, batch):
                    self._produce(emit)
            for partition in sorted(batch.partitions):
                processor = self.processors.get(partition)
                if processor is not None:
                    for emit in processor.flush_changelog(self.topics.changelog):
                        self._produce(emit)
            offsets = _positions(consumer, batch.offsets)
            producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
            started = time.monotonic()
            producer.commit_transaction(60)
            self.metrics.commit_time.observe(time.monotonic() - started)
            self._committed.update({(tp.topic, tp.partition): tp.offset for tp in offsets})
            self._aborts_in_row = 0
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if not must_abort(error):
                raise GatewayError(f"transaction failed: {error.str()}") from exc
            log.warning("transaction aborted, rebuilding state", error=error.str())
            self.metrics.aborts.inc()
            self._abort()
            self._rebuild_after_abort(consumer)
            self._back_off(error)
            return
        now = datetime.now(UTC)
        for received in batch.received:
            self.metrics.latency.observe(max(0.0, (now - received).total_seconds()))

    def _abort(self) -> None:
        assert self._producer is not None
        try:
            self._producer.abort_transaction(60)
        except KafkaException as exc:  # the failure was fatal after all: stop, the restart recovers
            raise GatewayError(f"transaction could not be aborted: {exc.args[0].str()}") from exc

    def _back_off(self, error: KafkaError) -> None:
        """Wait before processing the aborted input again; stop when it keeps failing.

        Most aborts pass at the first retry (an epoch bump, a rebalance). One that recurs
        every time, such as a record the broker refuses as too large, would otherwise abort
        and retry the same input forever while the instance looks alive. After
        ``gateway.max_aborts_in_row`` the service stops with the last error: nothing was
        committed, so a restart after the cause is fixed processes that input exactly once.
        """
        self._aborts_in_row += 1
        limit = self.settings.gateway.max_aborts_in_row
        if self._aborts_in_row >= limit:
            raise GatewayError(
                f"{self._aborts_in_row} transactions in a row were aborted, the last with: "
                f"{error.str()}; the input stays uncommitted for a restart after the cause is fixed"
            )
        self._stop.wait(min(0.05 * 2 ** (self._aborts_in_row - 1), 5.0))

    def _commit_skipped_markers(self, consumer: Consumer) -> None:
        """When idle, commit positions that moved past control records alone.

        A marker may arrive in a later fetch than the last record of its transaction, so the
        position can advance with no message to process. One empty transaction records it.
        """
        assert self._producer is not None
        behind = {
            (tp.topic, tp.partition): tp.offset
            for tp in consumer.position(consumer.assignment())
            if tp.offset >= 0 and tp.offset > self._committed.get((tp.topic, tp.partition), -1)
        }
        if not behind:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(behind.items())]
        try:
            self._producer.begin_transaction()
            self._producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
            self._producer.commit_transaction(60)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if not must_abort(error):
                raise GatewayError(f"transaction failed: {error.str()}") from exc
            log.warning("offset-only transaction aborted", error=error.str())
            self._abort()
            self._back_off(error)
            return
        self._committed.update(behind)
        self._aborts_in_row = 0

    def _produce(self, emit: Emit) -> None:
        assert self._producer is not None
        produce_in_transaction(self._producer, emit.topic, emit.key.encode(), emit.value, emit.partition)

    def _handle(self, message: Message, batch: _Batch) -> list[Emit]:
        topic, partition, raw = message.topic(), message.partition(), message.value() or b""
        source = DeadLetterSource(
            transport=Transport.KAFKA, topic=topic, partition=partition, offset=message.offset()
        )
        if topic == self.topics.ticket_status:
            return [self._forward_status(raw, source)]
        processor = self.processors.get(partition)
        if processor is None:  # cannot happen while assigned; never drop silently
            raise GatewayError(f"no state for {topic}[{partition}]")
        batch.partitions.add(partition)
        try:
            name, value = self.codec.decode_dict(raw, topic=topic)
        except SchemaError as exc:
            self.metrics.dead_letters.inc()
            return [processor.dead_letter(source, raw, ErrorKind.SCHEMA_ERROR, str(exc))]
        if name == "Report":
            self.metrics.reports_in.inc()
            batch.received.append(value["received_at"])
            before = _snapshot(processor)
            out = processor.on_report(value)
            self._count(before, processor)
            return out
        if name == "TicketStatusChange":
            before = _snapshot(processor)
            out = processor.on_status(value, source, raw)
            self._count(before, processor)
            return out
        self.metrics.dead_letters.inc()
        return [
            processor.dead_letter(source, raw, ErrorKind.SCHEMA_ERROR, f"a {name} does not belong on {topic}")
        ]

    def _forward_status(self, raw: bytes, source: DeadLetterSource) -> Emit:
        """Route a status change to the reports partition that owns its ticket."""
        emit = route_status(self.codec, self.topics, raw, source, datetime.now(UTC))
        if emit.topic == self.topics.deadletter:
            self.metrics.dead_letters.inc()
        return emit

    def _count(self, before: dict[str, int], processor: PartitionProcessor) -> None:
        d = {name: value - before[name] for name, value in _snapshot(processor).items()}
        m = self.metrics
        if d["created"]:
            m.tickets_created.labels(band="REVIEW" if d["review"] else "NEW").inc(d["created"])
            for department in processor.last_routed:
                m.routed.labels(department=department).inc()
        for name, counter in self._counters:
            if d[name]:  # most are 0 for a given record; an increment takes the metric's lock
                counter.inc(d[name])

    # -- state: restore on assignment, drop on revocation ----------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in consumer.committed(partitions, timeout=30):
            self._committed[(tp.topic, tp.partition)] = tp.offset
        owned = sorted(tp.partition for tp in partitions if tp.topic == self.topics.reports)
        if consumer is self._consumer:
            self._joined = True
        if not owned:
            return
        self._restoring = True
        try:
            for partition in owned:
                self.processors[partition] = self._restore(partition)
        finally:
            self._restoring = False
        self.metrics.assigned.set(len(self.processors))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._committed.pop((tp.topic, tp.partition), None)
            if tp.topic == self.topics.reports and self.processors.pop(tp.partition, None) is not None:
                self.metrics.lag.remove(str(tp.partition)) if str(
                    tp.partition
                ) in self._lag_labels() else None
                log.info("partition revoked", partition=tp.partition)
        self.metrics.assigned.set(len(self.processors))

    def _lag_labels(self) -> set[str]:
        return {s.labels["partition"] for metric in self.metrics.lag.collect() for s in metric.samples}

    def _new_processor(self, partition: int) -> PartitionProcessor:
        return PartitionProcessor(
            partition,
            index=self.index_factory(),
            router=self.router,
            codec=self.codec,
            topics=self.topics,
            retention=timedelta(days=self.settings.gateway.retention_days),
            open_retention=timedelta(days=self.settings.gateway.open_retention_days),
            evidence_kept=self.settings.gateway.ticket_evidence,
        )

    def _restore(self, partition: int) -> PartitionProcessor:
        """Rebuild one partition's state from its changelog partition, reading committed records only."""
        assert self._restore_consumer is not None
        processor = self._new_processor(partition)
        started = time.monotonic()
        restored = restore_partition(
            self._restore_consumer,
            self.topics.changelog,
            partition,
            processor,
            timeout_s=self.settings.gateway.restore_timeout_s,
            progress=lambda read, applied: log.info(
                "restoring", partition=partition, records=read, applied=applied
            ),
        )
        elapsed = time.monotonic() - started
        self.metrics.restore_seconds.observe(elapsed)
        log.info(
            "partition restored",
            partition=partition,
            changelog_records=restored.records,
            applied=restored.applied,
            tickets=len(processor.tickets),
            seconds=round(elapsed, 3),
        )
        return processor

    def _rebuild_after_abort(self, consumer: Consumer) -> None:
        assignment = consumer.assignment()
        self._restoring = True  # not ready while memory is rebuilt to what Kafka holds
        try:
            for tp in assignment:
                if tp.topic == self.topics.reports:
                    self.processors[tp.partition] = self._restore(tp.partition)
        finally:
            self._restoring = False
        committed = consumer.committed(assignment, timeout=30)
        for tp in committed:
            self._committed[(tp.topic, tp.partition)] = tp.offset
            if tp.offset < 0:
                tp.offset = -2  # OFFSET_BEGINNING: nothing committed yet
            consumer.seek(tp)

    def _update_lag(self) -> None:
        now = time.monotonic()
        if self._consumer is None or now - self._last_lag_check < 5:
            return
        self._last_lag_check = now
        assigned = [tp for tp in self._consumer.assignment() if tp.topic == self.topics.reports]
        try:
            positions = self._consumer.position(assigned)
        except KafkaException:
            return
        for tp in positions:
            # The high watermark of the last fetch response, not a ListOffsets request: a
            # request would queue behind the consumer's long-polling fetch on the broker
            # connection (up to fetch.wait.max.ms each), which stalled the loop 0.45 s per
            # partition every 5 s, a third of the throughput at 6 partitions.
            _, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                self.metrics.lag.labels(partition=str(tp.partition)).set(max(0, high - tp.offset))


def _snapshot(processor: PartitionProcessor) -> dict[str, int]:
    """The processor's counters now; ``_count`` turns the difference of two into metric increments."""
    s = processor.stats
    counters = {
        name: getattr(s, name)
        for name in (
            "created",
            "merged",
            "review",
            "filed",
            "duplicates_dropped",
            "status_changes",
            "status_dropped",
            "dead_letters",
            "released_open",
            "merged_by_person",
        )
    }
    counters["capped"] = processor.index.capped_decisions
    for reason in HELD_BACK_SAYS:
        counters[f"held_back:{reason}"] = s.held_back.get(reason, 0)
    return counters


def route_status(
    codec: Codec, topics: TopicSettings, raw: bytes, source: DeadLetterSource, received_at: datetime
) -> Emit:
    """Where a ``ticket-status`` record goes: its ticket's ``reports`` partition, or a dead letter.

    The ticket id carries the district code, the same key the connectors give reports,
    so the default partitioner puts the change in the partition that owns the ticket.
    Shared by the live service and the raw replay, so both place a change alike.
    """
    try:
        name, value = codec.decode_dict(raw, topic=topics.ticket_status)
        if name != "TicketStatusChange":
            raise SchemaError(f"expected a TicketStatusChange, got a {name}")
        key = ids.ticket_partition_key(value["ticket_id"])
    except (SchemaError, ValueError) as exc:
        kind = ErrorKind.UNKNOWN_TICKET if isinstance(exc, ValueError) else ErrorKind.SCHEMA_ERROR
        record = {
            "dead_letter_id": ids.dead_letter_id(
                source.transport.value, source.topic, source.partition, source.offset
            ),
            "channel": None,
            "source": source.model_dump(),
            "received_at": received_at,
            "error_kind": kind.value,
            "error_message": str(exc),
            "errors": [],
            "raw": raw,
            "redrive_count": 0,
        }
        log.warning("status change dead-lettered", kind=kind.value, message=str(exc), offset=source.offset)
        letter = codec.encode(record, topic=topics.deadletter, name="DeadLetter")
        return Emit(topics.deadletter, record["dead_letter_id"], letter)
    return Emit(topics.reports, key, raw)


def watermarks(consumer: Consumer, tp: TopicPartition, *, timeout_s: float) -> tuple[int, int]:
    """The partition's offsets, retrying while leadership settles (a topic created moments ago)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(tp, timeout=10)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            transient = error.retriable() or error.code() == KafkaError.NOT_LEADER_FOR_PARTITION
            if not transient or time.monotonic() > deadline:
                raise
            log.info(
                "waiting for partition leadership", topic=tp.topic, partition=tp.partition, error=error.str()
            )
            time.sleep(0.2)


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore read (every committed record) and applied (each key's last record)."""

    records: int
    applied: int


def restore_partition(
    consumer: Consumer,
    topic: str,
    partition: int,
    processor: PartitionProcessor,
    *,
    timeout_s: float,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 50_000,
) -> Restored:
    """Rebuild ``processor`` from every committed changelog record of ``partition``.

    Reads with ``read_committed`` until the partition-EOF event reports the end at the
    high watermark seen at the start: a transaction still open (a crashed owner's, until
    its timeout) holds the stable offset back, and the restore waits for it to resolve.
    Only each key's last record is applied (``LatestPerKey``): the part of the log the
    broker has not compacted yet costs a read, not a decode. ``progress(read, applied)``
    is called every ``progress_every`` records read, then every ``progress_every`` keys
    applied, so that neither phase of a long restore is silent.
    """
    latest = LatestPerKey()
    tp = TopicPartition(topic, partition)
    low, high = watermarks(consumer, tp, timeout_s=timeout_s)
    if high > low:
        consumer.assign([TopicPartition(topic, partition, low)])
        deadline = time.monotonic() + timeout_s
        next_report = progress_every
        try:
            while True:
                if time.monotonic() > deadline:
                    raise GatewayError(
                        f"restore of {topic}[{partition}] did not reach offset {high} in {timeout_s}s"
                    )
                done = False
                # What has arrived, without waiting for 5,000 records: consume(5000, 0.5) waited
                # out its half second at the end of every partition, however small.
                for message in next_batch(consumer, 5000, 0.5):
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF and message.offset() >= high:
                            done = True
                        continue
                    latest.add(message.key().decode(), message.value())
                if done:
                    break
                if progress is not None and latest.records >= next_report:
                    progress(latest.records, 0)
                    next_report += progress_every
        finally:
            consumer.unassign()
    survivors = latest.survivors()
    for applied, (key, value) in enumerate(survivors, 1):
        processor.restore(key, value)
        if progress is not None and applied % progress_every == 0:
            progress(latest.records, applied)
    processor.finish_restore()
    return Restored(records=latest.records, applied=len(survivors))


def _positions(consumer: Consumer, consumed: dict[tuple[str, int], int]) -> list[TopicPartition]:
    """The offsets to commit: the consumer's position, which also steps over control records.

    Every transaction this gateway (or a connector) commits ends its partitions with a
    commit marker. Committing only last-record + 1 would leave the group one offset short
    of the high watermark for ever: lag never reads zero and "caught up" never comes. The
    position counts markers already read, so it is the exact resume point.
    """
    positions = consumer.position([TopicPartition(t, p) for t, p in sorted(consumed)])
    return [
        TopicPartition(tp.topic, tp.partition, max(tp.offset, consumed[(tp.topic, tp.partition)]))
        for tp in positions
    ]
