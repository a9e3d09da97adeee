"""Duplicates are hard the way real ones are: reworded, respelled, other datums, repeat callers."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict

from connectors.simulator import Kind, Simulation
from connectors.simulator.world import load_city
from schemas import Report
from schemas.privacy import normalize_phone


def _text(report: Report) -> str:
    return report.description


def test_repeats_are_mostly_reworded(mapped: list) -> None:
    """Most repeats describe the issue in other words than the first report."""
    first: dict[str, str] = {}
    same = different = 0
    for m in mapped:
        if not isinstance(m.result, Report) or m.record.issue_id is None:
            continue
        if m.record.kind in (Kind.ORIGINAL, Kind.NEAR_MISS):
            first[m.record.issue_id] = _text(m.result)
        elif m.record.kind is Kind.REPEAT and m.record.issue_id in first:
            if _text(m.result) == first[m.record.issue_id]:
                same += 1
            else:
                different += 1
    assert different > 0.9 * (same + different)


def test_addresses_are_spelled_many_ways(sim: Simulation) -> None:
    """Short district names, Chinese and full-width house numbers, 附近, and one-character road typos."""
    hotline = [
        json.loads(r.raw) for r in sim.records if r.channel == "12345" and r.kind is not Kind.MALFORMED
    ]
    addresses = [o.get("address", "") + o["content"] for o in hotline]
    assert any(re.search(r"[一二三四五六七八九十百千]+号", a) for a in addresses)
    assert any(re.search(r"[０-９]+号", a) for a in addresses)
    assert any("附近" in a for a in addresses)
    assert any(o.get("district") == "浦东" for o in hotline)
    assert any(o.get("district") == "浦东新区" for o in hotline)
    roads = [road.name for road in load_city("shanghai").roads]
    typos = [
        a for a in addresses if re.search(r"[\u4e00-\u9fff]{2,3}路\d", a) and not any(n in a for n in roads)
    ]
    assert typos


def test_some_callers_call_again(sim: Simulation) -> None:
    """The same phone number (formatted differently or not) reports one issue twice."""
    phones: dict[str, list[str]] = defaultdict(list)
    for r in sim.records:
        if r.channel == "12345" and r.kind is not Kind.MALFORMED and r.issue_id:
            phone = json.loads(r.raw).get("callerPhone")
            if phone:
                phones[r.issue_id].append(normalize_phone(phone) or "")
    assert any(len(set(p)) < len(p) for p in phones.values())


def test_phone_numbers_come_in_several_shapes(sim: Simulation) -> None:
    """+86, spaces, dashes and full-width digits appear, all normalizing to the same digits."""
    raw = [
        json.loads(r.raw).get("callerPhone", "")
        for r in sim.records
        if r.channel == "12345" and r.kind is not Kind.MALFORMED
    ]
    assert any(p.startswith("+86") for p in raw)
    assert any(" " in p for p in raw)
    assert any(unicodedata.normalize("NFKC", p) != p for p in raw)


def test_three_datums(mapped: list) -> None:
    """12319 and grid carry GCJ-02, 12345 sometimes WGS-84, 962121 never a position."""
    datums = defaultdict(set)
    for m in mapped:
        if isinstance(m.result, Report):
            datums[m.record.channel].add(m.result.location.source_datum.value)
    assert "GCJ02" in datums["12319"]
    assert "GCJ02" in datums["grid"]
    assert {"WGS84", "NONE"} <= datums["12345"]
    assert datums["962121"] == {"NONE"}


def test_repeats_come_hours_to_days_later(sim: Simulation) -> None:
    """Reports of one issue spread over minutes to days, not one burst."""
    times = defaultdict(list)
    for r in sim.records:
        if r.issue_id:
            times[r.issue_id].append(r.reported_at)
    spans = sorted((max(t) - min(t)).total_seconds() / 3600 for t in times.values() if len(t) > 1)
    assert spans[len(spans) // 2] > 1
    assert spans[-1] > 24
