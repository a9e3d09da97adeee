"""`bingxian deadletter list|redrive` on a real broker: readable, no phone numbers, redrive after a fix."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from typer.testing import CliRunner

from connectors import REGISTRY, ChannelRegistry, Ingestor, examples
from connectors.channels import grid
from connectors.connect import Connector
from connectors.deadletters import read_pending, redrive, select
from gateway.cli import app
from gateway.settings import Settings
from gateway.testing import produce_all, read_topic, write_config
from schemas.models import ErrorKind, Report
from schemas.serde import SingleObjectCodec, decode

CODEC = SingleObjectCodec()
PHONE = "13800135678"


def _grid(event_id: str, happen: str) -> bytes:
    record = json.loads(examples.GRID)
    record.update(eventId=event_id, happenTime=happen, description=f"请回电{PHONE}")
    return json.dumps(record, ensure_ascii=False).encode()


def _seed(settings: Settings) -> None:
    """Two grid events with a time format the mapping does not know, one hopeless record, one valid."""
    records = [
        _grid("E-1", "下午3点"),
        _grid("E-2", "下午3点"),
        b"{oops",
        _grid("E-3", "2026-11-01 15:00:00"),
    ]
    produce_all(settings.kafka.bootstrap_servers, settings.topics.raw["grid"], [(None, r) for r in records])
    assert Connector(settings, ["grid"]).run(max_records=4).dead_letters == {"grid": 3}


def _fixed_ingestor(settings: Settings) -> Ingestor:
    """The mapping after a fix: it learned that 下午3点 means 15:00 on the day of the report."""

    def decode_fixed(raw: bytes) -> grid.GridEvent:
        return grid.decode(raw.replace("下午3点".encode(), b"2026-11-01 15:00:00"))

    specs = [
        dataclasses.replace(s, decode=decode_fixed) if s.name == "grid" else s for s in REGISTRY.values()
    ]
    return Ingestor(settings, registry=ChannelRegistry(specs))


def test_list_is_readable_and_never_shows_phone_numbers(kafka_settings: Settings, tmp_path: Path) -> None:
    """Table and JSON name the position and the field; the raw bytes appear only with --show-raw."""
    _seed(kafka_settings)
    config = str(write_config(kafka_settings, tmp_path / "c.yaml"))
    runner = CliRunner()
    table = runner.invoke(app, ["deadletter", "list", "--config", config])
    assert table.exit_code == 0, table.output
    assert "happenTime: unrecognised time format" in table.output
    assert f"{kafka_settings.topics.raw['grid']}[" in table.output
    assert "3 pending" in table.output
    as_json = runner.invoke(
        app, ["deadletter", "list", "--format", "json", "--kind", "PARSE_ERROR", "-c", config]
    )
    (item,) = json.loads(as_json.stdout)
    assert item["error_kind"] == "PARSE_ERROR"
    assert "raw" not in item
    for result in (table, as_json):
        assert PHONE not in result.output
    raw = runner.invoke(
        app, ["deadletter", "list", "--format", "json", "--show-raw", "--channel", "grid", "-c", config]
    )
    assert PHONE in raw.stdout


def test_redrive_after_a_mapping_fix(kafka_settings: Settings) -> None:
    """Fixed records become Reports and leave the list; the hopeless one stays with redrive_count 1."""
    _seed(kafka_settings)
    pending = read_pending(kafka_settings, CODEC)
    result = redrive(kafka_settings, pending.letters.values(), ingestor=_fixed_ingestor(kafka_settings))
    assert (len(result.redriven), len(result.still_failing)) == (2, 1)
    reports = [
        decode(CODEC, r.value, topic=kafka_settings.topics.reports)
        for r in read_topic(kafka_settings.kafka.bootstrap_servers, kafka_settings.topics.reports)
    ]
    assert sorted(r.source_record_id for r in reports if isinstance(r, Report)) == ["E-1", "E-2", "E-3"]
    (left,) = read_pending(kafka_settings, CODEC).letters.values()
    assert (left.error_kind, left.redrive_count, left.raw) == (ErrorKind.PARSE_ERROR, 1, b"{oops")
    assert left.dead_letter_id == result.still_failing[0]


def test_cli_redrive_counts_and_selects(kafka_settings: Settings, tmp_path: Path) -> None:
    """Without a fix every selected entry still fails and its count goes up; unknown ids are named."""
    _seed(kafka_settings)
    config = str(write_config(kafka_settings, tmp_path / "c.yaml"))
    runner = CliRunner()
    result = runner.invoke(
        app, ["deadletter", "redrive", "--kind", "VALIDATION_ERROR", "--id", "DL-nope", "-c", config]
    )
    assert result.exit_code == 0, result.output
    assert "selected 0" in result.output
    assert "not pending: DL-nope" in result.output
    result = runner.invoke(app, ["deadletter", "redrive", "--kind", "VALIDATION_ERROR", "-c", config])
    assert "selected 2: 0 redriven" in result.output
    assert "2 still failing" in result.output
    counts = sorted(d.redrive_count for d in read_pending(kafka_settings, CODEC).letters.values())
    assert counts == [0, 1, 1]
    assert select(read_pending(kafka_settings, CODEC).letters.values(), kind=ErrorKind.PARSE_ERROR)
    refused = runner.invoke(app, ["deadletter", "redrive", "-c", config])
    assert refused.exit_code == 2
