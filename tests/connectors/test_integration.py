"""End to end with the simulator on a real broker: exactly the valid records become Reports, the
malformed ones DeadLetters, counted by id — through raw topics, file import and HTTP ingest."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from connectors.connect import Connector
from connectors.file_import import FileImporter
from connectors.http_ingest import create_app
from connectors.settings import HttpIngestSettings
from connectors.simulator import Kind, SimRecord, generate, produce, write_files
from gateway.settings import Settings
from gateway.testing import read_topic
from schemas.models import DeadLetter, Report, Transport
from schemas.serde import SingleObjectCodec, decode

CODEC = SingleObjectCodec()
pytestmark = pytest.mark.slow


def _outputs(settings: Settings) -> tuple[list[Report], list[DeadLetter]]:
    bootstrap = settings.kafka.bootstrap_servers
    reports = [decode(CODEC, r.value, topic="") for r in read_topic(bootstrap, settings.topics.reports)]
    letters = [decode(CODEC, r.value, topic="") for r in read_topic(bootstrap, settings.topics.deadletter)]
    return reports, letters


def _valid(records: list[SimRecord]) -> list[SimRecord]:
    return [r for r in records if r.kind is not Kind.MALFORMED]


def _assert_exactly_the_valid_reports(reports: list[Report], records: list[SimRecord]) -> None:
    ids = [r.report_id for r in reports]
    assert len(ids) == len(set(ids)), "a report was produced twice"
    assert set(ids) == {r.report_id for r in _valid(records)}


def test_raw_topics_10000_records(kafka_settings: Settings) -> None:
    """10,000 simulated records, 5 % malformed, raw topics → `connect --all`: none lost, none doubled."""
    sim = generate(seed=3, reports=10_000, malformed=0.05)
    malformed = [r for r in sim.records if r.kind is Kind.MALFORMED]
    assert len(malformed) == 500
    produce(sim, kafka_settings.kafka.client_config(), kafka_settings.topics, status_changes=False)

    stats = Connector(kafka_settings, ["12345", "12319", "962121", "grid"]).run(max_records=10_000)

    assert stats.total == 10_000
    reports, letters = _outputs(kafka_settings)
    _assert_exactly_the_valid_reports(reports, sim.records)
    assert len({d.dead_letter_id for d in letters}) == len(letters) == 500
    raw_at = {}
    for channel, topic in kafka_settings.topics.raw.items():
        for record in read_topic(kafka_settings.kafka.bootstrap_servers, topic):
            raw_at[(topic, record.partition, record.offset)] = (channel, record.value)
    found = collections.Counter()
    for letter in letters:
        channel, raw = raw_at[(letter.source.topic, letter.source.partition, letter.source.offset)]
        assert (letter.channel, letter.raw) == (channel, raw)
        found[(channel, raw)] += 1
    assert found == collections.Counter((r.channel, r.raw) for r in malformed)


def test_file_import_10000_records(kafka_settings: Settings, tmp_path: Path) -> None:
    """The simulator's four export files: rejects by line go to deadletter, the rest map to Reports."""
    sim = generate(seed=4, reports=10_000, malformed=0.05)
    paths = write_files(sim, tmp_path)
    accepted = rejected = 0
    for channel in ("12345", "12319", "962121", "grid"):
        summary = FileImporter(kafka_settings, channel).run(paths[channel])
        expected = [r for r in sim.records if r.channel == channel]
        assert summary.read == len(expected)
        assert len(summary.rejected) == sum(r.kind is Kind.MALFORMED for r in expected)
        accepted += summary.accepted
        rejected += len(summary.rejected)
    assert (accepted, rejected) == (9_500, 500)

    assert (
        Connector(kafka_settings, ["12345", "12319", "962121", "grid"]).run(max_records=accepted).total
        == accepted
    )

    reports, letters = _outputs(kafka_settings)
    _assert_exactly_the_valid_reports(reports, sim.records)
    assert len(letters) == 500
    assert all(d.source.transport is Transport.FILE and d.source.line for d in letters)
    assert len({(d.source.file, d.source.line) for d in letters}) == 500


def _batch(channel: str, raws: list[bytes]) -> bytes:
    if channel in ("12345", "grid"):
        return b"[" + b",\n".join(raws) + b"]"
    if channel == "12319":
        return b"<cases>\n" + b"\n".join(raws) + b"\n</cases>"
    header = raws[0].split(b"\r\n", 1)[0] + b"\r\n"
    return header + b"".join(raw[len(header) :] for raw in raws)


def test_http_ingest_10000_records(kafka_settings: Settings) -> None:
    """10,000 records over HTTP: valid ones in batches of 25 (202), malformed ones one by one (400)."""
    sim = generate(seed=5, reports=10_000, malformed=0.05)
    tokens = {name: SecretStr(f"t-{name}") for name in kafka_settings.topics.raw}
    settings = kafka_settings.model_copy(
        update={
            "connectors": kafka_settings.connectors.model_copy(
                update={"http": HttpIngestSettings(tokens=tokens, max_body_bytes=1_000_000)}
            )
        }
    )
    types = {"12345": "application/json", "grid": "application/json", "12319": "application/xml"}
    with TestClient(create_app(settings)) as client:

        def post(channel: str, body: bytes) -> int:
            headers = {
                "Authorization": f"Bearer t-{channel}",
                "Content-Type": types.get(channel, "text/csv; charset=GBK"),
            }
            return client.post(f"/v1/ingest/{channel}", content=body, headers=headers).status_code

        accepted = 0
        for channel in ("12345", "12319", "962121", "grid"):
            records = [r for r in sim.records if r.channel == channel]
            valid = [r.raw for r in _valid(records)]
            for start in range(0, len(valid), 25):
                assert post(channel, _batch(channel, valid[start : start + 25])) == 202
            accepted += len(valid)
            for record in records:
                if record.kind is Kind.MALFORMED:
                    assert post(channel, record.raw) == 400

    assert (
        Connector(settings, ["12345", "12319", "962121", "grid"]).run(max_records=accepted).total == accepted
    )

    reports, letters = _outputs(settings)
    _assert_exactly_the_valid_reports(reports, sim.records)
    assert len(letters) == 500
    assert all(d.source.transport is Transport.HTTP for d in letters)
