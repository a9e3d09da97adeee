"""Mapped results as Kafka records: which topic, which key, which bytes.

Shared by every producer of mapped results (``connect``, ``deadletter redrive``), so
the keying rules are written once: a Report is keyed by its 6-digit district code (the
gateway's blocking key; ``unknown_district_key``, default ``000000``, when the district
is unknown), a DeadLetter by its id, and a redriven dead letter's resolution by its id
with an empty value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.exceptions import RecordError
from connectors.ingest import dead_letter
from schemas.exceptions import EncodeError
from schemas.models import DeadLetter, DeadLetterSource, ErrorKind, FieldError, Report
from schemas.serde import Codec

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce; ``value`` None is a tombstone (a redriven dead letter)."""

    topic: str
    key: bytes
    value: bytes | None
    result: Report | DeadLetter

    @property
    def is_report(self) -> bool:
        return isinstance(self.result, Report)


class OutputEncoder:
    """Turns ``Report | DeadLetter`` into ``Output``; a Report that will not encode becomes a DeadLetter."""

    def __init__(self, settings: Settings, codec: Codec) -> None:
        self._codec = codec
        self._reports = settings.topics.reports
        self._deadletter = settings.topics.deadletter
        self._unknown = settings.connectors.connect.unknown_district_key
        self._limit = settings.topics.max_record_bytes

    def encode(self, result: Report | DeadLetter, position: DeadLetterSource) -> Output:
        """The record to produce for ``result``; ``position`` is where its native record came from."""
        if isinstance(result, Report):
            try:
                value = self.report_value(result)
            except RecordError as error:
                result = dead_letter(result.channel.value, result.raw, position, result.received_at, error)
            else:
                key = result.location.district_code or self._unknown
                return Output(self._reports, key.encode("ascii"), value, result)
        return self.dead_letter(result)

    def report_value(self, report: Report) -> bytes:
        """The Report's bytes for ``reports``; ``RecordError`` if it does not fit the schema or the limit."""
        try:
            value = self._codec.encode(report, topic=self._reports)
        except EncodeError as exc:
            raise RecordError(ErrorKind.SCHEMA_ERROR, f"the Report does not fit the schema: {exc}") from exc
        if len(value) > self._limit:
            raise self._too_large(len(value))
        return value

    def _too_large(self, size: int) -> RecordError:
        # A Report holds the raw bytes and the text read from them: a raw record well under
        # Kafka's limit can make a Report over it, which Kafka would refuse at every retry.
        message = f"the Report would be {size:,} bytes, over the record limit of {self._limit:,}"
        hint = f"{message} (topics.max_record_bytes)"
        return RecordError(ErrorKind.VALIDATION_ERROR, message, [FieldError(field="(report)", message=hint)])

    def dead_letter(self, letter: DeadLetter) -> Output:
        value = self._codec.encode(letter, topic=self._deadletter)
        return Output(self._deadletter, letter.dead_letter_id.encode("ascii"), value, letter)

    def resolved(self, dead_letter_id: str, report: Report) -> Output:
        """The tombstone that marks a dead letter as redriven into ``report``."""
        return Output(self._deadletter, dead_letter_id.encode("ascii"), None, report)
