"""Grid-worker app (网格员上报): one JSON event per record, UTF-8."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from connectors.channels.native import (
    NativeRecord,
    UrlList,
    admin_code,
    check_lon_lat,
    compact,
    title,
    validate,
)
from connectors.formats import json_object
from connectors.lenient import Code, OptCode, OptFlag, OptFloat, OptInt, OptText, Text, Time
from connectors.mapping import MappingContext, mask_phones_in_text
from schemas import ids
from schemas.models import Report


class GridEvent(NativeRecord):
    """An event a grid worker reported from the app."""

    event_id: Code = Field(alias="eventId")
    grid_code: Code = Field(alias="gridCode", description="first 6 digits: GB/T 2260 district")
    report_person: Code = Field(alias="reportPerson", description="grid worker id")
    event_type_code: OptCode = Field(None, alias="eventTypeCode", description="app's own code, e.g. G0601")
    event_type_name: OptText = Field(None, alias="eventTypeName")
    description: Text = Field(alias="description")
    address: OptText = Field(None, alias="address")
    gpsx: OptFloat = Field(None, alias="gpsx", description="longitude, GCJ-02")
    gpsy: OptFloat = Field(None, alias="gpsy", description="latitude, GCJ-02")
    happen_time: Time = Field(alias="happenTime", description="epoch ms or 2026-11-01 08:15:30")
    level: OptInt = Field(None, alias="level", description="1 normal, 2 urgent, 3 emergency")
    photo_urls: UrlList = Field(default_factory=list, alias="photoUrls")
    filing_only: OptFlag = Field(None, alias="filingOnly", description="事件报备: recorded, never dispatched")
    is_pain_spot: OptFlag = Field(None, alias="isPainSpot", description="顽症")

    @model_validator(mode="after")
    def _position(self) -> GridEvent:
        """Range-check gpsx/gpsy together (the mapping reads the pair through ``check_lon_lat``)."""
        check_lon_lat(self.gpsx, self.gpsy)
        return self


def decode(raw: bytes) -> GridEvent:
    """One raw record (a JSON object) → the validated native model; ``RecordError`` otherwise."""
    return validate(GridEvent, json_object(raw))


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def to_report(event: GridEvent, raw: bytes, received_at: datetime, ctx: MappingContext) -> Report:
    """A grid worker's event as a Report (pure: same input, same Report)."""
    district_code = ctx.districts.by_grid(event.grid_code) or ctx.districts.in_text(event.address)
    lat, lon, datum = ctx.position(check_lon_lat(event.gpsx, event.gpsy))
    return Report.model_validate(
        dict(
            report_id=ids.report_id(ctx.channel, event.event_id),
            channel=ctx.channel,
            source_record_id=event.event_id,
            reported_at=ctx.utc(event.happen_time),
            received_at=received_at,
            request_type=ctx.request_type(None),
            category=ctx.category(event.event_type_code, event.event_type_code, event.event_type_name),
            title=title(event.event_type_name, event.description),
            description=mask_phones_in_text(event.description),
            location=dict(
                address=mask_phones_in_text(event.address or ""),
                parts=ctx.district_parts(district_code),
                district_code=district_code,
                admin_code=admin_code(event.grid_code),
                grid_code=event.grid_code,
                lat=lat,
                lon=lon,
                source_datum=datum,
            ),
            reporter=ctx.reporter(ctx.config.reporter_role, worker_id=event.report_person),
            urgency=ctx.urgency(None if event.level is None else str(event.level)),
            filing_only=bool(event.filing_only),
            media_urls=list(event.photo_urls),
            attributes=compact(isPainSpot=_flag(event.is_pain_spot)),
            raw=raw,
        )
    )
