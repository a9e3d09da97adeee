"""What a simulation produced: native records, the real issues behind them, and closures.

The truth is what makes the simulator a benchmark: every record names the real-world
issue it reports (or none, when it is malformed), so a deduplicator's merges can be
scored pair by pair. ``truth.jsonl`` and ``closures.jsonl`` are these objects, one JSON
line each (``SimRecord.truth``, ``Closure.line``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas import Channel, TicketStatusChange
from schemas import ids as schema_ids

#: Channel names (CLI, config, raw topics, file names) → the unified ``schemas.Channel``.
CHANNEL_ENUM = {
    "12345": Channel.HOTLINE_12345,
    "12319": Channel.URBAN_12319,
    "962121": Channel.PROPERTY_962121,
    "grid": Channel.GRID_REPORT,
}


class Kind(StrEnum):
    """The role of one record in the truth."""

    ORIGINAL = "original"  # first report of an issue that is reported more than once
    REPEAT = "repeat"  # a later report of an issue already reported
    NEAR_MISS = "near_miss"  # first report of a distinct issue built to look like another
    SINGLE = "single"  # the only report of its issue
    MALFORMED = "malformed"  # broken on purpose; belongs to no issue


class NearMissType(StrEnum):
    """How a near-miss issue imitates the issue it must not be merged with."""

    DIFFERENT_PROBLEM_SAME_ADDRESS = "different_problem_same_address"
    SAME_PROBLEM_NEARBY = "same_problem_nearby"
    SAME_PROBLEM_OTHER_BUILDING = "same_problem_other_building"
    AFTER_CLOSURE = "after_closure"


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One native record exactly as its channel's system would write it to Kafka, with its truth."""

    channel: str
    raw: bytes
    source_record_id: str
    issue_id: str | None
    kind: Kind
    reported_at: datetime
    emitted_at: datetime
    near_miss_of: str | None = None
    near_miss_type: NearMissType | None = None
    malformed_type: str | None = None

    @property
    def report_id(self) -> str:
        """The id the connectors give the ``Report`` mapped from this record."""
        return schema_ids.report_id(CHANNEL_ENUM[self.channel], self.source_record_id)

    def truth(self) -> dict[str, Any]:
        """The record's line in ``truth.jsonl``."""
        line: dict[str, Any] = {
            "channel": self.channel,
            "source_record_id": self.source_record_id,
            "report_id": self.report_id,
            "issue_id": self.issue_id,
            "kind": self.kind.value,
            "reported_at": self.reported_at.isoformat(),
        }
        if self.near_miss_of is not None and self.near_miss_type is not None:
            line["near_miss_of"] = self.near_miss_of
            line["near_miss_type"] = self.near_miss_type.value
        if self.malformed_type is not None:
            line["malformed_type"] = self.malformed_type
        return line


@dataclass(frozen=True, slots=True)
class Closure:
    """An issue whose ticket a department closes at ``closed_at``."""

    issue_id: str
    ticket_id: str
    closed_at: datetime
    department: str

    def line(self) -> dict[str, Any]:
        """The closure's line in ``closures.jsonl``."""
        return {
            "issue_id": self.issue_id,
            "closed_at": self.closed_at.isoformat(),
            "ticket_id": self.ticket_id,
            "department": self.department,
        }


@dataclass(frozen=True, slots=True)
class Issue:
    """A real-world issue: what and where it really is, and how it was reported and closed."""

    issue_id: str
    problem: str
    category: str
    district_code: str
    road: str
    house_number: int
    compound: str | None
    building: int | None
    room: str | None
    lon: float
    lat: float
    first_reported_at: datetime
    report_count: int
    filing_only: bool  # 事件报备: filed by a grid worker for the record, never a ticket
    closed_at: datetime | None
    near_miss_of: str | None
    near_miss_type: NearMissType | None


@dataclass(slots=True)
class Simulation:
    """One generated run: records in emission order, the issues behind them, and closures."""

    seed: int
    city: str
    start: datetime
    records: list[SimRecord]
    issues: list[Issue]
    closures: list[Closure]
    status_changes: list[TicketStatusChange]
    _by_id: dict[str, Issue] = field(default_factory=dict, repr=False)

    def issue(self, issue_id: str) -> Issue:
        """The issue with this id."""
        if not self._by_id:
            self._by_id = {i.issue_id: i for i in self.issues}
        return self._by_id[issue_id]
