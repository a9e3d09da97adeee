"""Exactly once against real Apache Kafka: kill -9 and rebalances change nothing in the result."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from gateway.routing import load_catalogue
from gateway.settings import Settings
from gateway.testing import (
    GatewayProcess,
    committed_offsets,
    latest_by_key,
    log_events,
    produce_all,
    read_topic,
    wait_caught_up,
    with_outputs,
)
from gateway.topics import ensure_topics
from gateway.topology import topic_specs
from gateway.workload import Workload
from schemas import SingleObjectCodec

CODEC = SingleObjectCodec()
DEPARTMENTS = load_catalogue().all_departments()


def _prepare(settings: Settings, tag: str) -> Settings:
    derived = with_outputs(settings, tag)
    ensure_topics(settings.kafka.bootstrap_servers, topic_specs(derived, DEPARTMENTS))
    return derived


def _outputs(settings: Settings) -> tuple[dict[bytes, bytes], Counter[tuple[bytes | None, bytes | None]]]:
    bootstrap = settings.kafka.bootstrap_servers
    tickets = latest_by_key(read_topic(bootstrap, settings.topics.tickets))
    events = Counter((r.key, r.value) for r in read_topic(bootstrap, settings.topics.ticket_events))
    return tickets, events


def _run_to_end(settings: Settings, workdir: Path, name: str) -> None:
    process = GatewayProcess(settings, workdir, name).start()
    try:
        wait_caught_up(settings.kafka.bootstrap_servers, settings.gateway.group_id, settings.topics.reports)
    finally:
        assert process.stop() == 0


def _flow(settings: Settings, workload: Workload, rate: float) -> threading.Thread:
    """Produce the workload to ``reports`` at about ``rate`` records/s in the background."""
    items = workload.items
    chunk = max(1, int(rate / 10))

    def produce() -> None:
        for start in range(0, len(items), chunk):
            began = time.monotonic()
            produce_all(
                settings.kafka.bootstrap_servers,
                settings.topics.reports,
                ((i.key, i.value) for i in items[start : start + chunk]),
            )
            time.sleep(max(0.0, 0.1 - (time.monotonic() - began)))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    return thread


def _wait_for_progress(bootstrap: str, group: str, topic: str, timeout_s: float = 120) -> None:
    """Block until the (re)started gateway has committed at least one more transaction (bounded)."""
    before = sum(max(o, 0) for o in committed_offsets(bootstrap, group, topic).values())
    deadline = time.monotonic() + timeout_s
    while sum(max(o, 0) for o in committed_offsets(bootstrap, group, topic).values()) <= before:
        assert time.monotonic() < deadline, "the gateway made no progress"
        time.sleep(0.1)


def _wait_until(condition, message: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def _assert_one_ticket_per_report(tickets: dict[bytes, bytes], workload: Workload) -> None:
    placed: Counter[str] = Counter()
    for value in tickets.values():
        placed.update(CODEC.decode_dict(value)[1]["report_ids"])
    assert set(placed) == {r.report_id for r in workload.reports}
    assert max(placed.values()) == 1


def _restores(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "partition restored"]


@pytest.mark.slow
def test_kill9_at_random_points_gives_the_uninterrupted_result(
    gateway_settings: Settings, workload, tmp_path: Path
) -> None:
    """Three kill -9s while 20,000 reports flow: tickets and events equal those of a clean run."""
    data = workload(20_000, 11)
    crashed = _prepare(gateway_settings, "crash")
    flow = _flow(gateway_settings, data, rate=5_000)
    rng = random.Random(20261123)
    bootstrap, group, topic = (
        gateway_settings.kafka.bootstrap_servers,
        crashed.gateway.group_id,
        crashed.topics.reports,
    )
    process = GatewayProcess(crashed, tmp_path, "crash").start()
    for _ in range(3):
        _wait_for_progress(bootstrap, group, topic)
        time.sleep(rng.uniform(0.1, 1.5))  # a random point mid-stream, not a wait for a result
        process.kill()
        process = GatewayProcess(crashed, tmp_path, "crash").start()
    flow.join()
    wait_caught_up(gateway_settings.kafka.bootstrap_servers, crashed.gateway.group_id, crashed.topics.reports)
    assert process.stop() == 0

    reference = _prepare(gateway_settings, "reference")
    _run_to_end(reference, tmp_path, "reference")

    crash_tickets, crash_events = _outputs(crashed)
    ref_tickets, ref_events = _outputs(reference)
    assert crash_tickets == ref_tickets
    assert crash_events == ref_events
    assert max(crash_events.values()) == 1  # no event twice
    _assert_one_ticket_per_report(crash_tickets, data)
    restored = [r for r in _restores(tmp_path / "crash.log") if r["changelog_records"] > 0]
    assert restored, "the restarts never restored state from the changelog"


@pytest.mark.slow
def test_instance_joining_and_leaving_mid_stream_changes_nothing(
    gateway_settings: Settings, workload, tmp_path: Path
) -> None:
    """A second instance joins, partitions move both ways, and the result equals a single instance's."""
    data = workload(8_000, 12)
    shared = _prepare(gateway_settings, "pair")
    second = shared.model_copy(
        update={
            "gateway": shared.gateway.model_copy(update={"instance_id": shared.gateway.instance_id + "-2"})
        }
    )
    flow = _flow(gateway_settings, data, rate=1_500)
    first = GatewayProcess(shared, tmp_path, "first").start()
    bootstrap = gateway_settings.kafka.bootstrap_servers
    _wait_for_progress(bootstrap, shared.gateway.group_id, shared.topics.reports)
    joined = GatewayProcess(second, tmp_path, "second").start()
    _wait_until(lambda: _restores(tmp_path / "second.log"), "the second instance never took over a partition")
    _wait_for_progress(bootstrap, shared.gateway.group_id, shared.topics.reports)
    flow_was_running_when_second_left = flow.is_alive()
    assert joined.stop() == 0
    flow.join()
    wait_caught_up(gateway_settings.kafka.bootstrap_servers, shared.gateway.group_id, shared.topics.reports)
    assert first.stop() == 0

    reference = _prepare(gateway_settings, "single")
    _run_to_end(reference, tmp_path, "single")
    assert _outputs(shared) == _outputs(reference)
    _assert_one_ticket_per_report(_outputs(shared)[0], data)
    assert flow_was_running_when_second_left


