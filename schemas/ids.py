"""Deterministic identifiers.

Every id is derived from content or source ids, never from a clock or a random
number, so re-ingesting a record or replaying a topic produces the same ids and
compacted topics overwrite instead of duplicating.
"""

from __future__ import annotations

import hashlib

from schemas.models import Channel, TicketEventType

_NO_DISTRICT = "000000"


def _digest(*parts: str, size: int = 10) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=size).hexdigest()


def report_id(channel: Channel, source_record_id: str) -> str:
    """``RPT-<hash>`` of channel and source id: the same source record always gets the same id."""
    return f"RPT-{_digest(channel.value, source_record_id.strip())}"


def ticket_id(district_code: str | None, primary_report_id: str) -> str:
    """``TK-<district>-<hash>``: the district prefix is the Kafka key of everything about the ticket."""
    return f"TK-{district_code or _NO_DISTRICT}-{_digest(primary_report_id, size=8)}"


def ticket_partition_key(ticket: str) -> str:
    """The partition key (district code) embedded in a ticket id."""
    parts = ticket.split("-")
    if len(parts) != 3 or parts[0] != "TK" or len(parts[1]) != 6:
        raise ValueError(f"not a bingxian ticket id: {ticket!r}")
    return parts[1]


def event_id(ticket: str, version: int, event_type: TicketEventType, report: str | None = None) -> str:
    """One id per (ticket, version, event type[, report]): a replayed event overwrites its twin."""
    suffix = f":{report}" if report else ""
    return f"{ticket}:{version}:{event_type.value}{suffix}"


def dead_letter_id(*position: object) -> str:
    """``DL-<hash>`` of the source position (topic/partition/offset, file/line, or request id)."""
    return f"DL-{_digest(*(str(p) for p in position))}"
