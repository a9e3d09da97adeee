"""Feed a labelled stream through an index the way the gateway would.

Reports arrive in event-time order. A MERGE joins the chosen ticket; REVIEW and NEW
open a ticket of their own (REVIEW marked "possible duplicate"), exactly as the
gateway's processor does.

Status feedback: a labelled stream gives each report the time the city closed it.
A ticket is closed (``close``) at the first of those times among the reports it
holds, not only at its opener's: the city closing any one of them says the problem
they were merged as is resolved. Chicago shows why it matters: SR21-00000629, a
traffic signal, stayed open for three days while the city opened, fixed and closed
new requests at the same corner (3961 closed 24 min after it was made); reports
merged into 629's ticket must see that fix, as a ticket the departments worked on
would have been closed by it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from dedup.decision import MERGE, Decision
from dedup.index import Candidates, TicketIndex
from dedup.labelled import LabelledReport


class Outcome:
    """What happened to one report: the decision and the ticket it ended up in."""

    __slots__ = ("decision", "report", "ticket_id")

    def __init__(self, report: LabelledReport, decision: Decision, ticket_id: str) -> None:
        self.report = report
        self.decision = decision
        self.ticket_id = ticket_id


class _Closer:
    """Pending closings, applied when event time passes them; a ticket's first closing wins."""

    def __init__(self, index: TicketIndex) -> None:
        self.index = index
        self.pending: list[tuple[int, int, str]] = []
        self.seq = 0

    def schedule(self, ticket_id: str, closed_ms: int | None) -> None:
        if closed_ms is not None:
            heapq.heappush(self.pending, (closed_ms, self.seq, ticket_id))
            self.seq += 1

    def until(self, now_ms: int) -> None:
        while self.pending and self.pending[0][0] <= now_ms:
            at, _, ticket_id = heapq.heappop(self.pending)
            if self.index.is_open(ticket_id, at):  # closed already (or expired): the first closing stands
                self.index.close(ticket_id, at)


def replay(stream: Sequence[LabelledReport], index: TicketIndex) -> list[Outcome]:
    """Decide every report in order and apply the decision; returns one outcome per report."""
    closer = _Closer(index)
    out: list[Outcome] = []
    for report in stream:
        obs = report.obs
        closer.until(obs.event_time_ms)
        decision = index.decide(obs)
        if decision.band == MERGE and decision.ticket_id is not None:
            index.add_member(decision.ticket_id, obs)
            ticket_id = decision.ticket_id
        else:
            ticket_id = obs.report_id
            index.open_ticket(ticket_id, obs)
        closer.schedule(ticket_id, report.closed_ms)
        out.append(Outcome(report, decision, ticket_id))
    return out


def oracle_replay(
    stream: Sequence[LabelledReport], index: TicketIndex
) -> Iterator[tuple[int, Candidates | None]]:
    """Replay with the *true* clusters deciding merges; yields, per report, its candidate comparison.

    Used to fit weights: every candidate the index would have scored for the report,
    against tickets formed as the city formed them, is a labelled pair.
    Yields ``(position in stream, Candidates or None)`` before applying the report, so
    the candidates' rows are still valid while the caller looks at them.
    """
    closer = _Closer(index)
    ticket_of_cluster: dict[str, str] = {}
    for position, report in enumerate(stream):
        obs = report.obs
        closer.until(obs.event_time_ms)
        yield position, index.candidates(obs)
        ticket_id = ticket_of_cluster.get(report.cluster)
        if ticket_id is not None and ticket_id in index and index.is_open(ticket_id, obs.event_time_ms):
            index.add_member(ticket_id, obs)
        else:
            ticket_id = obs.report_id
            index.open_ticket(ticket_id, obs)
            ticket_of_cluster[report.cluster] = ticket_id
        closer.schedule(ticket_id, report.closed_ms)
