"""Near misses are really near: they must look like their lookalike and still be another issue."""

from __future__ import annotations

from connectors.simulator import Issue, NearMissType, Simulation
from connectors.simulator.world import metres


def _pairs(sim: Simulation, kind: NearMissType) -> list[tuple[Issue, Issue]]:
    pairs = [
        (i, sim.issue(i.near_miss_of)) for i in sim.issues if i.near_miss_type is kind and i.near_miss_of
    ]
    assert pairs, f"no {kind} near misses"
    return pairs


def _distance(a: Issue, b: Issue) -> float:
    return metres(a.lon, a.lat, b.lon, b.lat)


def test_nearby_is_the_same_problem_150_to_400_m_along_the_same_road(sim: Simulation) -> None:
    """Same problem type, same road, another house number, 150–400 m away."""
    for near, original in _pairs(sim, NearMissType.SAME_PROBLEM_NEARBY):
        assert near.problem == original.problem
        assert (near.district_code, near.road) == (original.district_code, original.road)
        assert near.house_number != original.house_number
        assert 150 <= _distance(near, original) <= 400


def test_same_address_is_another_problem_at_the_very_spot(sim: Simulation) -> None:
    """Another problem type at the same road and number (or the same compound building)."""
    for near, original in _pairs(sim, NearMissType.DIFFERENT_PROBLEM_SAME_ADDRESS):
        assert near.problem != original.problem
        assert (near.road, near.house_number, near.compound, near.building) == (
            original.road,
            original.house_number,
            original.compound,
            original.building,
        )
        assert _distance(near, original) < 1


def test_other_building_is_the_same_problem_next_door(sim: Simulation) -> None:
    """Same problem in another building of the same compound, within a few hundred metres."""
    for near, original in _pairs(sim, NearMissType.SAME_PROBLEM_OTHER_BUILDING):
        assert near.problem == original.problem
        assert near.compound == original.compound
        assert near.building != original.building
        assert _distance(near, original) < 350


def test_after_closure_comes_after_the_lookalike_was_closed(sim: Simulation) -> None:
    """The same problem at the same spot, first reported after the earlier ticket's closed_at."""
    closed = {c.issue_id: c.closed_at for c in sim.closures}
    for near, original in _pairs(sim, NearMissType.AFTER_CLOSURE):
        assert near.problem == original.problem
        assert _distance(near, original) < 1
        assert original.issue_id in closed
        assert near.first_reported_at > closed[original.issue_id]


def test_other_near_misses_happen_while_the_lookalike_is_open(sim: Simulation) -> None:
    """Near misses that are not after-closure overlap the original's open period."""
    for near in sim.issues:
        if near.near_miss_of and near.near_miss_type is not NearMissType.AFTER_CLOSURE:
            original = sim.issue(near.near_miss_of)
            if original.closed_at is not None:
                assert near.first_reported_at <= original.closed_at


def test_ordinary_issues_of_one_problem_are_never_open_at_one_spot(sim: Simulation) -> None:
    """Unrelated issues of one problem are not open at one spot together (they would be one issue)."""
    from collections import defaultdict
    from datetime import timedelta

    def open_period(issue: Issue) -> tuple:
        if issue.filing_only:
            end = issue.first_reported_at
        else:
            end = issue.closed_at or issue.first_reported_at + timedelta(days=30)
        return issue.first_reported_at - timedelta(hours=6), end

    groups = defaultdict(list)
    for issue in sim.issues:
        if issue.near_miss_type is None:
            groups[(issue.problem, issue.district_code, issue.road, issue.compound)].append(issue)
    for group in groups.values():
        group.sort(key=lambda i: i.first_reported_at)
        for n, a in enumerate(group):
            for b in group[n + 1 :]:
                if open_period(b)[0] >= open_period(a)[1]:
                    continue
                if a.compound is not None:
                    assert (a.building, a.room) != (b.building, b.room), (a.issue_id, b.issue_id)
                else:
                    assert _distance(a, b) >= 140, (a.issue_id, b.issue_id)
