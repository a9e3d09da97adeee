"""Logging is set up in one place: JSON lines off a terminal, the console renderer on one."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from gateway.logs import configure_logging, get_logger, librdkafka_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put the root logger back as the rest of the suite had it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_carry_bound_ids_for_structlog_stdlib_librdkafka(capsys: pytest.CaptureFixture) -> None:
    """structlog, a stdlib logger (uvicorn) and librdkafka's hook all come out as JSON with the bound ids."""
    configure_logging("INFO", json=True)
    with structlog.contextvars.bound_contextvars(report_id="RPT-1", ticket_id="TK-1"):
        get_logger("gateway.processor").info("report merged", score=9.5)
        logging.getLogger("uvicorn.error").warning("port in use")
    librdkafka_logger().warning("FAIL [thrd:main]: broker down")
    get_logger("gateway.processor").debug("below the level")
    lines = _lines(capsys.readouterr().err)
    assert [(x["logger"], x["event"], x["level"]) for x in lines] == [
        ("gateway.processor", "report merged", "info"),
        ("uvicorn.error", "port in use", "warning"),
        ("librdkafka", "FAIL [thrd:main]: broker down", "warning"),
    ]
    assert lines[0]["report_id"] == lines[1]["report_id"] == "RPT-1"
    assert lines[0]["ticket_id"] == "TK-1"
    assert lines[0]["score"] == 9.5
    assert "report_id" not in lines[2]
    assert all(x["timestamp"].endswith("Z") for x in lines)


def test_console_renderer_on_a_terminal(capsys: pytest.CaptureFixture) -> None:
    """On a terminal (json=False) a line is for people: not JSON, event and fields readable."""
    configure_logging("INFO", json=False)
    get_logger("gateway.service").info("partition restored", partition=2)
    (line,) = capsys.readouterr().err.splitlines()
    assert "partition restored" in line
    assert "partition=2" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_logger_follows_each_new_configuration(capsys: pytest.CaptureFixture) -> None:
    """A module-level logger obtained before configuring takes each later level and format."""
    log = get_logger("gateway.service")
    configure_logging("WARNING", json=True)
    log.info("hidden")
    log.warning("shown", partition=1)
    configure_logging("DEBUG", json=True)
    log.debug("now shown")
    assert [x["event"] for x in _lines(capsys.readouterr().err)] == ["shown", "now shown"]
    assert log.is_enabled_for(logging.DEBUG)


def test_a_closed_stream_loses_the_line_not_the_caller(capsys: pytest.CaptureFixture) -> None:
    """Lines go to the stderr of the moment; one that cannot be written is dropped without raising."""
    import sys

    configure_logging("INFO", json=True)
    log = get_logger("connectors.connect")
    closed = open(os.devnull, "w")  # noqa: SIM115 - closed on purpose below
    closed.close()
    real, sys.stderr = sys.stderr, closed
    try:
        log.info("lost")  # a CLI command's captured stderr, closed after the command, behaves so
    finally:
        sys.stderr = real
    log.info("kept")
    assert [x["event"] for x in _lines(capsys.readouterr().err)] == ["kept"]


@pytest.mark.parametrize(
    "command",
    [["run"], ["connect", "--all"], ["ingest-http"], ["import", "export.csv", "--channel", "962121"]],
)
def test_an_unknown_log_level_is_a_usage_error_not_a_traceback(command: list[str]) -> None:
    """`--log-level` takes the five level names in any case; anything else stops with exit 2."""
    from typer.testing import CliRunner

    from gateway.cli import app

    result = CliRunner().invoke(app, [*command, "--log-level", "loud"])
    assert result.exit_code == 2
    assert "Invalid value for '--log-level'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
