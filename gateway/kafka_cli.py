"""``bingxian kafka``: a real Apache Kafka broker on this machine, without Docker.

stdout carries only what a script wants (paths, ``export`` lines), so that
``eval "$(bingxian kafka up)"`` works; progress and logs go to stderr. A user's
mistake (no Java, a busy port) is one clear line and a non-zero exit, not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gateway.localkafka import LocalKafka, LocalKafkaError, fetch

DEFAULT_DIR = Path(".bingxian/kafka")

kafka_app = typer.Typer(
    help="Run a local Apache Kafka broker from Maven Central jars (no Docker needed).",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path,
    typer.Option("--dir", help="State directory (config, data, logs, pid).", show_default=True),
]


def register(app: typer.Typer) -> None:
    """Add the ``kafka`` command group to the ``bingxian`` CLI."""
    app.add_typer(kafka_app, name="kafka")


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except LocalKafkaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@kafka_app.command("fetch")
def fetch_command() -> None:
    """Download the Kafka jars into the user cache (once; later runs need no network)."""
    with _user_errors():
        jars = fetch()
    typer.echo(jars.lib)


@kafka_app.command()
def up(
    port: Annotated[
        int | None,
        typer.Option("--port", help="Client port on 127.0.0.1 (default: the previous one, or a free one)."),
    ] = None,
    state_dir: StateDir = DEFAULT_DIR,
) -> None:
    """Start a single-node broker in the background and print its bootstrap servers."""
    with _user_errors():
        bootstrap = LocalKafka(state_dir, port=port).start()
    typer.echo(f"export KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
    typer.echo(f"export BINGXIAN_KAFKA__BOOTSTRAP_SERVERS={bootstrap}")
    typer.echo(f"Kafka is up at {bootstrap}; stop it with `bingxian kafka down`.", err=True)


@kafka_app.command()
def status(state_dir: StateDir = DEFAULT_DIR) -> None:
    """Show whether the broker runs (exit code 0) or not (exit code 1)."""
    broker = LocalKafka(state_dir).status()
    if not broker.running:
        typer.echo(f"not running (state directory {broker.state_dir})")
        raise typer.Exit(1)
    if not broker.answering:
        typer.echo(f"pid {broker.pid} runs but does not answer at {broker.bootstrap_servers or '?'}")
        raise typer.Exit(1)
    typer.echo(
        f"running: Apache Kafka {broker.version}, pid {broker.pid}, "
        f"bootstrap {broker.bootstrap_servers}, {broker.topics} topics"
    )


@kafka_app.command()
def down(state_dir: StateDir = DEFAULT_DIR) -> None:
    """Stop the broker; its data stays in the state directory for the next `up`."""
    with _user_errors():
        pid = LocalKafka(state_dir).stop()
    typer.echo(f"stopped (pid {pid})" if pid is not None else "not running")
