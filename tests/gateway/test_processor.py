"""One partition's rules, without a broker: merge, open, file, status, determinism, restore."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from dedup import TicketIndex, load_model
from gateway.logs import configure_logging
from gateway.processor import Emit, PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.settings import TopicSettings
from schemas import SingleObjectCodec, examples, ids
from schemas.models import Channel, DeadLetterSource, Report, ReporterRole, TicketStatusChange, Transport

TOPICS = TopicSettings()
CODEC = SingleObjectCodec()
ROUTER = Router(load_catalogue())
MODEL = load_model(None)
SOURCE = DeadLetterSource(transport=Transport.KAFKA, topic="reports", partition=0, offset=7)


def processor() -> PartitionProcessor:
    return PartitionProcessor(0, index=TicketIndex(MODEL), router=ROUTER, codec=CODEC, topics=TOPICS)


def report(source_id: str, minutes: int = 0, **changes: Any) -> dict[str, Any]:
    """An Avro dict of a street-light report at 张杨路500号, varied by ``changes`` (validated)."""
    data = examples.report().model_dump()
    channel = changes.pop("channel", Channel.HOTLINE_12345)
    data["location"].update(changes.pop("location", {}))
    data["reporter"].update(changes.pop("reporter", {}))
    data.update(
        report_id=ids.report_id(channel, source_id),
        source_record_id=source_id,
        channel=channel,
        reported_at=data["reported_at"] + timedelta(minutes=minutes),
        received_at=data["reported_at"] + timedelta(minutes=minutes, seconds=5),
        **changes,
    )
    return Report.model_validate(data).model_dump()


def decode(emit: Emit) -> dict[str, Any]:
    assert emit.value is not None
    return CODEC.decode_dict(emit.value)[1]


def tickets(emits: list[Emit]) -> list[dict[str, Any]]:
    return [decode(e) for e in emits if e.topic == TOPICS.tickets]


def events(emits: list[Emit]) -> list[str]:
    return [decode(e)["event_type"] for e in emits if e.topic == TOPICS.ticket_events]


def status(
    ticket_id: str, new: str, change_id: str, minutes: int, resolution: str | None = None, **extra: Any
) -> dict[str, Any]:
    data = examples.status_change().model_dump()
    data.update(
        ticket_id=ticket_id,
        status=new,
        change_id=change_id,
        resolution=resolution,
        at=examples.T0 + timedelta(minutes=minutes),
        **extra,
    )
    return TicketStatusChange.model_validate(data).model_dump()


def close(p: PartitionProcessor, ticket_id: str, minutes: int) -> list[Emit]:
    out: list[Emit] = []
    for i, new in enumerate(["ACCEPTED", "IN_PROGRESS", "RESPONDED", "CLOSED"]):
        resolution = "RESOLVED" if new == "CLOSED" else None
        out += p.on_status(status(ticket_id, new, f"c{i}", minutes + i, resolution), SOURCE, b"raw")
    return out


def test_repeat_report_merges_into_the_open_ticket() -> None:
    """A second report of the same light, through another channel, updates the one ticket."""
    p = processor()
    first = p.on_report(report("A1"))
    second = p.on_report(report("G1", minutes=40, channel=Channel.GRID_REPORT))
    assert events(first) == ["CREATED", "ROUTED"]
    assert events(second) == ["REPORT_MERGED"]
    (opened,), (merged,) = tickets(first), tickets(second)
    assert merged["ticket_id"] == opened["ticket_id"]
    assert merged["report_count"] == 2
    assert merged["channels"] == ["HOTLINE_12345", "GRID_REPORT"]
    assert merged["version"] == 2
    assert merged["evidence"][-1]["band"] == "MERGE"
    assert "MERGE" in merged["evidence"][-1]["explanation"]


def test_a_much_reported_ticket_keeps_its_opening_and_latest_evidence() -> None:
    """The ticket holds a bounded evidence list; ticket-events still has every merge's evidence."""
    p = PartitionProcessor(
        0, index=TicketIndex(MODEL), router=ROUTER, codec=CODEC, topics=TOPICS, evidence_kept=3
    )
    outs = [p.on_report(report(f"A{i}", minutes=i)) for i in range(8)]
    ids_in_order = [report(f"A{i}", minutes=i)["report_id"] for i in range(8)]
    latest = tickets(outs[-1])[0]
    assert latest["report_count"] == 8
    assert latest["report_ids"] == ids_in_order
    assert [e["report_id"] for e in latest["evidence"]] == [ids_in_order[0], *ids_in_order[-2:]]
    merged = [decode(e) for out in outs for e in out if e.topic == TOPICS.ticket_events]
    merged = [e for e in merged if e["event_type"] == "REPORT_MERGED"]
    assert [e["evidence"]["report_id"] for e in merged] == ids_in_order[1:]


