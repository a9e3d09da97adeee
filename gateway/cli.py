"""The ``bingxian`` command line.

Each area registers its own commands (``connectors.cli``, ``dedup.cli``,
``gateway.*``); this module only assembles them, so ``bingxian --help`` lists
every subcommand with its one-line help.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="bingxian",
    help="并线 bingxian: merge a city's complaint hotlines into one deduplicated dispatch queue.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that expose ``register(app)``. Listed here, in data-flow order.
_COMMAND_MODULES = (
    "gateway.kafka_cli",
    "schemas.cli",
    "connectors.simulator.cli",
    "connectors.cli",
    "dedup.cli",
    "gateway.service_cli",
)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the area has no commands yet
                continue
            raise
        module.register(app)


_register_all()
