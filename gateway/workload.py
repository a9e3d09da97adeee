"""Simulated traffic, mapped and encoded, as the gateway's input: for tests, the demo and benchmarks.

The simulator writes native channel records; the connectors map them to Reports.
Gateway-level tests and benchmarks start from the mapped ``reports`` stream, so this
module does both steps once, deterministically, and also turns the simulator's
ticket closures into the lifecycle a department would really post
(ACCEPTED → IN_PROGRESS → RESPONDED → CLOSED), placed in event-time order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connectors.ingest import Ingestor
from connectors.simulator import generate
from gateway.processor import Emit, PartitionProcessor
from gateway.settings import Settings
from schemas import ids
from schemas.models import DeadLetterSource, Report, TicketStatus, TicketStatusChange, Transport
from schemas.serde import SingleObjectCodec

UNKNOWN_DISTRICT = "000000"
_CLOSING = (TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESPONDED, TicketStatus.CLOSED)


@dataclass(frozen=True, slots=True)
class Item:
    """One record of the gateway's input: ``reports`` key, encoded value, and what it is."""

    key: str
    value: bytes
    report_id: str | None  # None for a status change
    issue_id: str | None


@dataclass(frozen=True, slots=True)
class Workload:
    """The gateway input of a simulation, in event-time order, with the simulator's truth."""

    items: list[Item]
    reports: list[Report]
    dead_letters: int
    truth: dict[str, str]  # report id -> real-world issue id

    @property
    def report_items(self) -> list[Item]:
        return [i for i in self.items if i.report_id is not None]


def lifecycle_to_close(change: TicketStatusChange) -> list[TicketStatusChange]:
    """A simulator closure as the four changes a department posts, an hour apart, ending at its time."""
    steps = []
    for n, status in enumerate(_CLOSING):
        at = change.at - timedelta(hours=len(_CLOSING) - 1 - n)
        steps.append(
            change.model_copy(
                update={
                    "change_id": f"{change.change_id}-{status.value.lower()}",
                    "status": status,
                    "resolution": change.resolution if status is TicketStatus.CLOSED else None,
                    "at": at,
                }
            )
        )
    return steps


def build(settings: Settings, *, reports: int, seed: int, malformed: float = 0.0) -> Workload:
    """Simulate, map and encode: the deterministic input of a gateway run."""
    simulation = generate(seed, reports, malformed=malformed)
    ingestor = Ingestor(settings)
    codec = SingleObjectCodec()
    timed: list[tuple[Any, int, Item]] = []
    mapped: list[Report] = []
    truth: dict[str, str] = {}
    dead = 0
    for n, record in enumerate(simulation.records):
        position = DeadLetterSource(transport=Transport.FILE, file=f"simulated.{record.channel}", line=n + 1)
        result = ingestor.ingest(record.channel, record.raw, position, record.reported_at)
        if not isinstance(result, Report):
            dead += 1
            continue
        mapped.append(result)
        if record.issue_id:
            truth[result.report_id] = record.issue_id
        key = result.location.district_code or UNKNOWN_DISTRICT
        item = Item(key, codec.encode(result), result.report_id, record.issue_id)
        timed.append((result.reported_at, n, item))
    for m, closure in enumerate(simulation.status_changes):
        for k, change in enumerate(lifecycle_to_close(closure)):
            key = ids.ticket_partition_key(change.ticket_id)
            timed.append(
                (change.at, len(simulation.records) + m * 10 + k, Item(key, codec.encode(change), None, None))
            )
    timed.sort(key=lambda t: (t[0], t[1]))
    return Workload([item for _, _, item in timed], mapped, dead, truth)


def feed(processor: PartitionProcessor, values: Iterable[bytes], *, flush_every: int) -> list[Emit]:
    """Apply ``reports`` records (Reports and status changes) to one partition processor, without Kafka.

    The changelog is flushed every ``flush_every`` records and at the end, as the
    service does once per transaction; returns every output in order. For benchmarks
    and tests that need the processor's work, or its changelog, without a broker.
    """
    codec, changelog = processor.codec, processor.topics.changelog
    out: list[Emit] = []
    for n, value in enumerate(values, 1):
        name, datum = codec.decode_dict(value)
        if name == "Report":
            out += processor.on_report(datum)
        else:
            source = DeadLetterSource(transport=Transport.KAFKA, topic="reports", partition=0, offset=n)
            out += processor.on_status(datum, source, value)
        if n % flush_every == 0:
            out += processor.flush_changelog(changelog)
    return out + processor.flush_changelog(changelog)
