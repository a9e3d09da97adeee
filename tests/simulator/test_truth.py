"""The ground truth covers every record and is consistent with the issues."""

from __future__ import annotations

from collections import Counter, defaultdict

from connectors.simulator import Kind, Simulation


def test_truth_has_one_line_per_record(sim: Simulation) -> None:
    """Every record has a truth line with its channel, ids, issue, kind and time."""
    lines = [r.truth() for r in sim.records]
    assert len(lines) == len(sim.records)
    for line in lines:
        assert {"channel", "source_record_id", "report_id", "issue_id", "kind", "reported_at"} <= set(line)


def test_source_ids_are_unique_per_channel(sim: Simulation) -> None:
    """No two records of a channel share a source id (so no two share a report id)."""
    ids = Counter((r.channel, r.source_record_id) for r in sim.records)
    assert max(ids.values()) == 1
    assert len({r.report_id for r in sim.records}) == len(sim.records)


def test_only_malformed_records_lack_an_issue(sim: Simulation) -> None:
    """issue_id is null exactly for malformed records; every other id is a known issue."""
    known = {i.issue_id for i in sim.issues}
    for r in sim.records:
        assert (r.issue_id is None) == (r.kind is Kind.MALFORMED)
        assert r.issue_id is None or r.issue_id in known


def test_kinds_follow_the_issue(sim: Simulation) -> None:
    """An issue's first report is original/single/near_miss, every later one a repeat."""
    by_issue = defaultdict(list)
    for r in sim.records:
        if r.issue_id:
            by_issue[r.issue_id].append(r)
    for issue in sim.issues:
        reports = sorted(by_issue[issue.issue_id], key=lambda r: r.reported_at)
        assert len(reports) == issue.report_count
        first, rest = reports[0], reports[1:]
        if issue.near_miss_type:
            assert first.kind is Kind.NEAR_MISS
            assert first.near_miss_of == issue.near_miss_of
            assert first.near_miss_type is issue.near_miss_type
        else:
            assert first.kind is (Kind.ORIGINAL if rest else Kind.SINGLE)
        assert all(r.kind is Kind.REPEAT for r in rest)
        assert first.reported_at == issue.first_reported_at


def test_near_miss_lines_name_their_lookalike(sim: Simulation) -> None:
    """A near-miss truth line carries near_miss_of (another issue) and near_miss_type."""
    for r in sim.records:
        line = r.truth()
        if r.kind is Kind.NEAR_MISS:
            assert line["near_miss_of"] != line["issue_id"]
            assert line["near_miss_type"]
        else:
            assert "near_miss_of" not in line
