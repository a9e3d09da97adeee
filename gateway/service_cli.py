"""CLI commands of the gateway: ``run``, ``replay``, ``subscribe``, ``status``.

Imports of the heavy parts happen inside the commands so ``bingxian --help``
stays fast and a broken optional area cannot take the whole CLI down.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gateway.cli_options import ConfigOption, LogLevelOption
from gateway.logs import LogLevel, configure_logging

_err = Console(stderr=True, soft_wrap=True)  # an error names a path: never break it across lines
_out = Console()


def _settings(config: Path | None):  # noqa: ANN202 - Settings is imported lazily
    from pydantic import ValidationError

    from gateway.settings import load_settings
    from schemas.exceptions import field_path

    if config is not None and not config.exists():
        _err.print(f"[red]error:[/] configuration file {config} does not exist")
        raise typer.Exit(2)
    try:
        return load_settings(config)
    except ValidationError as exc:
        _err.print(f"[red]error:[/] invalid configuration{f' in {config}' if config else ''}:")
        for problem in exc.errors():
            _err.print(f"  {field_path(problem['loc'])}: {problem['msg']}")
        raise typer.Exit(2) from None


@contextmanager
def _user_errors() -> Iterator[None]:
    """A file the user can fix (routing catalogue, dedup model, …): one line naming it, exit 2."""
    from schemas.exceptions import BingxianError

    try:
        yield
    except BingxianError as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _kafka_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Kafka unreachable or refusing (a mistyped address, a broker down): one line and exit 1.

    The first call that needs the cluster raises; without this, a wrong
    ``kafka.bootstrap_servers`` in the configuration ended every gateway command in a traceback.
    """

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> None:
        from confluent_kafka import KafkaException

        from gateway.topics import TopicError

        try:
            command(*args, **kwargs)
        except (KafkaException, TopicError) as exc:
            error = exc.args[0] if exc.args else exc
            reason = error.str() if hasattr(error, "str") else str(error)
            _err.print(
                f"[red]error:[/] Kafka: {reason} (is the broker up, and kafka.bootstrap_servers right?)",
                highlight=False,
            )
            raise typer.Exit(1) from None

    return checked


def run(
    config: Path | None = ConfigOption,
    idle_exit: float | None = typer.Option(
        None, help="Stop after this many seconds without input (tests, demos)."
    ),
    log_level: LogLevel = LogLevelOption,
) -> None:
    """Run the gateway service: reports → dedup → tickets, exactly once."""
    configure_logging(log_level)
    settings = _settings(config)
    from gateway.service import GatewayError, GatewayService

    with _user_errors():  # the routing catalogue and the dedup model are read and validated here
        service = GatewayService(settings)
    service.install_signal_handlers()
    try:
        service.run(idle_exit_s=idle_exit)
    except GatewayError as exc:  # already logged with its reason; a supervisor restarts the service
        _err.print(f"[red]error:[/] the gateway stopped: {exc}", highlight=False)
        raise typer.Exit(1) from None


