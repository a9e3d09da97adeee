"""structlog, configured in one place.

JSON lines when stdout is not a terminal (what a log shipper wants), a readable
console renderer on a terminal (what an operator wants). The standard library's
``logging`` (uvicorn, confluent-kafka's ``logger=`` hook for librdkafka) is routed
through the same processors so every line has one shape.

Our own lines do not go through the standard library: a structlog logger that filters
by level in its methods renders straight to stderr. Through ``logging`` (a ``LogRecord``,
copied again by the formatter, and a caller lookup per line) a line cost ~26 µs, now
~6 µs, and a line below the level ~2.3 µs, now ~0.6 µs. At INFO the gateway writes a
line per merge and per status change: that was a sixth of its time per record
(docs/benchmarks.md, "logging without the standard library").

Context such as ``report_id``, ``ticket_id`` and ``channel`` is bound with
``structlog.contextvars.bound_contextvars`` around the handling of one record.
Caller names and numbers must never be bound or logged: use the keyed
``contact_hash`` or the masked form.
"""

from __future__ import annotations

import json as stdlib_json
import logging
import sys
from enum import StrEnum
from typing import Any

import orjson
import structlog


class LogLevel(StrEnum):
    """The levels ``--log-level`` takes (any case); the CLI refuses others before anything runs."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


_configured = False
#: Bumped by every ``configure_logging``: a ``Logger`` then binds to the new configuration.
_generation = 0


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Configure structlog and the standard library; a later call replaces the earlier one."""
    global _configured, _generation
    if level.upper() not in LogLevel.__members__:
        raise ValueError(f"unknown log level {level!r} ({', '.join(LogLevel)})")
    number = logging.getLevelNamesMapping()[level.upper()]
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    exceptions: list[Any] = [structlog.processors.format_exc_info] if json else []
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        logger_factory=_StderrLogger,
        wrapper_class=structlog.make_filtering_bound_logger(number),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exceptions,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)
    _configured = True
    _generation += 1


class _StderrLogger:
    """Writes each rendered line to the process's stderr of the moment, and never raises.

    The moment's, not the one at configuration: a CLI command run in-process (tests,
    the demo) configures logging while its stderr is a capture that is closed afterwards.
    Never raising, as ``logging`` handlers do: a closed or broken stream loses the line,
    not the record being processed.
    """

    def __init__(self, *_args: object) -> None:  # structlog's logger factories take the get_logger args
        pass

    def msg(self, message: str) -> None:
        try:
            stream = sys.stderr
            stream.write(message + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    debug = info = warning = warn = error = err = critical = fatal = exception = failure = log = msg


def _dumps(event: dict[str, Any], **kwargs: Any) -> str:
    """One JSON line: orjson (a third of the standard library's cost), which refuses what JSON can't say.

    ``kwargs`` is the renderer's ``default`` (the repr of values JSON has no type for); a
    value orjson still refuses (an integer over 64 bits) takes the standard library.
    """
    try:
        return orjson.dumps(event, default=kwargs.get("default"), option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return stdlib_json.dumps(event, ensure_ascii=False, **kwargs)


class Logger:
    """A named logger (``debug``, ``info``, ``warning``, ``error``, ``exception``, ``is_enabled_for`` …).

    It holds a structlog logger bound to the configuration in force and to its name
    (the ``logger`` field of every line), and binds again after ``configure_logging``
    was called (a CLI command sets its level; tests switch to JSON), so a module-level
    ``log = get_logger(__name__)`` always writes with the current level and stream.
    """

    __slots__ = ("_bound", "_generation", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._bound: Any = None
        self._generation = -1

    def __getattr__(self, method: str) -> Any:
        if self._generation != _generation:
            if not _configured:
                configure_logging()
            self._bound = structlog.get_logger().bind(logger=self.name)
            self._generation = _generation
        return getattr(self._bound, method)


def get_logger(name: str) -> Logger:
    """The logger for ``name`` (a module's ``__name__``); configures logging with defaults on first use."""
    return Logger(name)


def librdkafka_logger(name: str = "librdkafka") -> logging.Logger:
    """A stdlib logger to pass as confluent-kafka's ``logger=`` so librdkafka logs go through structlog."""
    if not _configured:
        configure_logging()
    return logging.getLogger(name)
