"""Closures name the ticket the gateway opens for the issue, and close it after its reports."""

from __future__ import annotations

from datetime import timedelta

from connectors.simulator import Simulation
from gateway.routing import Router, load_catalogue
from schemas import Report, Resolution, TicketStatus, ids


def test_ticket_id_is_the_gateways_id_for_the_first_report(sim: Simulation, mapped: list) -> None:
    """ticket_id = ticket_id(district the connectors derive, report id of the issue's first report)."""
    first: dict[str, Report] = {}
    for m in mapped:
        issue_id = m.record.issue_id
        if not isinstance(m.result, Report) or issue_id is None:
            continue
        if issue_id not in first or m.result.reported_at < first[issue_id].reported_at:
            first[issue_id] = m.result
    for closure in sim.closures:
        report = first[closure.issue_id]
        assert closure.ticket_id == ids.ticket_id(report.location.district_code, report.report_id)


def test_closed_after_the_last_report_and_hours_after_the_first(sim: Simulation) -> None:
    """closed_at follows every report of the issue, and the first by at least four hours."""
    last = {}
    for r in sim.records:
        if r.issue_id:
            last[r.issue_id] = max(last.get(r.issue_id, r.reported_at), r.reported_at)
    for closure in sim.closures:
        issue = sim.issue(closure.issue_id)
        assert closure.closed_at >= last[closure.issue_id]
        assert closure.closed_at - issue.first_reported_at >= timedelta(hours=4)
        assert issue.closed_at == closure.closed_at


def test_status_changes_close_each_ticket_with_its_department(sim: Simulation) -> None:
    """One CLOSED/RESOLVED change per closure, from the department the catalogue routes it to."""
    router = Router(load_catalogue())
    departments = router.catalogue.all_departments()
    assert [c.ticket_id for c in sim.status_changes] == [c.ticket_id for c in sim.closures]
    for change, closure in zip(sim.status_changes, sim.closures, strict=True):
        assert change.status is TicketStatus.CLOSED
        assert change.resolution is Resolution.RESOLVED
        assert change.department == closure.department
        assert change.department in departments
        assert change.at == closure.closed_at
    assert len({c.change_id for c in sim.status_changes}) == len(sim.status_changes)


def test_closures_line_format(sim: Simulation) -> None:
    """closures.jsonl lines carry issue_id, closed_at (with offset) and ticket_id."""
    line = sim.closures[0].line()
    assert set(line) >= {"issue_id", "closed_at", "ticket_id"}
    assert line["closed_at"].endswith("+08:00")
