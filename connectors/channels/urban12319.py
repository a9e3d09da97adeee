"""12319 urban-construction hotline / 数字城管: one XML ``<case>`` per record, UTF-8."""

from __future__ import annotations

from pydantic import Field, model_validator

from connectors.channels.native import NativeRecord, check_lon_lat
from connectors.lenient import Code, OptCode, OptFloat, OptText, Text, Time


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
