"""Connector throughput: parse + validate + map + Avro-encode per channel, next to plain fastavro.

For each channel, simulated native records (``connectors.simulator.generate``, valid
ones only) go through exactly what ``bingxian connect`` does with a batch — decode and
validate the native models, map them to Reports (``Ingestor.ingest_many``, stage by
stage over batches of ``connectors.connect.batch_size``), encode each with the
configured codec — and, in the same run, the same Reports are written with
``fastavro.schemaless_writer`` alone (pre-dumped dicts: the floor any Avro-producing
connector pays). The ratio of the
two is the figure to watch; rates are records per CPU-second of this one process
(``time.process_time``, best of ``--repeat``), i.e. per core, so other load on the
machine distorts them less than wall time would.

    python -m bench.connectors --records 20000 --repeat 5

(``-m`` from the repository root: run as ``python bench/connectors.py`` the file's own
name would shadow the ``connectors`` package.)
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastavro import schemaless_writer

from connectors import REGISTRY, Arrival, Ingestor
from connectors.outputs import OutputEncoder
from connectors.simulator import generate
from gateway.settings import Settings
from schemas import catalog
from schemas.models import DeadLetterSource, Transport
from schemas.serde import SingleObjectCodec


def best_of(repeat: int, run: Callable[[], None]) -> float:
    """The smallest CPU time of ``repeat`` runs of ``run``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="simulated records over all channels")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    settings = Settings()
    ingestor = Ingestor(settings)
    encoder = OutputEncoder(settings, SingleObjectCodec())
    schema = catalog.current()["Report"].parsed
    position = DeadLetterSource(transport=Transport.KAFKA, topic="bench", partition=0, offset=0)
    received = datetime.now(UTC)
    batch = settings.connectors.connect.batch_size
    by_channel: dict[str, list[bytes]] = {name: [] for name in REGISTRY}
    for record in generate(seed=args.seed, reports=args.records, malformed=0.0).records:
        by_channel[record.channel].append(record.raw)

    machine = platform.processor() or platform.machine()
    print(f"# {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"# {args.records} simulated records in batches of {batch}, best of {args.repeat}, "
        "rates per CPU-second (one core)"
    )
    print(
        f"{'channel':<8} {'records':>8} {'decode µs':>10} {'map µs':>8} {'encode µs':>10} "
        f"{'pipeline rec/s':>15} {'fastavro rec/s':>15} {'ratio':>6}"
    )
    for name, raws in by_channel.items():
        spec, context = REGISTRY[name], ingestor.context(name)
        natives = [spec.decode(raw) for raw in raws]
        reports = [
            spec.to_report(native, raw, received, context) for native, raw in zip(natives, raws, strict=True)
        ]
        dumped = [report.model_dump() for report in reports]

        arrivals = [Arrival(raw, position, received) for raw in raws]

        def pipeline(name: str = name, arrivals: list[Arrival] = arrivals) -> None:
            for start in range(0, len(arrivals), batch):
                chunk = arrivals[start : start + batch]
                for result in ingestor.ingest_many(name, chunk):
                    encoder.encode(result, position)

        def decode_only(raws: list[bytes] = raws, decode: Callable = spec.decode) -> None:
            for raw in raws:
                decode(raw)

        def map_only(natives: list = natives, raws: list[bytes] = raws, spec=spec, context=context) -> None:
            for native, raw in zip(natives, raws, strict=True):
                spec.to_report(native, raw, received, context)

        def encode_only(reports: list = reports) -> None:
            for report in reports:
                encoder.encode(report, position)

        def plain(dumped: list = dumped) -> None:
            for datum in dumped:
                schemaless_writer(io.BytesIO(), schema, datum)

        # The fixtures (every channel's raw records; this channel's natives, Reports and dicts)
        # are the benchmark's, not the connector's: frozen, the collections the timed loops
        # trigger do not walk them. Unfrozen they cost the pipeline ~10 % on the first machine
        # measured; a connector process holds no such lists.
        gc.collect()
        gc.freeze()
        n = len(raws)
        total, fast = best_of(args.repeat, pipeline), best_of(args.repeat, plain)
        parts = [best_of(args.repeat, f) / n * 1e6 for f in (decode_only, map_only, encode_only)]
        print(
            f"{name:<8} {n:>8} {parts[0]:>10.1f} {parts[1]:>8.1f} {parts[2]:>10.1f} "
            f"{n / total:>15,.0f} {n / fast:>15,.0f} {fast / total:>6.2f}"
        )
        gc.unfreeze()


if __name__ == "__main__":
    main()
