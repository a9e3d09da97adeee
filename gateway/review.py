"""The dispatch centre's review queue: tickets dedup was unsure about, and a person's merge.

The REVIEW band opens a ticket of its own marked ``possible_duplicate_of`` so that no
work waits unseen. A person then decides. ``pending`` lists the flagged tickets that
can still be merged (both still open), read from the dispatch queue like any consumer
would; ``merge_change`` is the status change that moves a confirmed repeat's reports
into the ticket it repeats (``duplicate_of``, 人工并单), which the gateway validates and
applies in one transaction (docs/subscribing.md, "Merging a repeat").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confluent_kafka import Producer

from gateway.lifecycle import merge_error
from gateway.logs import librdkafka_logger
from gateway.settings import Settings
from schemas.models import Resolution, TicketStatus, TicketStatusChange
from schemas.serde import Codec


class ReviewError(Exception):
    """A merge the command refuses before posting: unknown ticket, not flagged, closed, …"""


class NotDeliveredError(Exception):
    """The change did not reach the ``ticket-status`` topic."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A flagged ticket and the open ticket it may repeat."""

    ticket: dict[str, Any]
    candidate: dict[str, Any]

    @property
    def explanation(self) -> str:
        """Why dedup flagged it: the opening decision's line (evidence[0])."""
        evidence = self.ticket["evidence"]
        return evidence[0]["explanation"] if evidence else ""


def pending(tickets: dict[str, dict[str, Any]]) -> list[Pending]:
    """Open tickets flagged as possible duplicates of a ticket that is open too, oldest first.

    Exactly those a person can still merge: the gateway's merge rules find nothing against them.
    """
    out = [
        Pending(ticket, tickets[flagged])
        for ticket in tickets.values()
        if (flagged := ticket["possible_duplicate_of"])
        and merge_error(ticket, flagged, tickets.get(flagged)) is None
    ]
    return sorted(out, key=lambda p: (p.ticket["first_reported_at"], p.ticket["ticket_id"]))


def merge_target(tickets: dict[str, dict[str, Any]], ticket_id: str, into: str | None) -> str:
    """The ticket ``ticket_id`` is to be merged into: ``into``, or the one it was flagged against.

    Refuses, with the reason and before anything is posted, what the gateway would refuse
    (the same rules: ``gateway.lifecycle.merge_error``).
    """
    ticket = tickets.get(ticket_id)
    if ticket is None:
        raise ReviewError(f"ticket {ticket_id} is not on the dispatch queue")
    target = into or ticket["possible_duplicate_of"]
    if target is None:
        raise ReviewError(
            f"ticket {ticket_id} was not flagged as a possible duplicate: name the ticket with --into"
        )
    refusal = merge_error(ticket, target, tickets.get(target))
    if refusal is not None:
        where = " (not on the dispatch queue)" if refusal.unknown_target else ""
        raise ReviewError(f"{ticket_id}: {refusal.reason}{where}")
    return target


def merge_change(
    ticket_id: str, into: str, *, department: str, actor: str, note: str | None, at: datetime
) -> TicketStatusChange:
    """The change merging ``ticket_id`` into ``into``; its id is the pair's, so a re-post applies once."""
    return TicketStatusChange(
        change_id=f"review-{ticket_id}-into-{into}",
        ticket_id=ticket_id,
        status=TicketStatus.CLOSED,
        resolution=Resolution.NO_FURTHER_ACTION,
        duplicate_of=into,
        department=department,
        actor=actor,
        note=note,
        at=at,
    )


def post(settings: Settings, codec: Codec, change: TicketStatusChange) -> None:
    """Send ``change`` to ``ticket-status`` (idempotent producer); returns once the broker has it."""
    topic = settings.topics.ticket_status
    failed: list[str] = []
    producer = Producer(
        settings.kafka.client_config(**{"enable.idempotence": True}), logger=librdkafka_logger()
    )
    producer.produce(
        topic,
        key=change.ticket_id,
        value=codec.encode(change, topic=topic),
        on_delivery=lambda err, _msg: err is not None and failed.append(str(err)),
    )
    if producer.flush(30) or failed:
        raise NotDeliveredError(
            f"the change was not delivered to {topic}: {failed or 'timed out after 30 s'}"
        )
