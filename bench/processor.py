"""The gateway's per-report work without Kafka: one PartitionProcessor next to a codec round trip.

Both runs take the same simulated ``reports`` records (``gateway.workload.build``, the
traffic the e2e benchmark and the tests use) in one process. The baseline only decodes
each record and encodes it again, the least any Avro-in, Avro-out stage does; the
processor run does what ``bingxian run`` does between consume and produce: decode, dedup,
route, encode the ticket, its department copies and events, and flush the changelog
once per batch as the service does per transaction. All records go to one partition, so
the index holds the whole city: the worst case for a decision. Rates are per CPU-second
(``time.process_time``) of this one process, i.e. per core; the ratio is the figure to
watch. Where the time goes is for a profiler (``py-spy record -- python -m bench.processor``).

The processor runs twice over the same records: with CPython's collector as it comes,
and with the heap frozen after each batch as ``bingxian run`` keeps it
(``gateway.heap.HeapKeeper``). For each, the cyclic collector's own figures: full
(generation 2) collections, their CPU, and the longest single pause, the stall every
report in flight waits for.

    .venv/bin/python -m bench.processor --reports 20000
    .venv/bin/python -m bench.processor --reports 20000 --log-level INFO 2>/dev/null
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from typing import Any, NamedTuple

from dedup import TicketIndex, load_model
from gateway.heap import HeapKeeper
from gateway.logs import configure_logging
from gateway.processor import PartitionProcessor, Stats
from gateway.routing import Router, load_catalogue
from gateway.settings import Settings
from gateway.workload import build, feed
from schemas import SingleObjectCodec


class Pauses:
    """The cyclic collector's runs, from ``gc.callbacks``: full ones, their time, the longest."""

    def __init__(self) -> None:
        self.full = 0
        self.seconds = 0.0
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        self.full += info["generation"] == 2
        self.seconds += took
        self.longest = max(self.longest, took)


class Run(NamedTuple):
    """What one processor run leaves: its counters and timings, not its state (freed before the next)."""

    stats: Stats
    seconds: float
    emitted: int
    held: int
    pauses: Pauses


def run(settings: Settings, codec: SingleObjectCodec, values: list[bytes], heap: HeapKeeper) -> Run:
    """One processor over ``values``, batch by batch as the service takes them; CPU seconds."""
    batch = settings.gateway.batch_size
    processor = PartitionProcessor(
        0,
        index=TicketIndex(load_model(settings.gateway.dedup_model)),
        router=Router(load_catalogue(settings.gateway.routing_file)),
        codec=codec,
        topics=settings.topics,
    )
    pauses = Pauses()
    gc.collect()
    gc.callbacks.append(pauses)
    emitted = 0
    start = time.process_time()
    try:
        for i in range(0, len(values), batch):
            emitted += len(feed(processor, values[i : i + batch], flush_every=batch))
            heap.settle()
        return Run(processor.stats, time.process_time() - start, emitted, len(processor.index), pauses)
    finally:
        gc.callbacks.remove(pauses)
        heap.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--log-level",
        default="ERROR",
        help="ERROR times the work alone; INFO, the service's default, adds its line per merge and "
        "per status change (send stderr to /dev/null)",
    )
    args = parser.parse_args()
    configure_logging(args.log_level, json=True)

    settings = Settings()
    codec = SingleObjectCodec()
    values = [item.value for item in build(settings, reports=args.reports, seed=args.seed).items]

    start = time.process_time()
    for value in values:
        name, datum = codec.decode_dict(value)
        codec.encode(datum, name=name)
    baseline_s = time.process_time() - start

    # Each run's state is freed before the next, so neither collector walks the other's.
    runs = [
        (label, run(settings, codec, values, HeapKeeper(sweep_s)))
        for label, sweep_s in (("processor, CPython GC", 0.0), ("processor, frozen heap", 3600.0))
    ]

    machine = platform.processor() or platform.machine()
    s = runs[0][1].stats
    print(f"# {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"# {len(values)} records ({s.reports} reports, {s.status_changes} status changes), "
        f"seed {args.seed}, one partition, rates per CPU-second"
    )
    print(f"{'run':<24} {'records/s':>10} {'µs/record':>10} {'GC full':>8} {'GC s':>6} {'longest':>8}")
    per_record = baseline_s / len(values) * 1e6
    print(f"{'codec round trip':<24} {len(values) / baseline_s:>10,.0f} {per_record:>10.1f}")
    for label, r in runs:
        print(
            f"{label:<24} {len(values) / r.seconds:>10,.0f} {r.seconds / len(values) * 1e6:>10.1f} "
            f"{r.pauses.full:>8} {r.pauses.seconds:>6.2f} {r.pauses.longest * 1000:>6.0f}ms"
        )
    for label, r in runs:
        print(
            f"{label}: ratio to the round trip {baseline_s / r.seconds:.3f}, "
            f"{r.stats.reports / r.seconds:,.0f} reports/s with their status changes"
        )
    r = runs[0][1]
    print(
        f"# {r.stats.created} tickets, {r.stats.merged} merges, {r.stats.review} in review, "
        f"{r.emitted} records emitted, {r.held} tickets held by the index at the end"
    )


if __name__ == "__main__":
    main()
