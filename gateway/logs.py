"""structlog, configured in one place.

JSON lines when stdout is not a terminal (what a log shipper wants), a readable
console renderer on a terminal (what an operator wants). The standard library's
``logging`` (uvicorn, confluent-kafka's ``logger=`` hook for librdkafka) is routed
through the same processors so every line has one shape.

Context such as ``report_id``, ``ticket_id`` and ``channel`` is bound with
``structlog.contextvars.bound_contextvars`` around the handling of one record.
Caller names and numbers must never be bound or logged: use the keyed
``contact_hash`` or the masked form.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Configure structlog and the standard library once per process."""
    global _configured
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # filter_by_level first: a debug line below the level costs a level check, not a render.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else (lambda _l, _m, e: e),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _configured = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger; configures logging with defaults on first use."""
    if not _configured:
        configure_logging()
    return structlog.stdlib.get_logger(name)


def librdkafka_logger(name: str = "librdkafka") -> logging.Logger:
    """A stdlib logger to pass as confluent-kafka's ``logger=`` so librdkafka logs go through structlog."""
    if not _configured:
        configure_logging()
    return logging.getLogger(name)
