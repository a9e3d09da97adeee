"""The connectors' own decode → validate → map path accepts every good record and rejects every bad one."""

from __future__ import annotations

from collections import Counter

from connectors.settings import DEFAULT_DATA_DIR
from connectors.simulator import Kind, Simulation
from connectors.simulator.problems import CHANNELS, load_problems
from connectors.simulator.scenario import load_proportions
from connectors.tables import load_tables
from schemas import DeadLetter, Report


def test_every_wellformed_record_maps_to_a_report(mapped: list) -> None:
    """No good record is dead-lettered, on any channel."""
    rejected = [
        (m.record.channel, m.result.error_message)
        for m in mapped
        if m.record.kind is not Kind.MALFORMED and isinstance(m.result, DeadLetter)
    ]
    assert rejected == []


def test_every_malformed_record_is_dead_lettered(mapped: list) -> None:
    """Every deliberately broken record is rejected, whatever the way it is broken."""
    accepted = [
        (m.record.channel, m.record.malformed_type)
        for m in mapped
        if m.record.kind is Kind.MALFORMED and isinstance(m.result, Report)
    ]
    assert accepted == []


def test_every_malformation_of_every_channel_occurs(sim: Simulation) -> None:
    """Broken JSON, missing fields, impossible dates, bad coordinates, cut XML, bad GBK, wrong columns."""
    seen = Counter((r.channel, r.malformed_type) for r in sim.records if r.kind is Kind.MALFORMED)
    for channel, kinds in load_proportions().malformed_types.items():
        for kind in kinds:
            assert seen[(channel, kind)] > 0, (channel, kind)


def test_reported_time_is_what_the_record_says(mapped: list) -> None:
    """The truth's reported_at is the time the connectors read from the record, to the second."""
    for m in mapped:
        if isinstance(m.result, Report):
            assert m.result.reported_at == m.record.reported_at


def test_report_ids_agree_with_the_connectors(mapped: list) -> None:
    """truth.jsonl's report_id is the id the connectors give the mapped Report."""
    for m in mapped:
        if isinstance(m.result, Report):
            assert m.result.report_id == m.record.report_id


def test_categories_map_to_the_problem_family(sim: Simulation, mapped: list) -> None:
    """Mapped categories match the issue's family, except operator mistakes filed as 9900 待分类."""
    wrong, unfiled = [], 0
    for m in mapped:
        if not isinstance(m.result, Report):
            continue
        code = m.result.category.code
        if code == "9900":
            unfiled += 1
        elif code[:2] != sim.issue(m.record.issue_id).category[:2]:
            wrong.append((m.record.channel, code, sim.issue(m.record.issue_id).category))
    assert wrong == []
    assert 0 < unfiled < 0.02 * len(mapped)


def test_native_codes_exist_in_the_connectors_tables() -> None:
    """Every native code the simulator writes is a key of the channel's category table."""
    tables = load_tables(DEFAULT_DATA_DIR, list(CHANNELS))
    for problem in load_problems():
        for channel in problem.channels:
            mapped = tables.channels[channel].categories[problem.native_key(channel)]
            assert mapped[:2] == problem.category[:2], (problem.key, channel)


def test_districts_are_known_wherever_the_record_names_them(sim: Simulation, mapped: list) -> None:
    """12319, 962121 and grid always locate the district; 12345 does unless the caller left it out."""
    missing = Counter()
    for m in mapped:
        if isinstance(m.result, Report):
            district = m.result.location.district_code
            if district is None:
                missing[m.record.channel] += 1
            else:
                assert district == sim.issue(m.record.issue_id).district_code
    assert set(missing) <= {"12345"}
    assert missing["12345"] < 0.2 * sum(m.record.channel == "12345" for m in mapped)


def test_positions_are_the_issue_in_the_right_datum(sim: Simulation, mapped: list) -> None:
    """GCJ-02 (12319, grid) and WGS-84 (12345) positions map back to within metres of the real spot."""
    from connectors.simulator.world import metres

    for m in mapped:
        if isinstance(m.result, Report) and m.result.location.lat is not None:
            issue = sim.issue(m.record.issue_id)
            distance = metres(issue.lon, issue.lat, m.result.location.lon, m.result.location.lat)
            # 8 m GPS noise; 12345 app callers sometimes send their own position up to 120 m away.
            assert distance < (170 if m.record.channel == "12345" else 60), (m.record.channel, distance)
