"""12319 urban-construction hotline / 数字城管: one XML ``<case>`` per record, UTF-8."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field, model_validator

from connectors.channels.native import NativeRecord, admin_code, check_lon_lat, compact, title, validate
from connectors.formats import xml_case
from connectors.lenient import Code, OptCode, OptFloat, OptText, Text, Time, fold
from connectors.mapping import MappingContext, mask_phones_in_text
from schemas import ids
from schemas.models import Report, ReporterRole

_LEADING_NUMBER = re.compile(r"^\d+(?:\.\d+)?\s*")


class UrbanCase(NativeRecord):
    """A 数字城管 案件 (event or component case); the children of ``<case>`` by element name."""

    case_code: Code = Field(alias="caseCode")
    rec_type: OptText = Field(None, alias="recType", description="事件 | 部件")
    main_type_code: OptCode = Field(None, alias="mainTypeCode")
    main_type_name: OptText = Field(None, alias="mainTypeName")
    sub_type_code: OptCode = Field(None, alias="subTypeCode", description="小类, e.g. 0102")
    sub_type_name: OptText = Field(None, alias="subTypeName")
    represent: Text = Field(alias="represent", description="问题描述")
    location: OptText = Field(None, alias="location")
    grid_code: OptCode = Field(None, alias="gridCode", description="first 6 digits: GB/T 2260 district")
    x: OptFloat = Field(None, alias="x", description="longitude, GCJ-02")
    y: OptFloat = Field(None, alias="y", description="latitude, GCJ-02")
    event_source: OptText = Field(None, alias="eventSource", description="监督员/公众举报/视频/上级交办")
    reporter_phone: OptText = Field(None, alias="reporterPhone")
    inspector_id: OptCode = Field(None, alias="inspectorId")
    report_time: Time = Field(alias="reportTime")
    time_limit: OptText = Field(None, alias="timeLimit", description="e.g. 4工作时, 7工作日")
    component_id: OptCode = Field(None, alias="componentId", description="部件 only")

    @model_validator(mode="after")
    def _position(self) -> UrbanCase:
        """Range-check x/y together (the mapping reads the pair through ``check_lon_lat``)."""
        check_lon_lat(self.x, self.y)
        return self


def decode(raw: bytes) -> UrbanCase:
    """One raw record (a ``<case>`` document) → the validated native model; ``RecordError`` otherwise."""
    return validate(UrbanCase, xml_case(raw))


def time_limit_unit(time_limit: str | None) -> str | None:
    """``"4工作时"`` → ``"工作时"``: the unit the urgency table is keyed by."""
    return _LEADING_NUMBER.sub("", fold(time_limit)) or None if time_limit else None


def to_report(case: UrbanCase, raw: bytes, received_at: datetime, ctx: MappingContext) -> Report:
    """A 数字城管 case as a Report (pure: same input, same Report)."""
    district_code = ctx.districts.by_grid(case.grid_code) or ctx.districts.in_text(case.location)
    lat, lon, datum = ctx.position(check_lon_lat(case.x, case.y))
    role = ctx.reporter_role(case.event_source)
    contact = ctx.contact(case.reporter_phone)
    key = f"{case.rec_type}:{case.sub_type_code}" if case.rec_type and case.sub_type_code else None
    return Report.model_validate(
        dict(
            report_id=ids.report_id(ctx.channel, case.case_code),
            channel=ctx.channel,
            source_record_id=case.case_code,
            reported_at=ctx.utc(case.report_time),
            received_at=received_at,
            request_type=ctx.request_type(case.event_source),
            category=ctx.category(key, case.sub_type_code, case.sub_type_name),
            title=title(case.sub_type_name, case.represent),
            description=mask_phones_in_text(case.represent),
            location=dict(
                address=mask_phones_in_text(case.location or ""),
                parts=ctx.district_parts(district_code),
                district_code=district_code,
                admin_code=admin_code(case.grid_code),
                grid_code=case.grid_code,
                lat=lat,
                lon=lon,
                source_datum=datum,
            ),
            reporter=ctx.reporter(
                role,
                contact=contact,
                worker_id=case.inspector_id if role is ReporterRole.INSPECTOR else None,
            ),
            urgency=ctx.urgency(time_limit_unit(case.time_limit)),
            attributes=compact(
                recType=case.rec_type,
                mainTypeCode=case.main_type_code,
                eventSource=case.event_source,
                timeLimit=case.time_limit,
                componentId=case.component_id,
            ),
            raw=raw,
        )
    )
