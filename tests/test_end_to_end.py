"""The whole pipeline on real Apache Kafka: simulator → raw topics → connectors → reports → gateway.

Counts every input record into exactly one place (a report in exactly one ticket, or a
dead letter), checks the department topics hold exactly the tickets routed to them, and
checks the gateway groups reports exactly as the dedup library's own replay of the same
per-partition streams does.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import pytest

from connectors.connect import Connector
from connectors.simulator import generate
from dedup import TicketIndex, load_model
from dedup.evaluate import evaluate
from dedup.labelled import LabelledReport
from dedup.replay import replay
from gateway.processor import observation
from gateway.routing import load_catalogue
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.testing import isolated_settings, latest_by_key, produce_all, read_topic, wait_caught_up
from gateway.topics import ensure_topics
from gateway.topology import topic_specs
from schemas import SingleObjectCodec

CODEC = SingleObjectCodec()
RECORDS = 3000


@pytest.fixture(scope="module")
def pipeline(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, object]:
    """Simulated traffic pushed through connectors and gateway (once per module): settings and simulation."""
    model = tmp_path_factory.mktemp("e2e") / "model.json"
    load_model(None).dump(model)
    settings = isolated_settings(kafka, dedup_model=model)
    catalogue = load_catalogue()
    ensure_topics(kafka, topic_specs(settings, catalogue.all_departments()))
    simulation = generate(29, RECORDS, malformed=0.05)
    for channel, topic in settings.topics.raw.items():
        produce_all(kafka, topic, ((None, r.raw) for r in simulation.records if r.channel == channel))
    Connector(settings, list(settings.topics.raw)).run(max_records=len(simulation.records))
    gateway = GatewayService(settings)
    thread = threading.Thread(target=gateway.run, kwargs={"serve_http": False})
    thread.start()
    try:
        wait_caught_up(kafka, settings.gateway.group_id, settings.topics.reports)
    finally:
        gateway.stop()
        thread.join(60)
    return settings, simulation


def _decoded(bootstrap: str, topic: str) -> list[dict]:
    return [CODEC.decode_dict(r.value)[1] for r in read_topic(bootstrap, topic) if r.value]


@pytest.mark.slow
def test_every_record_is_in_exactly_one_ticket_or_dead_letter(pipeline) -> None:
    """Each simulated record is a report in exactly one ticket, or a dead letter; nothing lost or doubled."""
    settings, simulation = pipeline
    bootstrap = settings.kafka.bootstrap_servers
    reports = _decoded(bootstrap, settings.topics.reports)
    dead = _decoded(bootstrap, settings.topics.deadletter)
    assert len(reports) + len(dead) == len(simulation.records)
    malformed = sum(1 for r in simulation.records if r.kind == "malformed")
    assert len(dead) == malformed
    assert len({r["report_id"] for r in reports}) == len(reports)

    tickets = {
        k: CODEC.decode_dict(v)[1]
        for k, v in latest_by_key(read_topic(bootstrap, settings.topics.tickets)).items()
    }
    placed = Counter(rid for t in tickets.values() for rid in t["report_ids"])
    assert set(placed) == {r["report_id"] for r in reports}
    assert max(placed.values()) == 1


@pytest.mark.slow
def test_departments_receive_exactly_their_tickets(pipeline) -> None:
    """Each department topic holds exactly the tickets routed to it, in their latest state."""
    settings, _ = pipeline
    bootstrap = settings.kafka.bootstrap_servers
    tickets = latest_by_key(read_topic(bootstrap, settings.topics.tickets))
    expected: dict[str, dict[bytes, bytes]] = defaultdict(dict)
    for key, value in tickets.items():
        ticket = CODEC.decode_dict(value)[1]
        if ticket["status"] == "FILED":
            continue
        for department in (ticket["lead_department"], *ticket["assisting_departments"]):
            expected[department][key] = value
    for department in load_catalogue().all_departments():
        got = latest_by_key(read_topic(bootstrap, settings.topics.department(department)))
        assert got == expected.get(department, {}), department
    assert any(t for t in expected.values())


@pytest.mark.slow
def test_gateway_groups_reports_as_the_dedup_library_does(pipeline) -> None:
    """The gateway's tickets are the clusters the dedup library's replay forms on the same streams."""
    settings, simulation = pipeline
    bootstrap = settings.kafka.bootstrap_servers
    truth = {}
    for record in simulation.records:
        truth[record.source_record_id] = record.issue_id
    by_partition: dict[int, list[LabelledReport]] = defaultdict(list)
    for record in read_topic(bootstrap, settings.topics.reports):
        report = CODEC.decode_dict(record.value)[1]
        if report["filing_only"]:  # recorded as FILED tickets, never dedup candidates
            continue
        cluster = truth.get(report["source_record_id"]) or report["report_id"]
        by_partition[record.partition].append(LabelledReport(observation(report), cluster))
    model = load_model(settings.gateway.dedup_model)
    library_groups: set[frozenset[str]] = set()
    outcomes = []
    for stream in by_partition.values():
        result = replay(stream, TicketIndex(model))
        outcomes += result
        members: dict[str, set[str]] = defaultdict(set)
        for outcome in result:
            members[outcome.ticket_id].add(outcome.report.obs.report_id)
        library_groups |= {frozenset(m) for m in members.values()}
    tickets = latest_by_key(read_topic(bootstrap, settings.topics.tickets))
    gateway_groups = {frozenset(CODEC.decode_dict(v)[1]["report_ids"]) for v in tickets.values()}
    filed = {
        frozenset(t["report_ids"])
        for t in (CODEC.decode_dict(v)[1] for v in tickets.values())
        if t["filing_only"]
    }
    assert gateway_groups - filed == library_groups
    metrics = evaluate(outcomes, [True] * len(outcomes))
    assert metrics.merged == sum(len(g) - 1 for g in gateway_groups)
