"""Operating the service on real Apache Kafka: endpoints, metrics, status feedback, configuration errors."""

from __future__ import annotations

import gc
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.routing import Router, load_catalogue
from gateway.service import GatewayService
from gateway.settings import Settings, load_settings
from gateway.testing import (
    isolated_settings,
    latest_by_key,
    produce_all,
    read_topic,
    wait_caught_up,
    write_config,
)
from schemas import SingleObjectCodec, examples, ids
from schemas.models import TicketStatusChange

CODEC = SingleObjectCodec()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def running(gateway_settings: Settings) -> Iterator[GatewayService]:
    """A gateway service with its HTTP endpoints, in a thread, stopped after the test."""
    service = GatewayService(gateway_settings)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(60)


def _caught_up(settings: Settings) -> None:
    wait_caught_up(settings.kafka.bootstrap_servers, settings.gateway.group_id, settings.topics.reports)


def _change(
    ticket_id: str, status: str, change_id: str, hours: int, resolution: str | None = None, **extra: str
) -> bytes:
    data = examples.status_change().model_dump()
    data.update(
        ticket_id=ticket_id,
        status=status,
        change_id=change_id,
        resolution=resolution,
        at=examples.T0 + timedelta(hours=hours),
        **extra,
    )
    return CODEC.encode(TicketStatusChange.model_validate(data))


def test_endpoints_and_metrics(gateway_settings: Settings, running: GatewayService) -> None:
    """/healthz and /readyz answer 200 once partitions are restored; /metrics counts what happened."""
    settings = gateway_settings
    report = examples.report()
    repeat = report.model_copy(
        update={
            "source_record_id": "repeat-1",
            "report_id": ids.report_id(report.channel, "repeat-1"),
            "reported_at": report.reported_at + timedelta(minutes=20),
        }
    )
    records = [("310115", CODEC.encode(report)), ("310115", CODEC.encode(repeat)), ("310115", b"not avro")]
    produce_all(settings.kafka.bootstrap_servers, settings.topics.reports, records)
    _caught_up(settings)
    assert running.health is not None
    base = running.health.url
    assert _get(f"{base}/healthz") == (200, "live\n")
    assert _get(f"{base}/readyz") == (200, "ready\n")
    status, metrics = _get(f"{base}/metrics")
    assert status == 200
    assert "bingxian_reports_in_total 2.0" in metrics
    assert 'bingxian_tickets_created_total{band="NEW"} 1.0' in metrics
    assert "bingxian_reports_merged_total 1.0" in metrics
    assert "bingxian_dead_letters_total 1.0" in metrics
    lead = Router(load_catalogue()).route(report.category.code, report.channel, {}, {}).lead
    assert f'bingxian_tickets_routed_total{{department="{lead}"}} 1.0' in metrics
    assert "bingxian_report_to_ticket_seconds_count 2.0" in metrics
    assert "bingxian_restore_seconds_count" in metrics
    commits = re.search(r"^bingxian_transaction_commit_seconds_count (\d+)", metrics, re.M)
    assert commits is not None
    assert int(commits.group(1)) >= 1
    # The lag gauge is refreshed every few seconds by the loop: wait (bounded) for its first reading.
    deadline = time.monotonic() + 30
    while not re.search(r'^bingxian_consumer_lag\{partition="\d+"\} 0\.0', metrics, re.M):
        assert time.monotonic() < deadline, "no consumer lag reading"
        time.sleep(0.2)
        metrics = _get(f"{base}/metrics")[1]
    assert _get(f"{base}/nothing")[0] == 404


def test_the_running_service_keeps_its_state_out_of_the_cyclic_collector(gateway_settings: Settings) -> None:
    """While it runs, what its state holds is frozen at the end of each round (gateway/heap.py);
    stopped, it hands the heap back to the collector."""
    settings = gateway_settings
    assert gc.get_freeze_count() == 0
    service = GatewayService(settings)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        produce_all(
            settings.kafka.bootstrap_servers,
            settings.topics.reports,
            [("310115", CODEC.encode(examples.report()))],
        )
        _caught_up(settings)
        ticket = next(state.ticket for p in service.processors.values() for state in p.tickets.values())
        deadline = time.monotonic() + 30
        # frozen: still tracked, but in none of the collector's generations
        while any(o is ticket for o in gc.get_objects()):
            assert time.monotonic() < deadline, "the ticket's state was never frozen"
            time.sleep(0.1)
        assert gc.is_tracked(ticket)
        assert gc.get_freeze_count() > 0
    finally:
        service.stop()
        thread.join(60)
    assert gc.get_freeze_count() == 0
    assert any(o is ticket for o in gc.get_objects())


