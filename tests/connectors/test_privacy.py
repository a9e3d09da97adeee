"""No raw phone number in any Report field but `raw`, in any log line, or in CLI output, for all channels."""

from __future__ import annotations

import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from connectors import REGISTRY, Ingestor, examples
from connectors.connect import Connector
from connectors.file_import import FileImporter
from connectors.http_ingest import create_app
from connectors.settings import HttpIngestSettings
from connectors.simulator import generate, write_files
from gateway.cli import app
from gateway.logs import configure_logging
from gateway.settings import Settings
from gateway.testing import produce_all, write_config
from schemas.models import DeadLetterSource, Report, Transport
from schemas.privacy import normalize_phone

PHONE_FIELDS = {"12345": "callerPhone", "12319": "reporterPhone", "962121": "联系电话", "grid": None}
POSITION = DeadLetterSource(transport=Transport.KAFKA, topic="raw", partition=0, offset=0)


def _phones(channel: str, raw: bytes) -> set[str]:
    """The caller's number in a native record, as digits (what must never leak)."""
    spec = REGISTRY[channel]
    try:
        native = spec.decode(raw)
    except Exception:  # a malformed record: take every 11-digit run from its text instead
        text = unicodedata.normalize("NFKC", raw.decode(spec.encoding, "replace"))
        return set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", re.sub(r"[\s-]", "", text)))
    phone = {"12345": "caller_phone", "12319": "reporter_phone", "962121": "phone"}.get(channel)
    value = getattr(native, phone) if phone else None
    digits = normalize_phone(value) if value else None
    return {digits} if digits and len(digits) >= 7 else set()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _leaks(text: str, phones: set[str]) -> set[str]:
    folded = re.sub(r"[\s\-+]", "", unicodedata.normalize("NFKC", text))
    return {p for p in phones if p in folded}


@pytest.fixture(scope="module")
def simulated() -> list[tuple[str, bytes]]:
    """500 simulated records of all channels (with callers' numbers), malformed ones included."""
    return [(r.channel, r.raw) for r in generate(seed=11, reports=500).records]


def test_reports_carry_no_phone_number_outside_raw(
    ingestor: Ingestor, simulated: list[tuple[str, bytes]]
) -> None:
    """Every string in every mapped Report (raw excluded) is free of the caller's number."""
    checked = 0
    for channel, raw in [*simulated, *examples.RAW.items()]:
        phones = _phones(channel, raw)
        result = ingestor.ingest(channel, raw, POSITION, datetime.now(UTC))
        dump = result.model_dump(mode="json", exclude={"raw"})
        for text in _strings(dump):
            assert not _leaks(text, phones), (channel, text)
        checked += bool(phones and isinstance(result, Report))
    assert checked > 100


@contextmanager
def _all_log_output() -> Iterator[tuple[io.StringIO, list[dict[str, Any]]]]:
    """Every rendered log line (structlog and stdlib, DEBUG and up) plus structlog's captured events."""
    configure_logging("DEBUG", json=True)
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        with structlog.testing.capture_logs() as captured:
            yield stream, captured
    finally:
        root.removeHandler(handler)
        configure_logging("INFO")


def test_no_phone_number_in_logs_or_cli_output(
    kafka_settings: Settings, simulated: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """Connect, file import, HTTP ingest and `deadletter list` log and print no caller number."""
    phones = set().union(*(_phones(c, r) for c, r in simulated))
    bad_12345 = json.loads(examples.HOTLINE_12345)
    bad_12345["callTime"] = "13800135678"  # a number in the wrong field ends up in an error message
    phones.add("13800135678")
    tokens = {name: SecretStr("t") for name in REGISTRY}
    settings = kafka_settings.model_copy(
        update={
            "connectors": kafka_settings.connectors.model_copy(
                update={"http": HttpIngestSettings(tokens=tokens)}
            )
        }
    )
    with _all_log_output() as (stream, captured):
        for channel in REGISTRY:
            records = [(None, raw) for c, raw in simulated if c == channel]
            produce_all(settings.kafka.bootstrap_servers, settings.topics.raw[channel], records)
        produce_all(
            settings.kafka.bootstrap_servers,
            settings.topics.raw["12345"],
            [(None, json.dumps(bad_12345, ensure_ascii=False).encode())],
        )
        Connector(settings, list(REGISTRY)).run(max_records=len(simulated) + 1)
        paths = write_files(generate(seed=12, reports=200), tmp_path)
        for channel in REGISTRY:
            FileImporter(settings, channel).run(paths[channel])
        with TestClient(create_app(settings)) as client:
            response = client.post(
                "/v1/ingest/12345",
                content=json.dumps(bad_12345, ensure_ascii=False).encode(),
                headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
            )
            assert response.status_code == 400
            assert not _leaks(response.text, phones)
        config = str(write_config(settings, tmp_path / "c.yaml"))
        listed = CliRunner().invoke(
            app, ["deadletter", "list", "--format", "json", "--limit", "1000", "-c", config]
        )
        table = CliRunner().invoke(app, ["deadletter", "list", "--limit", "1000", "-c", config])
    # structlog loggers cached before the capture keep rendering to the stream; fresh ones are captured.
    lines = stream.getvalue() + "\n".join(
        json.dumps(event, ensure_ascii=False, default=str) for event in captured
    )
    assert "report mapped" in lines
    assert "dead letter" in lines
    assert "ingest refused" in lines
    assert not _leaks(lines, phones)
    assert listed.exit_code == 0
    assert not _leaks(listed.output, phones)
    assert not _leaks(table.output, phones)
