"""``generate``: plan a scenario, render its records, and derive the truth and the closures."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

from connectors.settings import DEFAULT_DATA_DIR
from connectors.simulator.problems import CHANNELS, load_phrasebook, load_problems
from connectors.simulator.render import Renderer
from connectors.simulator.scenario import PlannedIssue, PlannedReport, Planner, load_proportions
from connectors.simulator.truth import CHANNEL_ENUM, Closure, Issue, SimRecord, Simulation
from connectors.simulator.world import load_city
from connectors.tables import Tables, load_tables
from gateway.routing import Router, load_catalogue
from schemas import Resolution, TicketStatus, TicketStatusChange
from schemas import ids as schema_ids

#: Shanghai local time (no daylight saving): the time zone every channel writes in.
SHANGHAI = timezone(timedelta(hours=8))
#: The default start of the simulated period; a fixed date keeps runs reproducible.
DEFAULT_START = datetime(2026, 11, 1, tzinfo=SHANGHAI)
#: Who closes tickets in the simulation (``TicketStatusChange.actor``).
ACTOR = "simulator"


def generate(
    seed: int,
    reports: int,
    city: str = "shanghai",
    malformed: float = 0.05,
    start: datetime | None = None,
) -> Simulation:
    """Simulate ``reports`` native records (``malformed`` of them broken) of ``city`` from ``start``.

    Deterministic: the same arguments give byte-identical records, truth and closures.
    ``start`` defaults to 2026-11-01 00:00 Asia/Shanghai; a naive ``start`` is read as
    Shanghai time.
    """
    if reports < 0:
        raise ValueError(f"reports must be >= 0, got {reports}")
    if not 0.0 <= malformed <= 1.0:
        raise ValueError(f"malformed must be a share between 0 and 1, got {malformed}")
    begin = DEFAULT_START if start is None else start
    begin = begin.replace(tzinfo=SHANGHAI) if begin.tzinfo is None else begin.astimezone(SHANGHAI)
    rng = random.Random(seed)
    tables = _tables()
    broken = round(reports * malformed)
    world = load_city(city)
    planner = Planner(
        rng, world, load_problems(), load_phrasebook(), load_proportions(), begin, reports - broken
    )
    planner.plan(reports - broken, broken)
    in_time = sorted(planner.reports, key=lambda r: (r.at, r.seq))
    _assign_source_ids(in_time)
    streets = _resolvable_streets(tables, city)
    renderer = Renderer(rng, load_phrasebook(), load_proportions(), world.name, streets)
    raw = {r.seq: renderer.render(r) for r in in_time}
    for issue in planner.issues:
        issue.reports.sort(key=lambda r: (r.at, r.seq))
    issues = sorted(planner.issues, key=lambda i: (i.first.at, i.first.seq))
    for n, issue in enumerate(issues, 1):
        issue.issue_id = f"ISS-{n:06d}"
    delays = load_proportions().emit_delay_minutes
    for r in in_time:
        r.emitted_at = r.at + timedelta(seconds=rng.randrange(int(delays[r.channel] * 60) + 1))
    emitted = sorted(in_time, key=lambda r: (r.emitted_at, r.seq))
    records = [_record(r, raw[r.seq]) for r in emitted]
    closures, changes = _closures(issues, tables)
    return Simulation(
        seed=seed,
        city=city,
        start=begin,
        records=records,
        issues=[_issue(i) for i in issues],
        closures=closures,
        status_changes=changes,
    )


def _assign_source_ids(in_time: list[PlannedReport]) -> None:
    """Source ids in each channel's own style, numbered in time order as the systems number them."""
    counters: dict[tuple[str, ...], int] = defaultdict(int)
    for r in in_time:
        day = r.at.strftime("%Y%m%d")
        if r.channel == "12345":
            key: tuple[str, ...] = ("12345", day)
            counters[key] += 1
            r.source_record_id = f"SH12345-{day}-{counters[key]:06d}"
        elif r.channel == "12319":
            district = r.place.district.code
            key = ("12319", district, day)
            counters[key] += 1
            r.source_record_id = f"12319-{district}-{day}-{counters[key]:04d}"
        elif r.channel == "962121":
            key = ("962121", day)
            counters[key] += 1
            r.source_record_id = f"962121-{day}-{counters[key]:04d}"
        else:
            minute = r.at.strftime("%H%M")
            key = ("grid", day, minute)
            counters[key] += 1
            r.source_record_id = f"GE-{day}-{minute}-{counters[key]:04d}"


