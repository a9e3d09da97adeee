"""The ticket lifecycle (12345 + 数字城管 + Open311), as a transition table.

RECEIVED → TRIAGED → DISPATCHED → ACCEPTED → IN_PROGRESS → RESPONDED → VERIFYING → CLOSED,
with RETURNED (退单) back to dispatch and re-dispatch (改派), NOT_ACCEPTED (不予受理),
an unsatisfied callback sending VERIFYING back to IN_PROGRESS, and FILED for 事件报备
records that are never work. Departments may close straight from RESPONDED when the
city does no callback for the category. 督办 (supervision) is a flag, not a state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.models import TicketStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.TRIAGED, S.NOT_ACCEPTED, S.DISPATCHED}),
    S.TRIAGED: frozenset({S.DISPATCHED, S.NOT_ACCEPTED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.RETURNED}),
    S.RETURNED: frozenset({S.DISPATCHED, S.TRIAGED, S.NOT_ACCEPTED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.RETURNED}),
    S.IN_PROGRESS: frozenset({S.RESPONDED}),
    S.RESPONDED: frozenset({S.VERIFYING, S.CLOSED}),
    S.VERIFYING: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    S.NOT_ACCEPTED: frozenset(),
    S.FILED: frozenset(),
    S.UNKNOWN: frozenset(),
}

#: States in which a ticket is still open work and may take merges.
OPEN = frozenset(s for s in S if s not in {S.CLOSED, S.NOT_ACCEPTED, S.FILED, S.UNKNOWN})
#: The same, as the status strings of decoded Avro tickets.
OPEN_VALUES = frozenset(s.value for s in OPEN)


def transition_error(current: S, new: S, *, has_resolution: bool) -> str | None:
    """Why ``current → new`` is not allowed, or None when it is."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (terminal state)"
        return f"transition {current} → {new} is not in the lifecycle; allowed from {current}: {allowed}"
    if new is S.CLOSED and not has_resolution:
        return "CLOSED needs a resolution (RESOLVED, UNRESOLVED, NOT_RESPONSIBLE, NO_FURTHER_ACTION)"
    return None


class MergeRefusal(NamedTuple):
    """Why a person's merge cannot be applied; ``unknown_target`` when the named ticket is not held."""

    reason: str
    unknown_target: bool = False


def merge_error(ticket: dict[str, Any], target_id: str, target: dict[str, Any] | None) -> MergeRefusal | None:
    """Why ``ticket`` cannot be merged into ``target_id`` by a person (人工并单), or None when it can.

    ``target`` is that ticket as held, None when it is not. The gateway applies these rules
    to a ``duplicate_of`` change; ``bingxian review merge`` applies them before posting one.
    """
    if ticket["status"] not in OPEN_VALUES:
        return MergeRefusal(
            f"only an open ticket can be merged into another; {ticket['ticket_id']} is {ticket['status']}"
        )
    if target_id == ticket["ticket_id"]:
        return MergeRefusal("a ticket cannot be merged into itself")
    if target is None:
        return MergeRefusal(f"duplicate_of: unknown or expired ticket {target_id}", unknown_target=True)
    if target["status"] not in OPEN_VALUES:
        return MergeRefusal(
            f"duplicate_of: {target_id} is {target['status']}; reports join open tickets only"
        )
    return None
