"""CLI commands of the connectors: ``connect``, ``import``, ``ingest-http``, ``deadletter list|redrive``.

Heavy imports (Kafka clients, FastAPI) happen inside the commands so ``bingxian --help``
stays fast. A user's mistake (unknown channel, missing file, bad configuration) is one
clear line on stderr and exit code 2, never a stack trace.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from connectors.exceptions import ConfigError, ConnectorError, InputFileError, UnknownChannelError
from connectors.registry import REGISTRY
from gateway.cli_options import ConfigOption, LogLevelOption, QuietLogLevelOption
from gateway.logs import LogLevel, configure_logging
from schemas.exceptions import validation_problems
from schemas.models import DeadLetter, ErrorKind

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

_err = Console(stderr=True, soft_wrap=True)  # an error names a path: never break it across lines


@contextmanager
def _user_errors() -> Iterator[None]:
    """Mistakes a user can fix: one line and exit 2; Kafka failures: one line and exit 1."""
    from confluent_kafka import KafkaException

    from gateway.topics import TopicError

    try:
        yield
    except (UnknownChannelError, InputFileError, ConfigError) as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (ConnectorError, TopicError, KafkaException) as exc:
        _err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _settings(config: Path | None) -> Settings:
    from pydantic import ValidationError

    from gateway.settings import load_settings

    if config is not None and not config.exists():
        raise InputFileError(f"configuration file {config} does not exist")
    try:
        return load_settings(config)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise ConfigError(f"invalid configuration{f' in {config}' if config else ''}: {problems}") from None


def _channels(channel: list[str] | None, all_channels: bool) -> list[str]:
    if all_channels:
        return list(REGISTRY)
    if not channel:
        raise typer.BadParameter(f"give --channel <name> ({', '.join(REGISTRY)}) or --all")
    for name in channel:
        REGISTRY[name]  # raises UnknownChannelError naming the known channels
    return channel


def connect(
    channel: list[str] | None = typer.Option(None, "--channel", help="Channel name (repeatable)."),
    all_channels: bool = typer.Option(False, "--all", help="All channels in one process."),
    max_records: int | None = typer.Option(
        None, "--max-records", min=1, help="Stop after this many records."
    ),
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", metavar="SECONDS", help="Stop after this long without input."
    ),
    config: Path | None = ConfigOption,
    log_level: LogLevel = LogLevelOption,
) -> None:
    """Map raw channel topics to `reports` (bad records to `deadletter`), at least once."""
    configure_logging(log_level)
    with _user_errors():
        names = _channels(channel, all_channels)
        settings = _settings(config)
        from connectors.connect import Connector

        connector = Connector(settings, names)
    connector.install_signal_handlers()
    with _user_errors():
        stats = connector.run(max_records=max_records, idle_exit_s=idle_exit)
    _err.print(
        f"read {stats.total}: {sum(stats.reports.values())} reports, "
        f"{sum(stats.dead_letters.values())} dead letters"
    )


def import_file(
    path: Path = typer.Argument(
        ..., help="Export file: .csv (962121), .json/.jsonl (12345, grid), .xml (12319)."
    ),
    channel: str = typer.Option(..., "--channel", help="Channel the file comes from."),
    show: int = typer.Option(20, "--show", min=0, help="Rejected records to list in the summary."),
    config: Path | None = ConfigOption,
    log_level: LogLevel = QuietLogLevelOption,
) -> None:
    """Stream a vendor export file into the channel's raw topic (rejects to `deadletter`)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    configure_logging(log_level)
    with _user_errors():
        spec = REGISTRY[channel]
        from connectors.file_import import FileImporter, check_file

        check_file(spec, path)
        importer = FileImporter(_settings(config), channel)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=_err, transient=True) as bar:
            task = bar.add_task(f"importing {path.name}", total=path.stat().st_size)
            summary = importer.run(path, progress=lambda n: bar.advance(task, n))
    _err.print(
        f"{summary.file}: read {summary.read}, accepted {summary.accepted}, rejected {len(summary.rejected)}"
        f" → {importer.topic}"
        + (f", rejects → {importer.settings.topics.deadletter}" if summary.rejected else ""),
        highlight=False,
        soft_wrap=True,
    )
    for rejection in summary.rejected[:show]:
        _err.print(
            f"  {summary.file}:{rejection.line}: {'; '.join(rejection.problems)}",
            highlight=False,
            soft_wrap=True,
        )
    if len(summary.rejected) > show:
        _err.print(f"  … {len(summary.rejected) - show} more (bingxian deadletter list --channel {channel})")


def ingest_http(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8082, "--port", min=0, max=65535, help="Port to listen on."),
    config: Path | None = ConfigOption,
    log_level: LogLevel = LogLevelOption,
) -> None:
    """Serve POST /v1/ingest/{channel}: native records over HTTP into the raw topics."""
    import uvicorn

    configure_logging(log_level)
    with _user_errors():
        from connectors.http_ingest import create_app

        app = create_app(_settings(config))
    # log_config=None: uvicorn's own lines go through the structlog handler configured above.
    uvicorn.run(app, host=host, port=port, log_config=None, log_level=log_level.lower())


