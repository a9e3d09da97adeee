"""``bingxian simulate``: realistic traffic of the four channels, to files or to the raw topics."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connectors.simulator.truth import Simulation

_err = Console(stderr=True, soft_wrap=True)  # an error names a path: never break it across lines


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the ``bingxian`` CLI."""
    app.command("simulate")(simulate)


def simulate(
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same bytes.")] = 1,
    reports: Annotated[
        int, typer.Option("--reports", min=0, help="Number of native records in all.")
    ] = 10_000,
    city: Annotated[
        str, typer.Option("--city", help="City data under connectors/simulator/data/.")
    ] = "shanghai",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write per-channel files and truth.jsonl into this directory."),
    ] = None,
    kafka: Annotated[
        str | None, typer.Option("--kafka", help="Produce to the raw topics of these bootstrap servers.")
    ] = None,
    malformed: Annotated[
        float, typer.Option("--malformed", min=0.0, max=1.0, help="Share of deliberately broken records.")
    ] = 0.05,
    start: Annotated[
        datetime | None,
        typer.Option("--start", help="Start of the simulated period (default 2026-11-01 00:00, Shanghai)."),
    ] = None,
    status_changes: Annotated[
        bool,
        typer.Option("--status-changes/--no-status-changes", help="With --kafka: also post ticket closures."),
    ] = True,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Configuration YAML (topic names, Kafka client).")
    ] = None,
) -> None:
    """Generate native records of 12345, 12319, 962121 and the grid app, with ground truth."""
    from connectors.exceptions import ConfigError, DeliveryError
    from connectors.simulator import generate, produce, write_files

    if out is None and kafka is None:
        raise typer.BadParameter("give --out DIR, --kafka BOOTSTRAP, or both")
    began = time.perf_counter()
    try:
        sim = generate(seed, reports, city=city, malformed=malformed, start=start)
    except ConfigError as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    took = time.perf_counter() - began
    if out is not None:
        paths = write_files(sim, out)
        _err.print(f"wrote {len(paths)} files to {out}")
    if kafka is not None:
        from gateway.settings import load_settings

        settings = load_settings(config)
        try:
            counts = produce(
                sim,
                settings.kafka.client_config(**{"bootstrap.servers": kafka}),
                settings.topics,
                status_changes=status_changes,
            )
        except DeliveryError as exc:
            _err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
        _err.print("produced " + ", ".join(f"{n} to {topic}" for topic, n in sorted(counts.items())))
    _summary(sim, took)


def _summary(sim: Simulation, took: float) -> None:
    kinds = Counter((r.channel, r.kind.value) for r in sim.records)
    names = ("original", "repeat", "near_miss", "single", "malformed")
    table = Table(title=f"simulated {len(sim.records)} records of {len(sim.issues)} issues in {took:.1f} s")
    table.add_column("channel")
    for name in names:
        table.add_column(name, justify="right")
    for channel in ("12345", "12319", "962121", "grid"):
        table.add_row(channel, *(str(kinds[(channel, n)]) for n in names))
    _err.print(table)
    _err.print(f"{len(sim.closures)} issues closed")
