"""`bingxian connect` on a real broker: raw topics → reports / deadletter, at least once, nothing lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors import REGISTRY, DeliveryError, examples
from connectors.connect import Connector
from gateway.cli import app
from gateway.settings import KafkaSettings, Settings
from gateway.testing import (
    committed_offsets,
    log_events,
    produce_all,
    read_topic,
    wait_caught_up,
    write_config,
)
from schemas import ids
from schemas.models import DeadLetter, ErrorKind, Report, Transport
from schemas.serde import SingleObjectCodec, decode

CODEC = SingleObjectCodec()
CHANNELS = {name: spec.channel for name, spec in REGISTRY.items()}


def _variant(channel: str, n: int) -> bytes:
    """The channel's example with a distinct source id."""
    if channel in ("12345", "grid"):
        record = json.loads(examples.RAW[channel])
        record["orderNum" if channel == "12345" else "eventId"] = f"{channel}-{n:05d}"
        return json.dumps(record, ensure_ascii=False).encode()
    if channel == "12319":
        return examples.URBAN_12319.replace(b"12319-310115-20261101-0042", f"12319-{n:05d}".encode())
    return examples.PROPERTY_962121.replace(b"962121-20261101-0007", f"962121-{n:05d}".encode())


def _source_id(channel: str, n: int) -> str:
    return f"{channel}-{n:05d}"


def _decoded(settings: Settings, topic: str) -> list[Report | DeadLetter]:
    return [decode(CODEC, r.value, topic=topic) for r in read_topic(settings.kafka.bootstrap_servers, topic)]


def test_all_channels_map_to_reports_and_dead_letters(kafka_settings: Settings) -> None:
    """Every valid raw record becomes one Report keyed by district; every broken one a DeadLetter."""
    s = kafka_settings
    expected_reports = set()
    for channel in examples.RAW:
        valid = [(None, _variant(channel, n)) for n in range(20)]
        expected_reports |= {ids.report_id(CHANNELS[channel], _source_id(channel, n)) for n in range(20)}
        produce_all(s.kafka.bootstrap_servers, s.topics.raw[channel], valid)
        produce_all(s.kafka.bootstrap_servers, s.topics.raw[channel], [(None, b"\x00broken")])
    stats = Connector(s, list(examples.RAW)).run(max_records=84)
    assert stats.total == 84
    reports = _decoded(s, s.topics.reports)
    letters = _decoded(s, s.topics.deadletter)
    assert sorted(r.report_id for r in reports) == sorted(expected_reports)
    assert len(letters) == 4
    assert {letter.channel for letter in letters} == set(examples.RAW)
    for letter in letters:
        assert letter.source.transport is Transport.KAFKA
        assert letter.source.topic == s.topics.raw[letter.channel]
        (origin,) = [
            r for r in read_topic(s.kafka.bootstrap_servers, letter.source.topic) if r.value == b"\x00broken"
        ]
        assert (letter.source.partition, letter.source.offset) == (origin.partition, origin.offset)
        assert letter.raw == b"\x00broken"
        assert letter.error_kind in {ErrorKind.DECODE_ERROR, ErrorKind.PARSE_ERROR}
    keys = {r.key for r in read_topic(s.kafka.bootstrap_servers, s.topics.reports)}
    assert keys == {b"310115"}


def test_offsets_are_committed_so_a_restart_reads_nothing_twice(kafka_settings: Settings) -> None:
    """After a run, the group's offsets are at the end; a second run finds nothing to do."""
    s = kafka_settings
    topic = s.topics.raw["grid"]
    produce_all(s.kafka.bootstrap_servers, topic, [(None, _variant("grid", n)) for n in range(30)])
    assert Connector(s, ["grid"]).run(max_records=30).total == 30
    group = f"{s.connectors.connect.group_prefix}grid"
    committed = committed_offsets(s.kafka.bootstrap_servers, group, topic)
    # -1001 marks a partition the producer left empty: nothing to commit there.
    assert sum(max(offset, 0) for offset in committed.values()) == 30, committed
    again = Connector(s, ["grid"]).run(idle_exit_s=2)
    assert again.total == 0, (again, committed)
    assert len(read_topic(s.kafka.bootstrap_servers, s.topics.reports)) == 30


