"""12345 citizen hotline (政务服务便民热线): one JSON 工单 per record, UTF-8."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from connectors.channels.native import LonLat, NativeRecord, compact, title, validate
from connectors.formats import json_object
from connectors.lenient import Code, OptCode, OptFlag, OptInt, OptText, OptTime, Text, Time
from connectors.mapping import MappingContext, mask_phones_in_text
from schemas import ids
from schemas.models import Report


class HotlineOrder(NativeRecord):
    """A 12345 work order as the hotline system exports it (field names are the vendor's)."""

    order_num: Code = Field(alias="orderNum", description="工单编号, e.g. SH12345-20261101-000123")
    call_time: Time = Field(alias="callTime", description="来电时间")
    caller_name: OptText = Field(None, alias="callerName")
    caller_phone: OptText = Field(None, alias="callerPhone", description="may hold spaces, +86, full-width")
    source_type: OptCode = Field(None, alias="sourceType", description="phone | web | app | wechat")
    appeal_type: OptText = Field(None, alias="appealType", description="咨询/求助/投诉/举报/建议/表扬")
    question_code: OptCode = Field(None, alias="questionCode", description="the hotline's own category code")
    question_name: OptText = Field(None, alias="questionName")
    content: Text = Field(alias="content", description="诉求内容")
    address: OptText = Field(None, alias="address")
    district: OptText = Field(None, alias="district", description="浦东新区 or 浦东")
    is_secret: OptFlag = Field(None, alias="isSecret", description="caller asked for secrecy (保密)")
    handle_days: OptInt = Field(None, alias="handleDays")
    deadline_date: OptTime = Field(None, alias="deadlineDate")
    urgency: OptText = Field(None, alias="urgency", description="一般 | 紧急 | 特急")
    old_order_num: OptCode = Field(None, alias="oldOrderNum", description="order this one re-opens")
    address_points: LonLat = Field(None, alias="addressPoints", description="'lon,lat', WGS-84")


def decode(raw: bytes) -> HotlineOrder:
    """One raw record (a JSON object) → the validated native model; ``RecordError`` otherwise."""
    return validate(HotlineOrder, json_object(raw))


def to_report(order: HotlineOrder, raw: bytes, received_at: datetime, ctx: MappingContext) -> Report:
    """A 12345 work order as a Report (pure: same input, same Report)."""
    districts = ctx.districts
    district_code = districts.by_name(order.district) or districts.in_text(order.address)
    lat, lon, datum = ctx.position(order.address_points)
    contact = ctx.contact(order.caller_phone, secret=bool(order.is_secret))
    attributes = compact(
        sourceType=order.source_type,
        appealType=order.appeal_type,
        oldOrderNum=order.old_order_num,
        handleDays=None if order.handle_days is None else str(order.handle_days),
    )
    return Report.model_validate(
        dict(
            report_id=ids.report_id(ctx.channel, order.order_num),
            channel=ctx.channel,
            source_record_id=order.order_num,
            reported_at=ctx.utc(order.call_time),
            received_at=received_at,
            request_type=ctx.request_type(order.appeal_type),
            category=ctx.category(order.question_code, order.question_code, order.question_name),
            title=title(order.question_name, order.content),
            description=mask_phones_in_text(order.content),
            location=dict(
                address=mask_phones_in_text(order.address or ""),
                parts=ctx.district_parts(district_code),
                district_code=district_code,
                lat=lat,
                lon=lon,
                source_datum=datum,
            ),
            reporter=ctx.reporter(
                ctx.config.reporter_role,
                contact=contact,
                confidential=bool(order.is_secret),
            ),
            urgency=ctx.urgency(order.urgency),
            deadline=ctx.utc_or_none(order.deadline_date),
            attributes=attributes,
            raw=raw,
        )
    )