deadletter_app = typer.Typer(
    help="Inspect and redrive records that could not be mapped.", no_args_is_help=True
)

KindOption = typer.Option(None, "--kind", help="Only this error kind (e.g. VALIDATION_ERROR).")


def _kind(kind: str | None) -> ErrorKind | None:
    if kind is None:
        return None
    try:
        return ErrorKind(kind.upper())
    except ValueError:
        raise typer.BadParameter(f"--kind is one of {', '.join(k.value for k in ErrorKind)}") from None


def _where(letter: DeadLetter) -> str:
    s = letter.source
    if s.topic is not None:
        return f"{s.topic}[{s.partition}]@{s.offset}"
    if s.file is not None:
        return f"{s.file}:{s.line}"
    return f"request {s.request_id}" if s.request_id else s.transport.value


def _problem(letter: DeadLetter) -> str:
    if letter.errors:
        return "; ".join(f"{e.field}: {e.message}" for e in letter.errors)
    return letter.error_message


def _raw_text(letter: DeadLetter) -> str:
    """The original bytes as text in the channel's encoding, or base64 when they are not text."""
    import base64

    encoding = REGISTRY[letter.channel].encoding if letter.channel in REGISTRY else "utf-8"
    try:
        return letter.raw.decode(encoding)
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(letter.raw).decode("ascii")


@deadletter_app.command("list")
def deadletter_list(
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    kind: str | None = KindOption,
    limit: int = typer.Option(50, "--limit", min=1, help="Most entries to show (newest first)."),
    output: str = typer.Option("table", "--format", help="table or json."),
    show_raw: bool = typer.Option(
        False, "--show-raw", help="Include the original bytes (they may hold phone numbers)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Show pending dead letters: where each came from and why it failed."""
    configure_logging("WARNING")
    if output not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    with _user_errors():
        if channel is not None:
            REGISTRY[channel]
        settings = _settings(config)
        from connectors.deadletters import read_pending, select
        from schemas.serde import make_codec

        pending = read_pending(
            settings, make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        )
    letters = select(reversed(list(pending.letters.values())), channel=channel, kind=_kind(kind))
    shown = sorted(letters, key=lambda d: d.received_at, reverse=True)[:limit]
    if output == "json":
        import json

        items = []
        for letter in shown:
            item = letter.model_dump(mode="json", exclude={"raw"})
            if show_raw:
                item["raw"] = _raw_text(letter)
            items.append(item)
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
    else:
        _table(shown, show_raw)
    more = len(letters) - len(shown)
    _err.print(
        f"{len(letters)} pending{f' ({more} not shown)' if more > 0 else ''}"
        + (f"; {pending.unreadable} unreadable record(s) skipped" if pending.unreadable else ""),
        highlight=False,
    )


def _table(letters: list[DeadLetter], show_raw: bool) -> None:
    from rich.table import Table

    table = Table(show_lines=show_raw)
    for column in ("id", "channel", "kind", "where", "received (UTC)", "redrives", "problem"):
        table.add_column(column, overflow="fold")
    if show_raw:
        table.add_column("raw", overflow="fold")
    for letter in letters:
        row = [
            letter.dead_letter_id,
            letter.channel or "-",
            letter.error_kind.value,
            _where(letter),
            letter.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(letter.redrive_count),
            _problem(letter),
        ]
        table.add_row(*row, *([_raw_text(letter)] if show_raw else []))
    # Piped output (a file, less, a test) gets a fixed width instead of 80 columns of folded text.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@deadletter_app.command("redrive")
def deadletter_redrive(
    ids: list[str] | None = typer.Option(None, "--id", help="Dead letter id (repeatable)."),
    channel: str | None = typer.Option(None, "--channel", help="All pending dead letters of this channel."),
    kind: str | None = KindOption,
    all_pending: bool = typer.Option(False, "--all", help="Every pending dead letter."),
    config: Path | None = ConfigOption,
) -> None:
    """Re-map selected dead letters through the current mapping; successes go to `reports`."""
    configure_logging("WARNING")
    if not (ids or channel or kind or all_pending):
        raise typer.BadParameter("select with --id, --channel, --kind, or --all")
    with _user_errors():
        if channel is not None:
            REGISTRY[channel]
        settings = _settings(config)
        from connectors.deadletters import read_pending, redrive, select
        from schemas.serde import make_codec

        codec = make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        pending = read_pending(settings, codec)
        chosen = select(pending.letters.values(), ids=ids or (), channel=channel, kind=_kind(kind))
        missing = sorted(set(ids or ()) - {d.dead_letter_id for d in chosen})
        result = redrive(settings, chosen, codec=codec)
    _err.print(
        f"selected {len(chosen)}: {len(result.redriven)} redriven to {settings.topics.reports}, "
        f"{len(result.still_failing)} still failing, {len(result.skipped)} not channel records",
        highlight=False,
        soft_wrap=True,
    )
    if missing:
        _err.print(f"not pending: {', '.join(missing)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the connectors' commands to the ``bingxian`` CLI."""
    app.command("connect")(connect)
    app.command("import")(import_file)
    app.command("ingest-http")(ingest_http)
    app.add_typer(deadletter_app, name="deadletter")