def test_status_feedback_is_forwarded_validated_and_applied(
    gateway_settings: Settings, running: GatewayService
) -> None:
    """Changes on ticket-status reach the owning partition: valid ones apply, the rest dead-letter."""
    settings = gateway_settings
    bootstrap = settings.kafka.bootstrap_servers
    report = examples.report()
    produce_all(bootstrap, settings.topics.reports, [("310115", CODEC.encode(report))])
    _caught_up(settings)
    ticket_id = next(iter(latest_by_key(read_topic(bootstrap, settings.topics.tickets)))).decode()
    changes = [
        ("any-key", _change(ticket_id, "ACCEPTED", "c1", 1)),
        (None, _change(ticket_id, "ACCEPTED", "c1", 1)),  # re-sent: applied once
        ("x", _change(ticket_id, "CLOSED", "c2", 2, "RESOLVED")),  # skips the lifecycle: dead letter
        ("y", _change("TK-310115-00000000deadbeef", "ACCEPTED", "c3", 2)),  # unknown ticket
        ("z", b"not avro at all"),  # undecodable
    ]
    produce_all(bootstrap, settings.topics.ticket_status, changes)
    wait_caught_up(bootstrap, settings.gateway.status_group_id, settings.topics.ticket_status)
    _caught_up(settings)  # the forwarded changes, applied in the reports partition
    ticket = CODEC.decode_dict(
        latest_by_key(read_topic(bootstrap, settings.topics.tickets))[ticket_id.encode()]
    )[1]
    assert ticket["status"] == "ACCEPTED"
    assert ticket["version"] == 2
    letters = [CODEC.decode_dict(r.value)[1] for r in read_topic(bootstrap, settings.topics.deadletter)]
    assert sorted(d["error_kind"] for d in letters) == [
        "INVALID_TRANSITION",
        "SCHEMA_ERROR",
        "UNKNOWN_TICKET",
    ]
    assert any(d["raw"] == b"not avro at all" for d in letters)
    events = [CODEC.decode_dict(r.value)[1] for r in read_topic(bootstrap, settings.topics.ticket_events)]
    assert [e["event_type"] for e in events if e["event_type"] == "STATUS_CHANGED"] == ["STATUS_CHANGED"]


def test_a_person_merges_a_repeat_through_ticket_status(
    gateway_settings: Settings, running: GatewayService
) -> None:
    """人工并单 over the real broker: a duplicate_of change moves the repeat's report into the ticket it
    repeats, closes the repeat with merged_into, in one committed transaction, and is counted."""
    settings = gateway_settings
    bootstrap = settings.kafka.bootstrap_servers
    first = examples.report()
    elsewhere = first.location.model_copy(update={"address": "浦东新区张杨路1500号", "lat": 31.2286})
    second = first.model_copy(
        update={
            "source_record_id": "far-1",
            "report_id": ids.report_id(first.channel, "far-1"),
            "reported_at": first.reported_at + timedelta(minutes=30),
            "location": elsewhere,
            "reporter": first.reporter.model_copy(update={"contact_hash": "b" * 32}),
        }
    )
    produce_all(bootstrap, settings.topics.reports, [("310115", CODEC.encode(r)) for r in (first, second)])
    _caught_up(settings)
    by_report = {
        t["report_ids"][0]: t["ticket_id"]
        for t in (
            CODEC.decode_dict(v)[1]
            for v in latest_by_key(read_topic(bootstrap, settings.topics.tickets)).values()
        )
    }
    target, repeat = by_report[first.report_id], by_report[second.report_id]
    merge = _change(repeat, "CLOSED", "m1", 2, "NO_FURTHER_ACTION", duplicate_of=target)
    produce_all(bootstrap, settings.topics.ticket_status, [(repeat, merge)])
    wait_caught_up(bootstrap, settings.gateway.status_group_id, settings.topics.ticket_status)
    _caught_up(settings)
    latest = {
        k.decode(): CODEC.decode_dict(v)[1]
        for k, v in latest_by_key(read_topic(bootstrap, settings.topics.tickets)).items()
    }
    assert (latest[repeat]["status"], latest[repeat]["merged_into"], latest[repeat]["report_ids"]) == (
        "CLOSED",
        target,
        [],
    )
    assert latest[target]["report_ids"] == [first.report_id, second.report_id]
    assert latest[target]["report_count"] == 2
    assert running.health is not None
    metrics = _get(f"{running.health.url}/metrics")[1]
    assert "bingxian_tickets_merged_by_person_total 1.0" in metrics


