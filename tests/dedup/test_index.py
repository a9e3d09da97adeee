"""Index behaviour: bands, closed tickets, recurrence, no chaining, caps, expiry, persistence."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import DedupModel, IndexEntryError, TicketIndex, UnknownTicketError

HOUR_MS = 3_600_000


def east(metres: float) -> float:
    return 121.52 + metres / (111_195.0 * math.cos(math.radians(31.23)))


def distance_only_model() -> DedupModel:
    """Only distance counts: ≤50 m merges, ≤100 m is neutral, farther is against."""
    return DedupModel(
        version="distance-only",
        weights={
            "distance": {"d25": 10, "d50": 10, "d100": 0, "d200": -5, "d500": -5, "d1000": -5, "far": -5}
        },
        merge_threshold=9,
        review_threshold=5,
    )


def test_same_issue_merges_different_issue_stays_apart(make_index, make_obs):
    """A reworded repeat merges into the ticket; another problem at the same address does not."""
    index = make_index()
    first = make_obs(report_id="A")
    assert index.decide(first).band == "NEW"
    index.open_ticket("T1", first)
    repeat = make_obs(
        description="张杨路五百号附近的灯杆晚上不亮灯，很黑",
        address="张杨路五百号",
        event_time_ms=2 * HOUR_MS,
    )
    other = make_obs(category_code="0602", description="张杨路500号门口窨井盖破损，很危险", title="井盖破损")
    d = index.decide(repeat)
    assert (d.band, d.ticket_id, d.candidate_report_id) == ("MERGE", "T1", "A")
    # Never merged; at the same door it may go to a person (REVIEW opens its own ticket).
    assert index.decide(other).band != "MERGE"


def test_decide_does_not_mutate(make_index, make_obs):
    """decide() twice gives the same decision and leaves the index unchanged."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A"))
    before = index.snapshot()
    query = make_obs()
    assert index.decide(query) == index.decide(query)
    assert index.snapshot() == before


def test_review_band_between_thresholds(make_index, make_obs):
    """A score between the thresholds is REVIEW, naming the candidate ticket."""
    index = make_index(distance_only_model())
    index.open_ticket("T1", make_obs(report_id="A", address="", description=""))
    query = make_obs(address="", description="", lon=east(80))
    model = DedupModel(
        version="v",
        weights={"distance": {"d100": 6}},
        merge_threshold=9,
        review_threshold=5,
    )
    index = make_index(model)
    index.open_ticket("T1", make_obs(report_id="A", address="", description=""))
    d = index.decide(query)
    assert (d.band, d.ticket_id) == ("REVIEW", "T1")
    assert "REVIEW" in d.explanation


