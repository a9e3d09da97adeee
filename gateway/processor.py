"""One partition's pipeline: report → dedup → ticket → departments, with no Kafka in it.

The service (exactly-once, live) and the replay command (a time range, to another
prefix or a dry run) both drive this class, so the rules live in one place and
are tested without a broker. Everything here is deterministic: ids come from
content, times from the records (event time), never from the wall clock, so the
same input in the same order gives byte-identical outputs.

Per record it returns :class:`Emit` values for the caller to produce:
``tickets`` (compacted, latest state), ``tickets.<department>`` for the lead and
assisting departments, ``ticket-events`` (audit trail), ``deadletter``; and on
:meth:`PartitionProcessor.flush_changelog` the state changes for the changelog.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dedup import Decision, Observation, TicketIndex
from gateway.changelog import DEDUP_PREFIX, TICKET_PREFIX, ChangelogCodec, TicketState
from gateway.lifecycle import OPEN_VALUES, merge_error, transition_error
from gateway.logs import get_logger
from gateway.routing import Router
from gateway.settings import TopicSettings
from schemas import ids
from schemas.models import (
    DeadLetterSource,
    ErrorKind,
    TicketEventType,
    TicketStatus,
    Urgency,
)
from schemas.serde import Codec
from schemas.writer import Sealed

log = get_logger(__name__)

ACTOR = "bingxian-gateway"
#: Closed tickets past the retention leave the state once per hour of event time (see ``_advance``).
RETENTION_PERIOD_MS = 3_600_000
#: Open tickets without a change for the open retention leave it once per day of event time.
OPEN_RETENTION_PERIOD_MS = 24 * RETENTION_PERIOD_MS
_URGENCY_RANK = {u.value: i for i, u in enumerate(Urgency)}


@dataclass(frozen=True, slots=True)
class Emit:
    """One record to produce."""

    topic: str
    key: str
    value: bytes | None
    partition: int | None = None


@dataclass(slots=True)
class Stats:
    """What a processor did, for metrics and summaries."""

    reports: int = 0
    created: int = 0
    merged: int = 0
    review: int = 0
    filed: int = 0
    recurrences: int = 0
    duplicates_dropped: int = 0
    status_changes: int = 0
    status_dropped: int = 0
    dead_letters: int = 0
    released_open: int = 0
    merged_by_person: int = 0
    routed: dict[str, int] = field(default_factory=dict)
    # Of the REVIEWs, those a problem guard held back from MERGE, by ``Decision.held_back``.
    held_back: dict[str, int] = field(default_factory=dict)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _merge_refusal(
    ticket: dict[str, Any], change: dict[str, Any], target: dict[str, Any] | None
) -> tuple[ErrorKind, str] | None:
    """Why a ``duplicate_of`` change cannot be applied: the change's own fields, then the merge rules."""
    target_id = change["duplicate_of"]
    invalid = ErrorKind.INVALID_TRANSITION
    if change["status"] != TicketStatus.CLOSED.value:
        return (
            invalid,
            f"a merge (duplicate_of {target_id}) closes the ticket: status CLOSED, not {change['status']}",
        )
    if change["resolution"] is None:
        return invalid, "CLOSED needs a resolution (RESOLVED, UNRESOLVED, NOT_RESPONSIBLE, NO_FURTHER_ACTION)"
    refusal = merge_error(ticket, target_id, target)
    if refusal is None:
        return None
    kind = ErrorKind.UNKNOWN_TICKET if refusal.unknown_target else invalid
    reason = refusal.reason + (" (or not in this ticket's partition)" if refusal.unknown_target else "")
    return kind, reason


def observation(report: dict[str, Any]) -> Observation:
    """The dedup engine's view of a report (its Avro dict)."""
    location = report["location"]
    return Observation(
        report_id=report["report_id"],
        event_time_ms=_ms(report["reported_at"]),
        channel=report["channel"],
        category_code=report["category"]["code"],
        title=report["title"],
        description=report["description"],
        address=location["address"],
        district_code=location["district_code"],
        lat=location["lat"],
        lon=location["lon"],
        contact_hash=report["reporter"]["contact_hash"],
        filing_only=report["filing_only"],
    )