def test_a_ticket_grows_by_its_report_ids_only() -> None:
    """Past the evidence bound, each merge adds one report id to the record, not its evidence.

    Unbounded, each merge added ~560 bytes: 2,000 merges made a 1.1 MB ticket, over Kafka's
    default record limit, and no transaction carrying it could commit.
    """
    p = processor()
    sizes = {}
    for i in range(300):
        out = p.on_report(report(f"A{i}", minutes=i))
        sizes[i + 1] = len(next(e for e in out if e.topic == TOPICS.tickets).value or b"")
    per_merge = (sizes[300] - sizes[100]) / 200
    assert per_merge <= len(report("A1")["report_id"]) + 2  # the id and its Avro length prefix


def test_ticket_goes_to_every_routed_department_and_nowhere_else() -> None:
    """The lead and assisting departments each get the ticket on their own topic."""
    out = processor().on_report(report("A1", location={"admin_code": "310115005001"}))
    department_topics = sorted(e.topic for e in out if e.topic.startswith(TOPICS.department_prefix))
    assert department_topics == [TOPICS.department("jd-310115005"), TOPICS.department("shizheng")]


def test_different_problem_at_the_same_address_opens_its_own_ticket() -> None:
    """Noise at the same address is not the street light."""
    p = processor()
    first = tickets(p.on_report(report("A1")))[0]
    other = report(
        "A2",
        minutes=30,
        category={"code": "1001", "name": "社会事务/社会生活噪声", "native_code": None, "native_name": None},
        title="夜间噪音",
        description="张杨路500号楼下饭店夜间噪音扰民，影响休息。",
    )
    second = tickets(p.on_report(other))[0]
    assert second["ticket_id"] != first["ticket_id"]


def test_filing_only_report_is_recorded_but_never_sent_to_departments() -> None:
    """事件报备 becomes a FILED ticket on the dispatch queue and nothing else."""
    out = processor().on_report(report("G9", channel=Channel.GRID_REPORT, filing_only=True))
    assert [e.topic for e in out] == [TOPICS.tickets, TOPICS.ticket_events]
    assert tickets(out)[0]["status"] == "FILED"
    assert events(out) == ["FILED"]


def test_reingested_report_is_dropped_with_a_count() -> None:
    """The same source record ingested twice is placed once."""
    p = processor()
    p.on_report(report("A1"))
    assert p.on_report(report("A1")) == []
    assert p.stats.duplicates_dropped == 1


def test_status_lifecycle_and_recurrence_after_closure() -> None:
    """A closed ticket takes no merges: the same problem later opens a new ticket linked as a recurrence."""
    p = processor()
    ticket_id = tickets(p.on_report(report("A1")))[0]["ticket_id"]
    closing = close(p, ticket_id, minutes=60)
    assert events(closing) == ["STATUS_CHANGED"] * 4
    assert tickets(closing)[-1]["status"] == "CLOSED"
    assert tickets(closing)[-1]["resolution"] == "RESOLVED"
    later = tickets(p.on_report(report("A3", minutes=24 * 60)))[0]
    assert later["ticket_id"] != ticket_id
    assert later["recurrence_of"] == ticket_id


def test_invalid_transition_and_unknown_ticket_are_dead_lettered() -> None:
    """Skipping lifecycle steps, or naming an unknown ticket, yields a dead letter with the reason."""
    p = processor()
    ticket_id = tickets(p.on_report(report("A1")))[0]["ticket_id"]
    (bad,) = p.on_status(status(ticket_id, "CLOSED", "x1", 5, "RESOLVED"), SOURCE, b"raw-bytes")
    assert bad.topic == TOPICS.deadletter
    letter = decode(bad)
    assert letter["error_kind"] == "INVALID_TRANSITION"
    assert "DISPATCHED" in letter["error_message"]
    assert letter["raw"] == b"raw-bytes"
    (unknown,) = p.on_status(status("TK-310115-00000000deadbeef", "ACCEPTED", "x2", 5), SOURCE, b"r")
    assert decode(unknown)["error_kind"] == "UNKNOWN_TICKET"