def _members(bootstrap: str, group: str) -> list:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return admin.describe_consumer_groups([group])[group].result(30).members


@pytest.mark.slow
def test_ctrl_c_mid_stream_ends_the_transaction_and_leaves_the_group(
    gateway_settings: Settings, workload, tmp_path: Path
) -> None:
    """SIGINT (Ctrl-C) twice mid-stream: exit 0, the group empty at once, and nothing lost or doubled."""
    data = workload(3_000, 21)
    settings = _prepare(gateway_settings, "ctrlc")
    bootstrap, group, topic = (
        settings.kafka.bootstrap_servers,
        settings.gateway.group_id,
        settings.topics.reports,
    )
    produce_all(bootstrap, topic, ((i.key, i.value) for i in data.items))
    for _ in range(2):
        process = GatewayProcess(settings, tmp_path, "ctrlc").start()
        _wait_for_progress(bootstrap, group, topic)
        assert process.stop(how=signal.SIGINT) == 0
        # A killed member would stay listed until its session timed out; a clean leave is immediate.
        assert _members(bootstrap, group) == []
    assert sum(max(o, 0) for o in committed_offsets(bootstrap, group, topic).values()) > 0
    log = (tmp_path / "ctrlc.log").read_text(encoding="utf-8")
    assert log_events(log).count("gateway stopping") == 2
    assert "Traceback" not in log
    _run_to_end(settings, tmp_path, "ctrlc")
    tickets, events = _outputs(settings)
    _assert_one_ticket_per_report(tickets, data)
    assert max(events.values()) == 1