def replay(
    name: str | None = typer.Option(None, help="Write to replay.<name>.* topics."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Produce nothing; print the diff against live tickets."
    ),
    start: str | None = typer.Option(None, "--from", help="ISO time (with zone) or offset to start at."),
    stop: str | None = typer.Option(None, "--to", help="ISO time (with zone) or offset to stop before."),
    dedup_model: Path | None = typer.Option(None, help="Try another dedup model file."),
    routing: Path | None = typer.Option(None, help="Try another routing catalogue."),
    source: str = typer.Option(
        "reports",
        help="reports: the reports topic as mapped live; raw: the raw topics mapped again with the "
        "configured tables (after a mapping fix), plus ticket-status.",
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Re-run the pipeline over a range of reports, deterministically: to a separate prefix, or a dry run."""
    configure_logging("WARNING")
    if (name is None) == (not dry_run):
        _err.print("[red]error:[/] give exactly one of --name NAME or --dry-run")
        raise typer.Exit(2)
    settings = _settings(config)
    from connectors.exceptions import DeliveryError
    from dedup import TicketIndex, load_model
    from gateway.positions import Position, PositionError
    from gateway.replay import ReplayOutputExistsError, ReplaySource, diff_tickets, read_latest, run_replay
    from gateway.routing import Router, load_catalogue
    from schemas.serde import make_codec

    try:
        what = ReplaySource(source)
    except ValueError:
        _err.print(f"[red]error:[/] --source must be reports or raw, not {source!r}")
        raise typer.Exit(2) from None
    try:
        first = Position.parse(start) if start else None
        last = Position.parse(stop) if stop else None
        if what is ReplaySource.RAW and any(p is not None and p.time_ms is None for p in (first, last)):
            raise PositionError("--source raw takes ISO times for --from/--to: offsets differ per topic")
    except PositionError as exc:
        _err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    for path in (dedup_model, routing):
        if path is not None and not path.exists():
            _err.print(f"[red]error:[/] {path} does not exist")
            raise typer.Exit(2)
    codec = make_codec(settings.schema_registry.url, settings.schema_registry.extra)
    with _user_errors():
        model = load_model(dedup_model or settings.gateway.dedup_model)
        router = Router(load_catalogue(routing or settings.gateway.routing_file))
    columns = (
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, TextColumn("{task.fields[rate]}"), console=_err) as progress:
        task = progress.add_task("replay", total=None, rate="")
        began = datetime.now(UTC)

        def on_progress(done: int, total: int) -> None:
            if done % 500 == 0 or done == total:
                seconds = max((datetime.now(UTC) - began).total_seconds(), 1e-6)
                progress.update(task, completed=done, total=total, rate=f"{done / seconds:,.0f} reports/s")

        try:
            result = run_replay(
                settings,
                codec=codec,
                router=router,
                index_factory=lambda: TicketIndex(model),
                start=first,
                stop=last,
                name=name,
                source=what,
                on_progress=on_progress,
            )
        except ReplayOutputExistsError as exc:
            progress.stop()
            _err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except DeliveryError as exc:
            progress.stop()
            _err.print(
                f"[red]error:[/] the replay's output is incomplete: {exc}. Delete the replay.{name}.* "
                "topics, fix the cause and run it again.",
                highlight=False,
            )
            raise typer.Exit(1) from None
    seconds = (datetime.now(UTC) - began).total_seconds()
    created = sum(s.created for s in result.stats)
    merged = sum(s.merged for s in result.stats)
    review = sum(s.review for s in result.stats)
    _out.print(
        f"replayed {result.records} records in {seconds:.1f}s: {created} tickets, {merged} merges, "
        f"{review} in review"
        + (
            f"; {result.mapping_dead_letters} raw records the mapping rejected"
            if what is ReplaySource.RAW
            else ""
        )
        + (f"; {result.produced} records written to replay.{name}.*" if name else "")
    )
    if dry_run:
        diff = diff_tickets(result.tickets, read_latest(settings, settings.topics.tickets, codec))
        table = Table(title="dry run: replay vs live tickets")
        table.add_column("difference")
        table.add_column("tickets", justify="right")
        table.add_column("examples")
        for label, items in (
            ("would be created (not live)", diff.only_in_replay),
            ("live but not in replay", diff.only_in_live),
            ("merged differently", diff.merged_differently),
            ("routed differently", diff.routed_differently),
        ):
            table.add_row(label, str(len(items)), ", ".join(items[:3]))
        _out.print(table)
        _out.print("no differences" if diff.empty else "differences found")


def subscribe(
    department: str = typer.Option(..., help="Department code, e.g. shizheng."),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="Start at the oldest ticket."),
    since: str | None = typer.Option(None, help="Start at this ISO time (with zone)."),
    output: str = typer.Option("table", "--format", help="table or json."),
    idle_exit: float | None = typer.Option(None, help="Stop after this many seconds without tickets."),
    config: Path | None = ConfigOption,
) -> None:
    """Follow a department's ticket topic: one line per ticket (masked caller, category, deadline)."""
    configure_logging("WARNING")
    if output not in ("table", "json"):
        _err.print("[red]error:[/] --format must be table or json")
        raise typer.Exit(2)
    settings = _settings(config)
    from gateway.positions import Position, PositionError
    from gateway.subscribe import TABLE_HEADER, UnknownTopicError, follow, json_line, table_row
    from schemas.serde import make_codec

    try:
        position = Position.parse(since) if since else None
    except PositionError as exc:
        _err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if position is not None and position.time_ms is None:
        _err.print("[red]error:[/] --since takes an ISO time with a zone, e.g. 2026-11-01T08:00+08:00")
        raise typer.Exit(2)
    codec = make_codec(settings.schema_registry.url, settings.schema_registry.extra)
    tickets = follow(
        settings, department, codec, from_beginning=from_beginning, since=position, idle_exit_s=idle_exit
    )
    try:
        if output == "json":
            for ticket in tickets:
                sys.stdout.write(json_line(ticket) + "\n")
                sys.stdout.flush()
            return
        _out.print("  ".join(TABLE_HEADER), style="bold")
        for ticket in tickets:
            # Data, not markup; one line per ticket even when piped (rich wraps at 80 columns).
            _out.print("  ".join(table_row(ticket)), highlight=False, markup=False, soft_wrap=True)
    except UnknownTopicError as exc:
        _err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


def demo(
    reports: int = typer.Option(3000, help="Simulated native records to send."),
    seed: int = typer.Option(1, help="Simulator seed."),
    rate: float = typer.Option(300.0, help="Records per second sent into the raw topics."),
    exit_when_done: bool = typer.Option(False, "--exit-when-done", help="Stop once the traffic is through."),
) -> None:
    """Run the whole pipeline locally on simulated traffic and show it live (Ctrl-C stops it)."""
    from gateway.demo import run_demo

    raise typer.Exit(
        run_demo(reports=reports, seed=seed, rate=rate, exit_when_done=exit_when_done, console=_out)
    )


review_app = typer.Typer(
    help="The dispatch centre's review queue: tickets dedup was unsure about; merge a confirmed repeat.",
    no_args_is_help=True,
)


def _dispatch_queue(settings):  # noqa: ANN001, ANN202 - Settings is imported lazily
    from gateway.replay import read_latest
    from schemas.serde import make_codec

    codec = make_codec(settings.schema_registry.url, settings.schema_registry.extra)
    return codec, read_latest(settings, settings.topics.tickets, codec)


@review_app.command("list")
@_kafka_errors
def review_list(
    limit: int = typer.Option(20, min=1, help="Most flagged tickets to show, oldest first."),
    config: Path | None = ConfigOption,
) -> None:
    """Open tickets flagged as possible duplicates of another open ticket, with dedup's reason."""
    configure_logging("WARNING")
    settings = _settings(config)
    from gateway.review import pending

    _, tickets = _dispatch_queue(settings)
    flagged = pending(tickets)
    _out.print(f"{len(flagged)} flagged tickets awaiting a decision (oldest first)", style="bold")
    for item in flagged[:limit]:
        t, c = item.ticket, item.candidate
        line = (
            f"{t['ticket_id']}  {t['first_reported_at']:%m-%d %H:%M}  {t['category']['name']}  "
            f"{(t['location']['address'] or '-')[:28]}  may repeat  {c['ticket_id']}  "
            f"{c['category']['name']}  {(c['location']['address'] or '-')[:28]}"
        )
        # Data, not markup; one line per ticket even when piped, as `subscribe` prints them.
        _out.print(line, highlight=False, markup=False, soft_wrap=True)
        _out.print(f"    {item.explanation}", highlight=False, markup=False, soft_wrap=True, style="dim")
    if flagged:
        _out.print(f"merge a confirmed repeat: bingxian review merge {flagged[0].ticket['ticket_id']}")


@review_app.command("merge")
@_kafka_errors
def review_merge(
    ticket: str = typer.Argument(..., help="The repeat: the ticket to close and merge away."),
    into: str | None = typer.Option(
        None, help="The ticket it repeats; the one it was flagged against if unset."
    ),
    note: str | None = typer.Option(None, help="Why (kept on the repeat's closing event)."),
    actor: str = typer.Option(
        os.environ.get("USER", "dispatcher"), help="Who decides (kept in the audit trail)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Merge a confirmed repeat into the ticket it repeats (人工并单): its reports move, it closes."""
    configure_logging("WARNING")
    settings = _settings(config)
    from gateway.review import NotDeliveredError, ReviewError, merge_change, merge_target, post
    from gateway.routing import load_catalogue

    codec, tickets = _dispatch_queue(settings)
    try:
        target = merge_target(tickets, ticket, into)
        with _user_errors():
            department = load_catalogue(settings.gateway.routing_file).dispatch_centre
        change = merge_change(
            ticket, target, department=department, actor=actor, note=note, at=datetime.now(UTC)
        )
        post(settings, codec, change)
    except ReviewError as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except NotDeliveredError as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    _out.print(f"posted: {ticket} → {target} (change {change.change_id}); the gateway applies it in order")


def register(app: typer.Typer) -> None:
    """Add the gateway's commands to the CLI."""
    app.command("demo")(demo)
    app.command("run")(_kafka_errors(run))
    app.command("replay")(_kafka_errors(replay))
    app.command("subscribe")(_kafka_errors(subscribe))
    app.add_typer(review_app, name="review")