def test_repeated_status_change_is_applied_once() -> None:
    """A department re-sending the same change id changes nothing the second time."""
    p = processor()
    ticket_id = tickets(p.on_report(report("A1")))[0]["ticket_id"]
    change = status(ticket_id, "ACCEPTED", "same", 5)
    assert events(p.on_status(change, SOURCE, b"r")) == ["STATUS_CHANGED"]
    assert p.on_status(change, SOURCE, b"r") == []


def test_no_contact_details_reach_departments() -> None:
    """Department copies carry the masked number only, and nothing when the caller asked for secrecy."""
    p = processor()
    open_out = p.on_report(report("A1"))
    secret_out = p.on_report(
        report(
            "B1",
            minutes=1,
            location={"address": "徐汇区漕溪北路1号", "district_code": "310104", "lat": 31.19, "lon": 121.43},
            reporter={"confidential": True},
        )
    )
    for emit in open_out + secret_out:
        if emit.topic.startswith(TOPICS.department_prefix):
            assert emit.value is not None
            assert b"13812345678" not in emit.value
    assert tickets(open_out)[0]["caller_masked"] == "138****5678"
    assert tickets(secret_out)[0]["caller_masked"] is None


def _stream() -> list[dict[str, Any]]:
    reports = [report("A1"), report("G1", 30, channel=Channel.GRID_REPORT)]
    reports.append(
        report(
            "A2",
            45,
            title="井盖缺失",
            description="张杨路500号门口井盖不见了，很危险",
            category={"code": "0602", "name": "公共设施/井盖", "native_code": None, "native_name": None},
        )
    )
    reports.append(
        report("P1", 50, channel=Channel.PROPERTY_962121, reporter={"role": ReporterRole.CITIZEN.value})
    )
    reports += [report(f"N{i}", 60 + i, location={"lat": 31.2286 + i * 0.01}) for i in range(5)]
    return reports


def test_same_input_gives_byte_identical_output() -> None:
    """Two processors fed the same reports emit exactly the same bytes."""
    a, b = processor(), processor()
    assert [a.on_report(r) for r in _stream()] == [b.on_report(r) for r in _stream()]


def test_state_restored_from_the_changelog_decides_identically() -> None:
    """A processor rebuilt from another's changelog continues with identical outputs."""
    stream = _stream()
    original = processor()
    changelog: list[Emit] = []
    for r in stream[:4]:
        original.on_report(r)
    changelog += original.flush_changelog("changelog")
    assert all(e.partition == 0 for e in changelog)
    restored = processor()
    for emit in changelog:
        restored.restore(emit.key, emit.value)
    restored.finish_restore()
    assert [restored.on_report(r) for r in stream[4:]] == [original.on_report(r) for r in stream[4:]]
    assert restored.flush_changelog("changelog") == original.flush_changelog("changelog")


@pytest.mark.parametrize("minutes", [0, 30])
def test_events_have_deterministic_ids(minutes: int) -> None:
    """Event ids derive from ticket, version and type, never from a clock."""
    out = processor().on_report(report("A1", minutes))
    ids_seen = [decode(e)["event_id"] for e in out if e.topic == TOPICS.ticket_events]
    ticket_id = tickets(out)[0]["ticket_id"]
    assert ids_seen == [
        f"{ticket_id}:1:CREATED:{ids.report_id(Channel.HOTLINE_12345, 'A1')}",
        f"{ticket_id}:1:ROUTED",
    ]


