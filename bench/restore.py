"""Restore benchmark: how long a partition's state takes to rebuild from its changelog.

A partition is not ready (``/readyz``) until its state is rebuilt, so restore time is
what a crash, a restart or a rebalance costs in availability. The changelog is the one
the processor writes for simulated traffic (reports and their status changes, one
flush per transaction as the service does), produced uncompacted to a one-partition
topic on a real Apache Kafka broker (``KAFKA_BOOTSTRAP_SERVERS``, or a local broker
from the Maven jar cache): the worst case, as if the broker had compacted nothing yet.

In the same run it prints:

1. a plain read of the partition (consume to the end, no decoding): the baseline;
2. ``restore_partition`` as the service runs it (read, keep each key's last record,
   apply those);
3. without Kafka, the apply step alone, two ways: every record in offset order (what a
   restore did before it kept each key's last record) and each key's last record.

    python -m bench.restore --reports 20000
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, TopicPartition

from connectors.batches import next_batch
from dedup import TicketIndex, load_model
from gateway.changelog import LatestPerKey
from gateway.logs import configure_logging
from gateway.processor import PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.service import restore_partition
from gateway.settings import Settings
from gateway.testing import bench_cluster, produce_all
from gateway.topics import TopicSpec, ensure_topics
from gateway.topology import COMPACT
from gateway.workload import build, feed
from schemas import SingleObjectCodec

Record = tuple[str, bytes | None]


def changelog_history(settings: Settings, reports: int, seed: int) -> tuple[list[Record], int]:
    """The changelog one partition processor writes for the workload, and the tickets it holds."""
    processor = new_processor(settings)
    values = [item.value for item in build(settings, reports=reports, seed=seed).items]
    outputs = feed(processor, values, flush_every=settings.gateway.batch_size)
    history = [(e.key, e.value) for e in outputs if e.topic == settings.topics.changelog]
    return history, len(processor.tickets)


def new_processor(settings: Settings) -> PartitionProcessor:
    return PartitionProcessor(
        0,
        index=TicketIndex(load_model(settings.gateway.dedup_model)),
        router=Router(load_catalogue(settings.gateway.routing_file)),
        codec=SingleObjectCodec(),
        topics=settings.topics,
    )


def restore_consumer(bootstrap: str) -> Consumer:
    """Configured as the service's restore consumer (``GatewayService.run``)."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-restore-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 10,
        }
    )


def plain_read(bootstrap: str, topic: str) -> tuple[float, int]:
    """Seconds to consume the partition to its end without looking at the records."""
    consumer = restore_consumer(bootstrap)
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.assign([TopicPartition(topic, 0, 0)])
    count = 0
    start = time.perf_counter()
    done = False
    while not done:
        for message in next_batch(consumer, 5000, 0.5):
            error = message.error()
            if error is None:
                count += 1
            elif error.code() == KafkaError._PARTITION_EOF and message.offset() >= high:
                done = True
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed, count


def row(label: str, records: int, seconds: float) -> None:
    print(f"  {label:<34} {records:>9,} {seconds:9.2f} {records / seconds:11,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure_logging("ERROR")
    settings = Settings()
    cpu = platform.processor() or platform.machine()
    python = platform.python_version()
    print(f"# {cpu}, {os.cpu_count()} cores, Python {python}, load {os.getloadavg()[0]:.1f}")

    history, held = changelog_history(settings, args.reports, args.seed)
    latest = LatestPerKey()
    for key, value in history:
        latest.add(key, value)
    survivors = latest.survivors()
    size = sum(len(v) for _, v in history if v is not None)
    print(
        f"# {args.reports} reports (seed {args.seed}) with their status changes: {len(history):,} changelog "
        f"records, {size / 1e6:.1f} MB; {len(survivors):,} keys live, {held:,} tickets held"
    )

    print("apply step alone (CPU seconds)         records   seconds   records/s")
    for label, records in (("every record in offset order", history), ("each key's last record", survivors)):
        processor = new_processor(settings)
        start = time.process_time()
        for key, value in records:
            processor.restore(key, value)
        processor.finish_restore()
        elapsed = time.process_time() - start
        assert len(processor.tickets) == held, "a restore must hold what the writer held"
        row(label, len(records), elapsed)

    with bench_cluster() as bootstrap:
        topic = f"bench-changelog-{uuid.uuid4().hex[:6]}"
        ensure_topics(bootstrap, [TopicSpec(topic, 1, config=COMPACT)])
        produce_all(bootstrap, topic, history)
        print("through Kafka (wall seconds)           records   seconds   records/s")
        read_s, count = plain_read(bootstrap, topic)
        row("plain read (baseline)", count, read_s)
        processor = new_processor(settings)
        consumer = restore_consumer(bootstrap)
        start = time.perf_counter()
        restored = restore_partition(consumer, topic, 0, processor, timeout_s=600)
        restore_s = time.perf_counter() - start
        consumer.close()
        assert len(processor.tickets) == held
        assert restored.records == len(history)
        row("restore_partition", restored.records, restore_s)
        print(f"ratio plain read / restore: {read_s / restore_s:.2f}")
        print(f"finished {datetime.now(UTC).isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
