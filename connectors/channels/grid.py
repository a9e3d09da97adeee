"""Grid-worker app (网格员上报): one JSON event per record, UTF-8."""

from __future__ import annotations

from pydantic import Field, model_validator

from connectors.channels.native import NativeRecord, UrlList, check_lon_lat
from connectors.lenient import Code, OptCode, OptFlag, OptFloat, OptInt, OptText, Text, Time


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