def test_retention_depends_on_event_time_alone_across_a_restore() -> None:
    """A closed ticket leaves the state at the first event-time hour past the retention, in both runs.

    The uninterrupted processor and one rebuilt from its changelog mid-hour keep the same
    tickets: a late status change then finds (or misses) its ticket the same way in both.
    """
    day = 24 * 60
    retention = timedelta(days=2)

    def make() -> PartitionProcessor:
        return PartitionProcessor(
            0, index=TicketIndex(MODEL), router=ROUTER, codec=CODEC, topics=TOPICS, retention=retention
        )

    original = make()
    ticket_id = tickets(original.on_report(report("A1")))[0]["ticket_id"]
    close(original, ticket_id, 10)
    far = {"lat": 31.30, "lon": 121.60}
    original.on_report(report("B1", 2 * day + 20, location=far))  # within retention of the close
    changelog = original.flush_changelog("changelog")
    restored = make()
    for emit in changelog:
        restored.restore(emit.key, emit.value)
    restored.finish_restore()
    later = [report("B2", 2 * day + 50, location=far), report("B3", 2 * day + 75, location=far)]
    assert [restored.on_report(r) for r in later] == [original.on_report(r) for r in later]
    assert ticket_id not in original.tickets  # the hour after 2 days + 14 min let it go
    assert ticket_id not in restored.tickets
    late = status(ticket_id, "ACCEPTED", "late", 2 * day + 80)
    outcomes = [p.on_status(late, SOURCE, b"raw") for p in (original, restored)]
    assert outcomes[0] == outcomes[1]
    assert [decode(e)["error_kind"] for e in outcomes[0]] == ["UNKNOWN_TICKET"]


def test_retention_drops_closed_tickets_past_the_horizon_in_the_order_they_closed() -> None:
    """Each event-time hour drops exactly the closed tickets whose last change is behind the horizon.

    The changelog then carries their tombstones in the order the tickets closed, whatever the
    order they were opened in (the retention pass pops a deadline heap, not a scan).
    """
    day = 24 * 60
    p = PartitionProcessor(
        0, index=TicketIndex(MODEL), router=ROUTER, codec=CODEC, topics=TOPICS, retention=timedelta(days=1)
    )
    # five places 5 km apart, five callers: five tickets
    places = [{"address": f"{road}路1号", "lat": 31.0 + 0.05 * i} for i, road in enumerate("东南西北中")]
    callers = [{"contact_hash": f"{i:032x}"} for i in range(5)]
    opened = [
        tickets(p.on_report(report(f"R{i}", i, location=places[i], reporter=callers[i])))[0]["ticket_id"]
        for i in range(5)
    ]
    assert len(set(opened)) == 5
    closing_order = [3, 0, 4, 1, 2]
    for n, i in enumerate(closing_order):
        close(p, opened[i], 60 * (n + 1))  # last change at 60n + 63 minutes
    p.flush_changelog("changelog")

    def dropped_on(minute: int) -> list[str]:
        p.on_report(report(f"late{minute}", minute, location={"address": "外环路9号", "lat": 30.7}))
        changes = p.flush_changelog("changelog")
        return [e.key[2:] for e in changes if e.value is None and e.key.startswith("t:")]

    # hour 1560 min, horizon 120 min: only the ticket last changed at minute 63 is behind it
    assert dropped_on(day + 150) == [opened[3]]
    # hour 1800 min, horizon 360 min: the other four, in the order they closed
    assert dropped_on(day + 400) == [opened[i] for i in closing_order[1:]]
    assert not any(t in p.tickets for t in opened)