def test_closed_ticket_takes_no_merge_and_links_recurrence(make_index, make_obs):
    """After close(), a matching report is NEW with recurrence_of the closed ticket."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A"))
    index.close("T1", 5 * HOUR_MS)
    later = make_obs(event_time_ms=30 * HOUR_MS)
    d = index.decide(later)
    assert d.band == "NEW"
    assert d.ticket_id is None
    assert d.recurrence_of == "T1"
    assert "复发" in d.explanation
    # Before the closing time the same ticket was open and would have taken the merge.
    assert index.decide(make_obs(event_time_ms=4 * HOUR_MS)).band == "MERGE"


def test_no_chaining_through_members(make_index, make_obs):
    """A report resembling only a member-of-a-member is not merged (A~B~C~D does not pull D in)."""
    index = make_index(distance_only_model())
    common = {"address": "", "description": "", "title": ""}
    index.open_ticket("T", make_obs(report_id="A", lon=east(0), **common))
    b = make_obs(report_id="B", lon=east(40), **common)
    assert index.decide(b).band == "MERGE"
    index.add_member("T", b)
    c = make_obs(report_id="C", lon=east(80), **common)
    d_c = index.decide(c)
    assert (d_c.band, d_c.candidate_report_id) == ("MERGE", "B")
    index.add_member("T", c)
    d_d = index.decide(make_obs(report_id="D", lon=east(120), **common))
    assert d_d.band != "MERGE"


def test_add_member_to_unknown_ticket_is_an_error(make_index, make_obs):
    """Merging into a ticket the index does not hold raises a named error."""
    with pytest.raises(UnknownTicketError):
        make_index().add_member("nope", make_obs())


def test_candidate_cap_is_counted(make_index, make_obs):
    """Above max_candidates the list is cut, the cut is counted, and the newest are kept."""
    index = make_index(max_candidates=5)
    for i in range(20):
        index.open_ticket(f"T{i}", make_obs(report_id=f"A{i}", event_time_ms=i * 1000))
    d = index.decide(make_obs(event_time_ms=30_000))
    assert d.candidates_considered == 5
    assert d.candidates_dropped == 15
    assert index.candidates_capped == 1
    assert d.ticket_id == "T19"


def test_family_window_and_expiry(make_index, make_obs):
    """Outside the family's window a ticket is no candidate, and expire() drops it with a tombstone."""
    index = make_index(windows_hours={"06": 10.0})
    index.open_ticket("T1", make_obs(report_id="A"))
    assert index.decide(make_obs(event_time_ms=9 * HOUR_MS)).band == "MERGE"
    assert index.decide(make_obs(event_time_ms=11 * HOUR_MS)).band == "NEW"
    index.drain_changes()
    assert index.expire(11 * HOUR_MS) == 1
    assert "T1" not in index
    assert index.drain_changes() == [("T1", None)]


def test_incompatible_family_is_not_a_candidate(make_index, make_obs):
    """Category families that cannot describe one problem are never compared."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A", category_code="0801"))
    assert index.decide(make_obs(category_code="0201")).candidates_considered == 0


def test_filing_only_is_never_merged(make_index, make_obs):
    """事件报备 records are not dispatched work: NEW without candidates."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A"))
    d = index.decide(make_obs(filing_only=True))
    assert (d.band, d.candidates_considered) == ("NEW", 0)


