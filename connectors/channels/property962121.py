"""962121 property-service line (物业服务热线): GBK CSV, header line + one data line per record."""

from __future__ import annotations

from pydantic import Field

from connectors.channels.native import NativeRecord
from connectors.lenient import Code, OptText, Text, Time

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