def test_open_tickets_without_a_change_leave_the_state_after_the_open_retention(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An open ticket no department touches is let go at the first event-time day past the open
    retention, logged and counted; one that changed stays, and a closed one follows the closed
    retention. A processor rebuilt from the changelog before the release lets go of the same ticket.
    """
    configure_logging("WARNING", json=True)
    day = 24 * 60

    def make() -> PartitionProcessor:
        return PartitionProcessor(
            0,
            index=TicketIndex(MODEL),
            router=ROUTER,
            codec=CODEC,
            topics=TOPICS,
            retention=timedelta(days=30),
            open_retention=timedelta(days=3),
        )

    places = [{"address": f"{road}路1号", "lat": 31.0 + 0.05 * i} for i, road in enumerate("东南西北中")]
    callers = [{"contact_hash": f"{i:032x}"} for i in range(5)]
    original = make()
    untouched, accepted, closed = (
        tickets(original.on_report(report(f"R{i}", i, location=places[i], reporter=callers[i])))[0][
            "ticket_id"
        ]
        for i in range(3)
    )
    original.on_status(status(accepted, "ACCEPTED", "a1", 2 * day), SOURCE, b"raw")
    close(original, closed, 60)
    restored = make()
    for emit in original.flush_changelog("changelog"):
        restored.restore(emit.key, emit.value)
    restored.finish_restore()
    capsys.readouterr()

    later = report("R3", 4 * day, location=places[3], reporter=callers[3])  # past T0 + 3 days' midnight
    outputs = [p.on_report(later) for p in (original, restored)]
    assert outputs[0] == outputs[1]
    for p in (original, restored):
        assert untouched not in p.tickets
        assert accepted in p.tickets  # changed on day 2: stale only after day 5
        assert closed in p.tickets  # closed tickets keep the closed retention (30 days)
        assert p.stats.released_open == 1
        tombstones = [
            e.key for e in p.flush_changelog("changelog") if e.value is None and e.key.startswith("t:")
        ]
        assert tombstones == [f"t:{untouched}"]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    released = [x for x in lines if x["event"] == "open ticket released from state"]
    assert [(x["ticket_id"], x["status"], x["level"]) for x in released] == [
        (untouched, "DISPATCHED", "warning")
    ] * 2
    late = original.on_status(status(untouched, "ACCEPTED", "late", 4 * day + 10), SOURCE, b"raw")
    assert [decode(e)["error_kind"] for e in late] == ["UNKNOWN_TICKET"]


def _two_street_light_tickets(p: PartitionProcessor) -> tuple[dict[str, Any], dict[str, Any]]:
    """张杨路500号's street light, and one reported 1 km along the road by another caller: two tickets."""
    first = tickets(p.on_report(report("A1")))[0]
    other = {"address": "浦东新区张杨路1500号", "lat": 31.2286, "lon": 121.5350}
    second = tickets(
        p.on_report(report("B1", 40, location=other, reporter={"contact_hash": "b" * 32}, urgency="URGENT"))
    )[0]
    assert first["ticket_id"] != second["ticket_id"]
    return first, second


def test_a_person_merges_a_ticket_into_the_one_it_repeats() -> None:
    """人工并单: the repeat closes with merged_into; its reports, channels and urgency join the target, one
    REPORT_MERGED per report by that person; the state, restored or not, then places the repeat's
    reports in the target and takes no merge into the closed one."""
    p = processor()
    first, second = _two_street_light_tickets(p)
    merge = status(
        second["ticket_id"],
        "CLOSED",
        "m1",
        90,
        "NO_FURTHER_ACTION",
        duplicate_of=first["ticket_id"],
        note="同一路灯",
    )
    out = p.on_status(merge, SOURCE, b"raw")
    closed, target = tickets(out)
    assert (closed["ticket_id"], closed["status"], closed["resolution"]) == (
        second["ticket_id"],
        "CLOSED",
        "NO_FURTHER_ACTION",
    )
    assert closed["merged_into"] == first["ticket_id"]
    assert (closed["report_ids"], closed["report_count"]) == ([], 0)  # moved, so each is in one ticket
    assert closed["version"] == second["version"] + 1
    assert target["ticket_id"] == first["ticket_id"]
    assert target["report_ids"] == first["report_ids"] + second["report_ids"]
    assert target["report_count"] == 2
    assert target["urgency"] == "URGENT"
    assert target["version"] == first["version"] + 1
    assert target["merged_into"] is None
    trail = [decode(e) for e in out if e.topic == TOPICS.ticket_events]
    assert [(e["event_type"], e["ticket_id"], e["report_id"]) for e in trail] == [
        ("STATUS_CHANGED", second["ticket_id"], None),
        ("REPORT_MERGED", first["ticket_id"], second["report_ids"][0]),
    ]
    actor = f"{merge['department']}/{merge['actor']}"
    assert {e["actor"] for e in trail} == {actor}
    assert trail[0]["note"] == f"人工并单: 并入 {first['ticket_id']}; 同一路灯"
    # the closed ticket's department copies go out too, the target's to its own departments
    assert {e.topic for e in out} >= {
        f"{TOPICS.department_prefix}{d}" for d in second["assisting_departments"]
    }
    assert p.stats.merged_by_person == 1
    assert p.on_status(merge, SOURCE, b"raw") == []  # the same change again: applied once

    restored = processor()
    for emit in p.flush_changelog("changelog"):
        restored.restore(emit.key, emit.value)
    restored.finish_restore()
    for q in (p, restored):
        assert q.tickets[second["ticket_id"]].ticket == p.tickets[second["ticket_id"]].ticket
        assert not q.index.is_open(second["ticket_id"], _at(100))
        again = q.on_report(report("B1", 40, location={"address": "浦东新区张杨路1500号"}))
        assert again == []  # re-ingested: already placed (now in the target)
        assert q.report_owner[second["report_ids"][0]] == first["ticket_id"]


def _at(minutes: int) -> int:
    return int((examples.T0 + timedelta(minutes=minutes)).timestamp() * 1000)


@pytest.mark.parametrize(
    ("change", "kind", "says"),
    [
        ({"status": "ACCEPTED", "resolution": None}, "INVALID_TRANSITION", "status CLOSED, not ACCEPTED"),
        ({"resolution": None}, "INVALID_TRANSITION", "CLOSED needs a resolution"),
        ({"duplicate_of": "SELF"}, "INVALID_TRANSITION", "cannot be merged into itself"),
        ({"duplicate_of": "TK-310115-none"}, "UNKNOWN_TICKET", "unknown or expired ticket TK-310115-none"),
        ({"status": "ACCEPTED", "duplicate_of": "TK-310115-none"}, "INVALID_TRANSITION", "status CLOSED"),
        ({"duplicate_of": "CLOSED-TARGET"}, "INVALID_TRANSITION", "reports join open tickets only"),
        ({"ticket_id": "CLOSED-TARGET"}, "INVALID_TRANSITION", "only an open ticket can be merged"),
    ],
)
def test_a_merge_that_cannot_apply_is_a_dead_letter_and_changes_nothing(
    change: dict[str, Any], kind: str, says: str
) -> None:
    """Not CLOSED, no resolution, into itself, into an unknown or a closed ticket, or of a closed one."""
    p = processor()
    first, second = _two_street_light_tickets(p)
    closed = tickets(
        p.on_report(report("C1", 50, location={"address": "浦东新区世纪大道1号", "lat": 31.24}))
    )[0]
    close(p, closed["ticket_id"], 60)
    names = {"SELF": second["ticket_id"], "CLOSED-TARGET": closed["ticket_id"]}
    fields = {"ticket_id": second["ticket_id"], "duplicate_of": first["ticket_id"], "resolution": "RESOLVED"}
    fields.update({k: names.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    before = {t: dict(s.ticket) for t, s in p.tickets.items()}
    target = fields.pop("ticket_id")
    new = fields.pop("status", "CLOSED")
    out = p.on_status(status(target, new, "m1", 90, **fields), SOURCE, b"raw")
    (dead,) = [decode(e) for e in out]
    assert dead["error_kind"] == kind
    assert says in dead["error_message"]
    assert {t: dict(s.ticket) for t, s in p.tickets.items()} == before
    assert p.stats.merged_by_person == 0


def test_a_possible_duplicate_opens_its_own_ticket_and_asks_for_review() -> None:
    """Another problem at the same door (井盖 beside a 路灯 ticket): REVIEW, never a silent merge."""
    p = processor()
    first = tickets(p.on_report(report("A1")))[0]
    out = p.on_report(_stream()[2])  # A2: same address and caller, category 0602 instead of 0601
    assert events(out) == ["CREATED", "ROUTED", "REVIEW_REQUESTED"]
    (ticket,) = tickets(out)
    assert ticket["ticket_id"] != first["ticket_id"]
    assert ticket["possible_duplicate_of"] == first["ticket_id"]
    review = [decode(e) for e in out if e.topic == TOPICS.ticket_events][-1]
    assert review["event_type"] == "REVIEW_REQUESTED"
    assert review["evidence"]["band"] == "REVIEW"
    assert review["evidence"]["candidate_ticket_id"] == first["ticket_id"]
    assert p.stats.review == 1
    assert p.stats.held_back == {"problem_differs": 1}  # past the merge threshold, held back
