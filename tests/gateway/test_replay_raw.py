"""Replay from the raw topics on real Apache Kafka: mapped again, placed as live, deterministic."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from connectors.connect import Connector
from connectors.delivery import make_producer
from connectors.settings import DEFAULT_DATA_DIR
from connectors.simulator import generate
from dedup import TicketIndex, load_model
from gateway.cli import app
from gateway.partitioner import partition_for
from gateway.replay import ReplaySource, diff_tickets, read_latest, replay_topics, run_replay
from gateway.routing import Router, load_catalogue
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.testing import latest_by_key, produce_all, read_topic, wait_caught_up, write_config
from gateway.workload import lifecycle_to_close
from schemas import SingleObjectCodec

CODEC = SingleObjectCodec()
ROUTER = Router(load_catalogue())
RECORDS = 2_000


def test_partition_for_is_the_partition_the_producer_picks(kafka: str, topic_factory) -> None:
    """The connectors' producer puts every district key where ``partition_for`` says (6 partitions)."""
    topic = topic_factory(partitions=6)
    keys = [f"3101{n:02d}".encode() for n in range(1, 21)] + [b"000000", b"310115"]
    producer = make_producer({"bootstrap.servers": kafka})
    for key in keys:
        producer.produce(topic, key=key, value=b"x")
    assert producer.flush(30) == 0
    seen = {r.key: r.partition for r in read_topic(kafka, topic)}
    assert seen == {key: partition_for(key, 6) for key in keys}
    assert len(set(seen.values())) > 1  # the keys really spread, so the check means something


@pytest.fixture
def live_from_raw(gateway_settings: Settings):
    """Simulated native records on the raw topics and their closures on ticket-status, run live."""
    settings = gateway_settings
    bootstrap = settings.kafka.bootstrap_servers
    simulation = generate(31, RECORDS, malformed=0.05)
    for channel, topic in settings.topics.raw.items():
        produce_all(bootstrap, topic, ((None, r.raw) for r in simulation.records if r.channel == channel))
    Connector(settings, list(settings.topics.raw)).run(max_records=len(simulation.records))
    changes = [c for closure in simulation.status_changes for c in lifecycle_to_close(closure)]
    produce_all(bootstrap, settings.topics.ticket_status, ((None, CODEC.encode(c)) for c in changes))
    service = GatewayService(settings)
    thread = threading.Thread(target=service.run, kwargs={"serve_http": False})
    thread.start()
    try:
        wait_caught_up(bootstrap, settings.gateway.status_group_id, settings.topics.ticket_status)
        # the forwarded changes too
        wait_caught_up(bootstrap, settings.gateway.group_id, settings.topics.reports)
    finally:
        service.stop()
        thread.join(60)
    return settings, simulation


def _replay_raw(settings: Settings, name: str | None):
    model = load_model(settings.gateway.dedup_model)
    return run_replay(
        settings,
        codec=CODEC,
        router=ROUTER,
        index_factory=lambda: TicketIndex(model),
        start=None,
        stop=None,
        name=name,
        source=ReplaySource.RAW,
    )


@pytest.mark.slow
def test_raw_replay_is_byte_identical_and_accounts_for_every_record(live_from_raw) -> None:
    """Twice from the raw topics: the same bytes; every valid record in one ticket, the rest dead letters."""
    settings, simulation = live_from_raw
    bootstrap = settings.kafka.bootstrap_servers
    first, second = _replay_raw(settings, "raw-a"), _replay_raw(settings, "raw-b")
    a, b = replay_topics(settings.topics, "raw-a"), replay_topics(settings.topics, "raw-b")
    tickets_a = latest_by_key(read_topic(bootstrap, a.tickets, committed_only=False))
    tickets_b = latest_by_key(read_topic(bootstrap, b.tickets, committed_only=False))
    assert tickets_a == tickets_b
    events_a = Counter(r.value for r in read_topic(bootstrap, a.ticket_events, committed_only=False))
    events_b = Counter(r.value for r in read_topic(bootstrap, b.ticket_events, committed_only=False))
    assert events_a == events_b

    malformed = sum(1 for r in simulation.records if r.kind == "malformed")
    assert first.mapping_dead_letters == second.mapping_dead_letters == malformed > 0
    live_reports = {
        CODEC.decode_dict(r.value)[1]["report_id"]
        for r in read_topic(bootstrap, settings.topics.reports)
        if CODEC.decode_dict(r.value)[0] == "Report"
    }
    assert len(live_reports) == len(simulation.records) - malformed
    placed = Counter(rid for v in tickets_a.values() for rid in CODEC.decode_dict(v)[1]["report_ids"])
    assert set(placed) == live_reports
    assert max(placed.values()) == 1
    assert any(t["status"] == "CLOSED" for t in first.tickets.values())  # the closures were applied


@pytest.mark.slow
def test_dry_run_after_a_mapping_fix_shows_the_rerouting(live_from_raw, tmp_path: Path) -> None:
    """A changed category table, replayed from raw with --dry-run, changes the tickets (CLI and API)."""
    settings, _ = live_from_raw
    data_dir = tmp_path / "tables"
    shutil.copytree(DEFAULT_DATA_DIR, data_dir)
    table = data_dir / "channels" / "12345.yaml"
    hotline = yaml.safe_load(table.read_text(encoding="utf-8"))
    hotline["categories"]["QA0603"] = "0604"  # street lights filed as road damage: another department
    table.write_text(yaml.safe_dump(hotline, allow_unicode=True), encoding="utf-8")
    fixed = settings.model_copy(
        update={"connectors": settings.connectors.model_copy(update={"data_dir": data_dir})}
    )
    config = write_config(fixed, tmp_path / "config.yaml")
    result = CliRunner().invoke(app, ["replay", "--source", "raw", "--dry-run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "differences found" in result.output
    direct = diff_tickets(
        _replay_raw(fixed, None).tickets, read_latest(settings, settings.topics.tickets, CODEC)
    )
    assert not direct.empty  # the fixed table changes which tickets exist or where they go


def test_raw_replay_refuses_offsets() -> None:
    """Offsets mean nothing across several raw topics: exit code 2 and a reason, no traceback."""
    result = CliRunner().invoke(app, ["replay", "--source", "raw", "--dry-run", "--from", "100"])
    assert result.exit_code == 2
    assert "takes ISO times" in result.output
    assert "Traceback" not in result.output
    unknown = CliRunner().invoke(app, ["replay", "--source", "files", "--dry-run"])
    assert unknown.exit_code == 2
    assert "--source must be reports or raw" in unknown.output
