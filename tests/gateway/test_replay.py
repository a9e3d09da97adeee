"""Replay on real Apache Kafka: deterministic, separate from live topics, and a dry run that diffs."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup import TicketIndex, load_model
from gateway.cli import app
from gateway.positions import Position
from gateway.replay import ReplayOutputExistsError, diff_tickets, read_latest, replay_topics, run_replay
from gateway.routing import Router, load_catalogue
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.testing import (
    end_offsets,
    latest_by_key,
    produce_all,
    read_topic,
    wait_caught_up,
    write_config,
)
from gateway.topics import TopicSpec, ensure_topics
from schemas import SingleObjectCodec, examples, ids

CODEC = SingleObjectCodec()
ROUTER = Router(load_catalogue())


@pytest.fixture
def filled(gateway_settings: Settings, workload) -> Settings:
    """A reports topic holding 3,000 simulated reports and their status changes, processed live."""
    data = workload(3_000, 21)
    produce_all(
        gateway_settings.kafka.bootstrap_servers,
        gateway_settings.topics.reports,
        ((i.key, i.value) for i in data.items),
    )
    service = GatewayService(gateway_settings)
    thread = threading.Thread(target=service.run, kwargs={"serve_http": False})
    thread.start()
    try:
        wait_caught_up(
            gateway_settings.kafka.bootstrap_servers,
            gateway_settings.gateway.group_id,
            gateway_settings.topics.reports,
        )
    finally:
        service.stop()
        thread.join(60)
    return gateway_settings


def _replay(
    settings: Settings,
    name: str | None,
    model_path: Path | None = None,
    start: Position | None = None,
    stop: Position | None = None,
):
    model = load_model(model_path or settings.gateway.dedup_model)
    return run_replay(
        settings,
        codec=CODEC,
        router=ROUTER,
        index_factory=lambda: TicketIndex(model),
        start=start,
        stop=stop,
        name=name,
    )


@pytest.mark.slow
def test_replaying_twice_gives_byte_identical_output(filled: Settings) -> None:
    """Two replays of the same range write the same ticket and event bytes, and never touch live topics."""
    bootstrap = filled.kafka.bootstrap_servers
    live_before = read_topic(bootstrap, filled.topics.tickets)
    first, second = _replay(filled, "first"), _replay(filled, "second")
    assert first.records == second.records > 0
    a, b = replay_topics(filled.topics, "first"), replay_topics(filled.topics, "second")
    tickets_a = latest_by_key(read_topic(bootstrap, a.tickets, committed_only=False))
    tickets_b = latest_by_key(read_topic(bootstrap, b.tickets, committed_only=False))
    assert tickets_a == tickets_b
    assert len(tickets_a) == len(first.tickets)
    events_a = Counter(r.value for r in read_topic(bootstrap, a.ticket_events, committed_only=False))
    events_b = Counter(r.value for r in read_topic(bootstrap, b.ticket_events, committed_only=False))
    assert events_a == events_b
    assert read_topic(bootstrap, filled.topics.tickets) == live_before


@pytest.mark.slow
def test_replay_from_the_start_equals_the_live_run(filled: Settings) -> None:
    """With the live model, a dry run over everything finds no difference from the live tickets."""
    result = _replay(filled, None)
    diff = diff_tickets(result.tickets, read_latest(filled, filled.topics.tickets, CODEC))
    assert diff.empty, diff


@pytest.mark.slow
def test_dry_run_with_another_threshold_reports_a_diff(filled: Settings, tmp_path: Path) -> None:
    """A model that merges more eagerly changes the outcome, and the dry run says how (CLI)."""
    eager = json.loads(Path(filled.gateway.dedup_model).read_text(encoding="utf-8"))
    eager["version"] = "eager-test"
    eager["thresholds"] = {
        "merge": eager["thresholds"]["review"] - 2.0,
        "review": eager["thresholds"]["review"] - 3.0,
    }
    model = tmp_path / "eager.json"
    model.write_text(json.dumps(eager), encoding="utf-8")
    config = write_config(filled, tmp_path / "config.yaml")
    result = CliRunner().invoke(
        app, ["replay", "--dry-run", "--config", str(config), "--dedup-model", str(model)]
    )
    assert result.exit_code == 0, result.output
    assert "differences found" in result.output
    assert "merged differently" in result.output
    direct = diff_tickets(
        _replay(filled, None, model).tickets, read_latest(filled, filled.topics.tickets, CODEC)
    )
    assert direct.merged_differently or direct.only_in_live


@pytest.mark.slow
def test_replay_from_a_time_reads_only_the_later_records(filled: Settings) -> None:
    """--from an ISO time starts every partition at the first record at or after it."""
    everything = _replay(filled, None)
    later = _replay(filled, None, start=Position.parse("2099-01-01T00:00+08:00"))
    assert later.records == 0 < everything.records


def test_replay_needs_exactly_one_of_name_or_dry_run() -> None:
    """Neither --name nor --dry-run is a usage error with exit code 2, no traceback."""
    result = CliRunner().invoke(app, ["replay"])
    assert result.exit_code == 2
    assert "exactly one of --name NAME or --dry-run" in result.output


@pytest.mark.slow
def test_cli_replay_between_offsets_reads_exactly_that_range(filled: Settings, tmp_path: Path) -> None:
    """--from/--to offsets bound every partition; the CLI shows its progress bar and a summary."""
    ends = end_offsets(filled.kafka.bootstrap_servers, filled.topics.reports)
    expected = sum(max(0, min(400, end) - min(100, end)) for end in ends.values())
    assert 0 < expected < sum(ends.values())
    config = write_config(filled, tmp_path / "config.yaml")
    result = CliRunner().invoke(
        app, ["replay", "--dry-run", "--from", "100", "--to", "400", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert f"replayed {expected} records" in result.output
    assert re.search(rf"{expected}/{expected} .*100%.*reports/s", result.output), result.output
    assert "differences found" in result.output  # a middle slice starts from empty state


@pytest.mark.slow
def test_replay_to_a_time_stops_before_records_at_or_after_it(filled: Settings) -> None:
    """--to an ISO time is exclusive: a time before every record replays nothing, a later one all."""
    everything = _replay(filled, None)
    assert _replay(filled, None, stop=Position.parse("2000-01-01T00:00+08:00")).records == 0
    later = _replay(filled, None, stop=Position.parse("2099-01-01T00:00+08:00"))
    assert later.records == everything.records


def test_replay_rejects_an_unreadable_position() -> None:
    """A --to that is neither an offset nor a zoned ISO time is one readable line and exit 2."""
    result = CliRunner().invoke(app, ["replay", "--dry-run", "--to", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is neither an offset nor an ISO time" in result.output
    assert "Traceback" not in result.output


def _three_reports(settings: Settings) -> None:
    report = examples.report()
    copies = [
        report.model_copy(
            update={"source_record_id": f"r{n}", "report_id": ids.report_id(report.channel, f"r{n}")}
        )
        for n in range(3)
    ]
    produce_all(
        settings.kafka.bootstrap_servers,
        settings.topics.reports,
        [("310115", CODEC.encode(c)) for c in copies],
    )


def test_a_named_replay_refuses_output_that_already_holds_records(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    """Run again into the same name, a replay would append a second copy of every event: refused."""
    _three_reports(gateway_settings)
    first = _replay(gateway_settings, "once")
    assert first.produced > 0
    events = replay_topics(gateway_settings.topics, "once").ticket_events
    before = read_topic(gateway_settings.kafka.bootstrap_servers, events, committed_only=False)
    with pytest.raises(ReplayOutputExistsError, match=re.escape(events)):
        _replay(gateway_settings, "once")
    config = write_config(gateway_settings, tmp_path / "config.yaml")
    result = CliRunner().invoke(app, ["replay", "--name", "once", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "choose another --name" in result.output
    assert "Traceback" not in result.output
    assert read_topic(gateway_settings.kafka.bootstrap_servers, events, committed_only=False) == before


def test_a_replay_whose_output_kafka_refuses_says_it_is_incomplete(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    """A delivery failure is an error with exit 1, not a summary that counts records never written."""
    _three_reports(gateway_settings)
    tickets = replay_topics(gateway_settings.topics, "refused").tickets
    ensure_topics(
        gateway_settings.kafka.bootstrap_servers,
        [TopicSpec(tickets, 3, None, {"cleanup.policy": "compact", "max.message.bytes": "200"})],
    )
    config = write_config(gateway_settings, tmp_path / "config.yaml")
    result = CliRunner().invoke(app, ["replay", "--name", "refused", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "the replay's output is incomplete" in result.output
    assert tickets in result.output
    assert "Traceback" not in result.output