def test_changelog_entries_restore_the_index(make_index, make_obs, default_model):
    """drain_changes() → load_entry() into an empty index reproduces decisions."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A"))
    index.add_member("T1", make_obs(report_id="B", event_time_ms=HOUR_MS))
    index.open_ticket("T2", make_obs(report_id="C", category_code="0602", description="井盖破损"))
    index.close("T2", 2 * HOUR_MS)
    changes = index.drain_changes()
    assert [tid for tid, _ in changes] == ["T1", "T2"]
    copy = TicketIndex(default_model, index.config)
    for ticket_id, value in changes:
        copy.load_entry(ticket_id, value)
    for q in (make_obs(event_time_ms=3 * HOUR_MS), make_obs(category_code="0602", description="井盖破损")):
        assert copy.decide(q) == index.decide(q)


def test_bad_entry_bytes_are_a_named_error(make_index):
    """Bytes from another version or another program are refused clearly."""
    index = make_index()
    with pytest.raises(IndexEntryError):
        index.load_entry("T1", b'{"v": 99}')
    with pytest.raises(IndexEntryError):
        index.load_entry("T1", b"\x00garbage")
    with pytest.raises(IndexEntryError):
        TicketIndex.restore(b"not a snapshot", index.model)


def test_compound_and_lane_names_of_one_place_are_compared(make_index, make_obs):
    """A compound-only report finds and matches a lane-only ticket once a stored report named both."""
    index = make_index()
    lift = {"category_code": "0801", "title": "电梯故障", "lat": None, "lon": None}
    lane_only = make_obs(
        report_id="A", address="浦东新区张杨路1000弄9号", description="9号楼电梯坏了，老人下不了楼", **lift
    )
    index.open_ticket("T1", lane_only)
    compound_only = make_obs(
        report_id="C", address="浦东新区潍坊三村9号楼", description="电梯坏了，请物业上门查看", **lift
    )
    before = index.candidates(compound_only)
    assert before is None or "T1" not in before.ticket_ids
    both = make_obs(
        report_id="B",
        address="浦东新区张杨路1000弄潍坊三村",
        description="小区门口垃圾没人清运",
        category_code="0101",
        title="垃圾",
        lat=None,
        lon=None,
    )
    index.open_ticket("T2", both)
    found = index.candidates(compound_only)
    assert found is not None
    assert "T1" in found.ticket_ids
    level = found.comparison.levels["address"][found.ticket_ids.index("T1")]
    assert level in (1, 2, 3)  # same_room, same_building or same_house
    index.close("T2", 1)
    index.expire(10**12)
    assert index._lanes_of == {}
    assert index._compounds_of == {}


def test_window_runs_from_the_ticket_s_last_report(make_index, make_obs, default_model):
    """A ticket reported again stays matchable for the window after that report, restored too.

    max_members=0 keeps no member row, so only the ticket's last-report time (entry
    field "l") can keep the primary in the window.
    """
    index = make_index(windows_hours={"06": 10.0}, max_members=0)
    index.open_ticket("T1", make_obs(report_id="A"))
    index.add_member("T1", make_obs(report_id="B", event_time_ms=8 * HOUR_MS))
    late = make_obs(report_id="C", event_time_ms=15 * HOUR_MS)
    assert index.decide(late).ticket_id == "T1"
    restored = TicketIndex.restore(index.snapshot(), default_model, index.config)
    assert restored.decide(late) == index.decide(late)
    fresh = make_index(windows_hours={"06": 10.0}, max_members=0)
    for ticket_id, data in index.drain_changes():
        assert data is not None
        fresh.load_entry(ticket_id, data)
    assert fresh.decide(late) == index.decide(late)
    too_late = make_obs(report_id="D", event_time_ms=19 * HOUR_MS)
    assert index.decide(too_late).band == "NEW"


def test_version_1_entries_are_still_read(make_index, make_obs):
    """An entry written before "l" existed restores, its last report taken from its rows."""
    import json

    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A"))
    data = json.loads(index.entry_bytes("T1"))
    assert data["v"] == 3
    data["v"] = 1
    del data["l"]
    fresh = make_index()
    fresh.load_entry("T1", json.dumps(data).encode())
    query = make_obs(event_time_ms=HOUR_MS)
    assert fresh.decide(query) == index.decide(query)
    data["v"] = 4
    with pytest.raises(IndexEntryError):
        fresh.load_entry("T1", json.dumps(data).encode())


def test_a_problem_conflict_is_never_merged_automatically(make_index, make_obs):
    """Another sub category or object at a high score goes to REVIEW, saying why; the guard can be off."""
    other_problem = {"category_code": "0602", "title": "井盖破损", "description": "张杨路500号井盖破损"}
    guarded = make_index(distance_only_model())
    guarded.open_ticket("T1", make_obs(report_id="A"))
    d = guarded.decide(make_obs(**other_problem))
    assert (d.band, d.ticket_id) == ("REVIEW", "T1")
    assert d.score >= d.merge_threshold
    assert "问题不同" in d.explanation
    assert guarded.decide(make_obs()).band == "MERGE"  # the same problem still merges
    plain = make_index(distance_only_model(), review_problem_conflict=False)
    plain.open_ticket("T1", make_obs(report_id="A"))
    assert plain.decide(make_obs(**other_problem)).band == "MERGE"


def test_place_and_caller_alone_never_merge(make_index, make_obs):
    """Square-dance noise, then a dead door-card reader filed as 其他, from one resident of one
    building: nothing about the problem agrees, so a person decides, and the explanation says so.

    One agreeing problem feature (here the text of a reworded repeat) lifts the guard.
    """
    home = {"contact_hash": "c1", "address": "闵行区万科城市花园34号楼"}
    noise = {**home, "category_code": "1001", "title": "社会生活噪声", "description": "广场舞噪音扰民。"}
    reader = {**home, "category_code": "9900", "title": "其他", "description": "门禁刷卡没反应。望尽快解决。"}
    index = make_index(distance_only_model())
    index.open_ticket("T1", make_obs(report_id="A", **noise))
    d = index.decide(make_obs(**reader, event_time_ms=HOUR_MS))
    assert (d.band, d.ticket_id) == ("REVIEW", "T1")
    assert d.score >= d.merge_threshold
    assert "未见同一问题" in d.explanation
    again = index.decide(
        make_obs(**home, category_code="9900", title="其他", description="广场舞太吵", event_time_ms=HOUR_MS)
    )
    assert again.band == "MERGE"
    plain = make_index(distance_only_model(), review_problem_conflict=False)
    plain.open_ticket("T1", make_obs(report_id="A", **noise))
    assert plain.decide(make_obs(**reader, event_time_ms=HOUR_MS)).band == "MERGE"


def test_a_door_lock_filed_as_property_service_is_not_the_property_complaint(make_index, make_obs):
    """12345's 物业服务 title next to 物业不作为 in one building: two problems, a person decides.

    Read as words, the title would give the door lock the object 物业, and the two would
    "overlap"; the management company's repeat still merges.
    """
    building = {"address": "浦东新区花木街道锦绣苑4号楼", "category_code": "0804"}
    neglect = {
        **building,
        "channel": "PROPERTY_962121",
        "title": "其他",
        "description": "物业不作为，麻烦尽快处理",
    }
    index = make_index(distance_only_model())
    index.open_ticket("T1", make_obs(report_id="A", **neglect))
    door = index.decide(make_obs(**building, title="物业服务", description="锦绣苑4号楼单元门门禁坏了"))
    assert (door.band, door.ticket_id, door.held_back) == ("REVIEW", "T1", "problem_differs")
    assert door.score >= door.merge_threshold
    again = index.decide(make_obs(**building, title="物业服务", description="物业服务太差，多次反映没有结果"))
    assert (again.band, again.ticket_id) == ("MERGE", "T1")


def test_exclusive_symptoms_in_the_callers_words_hold_a_merge_back(make_index, make_obs):
    """井盖不见了 and 井盖松动 at one door are two covers, though both are filed as 窨井盖缺失.

    Only the descriptions count (the title is the hotline's category name); a report naming
    neither symptom, or the same one, merges as before; the restored index decides alike.
    """
    said = {"category_code": "0602", "title": "窨井盖缺失"}
    missing = {**said, "description": "浦东新区张杨路500号井盖不见了"}
    broken = {**said, "description": "浦东新区张杨路500号井盖松动，车开过去哐哐响"}
    index = make_index(distance_only_model())
    index.open_ticket("T1", make_obs(report_id="A", **missing))
    d = index.decide(make_obs(report_id="B", **broken))
    assert (d.band, d.ticket_id) == ("REVIEW", "T1")
    assert d.score >= d.merge_threshold
    assert "问题不同" in d.explanation
    assert index.decide(make_obs(**missing)).band == "MERGE"  # the same cover again
    assert index.decide(make_obs(**said, description="张杨路500号窨井盖")).band == "MERGE"
    fresh = make_index(distance_only_model())
    for ticket_id, data in index.drain_changes():
        assert data is not None
        fresh.load_entry(ticket_id, data)
    assert fresh.decide(make_obs(report_id="B", **broken)) == d
    no_lid = {**said, "description": "张杨路500号路上有个井没有盖子"}  # 缺失 in other words
    assert index.decide(make_obs(**no_lid)).band == "MERGE"
    other = make_index(distance_only_model())
    other.open_ticket("T2", make_obs(report_id="C", **no_lid))
    tilted = other.decide(make_obs(**said, description="张杨路500号井盖翘起来了"))
    assert (tilted.band, tilted.ticket_id) == ("REVIEW", "T2")


def test_a_report_matching_a_member_must_not_conflict_with_the_primary(make_index, make_obs):
    """A member that says less than its primary (unclassified, no object) is no way in for another problem.

    The member matched the 路灯 primary on place alone; a 井盖 report matching the member
    (whether the primary is among the candidates or not) goes to a person, not into the ticket.
    """
    model = DedupModel(
        version="distance-and-caller",
        weights={
            "distance": {"d25": 10, "d50": 10, "d100": 0, "d200": -5, "d500": -5, "d1000": -5, "far": -5},
            "caller": {"same": 10, "differ": 0, "same_other": 0},
        },
        merge_threshold=9,
        review_threshold=5,
    )
    # Unclassified and no object, but symptoms shared with both (so it merges, and the 井盖
    # report agrees with it on something): only the primary shows the conflict.
    vague = {"category_code": "9900", "title": "其他", "description": "这里不亮，还破损了"}
    vague["contact_hash"] = "c1"
    manhole = {"category_code": "0602", "title": "井盖破损", "description": "井盖破损"}
    placed = {"event_time_ms": 2 * HOUR_MS}  # at the primary's door: the primary is a candidate too
    by_caller = {"event_time_ms": 2 * HOUR_MS, "address": None, "lat": None, "lon": None}
    by_caller["contact_hash"] = "c1"  # reaches the member alone, through the caller key
    for query, compared in ((placed, 2), (by_caller, 1)):
        index = make_index(model)
        index.open_ticket("T1", make_obs(report_id="A"))
        member = make_obs(report_id="M", event_time_ms=HOUR_MS, **vague)
        assert index.decide(member).band == "MERGE"
        index.add_member("T1", member)
        found = index.candidates(make_obs(**manhole, **query))
        assert found is not None
        assert len(found.rows) == compared
        d = index.decide(make_obs(**manhole, **query))
        assert (d.band, d.ticket_id, d.candidate_report_id) == ("REVIEW", "T1", "M")
        assert "问题不同" in d.explanation
        assert index.decide(make_obs(**query)).band == "MERGE"  # the primary's own problem still merges
        plain = make_index(model, review_problem_conflict=False)
        plain.open_ticket("T1", make_obs(report_id="A"))
        plain.add_member("T1", member)
        assert plain.decide(make_obs(**manhole, **query)).band == "MERGE"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["open", "merge", "close", "expire"]), st.integers(0, 400), st.integers(0, 50)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_expire_drops_exactly_the_tickets_past_their_deadline_in_opening_order(make_index, make_obs, steps):
    """Whatever opens, merges, closes and expiries come in, expire(now) keeps exactly the tickets whose
    last report is inside the window (open) or whose closure is inside the recurrence window (closed),
    and tombstones the others in the order they were opened."""
    window, recurrence = 10 * HOUR_MS, 24 * HOUR_MS
    index = make_index(windows_hours={"06": 10.0}, recurrence_window_days=1.0, expire_every_s=10**9)
    last: dict[str, int] = {}
    closed: dict[str, int] = {}
    opened: list[str] = []
    clock = 0
    for n, (op, hours_x10, pick) in enumerate(steps):
        clock += hours_x10 * HOUR_MS // 10
        held = [t for t in opened if t in last]
        open_ones = [t for t in held if t not in closed]
        if op == "open" or (op in ("merge", "close") and not open_ones):
            ticket_id = f"T{n}"
            index.open_ticket(ticket_id, make_obs(report_id=f"A{n}", event_time_ms=clock))
            last[ticket_id] = clock
            opened.append(ticket_id)
        elif op == "merge":
            ticket_id = open_ones[pick % len(open_ones)]
            index.add_member(ticket_id, make_obs(report_id=f"M{n}", event_time_ms=clock))
            last[ticket_id] = max(last[ticket_id], clock)
        elif op == "close":
            ticket_id = open_ones[pick % len(open_ones)]
            index.close(ticket_id, clock)
            closed[ticket_id] = clock
        else:
            index.drain_changes()
            due = [t for t in held if (closed[t] + recurrence if t in closed else last[t] + window) < clock]
            assert index.expire(clock) == len(due)
            assert index.drain_changes() == [(t, None) for t in due]
            for t in due:
                del last[t]
            assert {t for t in opened if t in index} == set(last)
