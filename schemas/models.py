"""pydantic v2 models mirroring the Avro schemas in ``schemas/avro``.

The ``.avsc`` files are the city-wide standard; these models are their Python
face, used at the edges (validation of mapped records, HTTP, CLI). A test
(``tests/schemas/test_models_match_avsc.py``) proves they agree field for field:
names, order, optionality, defaults and enum symbols.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_MICROSECOND = timedelta(microseconds=1)


def _utc(value: datetime) -> datetime:
    """Timestamps are timestamp-millis in UTC: reject naive times, truncate to milliseconds.

    The truncation subtracts a timedelta rather than calling ``replace``: a third of the
    cost, and every Report pays it twice.
    """
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    sub_milli = value.microsecond % 1000
    return value - sub_milli * _MICROSECOND if sub_milli else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Channel(StrEnum):
    HOTLINE_12345 = "HOTLINE_12345"
    URBAN_12319 = "URBAN_12319"
    PROPERTY_962121 = "PROPERTY_962121"
    GRID_REPORT = "GRID_REPORT"
    OTHER = "OTHER"


class RequestType(StrEnum):
    CONSULTATION = "CONSULTATION"
    HELP = "HELP"
    COMPLAINT = "COMPLAINT"
    TIP_OFF = "TIP_OFF"
    SUGGESTION = "SUGGESTION"
    PRAISE = "PRAISE"
    REPAIR = "REPAIR"
    UNKNOWN = "UNKNOWN"


class Urgency(StrEnum):
    """Ordered from least to most urgent; ``Urgency.rank`` compares them."""

    UNKNOWN = "UNKNOWN"
    LOW = "LOW"
    NORMAL = "NORMAL"
    URGENT = "URGENT"
    EMERGENCY = "EMERGENCY"

    @property
    def rank(self) -> int:
        return list(Urgency).index(self)


class Datum(StrEnum):
    WGS84 = "WGS84"
    GCJ02 = "GCJ02"
    BD09 = "BD09"
    NONE = "NONE"
    UNKNOWN = "UNKNOWN"


class ReporterRole(StrEnum):
    CITIZEN = "CITIZEN"
    GRID_WORKER = "GRID_WORKER"
    INSPECTOR = "INSPECTOR"
    PROPERTY_STAFF = "PROPERTY_STAFF"
    SYSTEM = "SYSTEM"
    UNKNOWN = "UNKNOWN"


class TicketStatus(StrEnum):
    RECEIVED = "RECEIVED"
    TRIAGED = "TRIAGED"
    NOT_ACCEPTED = "NOT_ACCEPTED"
    DISPATCHED = "DISPATCHED"
    ACCEPTED = "ACCEPTED"
    RETURNED = "RETURNED"
    IN_PROGRESS = "IN_PROGRESS"
    RESPONDED = "RESPONDED"
    VERIFYING = "VERIFYING"
    CLOSED = "CLOSED"
    FILED = "FILED"
    UNKNOWN = "UNKNOWN"


class Resolution(StrEnum):
    RESOLVED = "RESOLVED"
    UNRESOLVED = "UNRESOLVED"
    NOT_RESPONSIBLE = "NOT_RESPONSIBLE"
    NO_FURTHER_ACTION = "NO_FURTHER_ACTION"
    UNKNOWN = "UNKNOWN"


class DedupBand(StrEnum):
    MERGE = "MERGE"
    REVIEW = "REVIEW"
    NEW = "NEW"
    UNKNOWN = "UNKNOWN"


class TicketEventType(StrEnum):
    CREATED = "CREATED"
    REPORT_MERGED = "REPORT_MERGED"
    ROUTED = "ROUTED"
    REVIEW_REQUESTED = "REVIEW_REQUESTED"
    STATUS_CHANGED = "STATUS_CHANGED"
    RECURRENCE_LINKED = "RECURRENCE_LINKED"
    FILED = "FILED"
    UNKNOWN = "UNKNOWN"


class Transport(StrEnum):
    KAFKA = "KAFKA"
    HTTP = "HTTP"
    FILE = "FILE"
    GATEWAY = "GATEWAY"
    UNKNOWN = "UNKNOWN"


class ErrorKind(StrEnum):
    DECODE_ERROR = "DECODE_ERROR"
    PARSE_ERROR = "PARSE_ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    MAPPING_ERROR = "MAPPING_ERROR"
    SCHEMA_ERROR = "SCHEMA_ERROR"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    UNKNOWN_TICKET = "UNKNOWN_TICKET"
    UNKNOWN = "UNKNOWN"


class Category(_Record):
    code: str
    name: str
    native_code: str | None = None
    native_name: str | None = None


class AddressParts(_Record):
    district: str | None = None
    street: str | None = None
    road: str | None = None
    house_number: str | None = None
    compound: str | None = None
    building: str | None = None
    room: str | None = None


class Location(_Record):
    address: str
    parts: AddressParts
    district_code: str | None = Field(None, pattern=r"^\d{6}$")
    admin_code: str | None = Field(None, pattern=r"^\d{12}$")
    grid_code: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    source_datum: Datum = Datum.UNKNOWN


class Reporter(_Record):
    role: ReporterRole = ReporterRole.UNKNOWN
    contact_hash: str | None = None
    contact_masked: str | None = None
    worker_id: str | None = None
    confidential: bool = False


class FeatureContribution(_Record):
    feature: str
    level: str
    weight: float


class MergeEvidence(_Record):
    report_id: str
    candidate_ticket_id: str | None = None
    candidate_report_id: str | None = None
    band: DedupBand = DedupBand.UNKNOWN
    score: float
    merge_threshold: float
    review_threshold: float
    model_version: str
    contributions: list[FeatureContribution]
    explanation: str


class Report(_Record):
    report_id: str
    channel: Channel = Channel.OTHER
    source_record_id: str
    reported_at: UtcDatetime
    received_at: UtcDatetime
    request_type: RequestType = RequestType.UNKNOWN
    category: Category
    title: str
    description: str
    location: Location
    reporter: Reporter
    urgency: Urgency = Urgency.UNKNOWN
    deadline: UtcDatetime | None = None
    filing_only: bool = False
    media_urls: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    raw: bytes


class Ticket(_Record):
    ticket_id: str
    status: TicketStatus = TicketStatus.UNKNOWN
    resolution: Resolution | None = None
    category: Category
    lead_department: str
    assisting_departments: list[str] = Field(default_factory=list)
    location: Location
    title: str
    summary: str
    caller_masked: str | None = None
    primary_report_id: str
    report_ids: list[str]
    channels: list[Channel]
    report_count: int
    first_reported_at: UtcDatetime
    last_reported_at: UtcDatetime
    urgency: Urgency = Urgency.UNKNOWN
    deadline: UtcDatetime | None = None
    filing_only: bool = False
    possible_duplicate_of: str | None = None
    recurrence_of: str | None = None
    merged_into: str | None = None
    evidence: list[MergeEvidence] = Field(default_factory=list)
    version: int
    updated_at: UtcDatetime


class TicketEvent(_Record):
    event_id: str
    event_type: TicketEventType = TicketEventType.UNKNOWN
    ticket_id: str
    ticket_version: int
    report_id: str | None = None
    evidence: MergeEvidence | None = None
    status: TicketStatus | None = None
    previous_status: TicketStatus | None = None
    departments: list[str] = Field(default_factory=list)
    actor: str
    note: str | None = None
    at: UtcDatetime


class TicketStatusChange(_Record):
    change_id: str
    ticket_id: str
    status: TicketStatus = TicketStatus.UNKNOWN
    resolution: Resolution | None = None
    duplicate_of: str | None = None
    department: str
    actor: str
    note: str | None = None
    at: UtcDatetime


class FieldError(_Record):
    field: str
    message: str


class DeadLetterSource(_Record):
    transport: Transport = Transport.UNKNOWN
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    file: str | None = None
    line: int | None = None
    request_id: str | None = None


class DeadLetter(_Record):
    dead_letter_id: str
    channel: str | None = None
    source: DeadLetterSource
    received_at: UtcDatetime
    error_kind: ErrorKind = ErrorKind.UNKNOWN
    error_message: str
    errors: list[FieldError] = Field(default_factory=list)
    raw: bytes
    redrive_count: int = 0


#: Top-level records, by Avro name. Serde and the schema check iterate over this.
RECORDS: dict[str, type[_Record]] = {
    "Report": Report,
    "Ticket": Ticket,
    "TicketEvent": TicketEvent,
    "TicketStatusChange": TicketStatusChange,
    "DeadLetter": DeadLetter,
}