def evidence(report_id: str, decision: Decision) -> Sealed:
    """A dedup decision in the MergeEvidence shape the Ticket and TicketEvent schemas hold.

    Sealed: it never changes, so every later encoding of its ticket reuses its bytes.
    """
    return Sealed(
        {
            "report_id": report_id,
            "candidate_ticket_id": decision.ticket_id,
            "candidate_report_id": decision.candidate_report_id,
            "band": decision.band,
            "score": round(decision.score, 4),
            "merge_threshold": decision.merge_threshold,
            "review_threshold": decision.review_threshold,
            "model_version": decision.model_version,
            "contributions": [
                {"feature": c.feature, "level": c.level, "weight": round(c.weight, 4)}
                for c in decision.contributions
            ],
            "explanation": decision.explanation,
        }
    )


class PartitionProcessor:
    """State and rules of one ``reports`` partition."""

    def __init__(
        self,
        partition: int,
        *,
        index: TicketIndex,
        router: Router,
        codec: Codec,
        topics: TopicSettings,
        retention: timedelta = timedelta(days=30),
        open_retention: timedelta = timedelta(days=180),
        evidence_kept: int = 10,
    ) -> None:
        if evidence_kept < 1:
            raise ValueError("evidence_kept must be at least 1 (the opening decision)")
        self.partition = partition
        self.index = index
        self.router = router
        self.codec = codec
        self.topics = topics
        self.retention_ms = int(retention.total_seconds() * 1000)
        # An open ticket no department ever closes would otherwise stay in the state, and in
        # every restore, for ever. Without any change for this long it is let go: a status
        # change that comes later is a dead letter (UNKNOWN_TICKET), the tickets topic keeps
        # its last state, and the release is logged and counted.
        self.open_retention_ms = int(open_retention.total_seconds() * 1000)
        # A ticket carries the decision that opened it and the latest merges, never all of them:
        # every change re-publishes the whole ticket, so one evidence per merge (~540 bytes) made
        # a hot issue's ticket cost O(merges) per merge and pass Kafka's default 1 MB record limit
        # near 1,900 merges, after which no transaction could commit. ticket-events keeps each
        # merge's evidence (REPORT_MERGED), so nothing is lost from the audit trail.
        self.evidence_kept = evidence_kept
        self.tickets: dict[str, TicketState] = {}
        self.report_owner: dict[str, str] = {}
        # Tickets no longer open (closed, not accepted, filed): the only ones retention removes,
        # each with the sequence number of when it retired (the order retention drops them in).
        self._retired: dict[str, int] = {}
        self._retired_seq = 0
        # (last change ms, retirement seq, ticket id) of retired tickets, a lazy min-heap: the
        # hourly retention pass pops what fell behind the horizon instead of reading every
        # retired ticket (30 days of them) every hour. Entries superseded by a later change, or
        # by a restore that tracked the ticket again under a new seq, are skipped when they come up.
        self._retention_heap: list[tuple[int, int, str]] = []
        self.stats = Stats()
        self.last_routed: tuple[str, ...] = ()  # departments of the ticket opened last (for metrics)
        self._changelog = ChangelogCodec()
        self._dirty: dict[str, bytes | None] = {}  # ticket id -> encoded ticket (None: re-encode)
        self._watermark_ms = 0
        self._expired_at = -(2**62)  # start of the last event-time hour ``expire`` ran for
        self._released_at = -(2**62)  # start of the last event-time day ``release_stale`` ran for

    # -- inputs -----------------------------------------------------------------------------------

    def on_report(self, report: dict[str, Any]) -> list[Emit]:
        """Place one report: merge into an open ticket, or open a new one."""
        self.stats.reports += 1
        report_id = report["report_id"]
        self._advance(_ms(report["reported_at"]))
        owner = self.report_owner.get(report_id)
        if owner is not None:
            # A re-ingested record (same channel and source id): placed once, dropped with a reason.
            self.stats.duplicates_dropped += 1
            log.info("report dropped", reason="already placed", report_id=report_id, ticket_id=owner)
            return []
        obs = observation(report)
        if report["filing_only"]:
            return self._file(report)
        decision = self.index.decide(obs)
        if decision.band == "MERGE" and decision.ticket_id in self.tickets:
            return self._merge(report, obs, decision)
        return self._open(report, obs, decision)

    def on_status(self, change: dict[str, Any], source: DeadLetterSource, raw: bytes) -> list[Emit]:
        """Apply a department's status change if the lifecycle allows it; dead-letter it otherwise."""
        ticket_id = change["ticket_id"]
        state = self.tickets.get(ticket_id)
        if state is None:
            return [
                self.dead_letter(
                    source, raw, ErrorKind.UNKNOWN_TICKET, f"unknown or expired ticket {ticket_id}"
                )
            ]
        if change["change_id"] in state.applied_changes:
            self.stats.status_dropped += 1
            log.info("status change dropped", reason="already applied", ticket_id=ticket_id)
            return []
        if change["duplicate_of"] is not None:
            return self._merge_by_person(state, change, source, raw)
        ticket = state.ticket
        current, new = TicketStatus(ticket["status"]), TicketStatus(change["status"])
        problem = transition_error(current, new, has_resolution=change["resolution"] is not None)
        if problem:
            return [self.dead_letter(source, raw, ErrorKind.INVALID_TRANSITION, f"{ticket_id}: {problem}")]
        self.stats.status_changes += 1
        ticket["status"] = new.value
        if new is TicketStatus.CLOSED:
            ticket["resolution"] = change["resolution"]
            self.index.close(ticket_id, _ms(change["at"]))
        ticket["version"] += 1
        ticket["updated_at"] = max(ticket["updated_at"], change["at"])
        state.applied_changes.append(change["change_id"])
        self._advance(_ms(change["at"]))
        event = self._event(
            ticket,
            TicketEventType.STATUS_CHANGED,
            at=change["at"],
            actor=f"{change['department']}/{change['actor']}",
            status=new.value,
            previous_status=current.value,
            note=change["note"],
        )
        log.info("ticket status changed", ticket_id=ticket_id, status=new.value, previous=current.value)
        return [*self._publish(ticket), event]

    def _merge_by_person(
        self, state: TicketState, change: dict[str, Any], source: DeadLetterSource, raw: bytes
    ) -> list[Emit]:
        """人工并单: the dispatch centre found this ticket to repeat an open one; its reports join that one.

        The REVIEW band's follow-through: dedup was unsure, a person decided. The target gets
        the reports, channels and urgency (one REPORT_MERGED event per report, by that person);
        this ticket closes with ``merged_into`` set and no reports left, and leaves the dedup
        index's open tickets.
        Both tickets must be in this partition's state: review candidates always are.
        """
        ticket = state.ticket
        ticket_id, target_id = ticket["ticket_id"], change["duplicate_of"]
        target_state = self.tickets.get(target_id)
        problem = _merge_refusal(ticket, change, None if target_state is None else target_state.ticket)
        if problem is not None:
            kind, reason = problem
            return [self.dead_letter(source, raw, kind, f"{ticket_id}: {reason}")]
        target = target_state.ticket  # type: ignore[union-attr]  # merge_error rejects a missing target
        at, actor = change["at"], f"{change['department']}/{change['actor']}"
        moved = [r for r in ticket["report_ids"] if r not in target["report_ids"]]
        target["report_ids"].extend(moved)
        target["channels"].extend(c for c in ticket["channels"] if c not in target["channels"])
        target["report_count"] += len(moved)
        target["first_reported_at"] = min(target["first_reported_at"], ticket["first_reported_at"])
        target["last_reported_at"] = max(target["last_reported_at"], ticket["last_reported_at"])
        if _URGENCY_RANK[ticket["urgency"]] > _URGENCY_RANK[target["urgency"]]:
            target["urgency"] = ticket["urgency"]
        target["version"] += 1
        target["updated_at"] = max(target["updated_at"], at)
        for report_id in moved:
            self.report_owner[report_id] = target_id
        previous = ticket["status"]
        ticket.update(status=TicketStatus.CLOSED.value, resolution=change["resolution"])
        # The reports move, they are not copied: each report stays in exactly one ticket, which
        # is what restore and retention go by (a report's owner is the ticket listing it).
        ticket.update(merged_into=target_id, report_ids=[], report_count=0)
        ticket["version"] += 1
        ticket["updated_at"] = max(ticket["updated_at"], at)
        state.applied_changes.append(change["change_id"])
        self.index.close(ticket_id, _ms(at))
        self.stats.status_changes += 1
        self.stats.merged_by_person += 1
        self._advance(_ms(at))
        note = f"人工并单: 并入 {target_id}" + (f"; {change['note']}" if change["note"] else "")
        log.info("tickets merged by a person", ticket_id=ticket_id, into=target_id, reports=len(moved))
        closed = self._event(
            ticket,
            TicketEventType.STATUS_CHANGED,
            at=at,
            actor=actor,
            status=TicketStatus.CLOSED.value,
            previous_status=previous,
            note=note,
        )
        joined = [
            self._event(
                target,
                TicketEventType.REPORT_MERGED,
                at=at,
                actor=actor,
                report_id=report_id,
                note=f"人工并单: 由 {ticket_id} 并入",
            )
            for report_id in moved
        ]
        return [*self._publish(ticket), closed, *self._publish(target), *joined]

    # -- ticket changes ---------------------------------------------------------------------------

    def _open(self, report: dict[str, Any], obs: Observation, decision: Decision) -> list[Emit]:
        location = report["location"]
        ticket_id = ids.ticket_id(location["district_code"], report["report_id"])
        route = self.router.route(
            report["category"]["code"], report["channel"], location, report["attributes"]
        )
        at = report["reported_at"]
        deadline = report["deadline"] or at + timedelta(hours=route.time_limit_hours)
        review = decision.band == "REVIEW"
        routed = route.lead != self.router.catalogue.dispatch_centre
        ticket = self._new_ticket(report, ticket_id, deadline)
        ticket.update(
            status=(TicketStatus.DISPATCHED if routed else TicketStatus.TRIAGED).value,
            lead_department=route.lead,
            assisting_departments=list(route.assisting),
            possible_duplicate_of=decision.ticket_id if review else None,
            recurrence_of=decision.recurrence_of,
            evidence=[evidence(report["report_id"], decision)],
        )
        self.index.open_ticket(ticket_id, obs)
        self._remember(ticket_id, report["report_id"], ticket)
        self.stats.created += 1
        self.last_routed = route.departments
        for department in route.departments:
            self.stats.routed[department] = self.stats.routed.get(department, 0) + 1
        ev = ticket["evidence"][0]
        out = self._publish(ticket)
        out.append(
            self._event(ticket, TicketEventType.CREATED, at=at, report_id=report["report_id"], evidence=ev)
        )
        out.append(self._event(ticket, TicketEventType.ROUTED, at=at, departments=list(route.departments)))
        if review:
            self.stats.review += 1
            if decision.held_back is not None:
                held = self.stats.held_back
                held[decision.held_back] = held.get(decision.held_back, 0) + 1
            out.append(
                self._event(
                    ticket,
                    TicketEventType.REVIEW_REQUESTED,
                    at=at,
                    report_id=report["report_id"],
                    evidence=ev,
                )
            )
        if decision.recurrence_of:
            self.stats.recurrences += 1
            note = f"recurrence of {decision.recurrence_of}"
            out.append(self._event(ticket, TicketEventType.RECURRENCE_LINKED, at=at, note=note))
        log.debug(
            "ticket created",
            report_id=report["report_id"],
            ticket_id=ticket_id,
            band=decision.band,
            lead=route.lead,
            possible_duplicate_of=ticket["possible_duplicate_of"],
        )
        return out

    def _merge(self, report: dict[str, Any], obs: Observation, decision: Decision) -> list[Emit]:
        ticket_id = decision.ticket_id
        assert ticket_id is not None  # MERGE always names its ticket
        ticket = self.tickets[ticket_id].ticket
        at = report["reported_at"]
        ticket["report_ids"].append(report["report_id"])
        if report["channel"] not in ticket["channels"]:
            ticket["channels"].append(report["channel"])
        ticket["report_count"] += 1
        ticket["first_reported_at"] = min(ticket["first_reported_at"], at)
        ticket["last_reported_at"] = max(ticket["last_reported_at"], at)
        if _URGENCY_RANK[report["urgency"]] > _URGENCY_RANK[ticket["urgency"]]:
            ticket["urgency"] = report["urgency"]
        ev = evidence(report["report_id"], decision)
        kept = ticket["evidence"]
        kept.append(ev)
        if len(kept) > self.evidence_kept:
            del kept[1]  # the oldest merge; kept[0] is the opening decision
        ticket["version"] += 1
        ticket["updated_at"] = max(ticket["updated_at"], at)
        self.index.add_member(ticket_id, obs)
        self._remember(ticket_id, report["report_id"], ticket)
        self.stats.merged += 1
        log.info(
            "report merged",
            report_id=report["report_id"],
            ticket_id=ticket_id,
            score=round(decision.score, 2),
            explanation=decision.explanation,
        )
        out = self._publish(ticket)
        out.append(
            self._event(
                ticket, TicketEventType.REPORT_MERGED, at=at, report_id=report["report_id"], evidence=ev
            )
        )
        return out

    def _file(self, report: dict[str, Any]) -> list[Emit]:
        """事件报备: recorded as a FILED ticket on the dispatch queue, never sent to departments."""
        location = report["location"]
        ticket_id = ids.ticket_id(location["district_code"], report["report_id"])
        ticket = self._new_ticket(report, ticket_id, report["deadline"])
        ticket.update(status=TicketStatus.FILED.value, lead_department=self.router.catalogue.dispatch_centre)
        self._remember(ticket_id, report["report_id"], ticket)
        self.stats.filed += 1
        log.debug("report filed", report_id=report["report_id"], ticket_id=ticket_id)
        at = report["reported_at"]
        return [
            *self._publish(ticket),
            self._event(ticket, TicketEventType.FILED, at=at, report_id=report["report_id"]),
        ]

    def _new_ticket(
        self, report: dict[str, Any], ticket_id: str, deadline: datetime | None
    ) -> dict[str, Any]:
        reporter = report["reporter"]
        at = report["reported_at"]
        return {
            "ticket_id": ticket_id,
            "status": TicketStatus.RECEIVED.value,
            "resolution": None,
            "category": report["category"],
            "lead_department": "",
            "assisting_departments": [],
            "location": report["location"],
            "title": report["title"],
            "summary": report["description"],
            "caller_masked": None if reporter["confidential"] else reporter["contact_masked"],
            "primary_report_id": report["report_id"],
            "report_ids": [report["report_id"]],
            "channels": [report["channel"]],
            "report_count": 1,
            "first_reported_at": at,
            "last_reported_at": at,
            "urgency": report["urgency"],
            "deadline": deadline,
            "filing_only": report["filing_only"],
            "possible_duplicate_of": None,
            "recurrence_of": None,
            "merged_into": None,
            "evidence": [],
            "version": 1,
            "updated_at": at,
        }

    def _remember(self, ticket_id: str, report_id: str, ticket: dict[str, Any]) -> None:
        state = self.tickets.get(ticket_id)
        if state is None:
            self.tickets[ticket_id] = TicketState(ticket=ticket, applied_changes=[])
        self.report_owner[report_id] = ticket_id

    def _track(self, ticket_id: str, ticket: dict[str, Any]) -> None:
        """Keep ``_retired`` and the retention heap in step with the ticket (called on every change)."""
        if ticket["status"] in OPEN_VALUES:
            self._retired.pop(ticket_id, None)
            return
        seq = self._retired.get(ticket_id)
        if seq is None:
            self._retired_seq += 1
            seq = self._retired[ticket_id] = self._retired_seq
        heapq.heappush(self._retention_heap, (_ms(ticket["updated_at"]), seq, ticket_id))

    # -- outputs ----------------------------------------------------------------------------------

    def _publish(self, ticket: dict[str, Any]) -> list[Emit]:
        """The ticket's new state to the dispatch queue and, unless filing-only, to each department."""
        ticket_id = ticket["ticket_id"]
        self._track(ticket_id, ticket)
        value = self.codec.encode(ticket, topic=self.topics.tickets, name="Ticket")
        self._dirty[ticket_id] = value
        out = [Emit(self.topics.tickets, ticket_id, value)]
        if ticket["status"] != TicketStatus.FILED.value:
            for department in (ticket["lead_department"], *ticket["assisting_departments"]):
                topic = self.topics.department(department)
                # A registry codec frames per topic; single-object bytes are the same everywhere.
                framed = self.codec.frames_per_topic
                department_value = self.codec.encode(ticket, topic=topic, name="Ticket") if framed else value
                out.append(Emit(topic, ticket_id, department_value))
        return out

    def _event(
        self,
        ticket: dict[str, Any],
        event_type: TicketEventType,
        *,
        at: datetime,
        actor: str = ACTOR,
        report_id: str | None = None,
        evidence: dict[str, Any] | None = None,
        status: str | None = None,
        previous_status: str | None = None,
        departments: list[str] | None = None,
        note: str | None = None,
    ) -> Emit:
        event = {
            "event_id": ids.event_id(ticket["ticket_id"], ticket["version"], event_type, report_id),
            "event_type": event_type.value,
            "ticket_id": ticket["ticket_id"],
            "ticket_version": ticket["version"],
            "report_id": report_id,
            "evidence": evidence,
            "status": status or ticket["status"],
            "previous_status": previous_status,
            "departments": departments or [],
            "actor": actor,
            "note": note,
            "at": at,
        }
        topic = self.topics.ticket_events
        return Emit(topic, ticket["ticket_id"], self.codec.encode(event, topic=topic, name="TicketEvent"))

    def dead_letter(self, source: DeadLetterSource, raw: bytes, kind: ErrorKind, message: str) -> Emit:
        """A dead letter for input this partition cannot use (undecodable, unknown ticket, bad transition)."""
        self.stats.dead_letters += 1
        log.warning(
            "input dead-lettered", kind=kind.value, message=message, topic=source.topic, offset=source.offset
        )
        position = (source.transport.value, source.topic, source.partition, source.offset)
        record = {
            "dead_letter_id": ids.dead_letter_id(*position),
            "channel": None,
            "source": source.model_dump(),
            "received_at": datetime.fromtimestamp(self._watermark_ms / 1000, tz=UTC),
            "error_kind": kind.value,
            "error_message": message,
            "errors": [],
            "raw": raw,
            "redrive_count": 0,
        }
        topic = self.topics.deadletter
        return Emit(
            topic, record["dead_letter_id"], self.codec.encode(record, topic=topic, name="DeadLetter")
        )

    # -- state ------------------------------------------------------------------------------------

    def _advance(self, at_ms: int) -> None:
        """Move the event-time watermark; on entering a new hour, let old closed tickets go.

        Only the events a ticket keeps (report times, applied status changes) move it, so
        the watermark restored from the changelog (the newest ``updated_at``) is the one
        the uninterrupted run had; and retention runs at each hour's start, not on a
        wall-clock schedule, so what the state holds, and therefore which status changes
        find their ticket and which re-ingested reports are recognised, depends on the
        input alone.
        """
        if at_ms <= self._watermark_ms:
            return
        self._watermark_ms = at_ms
        hour = at_ms - at_ms % RETENTION_PERIOD_MS
        if hour > self._expired_at:
            self.expire(hour)
        day = at_ms - at_ms % OPEN_RETENTION_PERIOD_MS
        if day > self._released_at:
            self.release_stale(day)

    def expire(self, now_ms: int) -> None:
        """Drop tickets no longer open whose last change is older than the retention at ``now_ms``."""
        self._expired_at = max(self._expired_at, now_ms)
        horizon = now_ms - self.retention_ms
        heap = self._retention_heap
        due: dict[str, int] = {}
        while heap and heap[0][0] < horizon:
            changed_ms, seq, ticket_id = heapq.heappop(heap)
            if self._retired.get(ticket_id) != seq:
                continue  # superseded: the ticket left the state, or was restored under a new seq
            if _ms(self.tickets[ticket_id].ticket["updated_at"]) != changed_ms:
                continue  # changed since: its newer entry decides
            due[ticket_id] = seq
        for ticket_id in sorted(due, key=due.__getitem__):  # in the order they retired
            del self._retired[ticket_id]
            self._let_go(ticket_id)

    def release_stale(self, now_ms: int) -> None:
        """Let go of open tickets without any change for the open retention at ``now_ms``.

        A scan of the tickets held, once per event-time day: open tickets are the city's
        workload, and a heap entry per change of each (as closed tickets have) would hold
        every change of the last half year.
        """
        self._released_at = max(self._released_at, now_ms)
        horizon = now_ms - self.open_retention_ms
        stale = sorted(
            (changed, ticket_id)
            for ticket_id, state in self.tickets.items()
            if ticket_id not in self._retired and (changed := _ms(state.ticket["updated_at"])) < horizon
        )
        for changed, ticket_id in stale:
            status = self.tickets[ticket_id].ticket["status"]
            self._let_go(ticket_id)
            self.stats.released_open += 1
            log.warning(
                "open ticket released from state",
                ticket_id=ticket_id,
                status=status,
                last_change=datetime.fromtimestamp(changed / 1000, UTC).isoformat(),
                reason=f"no change for {self.open_retention_ms // 86_400_000} days",
            )

    def _let_go(self, ticket_id: str) -> None:
        ticket = self.tickets.pop(ticket_id).ticket
        for report_id in ticket["report_ids"]:
            self.report_owner.pop(report_id, None)
        self._dirty[ticket_id] = None

    def flush_changelog(self, topic: str) -> list[Emit]:
        """The state changes since the last flush, for the changelog partition of this partition."""
        out: list[Emit] = []
        for ticket_id, ticket_bytes in self._dirty.items():
            state = self.tickets.get(ticket_id)
            value = None if state is None else self._changelog.encode_ticket(state, self._plain(ticket_bytes))
            out.append(Emit(topic, TICKET_PREFIX + ticket_id, value, self.partition))
        self._dirty.clear()
        for ticket_id, entry in self.index.drain_changes():
            out.append(Emit(topic, DEDUP_PREFIX + ticket_id, entry, self.partition))
        return out

    def _plain(self, ticket_bytes: bytes | None) -> bytes | None:
        # The changelog always holds single-object bytes; reuse the output's when they are such.
        return None if self.codec.frames_per_topic else ticket_bytes

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record (in offset order) while rebuilding the partition's state."""
        if key.startswith(DEDUP_PREFIX):
            ticket_id = key[len(DEDUP_PREFIX) :]
            if value is None:
                self.index.remove_entry(ticket_id)
            else:
                self.index.load_entry(ticket_id, value)
            return
        ticket_id = key[len(TICKET_PREFIX) :]
        previous = self.tickets.pop(ticket_id, None)
        self._retired.pop(ticket_id, None)
        if previous is not None:
            for report_id in previous.ticket["report_ids"]:
                self.report_owner.pop(report_id, None)
        if value is None:
            return
        state = self._changelog.decode_ticket(value)
        self.tickets[ticket_id] = state
        self._track(ticket_id, state.ticket)
        for report_id in state.ticket["report_ids"]:
            self.report_owner[report_id] = ticket_id
        self._watermark_ms = max(self._watermark_ms, _ms(state.ticket["updated_at"]))

    def finish_restore(self) -> None:
        """Forget change tracking caused by restoring (the changelog already has it).

        The run that wrote the changelog had already applied retention for the watermark's hour,
        and released stale open tickets for its day.
        """
        self._expired_at = self._watermark_ms - self._watermark_ms % RETENTION_PERIOD_MS
        self._released_at = self._watermark_ms - self._watermark_ms % OPEN_RETENTION_PERIOD_MS
        self._dirty.clear()
        self.index.drain_changes()
