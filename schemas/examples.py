"""Small, realistic example records of every type.

Shipped with the package (not hidden in tests) because departments, docs and
other teams' tests need a valid record to start from, and one definition keeps
them all honest when the schemas evolve.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas import ids
from schemas.models import (
    AddressParts,
    Category,
    Channel,
    Datum,
    DeadLetter,
    DeadLetterSource,
    DedupBand,
    ErrorKind,
    FeatureContribution,
    FieldError,
    Location,
    MergeEvidence,
    Report,
    Reporter,
    ReporterRole,
    RequestType,
    Resolution,
    Ticket,
    TicketEvent,
    TicketEventType,
    TicketStatus,
    TicketStatusChange,
    Transport,
    Urgency,
)

T0 = datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)


def report() -> Report:
    """A 12345 work order about a street light, already mapped."""
    return Report(
        report_id=ids.report_id(Channel.HOTLINE_12345, "SH12345-20261101-000123"),
        channel=Channel.HOTLINE_12345,
        source_record_id="SH12345-20261101-000123",
        reported_at=T0,
        received_at=T0.replace(second=31),
        request_type=RequestType.COMPLAINT,
        category=Category(code="0601", name="公共设施/路灯", native_code="QA0603", native_name="路灯不亮"),
        title="路灯不亮",
        description="市民来电反映浦东新区张杨路500号附近路灯不亮，晚上一片黑，希望尽快处理。",
        location=Location(
            address="浦东新区张杨路500号附近",
            parts=AddressParts(district="浦东新区", road="张杨路", house_number="500号"),
            district_code="310115",
            lat=31.2286,
            lon=121.5245,
            source_datum=Datum.WGS84,
        ),
        reporter=Reporter(
            role=ReporterRole.CITIZEN,
            contact_hash="5f0c6b1f2a9d4e8b7c3a1d2e4f6a8b0c",
            contact_masked="138****5678",
        ),
        urgency=Urgency.NORMAL,
        deadline=datetime(2026, 11, 6, 0, 15, 30, tzinfo=UTC),
        attributes={"sourceType": "phone"},
        raw=b'{"orderNum":"SH12345-20261101-000123"}',
    )


def evidence() -> MergeEvidence:
    """A MERGE decision with its per-feature contributions."""
    return MergeEvidence(
        report_id="RPT-2",
        candidate_ticket_id="TK-310115-0123456789abcdef",
        candidate_report_id=report().report_id,
        band=DedupBand.MERGE,
        score=8.5,
        merge_threshold=6.0,
        review_threshold=2.0,
        model_version="default-1",
        contributions=[
            FeatureContribution(feature="address", level="same_road_number", weight=3.1),
            FeatureContribution(feature="text", level="object+symptom", weight=2.4),
        ],
        explanation="地址 +3.1, 文本 +2.4 → 8.5 ≥ 6.0 MERGE",
    )


def ticket() -> Ticket:
    """The ticket the example report opened, after one merge."""
    r = report()
    return Ticket(
        ticket_id=ids.ticket_id("310115", r.report_id),
        status=TicketStatus.DISPATCHED,
        category=r.category,
        lead_department="shizheng",
        assisting_departments=["jd-310115005"],
        location=r.location,
        title=r.title,
        summary=r.description,
        caller_masked="138****5678",
        primary_report_id=r.report_id,
        report_ids=[r.report_id, "RPT-2"],
        channels=[Channel.HOTLINE_12345, Channel.GRID_REPORT],
        report_count=2,
        first_reported_at=r.reported_at,
        last_reported_at=T0.replace(hour=3),
        urgency=Urgency.NORMAL,
        deadline=r.deadline,
        evidence=[evidence()],
        version=2,
        updated_at=T0.replace(hour=3),
    )


def ticket_event() -> TicketEvent:
    """The REPORT_MERGED event of the example ticket."""
    t = ticket()
    return TicketEvent(
        event_id=ids.event_id(t.ticket_id, 2, TicketEventType.REPORT_MERGED, "RPT-2"),
        event_type=TicketEventType.REPORT_MERGED,
        ticket_id=t.ticket_id,
        ticket_version=2,
        report_id="RPT-2",
        evidence=evidence(),
        status=TicketStatus.DISPATCHED,
        actor="bingxian-gateway",
        at=T0.replace(hour=3),
    )


def status_change() -> TicketStatusChange:
    """A department closing the example ticket."""
    return TicketStatusChange(
        change_id="shizheng-0001",
        ticket_id=ticket().ticket_id,
        status=TicketStatus.CLOSED,
        resolution=Resolution.RESOLVED,
        department="shizheng",
        actor="王工",
        note="已更换灯泡",
        at=T0.replace(day=2),
    )


def dead_letter() -> DeadLetter:
    """A 962121 CSV line that failed validation."""
    source = DeadLetterSource(transport=Transport.FILE, file="export.csv", line=17)
    return DeadLetter(
        dead_letter_id=ids.dead_letter_id("FILE", "export.csv", 17),
        channel="962121",
        source=source,
        received_at=T0,
        error_kind=ErrorKind.VALIDATION_ERROR,
        error_message="报修时间: not a valid time",
        errors=[FieldError(field="报修时间", message="not a valid time: '2026/13/45 25:00'")],
        raw="工单编号,报修时间\r\nW1,2026/13/45 25:00\r\n".encode("gbk"),
    )


ALL = {
    "Report": report,
    "Ticket": ticket,
    "TicketEvent": ticket_event,
    "TicketStatusChange": status_change,
    "DeadLetter": dead_letter,
}
