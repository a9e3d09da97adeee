"""Where a simulation goes: files per channel (as vendors export them) or the raw Kafka topics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from connectors.delivery import TrackedProducer, make_producer
from connectors.simulator.render import PROPERTY_HEADER_LINE
from connectors.simulator.truth import SimRecord, Simulation
from gateway.settings import TopicSettings
from schemas import TicketStatusChange
from schemas.serde import Codec, SingleObjectCodec

#: File name of each channel's export.
FILE_NAMES = {"12345": "12345.jsonl", "12319": "12319.xml", "962121": "962121.csv", "grid": "grid.jsonl"}
TRUTH_FILE = "truth.jsonl"
CLOSURES_FILE = "closures.jsonl"
STATUS_FILE = "status_changes.jsonl"


def write_files(sim: Simulation, out_dir: Path) -> dict[str, Path]:
    """Write the four channel exports, ``truth.jsonl``, ``closures.jsonl`` and ``status_changes.jsonl``.

    12345 and grid: one JSON object per line. 12319: a ``<cases>`` document with one
    ``<case>`` per line. 962121: GBK CSV, the header once, then one row per line (CRLF).
    Records keep emission order; a malformed record stays where it was emitted, as
    in a real export that a connector must read past.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    by_channel: dict[str, list[SimRecord]] = {name: [] for name in FILE_NAMES}
    for record in sim.records:
        by_channel[record.channel].append(record)
    paths = {name: out_dir / file for name, file in FILE_NAMES.items()}
    for name in ("12345", "grid"):
        paths[name].write_bytes(b"".join(r.raw + b"\n" for r in by_channel[name]))
    cases = b"".join(r.raw + b"\n" for r in by_channel["12319"])
    paths["12319"].write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n<cases>\n' + cases + b"</cases>\n")
    rows = b"".join(r.raw[len(PROPERTY_HEADER_LINE) :] for r in by_channel["962121"])
    paths["962121"].write_bytes(PROPERTY_HEADER_LINE + rows)
    paths["truth"] = _jsonl(out_dir / TRUTH_FILE, (r.truth() for r in sim.records))
    paths["closures"] = _jsonl(out_dir / CLOSURES_FILE, (c.line() for c in sim.closures))
    status = out_dir / STATUS_FILE
    status.write_text("".join(c.model_dump_json() + "\n" for c in sim.status_changes), encoding="utf-8")
    paths["status_changes"] = status
    return paths


def _jsonl(path: Path, lines: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def department_changes(sim: Simulation) -> Iterator[TicketStatusChange]:
    """Each closure as the lifecycle a department posts (ACCEPTED → … → CLOSED), in time order.

    The gateway only accepts CLOSED after RESPONDED (``gateway.lifecycle``); the steps
    come from ``gateway.workload.lifecycle_to_close`` so that the demo, the tests and a
    live Kafka run post the same changes. Imported here, not at module level:
    ``gateway.workload`` itself imports the simulator.
    """
    from gateway.workload import lifecycle_to_close

    steps = [step for change in sim.status_changes for step in lifecycle_to_close(change)]
    return iter(sorted(steps, key=lambda c: c.at))


def produce(
    sim: Simulation,
    producer_config: dict[str, Any],
    topics: TopicSettings,
    *,
    codec: Codec | None = None,
    status_changes: bool = True,
    flush_timeout_s: float = 60.0,
) -> Counter[str]:
    """Produce every record to its raw topic and, with ``status_changes``, the closing lifecycles.

    Raw records are keyed by source record id; status changes (Avro, ``codec`` or
    single-object encoding) go to ``topics.ticket_status`` keyed by ticket id. Both are
    interleaved in event-time order, as a live city would send them. Returns the number
    of records per topic; raises ``DeliveryError`` if Kafka did not take one.
    """
    producer = TrackedProducer(make_producer(producer_config))
    encoder = codec or SingleObjectCodec()
    counts: Counter[str] = Counter()
    changes = list(department_changes(sim)) if status_changes else []
    records = iter(sim.records)
    pending = next(records, None)
    for change in [*changes, None]:
        while pending is not None and (change is None or pending.emitted_at <= change.at):
            topic = topics.raw[pending.channel]
            producer.produce(topic, pending.raw, pending.source_record_id.encode("utf-8"))
            counts[topic] += 1
            pending = next(records, None)
        if change is not None:
            value = encoder.encode(change, topic=topics.ticket_status, name="TicketStatusChange")
            producer.produce(topics.ticket_status, value, change.ticket_id.encode("utf-8"))
            counts[topics.ticket_status] += 1
    producer.flush(flush_timeout_s)
    return counts
