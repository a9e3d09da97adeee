"""The ticket lifecycle (12345 + 数字城管 + Open311), as a transition table.

RECEIVED → TRIAGED → DISPATCHED → ACCEPTED → IN_PROGRESS → RESPONDED → VERIFYING → CLOSED,
with RETURNED (退单) back to dispatch and re-dispatch (改派), NOT_ACCEPTED (不予受理),
an unsatisfied callback sending VERIFYING back to IN_PROGRESS, and FILED for 事件报备
records that are never work. Departments may close straight from RESPONDED when the
city does no callback for the category. 督办 (supervision) is a flag, not a state.
"""

from __future__ import annotations

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


def transition_error(current: S, new: S, *, has_resolution: bool) -> str | None:
    """Why ``current → new`` is not allowed, or None when it is."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (terminal state)"
        return f"transition {current} → {new} is not in the lifecycle; allowed from {current}: {allowed}"
    if new is S.CLOSED and not has_resolution:
        return "CLOSED needs a resolution (RESOLVED, UNRESOLVED, NOT_RESPONSIBLE, NO_FURTHER_ACTION)"
    return None
