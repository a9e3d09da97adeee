"""The review queue's rules without a broker: what is pending, and which merges are refused before posting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.review import Pending, ReviewError, merge_change, merge_target, pending
from schemas import examples

HOUR = timedelta(hours=1)


def ticket(ticket_id: str, hours: int = 0, **fields: Any) -> dict[str, Any]:
    data = examples.ticket().model_dump()
    data.update(ticket_id=ticket_id, first_reported_at=data["first_reported_at"] + hours * HOUR, **fields)
    return data


def queue(*tickets: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["ticket_id"]: t for t in tickets}


def test_pending_lists_open_flagged_tickets_whose_candidate_is_open_oldest_first() -> None:
    """Flagged and open on both sides: listed. Not flagged, closed, merged away or a closed candidate: not."""
    tickets = queue(
        ticket("A"),
        ticket("B", 2, possible_duplicate_of="A"),
        ticket("C", 1, possible_duplicate_of="A"),
        ticket("D", 3),
        ticket("E", 4, possible_duplicate_of="A", status="CLOSED", resolution="RESOLVED"),
        ticket("F", 5, possible_duplicate_of="A", status="CLOSED", merged_into="A"),
        ticket("G", 6, status="CLOSED", resolution="RESOLVED"),
        ticket("H", 7, possible_duplicate_of="G"),
        ticket("I", 8, possible_duplicate_of="gone"),
    )
    found = pending(tickets)
    assert [(p.ticket["ticket_id"], p.candidate["ticket_id"]) for p in found] == [("C", "A"), ("B", "A")]
    assert found[0].explanation == tickets["C"]["evidence"][0]["explanation"]
    assert Pending(ticket("X", evidence=[]), tickets["A"]).explanation == ""


@pytest.mark.parametrize(
    ("ticket_id", "into", "says"),
    [
        ("nope", None, "nope is not on the dispatch queue"),
        ("G", "A", "only an open ticket can be merged into another; G is CLOSED"),
        ("D", None, "not flagged as a possible duplicate: name the ticket with --into"),
        ("B", "B", "cannot be merged into itself"),
        ("H", None, "G is CLOSED; reports join open tickets only"),
        ("I", None, r"unknown or expired ticket gone \(not on the dispatch queue\)"),
    ],
)
def test_merges_the_gateway_would_refuse_are_refused_before_posting(
    ticket_id: str, into: str | None, says: str
) -> None:
    tickets = queue(
        ticket("A"),
        ticket("B", possible_duplicate_of="A"),
        ticket("D"),
        ticket("G", status="CLOSED", resolution="RESOLVED"),
        ticket("H", possible_duplicate_of="G"),
        ticket("I", possible_duplicate_of="gone"),
    )
    with pytest.raises(ReviewError, match=says):
        merge_target(tickets, ticket_id, into)


def test_the_target_is_the_flagged_candidate_unless_named() -> None:
    tickets = queue(ticket("A"), ticket("B", possible_duplicate_of="A"), ticket("D"))
    assert merge_target(tickets, "B", None) == "A"
    assert merge_target(tickets, "B", "D") == "D"
    assert merge_target(tickets, "D", "A") == "A"


def test_the_change_closes_the_repeat_and_names_the_target_with_an_id_fixed_by_the_pair() -> None:
    """Posting the same decision twice gives the same change id, which the gateway applies once."""
    at = examples.T0
    first, again = (
        merge_change("B", "A", department="99", actor="李", note="同一井盖", at=at + n * HOUR)
        for n in range(2)
    )
    assert first.change_id == again.change_id == "review-B-into-A"
    assert (first.status.value, first.resolution.value, first.duplicate_of) == (
        "CLOSED",
        "NO_FURTHER_ACTION",
        "A",
    )
