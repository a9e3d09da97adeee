"""Restoring from each key's last changelog record: the state a whole history restores to."""

from __future__ import annotations

from functools import cache

from confluent_kafka import Consumer
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import TicketIndex, load_model
from gateway.changelog import LatestPerKey
from gateway.processor import PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.service import restore_partition
from gateway.settings import Settings
from gateway.testing import produce_all
from gateway.topology import COMPACT
from gateway.workload import build, feed
from schemas import SingleObjectCodec

SETTINGS = Settings()
CODEC = SingleObjectCodec()
ROUTER = Router(load_catalogue())
MODEL = load_model(None)
CHANGELOG = SETTINGS.topics.changelog


def processor() -> PartitionProcessor:
    return PartitionProcessor(0, index=TicketIndex(MODEL), router=ROUTER, codec=CODEC, topics=SETTINGS.topics)


@cache
def workload(seed: int) -> tuple[bytes, ...]:
    """Simulated reports and their status changes, as the gateway consumes them (one partition)."""
    return tuple(item.value for item in build(SETTINGS, reports=300, seed=seed).items)


keys = st.sampled_from(["t:a", "t:b", "d:a", "d:b", "t:c"])
values = st.one_of(st.none(), st.binary(min_size=1, max_size=4))


@given(st.lists(st.tuples(keys, values), max_size=40))
def test_each_key_keeps_its_last_record_in_the_order_of_the_last_records(
    records: list[tuple[str, bytes | None]],
) -> None:
    latest = LatestPerKey()
    for key, value in records:
        latest.add(key, value)
    last_at = {key: n for n, (key, _) in enumerate(records)}
    expected = sorted((n, key) for key, n in last_at.items() if records[n][1] is not None)
    assert latest.survivors() == [(key, records[n][1]) for n, key in expected]
    assert latest.records == len(records)


@settings(max_examples=6, deadline=None)
@given(
    seed=st.sampled_from([3, 11, 29]),
    flush_every=st.integers(1, 80),
    cut=st.floats(0.2, 0.9),
)
def test_restore_from_the_last_records_continues_like_a_restore_from_the_whole_history(
    seed: int, flush_every: int, cut: float
) -> None:
    """Same outputs and same changelog afterwards, so a partly compacted log changes no decision."""
    values = workload(seed)
    split = int(len(values) * cut)
    original = processor()
    before = feed(original, values[:split], flush_every=flush_every)
    history = [(e.key, e.value) for e in before if e.topic == CHANGELOG]
    latest = LatestPerKey()
    for key, value in history:
        latest.add(key, value)
    assert len(latest.survivors()) < len(history)  # the history rewrote keys: a real test of both paths

    from_history, from_latest = processor(), processor()
    for key, value in history:
        from_history.restore(key, value)
    for key, value in latest.survivors():
        from_latest.restore(key, value)
    for p in (from_history, from_latest):
        p.finish_restore()

    rest = values[split:]
    expected = feed(original, rest, flush_every=flush_every)
    assert feed(from_latest, rest, flush_every=flush_every) == expected
    assert feed(from_history, rest, flush_every=flush_every) == expected


def test_restore_partition_reads_the_topic_applies_the_last_records_and_reports_both_phases(
    kafka: str, topic_factory
) -> None:
    """Against the real broker: it holds what the writer held, and progress covers both phases."""
    values = workload(3)[:400]
    writer = processor()
    history = [(e.key, e.value) for e in feed(writer, values, flush_every=40) if e.topic == CHANGELOG]
    topic = topic_factory(1, COMPACT)
    produce_all(kafka, topic, history)
    consumer = Consumer(
        {
            "bootstrap.servers": kafka,
            "group.id": f"restore-{topic}",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 10,
        }
    )
    calls: list[tuple[int, int]] = []
    restored = processor()
    try:
        outcome = restore_partition(
            consumer, topic, 0, restored, timeout_s=60, progress=lambda *n: calls.append(n), progress_every=50
        )
    finally:
        consumer.close()

    latest = LatestPerKey()
    for key, value in history:
        latest.add(key, value)
    assert (outcome.records, outcome.applied) == (len(history), len(latest.survivors()))
    assert restored.tickets == writer.tickets
    reading = [read for read, applied in calls if applied == 0]
    applying = [applied for _, applied in calls if applied > 0]
    assert reading  # at least one report while reading (the history is over 50 records)
    assert reading == sorted(reading)
    assert reading[-1] <= len(history)
    assert applying == list(range(50, outcome.applied + 1, 50))