def test_a_record_too_large_to_carry_as_a_report_is_a_dead_letter(kafka_settings: Settings) -> None:
    """A raw record under Kafka's limit whose Report would be over it does not stop the channel.

    A Report holds the raw bytes and the text read from them, so a 600 KB work order makes a
    ~1.2 MB Report: produced as it was, Kafka refused it and the connector stopped on it at
    every restart. It is now a dead letter with its original bytes, and the stream goes on.
    """
    s = kafka_settings
    topic = s.topics.raw["12345"]
    huge = json.loads(examples.RAW["12345"])
    # Varied CJK text, so that compression cannot bring the Report under the broker's limit.
    text = "".join(chr(0x4E00 + i * 7919 % 20_000) for i in range(200_000))
    huge.update(orderNum="12345-huge", content=text)
    raw_huge = json.dumps(huge, ensure_ascii=False).encode()
    assert 500_000 < len(raw_huge) < 1_000_000
    records = [_variant("12345", 1), raw_huge, _variant("12345", 2)]
    produce_all(s.kafka.bootstrap_servers, topic, [(None, r) for r in records])
    stats = Connector(s, ["12345"]).run(max_records=3)
    assert (stats.reports, stats.dead_letters) == ({"12345": 2}, {"12345": 1})
    assert sorted(r.source_record_id for r in _decoded(s, s.topics.reports)) == ["12345-00001", "12345-00002"]
    (letter,) = _decoded(s, s.topics.deadletter)
    assert letter.error_kind is ErrorKind.VALIDATION_ERROR
    assert "over the record limit" in letter.error_message
    assert [e.field for e in letter.errors] == ["(report)"]
    assert letter.raw == raw_huge
    group = f"{s.connectors.connect.group_prefix}12345"
    committed = committed_offsets(s.kafka.bootstrap_servers, group, topic)
    assert sum(max(offset, 0) for offset in committed.values()) == 3  # -1001: a partition left empty


def test_delivery_failure_is_raised_and_nothing_is_committed(kafka_settings: Settings) -> None:
    """When Kafka refuses the output, the run fails loudly and the raw records stay uncommitted."""
    s = kafka_settings
    topic = s.topics.raw["12345"]
    produce_all(s.kafka.bootstrap_servers, topic, [(None, _variant("12345", n)) for n in range(5)])
    broken = s.model_copy(
        update={
            "topics": s.topics.model_copy(update={"reports": f"{s.topics.reports}-missing"}),
            "kafka": KafkaSettings(
                bootstrap_servers=s.kafka.bootstrap_servers, extra={"message.timeout.ms": "3000"}
            ),
        }
    )
    with pytest.raises(DeliveryError, match="missing"):
        Connector(broken, ["12345"], create_topics=False).run(max_records=5)
    group = f"{s.connectors.connect.group_prefix}12345"
    assert all(offset < 0 for offset in committed_offsets(s.kafka.bootstrap_servers, group, topic).values())
    assert Connector(s, ["12345"]).run(max_records=5).reports == {"12345": 5}


def test_cli_connect_runs_to_max_records(kafka_settings: Settings, tmp_path: Path) -> None:
    """`bingxian connect --channel grid --max-records N` maps N records and says so."""
    s = kafka_settings
    produce_all(
        s.kafka.bootstrap_servers, s.topics.raw["grid"], [(None, _variant("grid", n)) for n in range(7)]
    )
    config = str(write_config(s, tmp_path / "c.yaml"))
    result = CliRunner().invoke(app, ["connect", "--channel", "grid", "--max-records", "7", "-c", config])
    assert result.exit_code == 0, result.output
    assert "read 7: 7 reports, 0 dead letters" in result.output


def test_sigterm_stops_gracefully_after_committing(kafka_settings: Settings, tmp_path: Path) -> None:
    """A running `bingxian connect --all` stops on SIGTERM with exit 0, its offsets committed."""
    s = kafka_settings
    config = write_config(s, tmp_path / "c.yaml")
    log = (tmp_path / "connect.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "connect", "--all", "--config", str(config)], stdout=log, stderr=log
    )
    try:
        topic = s.topics.raw["12345"]
        produce_all(s.kafka.bootstrap_servers, topic, [(None, _variant("12345", n)) for n in range(25)])
        wait_caught_up(
            s.kafka.bootstrap_servers, f"{s.connectors.connect.group_prefix}12345", topic, timeout_s=60
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    output = (tmp_path / "connect.log").read_text(encoding="utf-8")
    events = log_events(output)
    assert "stop requested" in events
    assert "connect stopped" in events
    assert len(read_topic(s.kafka.bootstrap_servers, s.topics.reports)) == 25
