"""Options several commands share, declared once so that flags, defaults and help read alike.

``bingxian`` gathers commands from ``connectors.cli`` and ``gateway.service_cli``; an
option each declared for itself drifted (``run`` took its ``--log-level`` name from the
parameter, ``import`` spelled it out).
"""

from __future__ import annotations

from typing import Any

import typer

from gateway.logs import LogLevel

ConfigOption = typer.Option(None, "--config", "-c", help="Configuration YAML (or set BINGXIAN_CONFIG).")


def _log_level(default: LogLevel) -> Any:
    """``--log-level``: the five level names in any case; anything else is exit 2 naming them."""
    return typer.Option(default, "--log-level", case_sensitive=False, help="Log level.")


LogLevelOption = _log_level(LogLevel.INFO)
# ``import`` shows a progress bar on the terminal; INFO lines would tear through it.
QuietLogLevelOption = _log_level(LogLevel.WARNING)
