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

    .venv/bin/python -m bench.processor --reports 20000
    .venv/bin/python -m bench.processor --reports 20000 --log-level INFO 2>/dev/null
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from dedup import TicketIndex, load_model
from gateway.logs import configure_logging
from gateway.processor import PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.settings import Settings
from gateway.workload import build, feed
from schemas import SingleObjectCodec


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
    batch = settings.gateway.batch_size

    start = time.process_time()
    for value in values:
        name, datum = codec.decode_dict(value)
        codec.encode(datum, name=name)
    baseline_s = time.process_time() - start

    processor = PartitionProcessor(
        0,
        index=TicketIndex(load_model(settings.gateway.dedup_model)),
        router=Router(load_catalogue(settings.gateway.routing_file)),
        codec=codec,
        topics=settings.topics,
    )
    start = time.process_time()
    emitted = len(feed(processor, values, flush_every=batch))
    processor_s = time.process_time() - start

    s = processor.stats
    machine = platform.processor() or platform.machine()
    print(f"# {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"# {len(values)} records ({s.reports} reports, {s.status_changes} status changes), "
        f"seed {args.seed}, one partition, rates per CPU-second"
    )
    print(f"{'run':<22} {'records/s':>10} {'µs/record':>10}")
    for label, seconds in (("codec round trip", baseline_s), ("partition processor", processor_s)):
        print(f"{label:<22} {len(values) / seconds:>10,.0f} {seconds / len(values) * 1e6:>10.1f}")
    print(f"ratio processor / round trip: {baseline_s / processor_s:.3f}")
    print(f"processor: {s.reports / processor_s:,.0f} reports/s with their status changes")
    print(
        f"# {s.created} tickets, {s.merged} merges, {s.review} in review, {emitted} records emitted, "
        f"{len(processor.index)} tickets held by the index at the end"
    )


if __name__ == "__main__":
    main()
