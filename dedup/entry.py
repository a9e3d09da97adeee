"""The serialised form of one ticket's index entry (changelog value, snapshot item).

Compact, versioned JSON: no msgpack dependency, readable when debugging a changelog.
A row keeps the normalised fields as strings (never hashes or ids, which are
process-local), so an entry restores identically under any process. The token
string is not stored: it is derived from the text and the terms.
"""

from __future__ import annotations

import json
from typing import Any

from dedup.exceptions import IndexEntryError
from dedup.normalize import NormalizedReport, token_string

# 2 adds "l", the time of the ticket's last report (members not kept for comparison
# included), which decides how long it stays matchable; version 1 entries are still
# read, their last report taken as the newest kept row.
# 3 adds, at the end of a row and only when there are any, the exclusive symptoms its
# description names (``NormalizedReport.said_symptoms``); rows of versions 1 and 2 have none.
ENTRY_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


class TicketEntry:
    """One ticket as the index keeps it: its rows (primary first) and status."""

    __slots__ = ("closed_at", "family", "last_time", "member_count", "opened_at", "rows", "ticket_id")

    def __init__(
        self,
        *,
        ticket_id: str,
        family: str,
        opened_at: int,
        closed_at: int | None,
        member_count: int,
        rows: list[tuple[NormalizedReport, float]],
        last_time: int | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.family = family
        self.opened_at = opened_at
        self.closed_at = closed_at
        self.member_count = member_count
        self.rows = rows  # (report, strength against the primary; inf for the primary)
        self.last_time = last_time  # None: not recorded (a version 1 entry)


def _row(norm: NormalizedReport, strength: float) -> list[Any]:
    row = [
        norm.report_id,
        norm.time_ms,
        norm.category_code,
        norm.lat,
        norm.lon,
        norm.district,
        norm.road,
        norm.house,
        norm.house_value,
        norm.compound,
        norm.building,
        norm.room,
        norm.caller,
        list(norm.objects),
        list(norm.symptoms),
        norm.text,
        None if strength == float("inf") else strength,
    ]
    if norm.said_symptoms:
        row.append(list(norm.said_symptoms))
    return row


def encode_entry(entry: TicketEntry) -> bytes:
    """Bytes of one entry."""
    data = {
        "v": ENTRY_VERSION,
        "t": entry.ticket_id,
        "f": entry.family,
        "o": entry.opened_at,
        "c": entry.closed_at,
        "n": entry.member_count,
        "l": entry.last_time,
        "r": [_row(norm, strength) for norm, strength in entry.rows],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_from_dict(data: Any) -> TicketEntry:
    """Rebuild an entry from its decoded JSON; raises IndexEntryError for anything else."""
    if not isinstance(data, dict) or data.get("v") not in READABLE_VERSIONS:
        version = data.get("v") if isinstance(data, dict) else None
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise IndexEntryError(f"dedup index entry version {version!r}; this version reads {readable}")
    try:
        rows: list[tuple[NormalizedReport, float]] = []
        for r in data["r"]:
            objects, symptoms, text = tuple(r[13]), tuple(r[14]), r[15]
            norm = NormalizedReport(
                report_id=r[0],
                time_ms=int(r[1]),
                category_code=r[2],
                lat=r[3],
                lon=r[4],
                district=r[5],
                road=r[6],
                house=r[7],
                house_value=r[8],
                compound=r[9],
                building=r[10],
                room=r[11],
                caller=r[12],
                objects=objects,
                symptoms=symptoms,
                text=text,
                tokens=token_string(text, objects, symptoms) if text else "",
                said_symptoms=tuple(r[17]) if len(r) > 17 else (),
            )
            rows.append((norm, float("inf") if r[16] is None else float(r[16])))
        return TicketEntry(
            ticket_id=str(data["t"]),
            family=str(data["f"]),
            opened_at=int(data["o"]),
            closed_at=None if data["c"] is None else int(data["c"]),
            member_count=int(data["n"]),
            rows=rows,
            last_time=None if data.get("l") is None else int(data["l"]),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise IndexEntryError(f"malformed dedup index entry: {exc!r}") from exc


def decode_entry(data: bytes) -> TicketEntry:
    """The entry in ``data`` (bytes from ``encode_entry``)."""
    try:
        decoded = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexEntryError(f"dedup index entry is not JSON: {exc}") from exc
    return entry_from_dict(decoded)
