"""The traffic has the proportions docs/simulator.md promises."""

from __future__ import annotations

from collections import Counter

import pytest

from connectors.simulator import Kind, NearMissType, Simulation, generate


def test_requested_record_count_and_malformed_share(sim: Simulation) -> None:
    """Exactly ``reports`` records, of which round(reports × malformed) are malformed."""
    assert len(sim.records) == 12_000
    assert sum(r.kind is Kind.MALFORMED for r in sim.records) == 600


def test_most_issues_are_single_and_a_fifth_are_multi(sim: Simulation) -> None:
    """15–25 % of issues are reported 2–6 times; the rest once."""
    counts = Counter(i.report_count for i in sim.issues)
    multi = sum(n for size, n in counts.items() if size > 1) / len(sim.issues)
    assert 0.15 <= multi <= 0.25
    assert max(counts) <= 6


def test_every_channel_carries_a_realistic_share(sim: Simulation) -> None:
    """12345 is the biggest channel; every channel carries at least a tenth of the records."""
    shares = Counter(r.channel for r in sim.records)
    total = len(sim.records)
    assert shares["12345"] == max(shares.values())
    assert all(shares[c] / total >= 0.10 for c in ("12345", "12319", "962121", "grid"))


def test_multi_report_issues_span_several_channels(sim: Simulation) -> None:
    """One real issue often reaches the gateway through more than one channel."""
    channels: dict[str, set[str]] = {}
    for r in sim.records:
        if r.issue_id:
            channels.setdefault(r.issue_id, set()).add(r.channel)
    multi = [i.issue_id for i in sim.issues if i.report_count > 1]
    crossing = sum(len(channels[i]) > 1 for i in multi) / len(multi)
    assert crossing >= 0.3


def test_near_misses_of_every_type(sim: Simulation) -> None:
    """About 7 % of issues are near misses, and every near-miss type occurs."""
    types = Counter(i.near_miss_type for i in sim.issues if i.near_miss_type)
    assert set(types) == set(NearMissType)
    assert 0.04 <= sum(types.values()) / len(sim.issues) <= 0.10


def test_most_issues_close(sim: Simulation) -> None:
    """Closures (and their status changes) cover about 85 % of the issues."""
    assert 0.75 <= len(sim.closures) / len(sim.issues) <= 0.9
    assert len(sim.status_changes) == len(sim.closures)


@pytest.mark.parametrize("malformed", [0.0, 0.2])
def test_malformed_share_is_configurable(malformed: float) -> None:
    """``malformed`` sets the share of broken records; 0 gives none."""
    run = generate(4, 1000, malformed=malformed)
    assert sum(r.kind is Kind.MALFORMED for r in run.records) == round(1000 * malformed)


def test_records_come_roughly_in_time_order(sim: Simulation) -> None:
    """Records are emitted in reported-time order, give or take a channel's delay (≤ 30 min)."""
    latest = sim.records[0].reported_at
    for r in sim.records:
        assert (latest - r.reported_at).total_seconds() <= 30 * 60 + 60
        latest = max(latest, r.reported_at)
        assert r.emitted_at >= r.reported_at


def test_bad_arguments_are_refused() -> None:
    """A negative count or a share outside 0..1 is a ValueError, not a strange simulation."""
    with pytest.raises(ValueError, match="reports"):
        generate(1, -1)
    with pytest.raises(ValueError, match="malformed"):
        generate(1, 10, malformed=1.5)
