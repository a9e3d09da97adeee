"""The gateway's state changelog: what a partition needs to resume after a crash.

One compacted topic, partitioned like ``reports``, holds two key spaces:

* ``t:<ticket_id>`` → the ticket's latest state (single-object Avro Ticket) plus
  the status-change ids already applied to it (so a re-sent change is applied once);
* ``d:<ticket_id>`` → the dedup index entry for the ticket (opaque bytes of ``dedup``).

Both are written in the same transaction as the outputs and the consumed offsets,
so the changelog, the output topics and the committed position always agree. A
tombstone (``None``) removes a key when its state expires; compaction then keeps
the topic bounded by the state it holds, and so is restore time.

A restore reads the partition from its start, and what it finds there is only partly
compacted: the broker never cleans the active segment nor the part below the dirty
ratio, so a key may appear many times (a busy ticket is rewritten on every merge and
status change). ``LatestPerKey`` does, in memory, what the log cleaner will do
later: each key's last record, in the order of those last records. Restoring from it
gives the state that restoring every record gives (a compacted log must restore to
the same state, or compaction would change decisions), and costs one decode per key
held instead of one per record written.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from schemas.serde import SingleObjectCodec
from schemas.writer import Sealed

TICKET_PREFIX = "t:"
DEDUP_PREFIX = "d:"
_FORMAT = b"BX1"
_LEN = struct.Struct(">I")


@dataclass(slots=True)
class TicketState:
    """A ticket as the gateway holds it: the Avro dict of the Ticket and applied change ids."""

    ticket: dict[str, Any]
    applied_changes: list[str]


class ChangelogCodec:
    """Encodes ticket states for the changelog. Always single-object Avro: the changelog is internal."""

    def __init__(self) -> None:
        self._codec = SingleObjectCodec()

    def encode_ticket(self, state: TicketState, ticket_bytes: bytes | None = None) -> bytes:
        """Ticket bytes (reused from the output when given) and the applied change ids."""
        body = ticket_bytes if ticket_bytes is not None else self._codec.encode(state.ticket, name="Ticket")
        changes = json.dumps(state.applied_changes, separators=(",", ":")).encode()
        return _FORMAT + _LEN.pack(len(body)) + body + changes

    def decode_ticket(self, data: bytes) -> TicketState:
        if data[:3] != _FORMAT:
            raise ValueError("unknown changelog entry format")
        (size,) = _LEN.unpack_from(data, 3)
        body = data[7 : 7 + size]
        _, ticket = self._codec.decode_dict(body)
        ticket["evidence"] = [Sealed(e) for e in ticket["evidence"]]  # as the processor made them
        return TicketState(ticket=ticket, applied_changes=json.loads(data[7 + size :] or b"[]"))


class LatestPerKey:
    """Each key's last record, in the order of those records: the changelog as compaction leaves it.

    Keys whose last record is a tombstone are gone. The order is the one a fully
    compacted partition presents, so a restore from it builds its maps in the same
    order as a restore from the whole history. Only the last value of each key is
    held, never the history.
    """

    __slots__ = ("_latest", "records")

    def __init__(self) -> None:
        self._latest: dict[str, bytes | None] = {}
        self.records = 0

    def add(self, key: str, value: bytes | None) -> None:
        self.records += 1
        self._latest.pop(key, None)  # re-inserted at the end: dicts keep first-insertion order
        self._latest[key] = value

    def survivors(self) -> list[tuple[str, bytes]]:
        return [(key, value) for key, value in self._latest.items() if value is not None]