def _record(r: PlannedReport, raw: bytes) -> SimRecord:
    issue = r.issue
    assert r.emitted_at is not None  # set for every report before records are built
    near = issue.near_miss_of if issue is not None and r is issue.first else None
    return SimRecord(
        channel=r.channel,
        raw=raw,
        source_record_id=r.source_record_id,
        issue_id=issue.issue_id if issue is not None else None,
        kind=r.kind,
        reported_at=r.at,
        emitted_at=r.emitted_at,
        near_miss_of=near.issue_id if near is not None else None,
        near_miss_type=issue.near_miss_type if near is not None and issue is not None else None,
        malformed_type=r.malformed,
    )


def _issue(i: PlannedIssue) -> Issue:
    place = i.place
    return Issue(
        issue_id=i.issue_id,
        problem=i.problem.key,
        category=i.problem.category,
        district_code=place.district.code,
        road=place.road.name,
        house_number=place.number,
        compound=place.compound.name if place.compound else None,
        building=place.building,
        room=place.room,
        lon=place.lon,
        lat=place.lat,
        first_reported_at=i.first.at,
        report_count=len(i.reports),
        filing_only=i.first.filing_only,
        closed_at=i.closed_at,
        near_miss_of=i.near_miss_of.issue_id if i.near_miss_of else None,
        near_miss_type=i.near_miss_type,
    )


def _closures(issues: list[PlannedIssue], tables: Tables) -> tuple[list[Closure], list[TicketStatusChange]]:
    """Closed issues, and the CLOSED status change a department sends for each ticket.

    The ticket is the one the gateway opens for the issue's first report, so its id is
    ``ticket_id(district, report_id(first report))`` and its department the lead the
    routing catalogue gives the category that report maps to.
    """
    closures: list[Closure] = []
    changes: list[TicketStatusChange] = []
    for issue in sorted(
        (i for i in issues if i.closed_at is not None), key=lambda i: (i.closed_at, i.issue_id)
    ):
        assert issue.closed_at is not None
        first = issue.first
        channel = CHANNEL_ENUM[first.channel]
        report_id = schema_ids.report_id(channel, first.source_record_id)
        ticket_id = schema_ids.ticket_id(issue.place.district.code, report_id)
        category = tables.channels[first.channel].categories[issue.problem.native_key(first.channel)]
        department = _department(category, channel.value)
        closures.append(Closure(issue.issue_id, ticket_id, issue.closed_at, department))
        changes.append(
            TicketStatusChange(
                change_id=f"{ticket_id}:closed",
                ticket_id=ticket_id,
                status=TicketStatus.CLOSED,
                resolution=Resolution.RESOLVED,
                department=department,
                actor=ACTOR,
                note="已处理完毕",
                at=issue.closed_at.astimezone(UTC),
            )
        )
    return closures, changes


def _resolvable_streets(tables: Tables, city: str) -> set[str]:
    """Street names the connectors place in the right district (a 962121 row may then omit 区)."""
    world = load_city(city)
    return {
        name
        for district in world.districts
        for name in district.streets.values()
        if tables.districts.by_street(name) == district.code
    }


@cache
def _tables() -> Tables:
    return load_tables(DEFAULT_DATA_DIR, list(CHANNELS))


@cache
def _router() -> Router:
    return Router(load_catalogue())


@cache
def _department(category: str, channel: str) -> str:
    """The lead department of a ticket of this category opened by this channel."""
    return _router().route(category, channel, {}, {}).lead
