"""Same input order → same decisions, and a restored index decides like the original."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import DedupConfig, Observation, TicketIndex, load_model

MODEL = load_model()
ROADS = ["张杨路", "浦东南路", "世纪大道"]
PROBLEMS = [
    ("0601", "路灯不亮"),
    ("0601", "灯杆晚上不亮灯"),
    ("0602", "窨井盖破损"),
    ("0603", "下水道堵塞反水"),
]

report = st.tuples(
    st.integers(0, 2),  # road
    st.integers(0, 3),  # house number (of 4 nearby ones)
    st.integers(0, 3),  # problem
    st.integers(0, 180),  # minutes after the previous report
    st.integers(0, 60),  # metres east
    st.booleans(),  # closed 6 h after opening
)


def observations(spec, late=()):
    """The stream; ``late[i]`` minutes (if given) put report i that much before its place in time."""
    out, t = [], 0
    for i, (road, house, problem, minutes, metres, closes) in enumerate(spec):
        t += minutes * 60_000
        at = t - (late[i] if i < len(late) else 0) * 60_000
        code, text = PROBLEMS[problem]
        obs = Observation(
            report_id=f"R{i}",
            event_time_ms=at,
            category_code=code,
            description=f"{ROADS[road]}{500 + 2 * house}号{text}",
            address=f"浦东新区{ROADS[road]}{500 + 2 * house}号",
            lat=31.23 + road * 0.01,
            lon=121.52 + metres / 95_000,
        )
        out.append((obs, closes))
    return out


def run(index, items):
    """Feed the stream like the gateway: decide, then merge or open; return the decisions."""
    decisions = []
    for obs, closes in items:
        d = index.decide(obs)
        decisions.append(d)
        if d.band == "MERGE":
            index.add_member(d.ticket_id, obs)
        else:
            index.open_ticket(obs.report_id, obs)
            if closes:
                index.close(obs.report_id, obs.event_time_ms + 6 * 3_600_000)
    return decisions


def fresh(spec):
    """New Observation objects (no cached normalisation shared between runs)."""
    return observations(spec)


CASES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(st.lists(report, min_size=1, max_size=40))
def test_two_runs_decide_identically(spec):
    """Two indexes fed the same stream make identical decisions."""
    assert run(TicketIndex(MODEL), fresh(spec)) == run(TicketIndex(MODEL), fresh(spec))


@CASES
@given(st.lists(report, min_size=2, max_size=40), st.data())
def test_snapshot_restore_decides_identically(spec, data):
    """After snapshot/restore at any point, the rest of the stream is decided identically."""
    cut = data.draw(st.integers(1, len(spec) - 1))
    items = fresh(spec)
    original = TicketIndex(MODEL)
    run(original, items[:cut])
    restored = TicketIndex.restore(original.snapshot(), MODEL)
    assert run(restored, fresh(spec)[cut:]) == run(original, items[cut:])


def rebuilt_from_changelog(items, cut, config=None):
    """Feed ``items[:cut]``, draining changes as the gateway does; rebuild a second index from them."""
    original = TicketIndex(MODEL, config)
    compacted: dict[str, bytes | None] = {}
    for obs_closes in items[:cut]:
        run(original, [obs_closes])
        compacted.update(original.drain_changes())
    restored = TicketIndex(MODEL, config)
    for ticket_id, value in compacted.items():
        if value is None:
            restored.remove_entry(ticket_id)
        else:
            restored.load_entry(ticket_id, value)
    return original, restored


@CASES
@given(st.lists(report, min_size=2, max_size=40), st.data())
def test_changelog_restore_decides_identically(spec, data):
    """Replaying drained changelog values (last value per key) rebuilds an equivalent index."""
    cut = data.draw(st.integers(1, len(spec) - 1))
    items = fresh(spec)
    original, restored = rebuilt_from_changelog(items, cut)
    assert run(restored, fresh(spec)[cut:]) == run(original, items[cut:])


# Short windows and a 10-minute expiry period, so that late reports meet tickets that are
# past their window by the clock but not by their own time, around every expiry.
SHORT = DedupConfig(
    windows_hours={"06": 2.0}, default_window_hours=2.0, recurrence_window_days=0.25, expire_every_s=600
)


@CASES
@given(st.lists(report, min_size=2, max_size=60), st.lists(st.integers(0, 240), max_size=60), st.data())
def test_changelog_restore_with_late_reports_decides_identically(spec, late, data):
    """Out-of-order event times: a rebuilt index holds and decides what the uninterrupted one does.

    Expiry runs at the start of each event-time period, not at whichever clock value came
    first, so a restart mid-period cannot expire a ticket the uninterrupted run still holds.
    """
    cut = data.draw(st.integers(1, len(spec) - 1))
    items = observations(spec, late)
    original, restored = rebuilt_from_changelog(items, cut, SHORT)
    assert len(restored) == len(original)
    assert run(restored, observations(spec, late)[cut:]) == run(original, items[cut:])


# One compound under its two names (凉城新村 = 凉城路700弄), as lane, as compound and as both:
# a merge's primary may then have been compared as an alias of the report's place.
PLACES = [
    ("虹口区凉城路700弄5号", "凉城新村5号楼家里没有水"),
    ("虹口区凉城新村5号楼", "家里没有水"),
    ("虹口区凉城路700弄5号", "家里没有水"),
]


def aliased(spec):
    out, t = [], 0
    for i, (place, minutes, metres) in enumerate(spec):
        t += minutes * 60_000
        address, text = PLACES[place]
        obs = Observation(
            report_id=f"W{i}",
            event_time_ms=t,
            category_code="0903",
            description=text,
            address=address,
            lat=31.29,
            lon=121.47 + metres / 95_000,
        )
        out.append(obs)
    return out


@CASES
@given(
    st.lists(report, min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 120), st.integers(0, 60)), max_size=15),
)
def test_a_merge_keeps_the_member_strength_a_fresh_comparison_gives(spec, water):
    """The strength a merge reuses from its decision equals a comparison made without one.

    One index decides and merges (the strength against the primary comes from the
    decision's scores); the other only applies the same merges (it compares afresh).
    Their snapshots hold the same members with the same strengths.
    """
    deciding, applying = TicketIndex(MODEL), TicketIndex(MODEL)
    stream = [obs for obs, _ in fresh(spec)] + aliased(water)
    twins = [obs for obs, _ in fresh(spec)] + aliased(water)
    for obs, twin in zip(stream, twins, strict=True):
        d = deciding.decide(obs)
        if d.band == "MERGE":
            deciding.add_member(d.ticket_id, obs)
            applying.add_member(d.ticket_id, twin)
        else:
            deciding.open_ticket(obs.report_id, obs)
            applying.open_ticket(twin.report_id, twin)
    assert deciding.snapshot() == applying.snapshot()
