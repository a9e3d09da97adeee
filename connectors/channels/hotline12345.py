"""12345 citizen hotline (政务服务便民热线): one JSON 工单 per record, UTF-8."""

from __future__ import annotations

from pydantic import Field

from connectors.channels.native import LonLat, NativeRecord
from connectors.lenient import Code, OptCode, OptFlag, OptInt, OptText, OptTime, Text, Time


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
