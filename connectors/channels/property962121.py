"""962121 property-service line (物业服务热线): GBK CSV, header line + one data line per record."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from connectors.channels.native import NativeRecord, compact, title, validate
from connectors.formats import csv_row
from connectors.lenient import Code, OptText, Text, Time
from connectors.mapping import MappingContext, mask_phones_in_text
from schemas import ids
from schemas.models import Report

#: The export's header, exactly as the vendor writes it.
HEADER = (
    "工单编号",
    "报修时间",
    "小区名称",
    "楼号",
    "室号",
    "联系电话",
    "报修类别",
    "报修内容",
    "物业公司",
    "街道",
    "区",
)
#: The export's character set. Decoded as GB18030, GBK's superset, so rare characters in names survive.
ENCODING = "gb18030"
REQUIRED = ("工单编号", "报修时间", "报修内容")


class PropertyRepair(NativeRecord):
    """One 报修 row, by column header."""

    order_no: Code = Field(alias="工单编号")
    reported: Time = Field(alias="报修时间", description="2026/11/1 8:15 or 2026-11-01 08:15:30")
    compound: OptText = Field(None, alias="小区名称")
    building: OptText = Field(None, alias="楼号")
    room: OptText = Field(None, alias="室号")
    phone: OptText = Field(None, alias="联系电话")
    repair_type: OptText = Field(None, alias="报修类别", description="电梯故障, 漏水, 下水道堵塞 …")
    content: Text = Field(alias="报修内容")
    property_company: OptText = Field(None, alias="物业公司")
    street: OptText = Field(None, alias="街道")
    district: OptText = Field(None, alias="区", description="blank: derived from 街道")


def decode(raw: bytes) -> PropertyRepair:
    """One raw record (header line + one data line, GBK) → the validated model; ``RecordError`` otherwise."""
    return validate(PropertyRepair, csv_row(raw, encoding=ENCODING, required=REQUIRED))


def to_report(repair: PropertyRepair, raw: bytes, received_at: datetime, ctx: MappingContext) -> Report:
    """A 962121 repair request as a Report (pure: same input, same Report)."""
    districts = ctx.districts
    district_code = districts.by_name(repair.district) or districts.by_street(repair.street)
    district = districts.names.get(district_code) if district_code else repair.district
    building = repair.building
    if building and building.isdigit():
        building = f"{building}号楼"
    address = "".join(part for part in (district, repair.street, repair.compound, building) if part)
    contact = ctx.contact(repair.phone)
    return Report.model_validate(
        dict(
            report_id=ids.report_id(ctx.channel, repair.order_no),
            channel=ctx.channel,
            source_record_id=repair.order_no,
            reported_at=ctx.utc(repair.reported),
            received_at=received_at,
            request_type=ctx.request_type(None),
            category=ctx.category(repair.repair_type, None, repair.repair_type),
            title=title(repair.repair_type, repair.content),
            description=mask_phones_in_text(repair.content),
            location=dict(
                address=mask_phones_in_text(address),
                parts=dict(
                    district=district,
                    street=repair.street,
                    compound=repair.compound,
                    building=repair.building,
                    room=repair.room,
                ),
                district_code=district_code,
                source_datum=ctx.position(None)[2],
            ),
            reporter=ctx.reporter(ctx.config.reporter_role, contact=contact),
            urgency=ctx.urgency(repair.repair_type),
            attributes=compact(propertyCompany=mask_phones_in_text(repair.property_company or "")),
            raw=raw,
        )
    )