def test_review_list_and_merge_close_the_loop_on_a_flagged_ticket(
    gateway_settings: Settings, running: GatewayService, tmp_path: Path
) -> None:
    """`bingxian review list` shows the ticket dedup flagged; `review merge` posts the decision, and the
    gateway moves its report into the ticket it was flagged against; the queue is then empty."""
    settings = gateway_settings
    bootstrap = settings.kafka.bootstrap_servers
    config = write_config(settings, tmp_path / "dispatch.yaml")
    first = examples.report()
    manhole = first.model_copy(  # another problem at the same door, same caller: REVIEW, not a merge
        update={
            "source_record_id": "manhole-1",
            "report_id": ids.report_id(first.channel, "manhole-1"),
            "reported_at": first.reported_at + timedelta(minutes=45),
            "title": "井盖缺失",
            "description": "张杨路500号门口井盖不见了，很危险",
            "category": first.category.model_copy(update={"code": "0602", "name": "公共设施/井盖"}),
        }
    )
    produce_all(bootstrap, settings.topics.reports, [("310115", CODEC.encode(r)) for r in (first, manhole)])
    _caught_up(settings)
    owner = {
        t["report_ids"][0]: t
        for t in (
            CODEC.decode_dict(v)[1]
            for v in latest_by_key(read_topic(bootstrap, settings.topics.tickets)).values()
        )
    }
    target, flagged = owner[first.report_id]["ticket_id"], owner[manhole.report_id]["ticket_id"]
    assert owner[manhole.report_id]["possible_duplicate_of"] == target
    cli = CliRunner()

    listed = cli.invoke(app, ["review", "list", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "1 flagged tickets awaiting a decision" in listed.output
    assert "问题不同" in listed.output  # dedup's reason, the opening decision's explanation
    assert flagged in listed.output
    assert target in listed.output
    refused = cli.invoke(app, ["review", "merge", target, "--config", str(config)])
    assert refused.exit_code == 2
    assert "not flagged as a possible duplicate" in refused.output

    merged = cli.invoke(app, ["review", "merge", flagged, "--note", "同一处", "--config", str(config)])
    assert merged.exit_code == 0, merged.output
    assert f"posted: {flagged} → {target}" in merged.output
    wait_caught_up(bootstrap, settings.gateway.status_group_id, settings.topics.ticket_status)
    _caught_up(settings)
    latest = {
        k.decode(): CODEC.decode_dict(v)[1]
        for k, v in latest_by_key(read_topic(bootstrap, settings.topics.tickets)).items()
    }
    assert (latest[flagged]["status"], latest[flagged]["merged_into"]) == ("CLOSED", target)
    assert latest[target]["report_ids"] == [first.report_id, manhole.report_id]
    after = cli.invoke(app, ["review", "list", "--config", str(config)])
    assert "0 flagged tickets awaiting a decision" in after.output


def test_two_instances_share_the_reports_partitions(gateway_settings: Settings) -> None:
    """A second instance takes over reports partitions, not just the status topic's.

    One group over ``reports`` and ``ticket-status`` let the sticky assignor balance the
    partition count over both topics: the second instance got all three ``reports``
    partitions and the first kept only ``ticket-status``, so adding an instance moved the
    work instead of sharing it. Forwarding status changes in a group of its own fixes that.
    """
    second = gateway_settings.model_copy(
        update={
            "gateway": gateway_settings.gateway.model_copy(
                update={"instance_id": gateway_settings.gateway.instance_id + "-2"}
            )
        }
    )
    services = [GatewayService(s) for s in (gateway_settings, second)]
    threads = [threading.Thread(target=s.run, kwargs={"serve_http": False}) for s in services]

    def shares_become(wanted: list[int]) -> list[int]:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            started = [s for s, t in zip(services, threads, strict=True) if t.is_alive()]
            shares = sorted(len(s.processors) for s in started)
            if shares == wanted and all(s.ready() for s in started):
                break
            time.sleep(0.2)
        return shares

    threads[0].start()
    try:
        assert shares_become([3]) == [3]  # the first instance owns everything: the usual join
        threads[1].start()
        assert shares_become([1, 2]) == [1, 2], "reports partitions per instance"
    finally:
        for service in services:
            service.stop()
        for thread in threads:
            if thread.is_alive():
                thread.join(60)


def test_invalid_configuration_is_a_readable_error(tmp_path: Path) -> None:
    """A configuration file with a wrong key or value names the field, exits 2, and shows no traceback."""
    config = tmp_path / "bad.yaml"
    config.write_text("gateway:\n  batch_size: 0\n  no_such_option: 1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "gateway.batch_size" in result.output
    assert "gateway.no_such_option" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output


def test_invalid_routing_catalogue_or_model_is_a_readable_error(tmp_path: Path) -> None:
    """A broken routing file or dedup model stops run and replay at start: one line, exit 2, no traceback."""
    routing = tmp_path / "routing.yaml"
    routing.write_text("categories: {}\nno_such_key: 1\n", encoding="utf-8")
    model = tmp_path / "model.json"
    model.write_text("{not json", encoding="utf-8")
    for setting, path in [("routing_file", routing), ("dedup_model", model)]:
        config = tmp_path / f"{setting}.yaml"
        config.write_text(f"gateway:\n  {setting}: {path}\n", encoding="utf-8")
        for command in (["run"], ["replay", "--dry-run"]):
            result = CliRunner().invoke(app, [*command, "--config", str(config)])
            assert result.exit_code == 2, result.output
            assert str(path) in result.output
            assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--idle-exit", "1"],
        ["replay", "--dry-run"],
        ["subscribe", "--department", "shizheng", "--idle-exit", "1"],
        ["review", "list"],
        ["review", "merge", "TK-310115-0000000000000000"],
    ],
)
def test_an_unreachable_kafka_is_one_line_and_exit_1_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    """A mistyped kafka.bootstrap_servers (nothing listens on port 1) stops each gateway command readably."""
    config = tmp_path / "wrong-address.yaml"
    config.write_text(
        "kafka:\n  bootstrap_servers: 127.0.0.1:1\ngateway:\n  http_port: 0\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "error: Kafka:" in result.output
    assert "kafka.bootstrap_servers" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_gateway_that_stops_on_an_error_exits_1_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bingxian run`` ending on a GatewayError says why in one line and exits 1 (supervisors restart it)."""
    from gateway.service import GatewayError

    def fail(self: GatewayService, **_: object) -> None:
        raise GatewayError("20 transactions in a row were aborted, the last with: too large")

    monkeypatch.setattr(GatewayService, "run", fail)
    monkeypatch.setattr(GatewayService, "install_signal_handlers", lambda self: None)
    config = tmp_path / "gateway.yaml"
    config.write_text("gateway:\n  http_port: 0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "the gateway stopped: 20 transactions in a row were aborted" in result.output
    assert "Traceback" not in result.output


def test_a_named_configuration_file_does_not_leak_into_later_settings(tmp_path: Path) -> None:
    """load_settings(path) applies the file to that call only; a later Settings() is unaffected."""
    config = tmp_path / "small.yaml"
    config.write_text("gateway:\n  batch_size: 7\n", encoding="utf-8")
    assert load_settings(config).gateway.batch_size == 7
    assert Settings().gateway.batch_size == Settings.model_fields["gateway"].default_factory().batch_size != 7


def test_run_creates_missing_topics_with_their_layout(kafka: str) -> None:
    """A first start on an empty cluster creates every topic, ticket topics compacted, partitions as set."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    settings = isolated_settings(kafka)  # nothing created beforehand, unlike the other gateway tests
    settings = settings.model_copy(update={"topics": settings.topics.model_copy(update={"partitions": 2})})
    service = GatewayService(settings)
    thread = threading.Thread(target=service.run, kwargs={"serve_http": False})
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not service.ready():
            assert thread.is_alive(), "the service stopped"
            assert time.monotonic() < deadline, "the service never became ready"
            time.sleep(0.1)
    finally:
        service.stop()
        thread.join(60)
    admin = AdminClient({"bootstrap.servers": kafka})
    topics = admin.list_topics(timeout=30).topics
    t = settings.topics
    departments = Router(load_catalogue()).catalogue.all_departments()
    expected = {t.reports, t.ticket_status, t.deadletter, t.tickets, t.ticket_events, t.changelog}
    expected |= {t.department(code) for code in departments}
    assert expected <= set(topics)
    assert {len(topics[name].partitions) for name in expected} == {2}
    compacted = [t.tickets, t.changelog, t.department(sorted(departments)[0])]
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in [*compacted, t.ticket_events]]
    described = admin.describe_configs(resources)
    configs = {resource.name: future.result(30) for resource, future in described.items()}
    policies = {name: config["cleanup.policy"].value for name, config in configs.items()}
    assert policies == {**dict.fromkeys(compacted, "compact"), t.ticket_events: "delete"}
    # The changelog rolls its segments often enough for the broker to compact what a restore reads.
    assert configs[t.changelog]["segment.ms"].value == str(t.changelog_segment_ms)
