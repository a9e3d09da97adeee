"""Golden tests: each channel's example record maps to exactly this Report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors import Ingestor, examples
from schemas import ids
from schemas.models import (
    AddressParts,
    Category,
    Channel,
    Datum,
    DeadLetterSource,
    Location,
    Report,
    Reporter,
    ReporterRole,
    RequestType,
    Transport,
    Urgency,
)
from schemas.privacy import contact_hash

KEY = b"connectors-test-key"
RECEIVED = datetime(2026, 11, 1, 0, 16, tzinfo=UTC)
POSITION = DeadLetterSource(transport=Transport.KAFKA, topic="raw", partition=0, offset=0)

# GCJ-02 (121.5290, 31.2267) in WGS-84 (prcoords.gcj_wgs_bored agrees to 1e-7 degrees), rounded to ~1 cm.
WGS_LON, WGS_LAT = 121.5246559, 31.2287917

EXPECTED = {
    "12345": Report(
        report_id=ids.report_id(Channel.HOTLINE_12345, "SH12345-20261101-000123"),
        channel=Channel.HOTLINE_12345,
        source_record_id="SH12345-20261101-000123",
        reported_at=datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC),
        received_at=RECEIVED,
        request_type=RequestType.COMPLAINT,
        category=Category(code="0601", name="公共设施/路灯", native_code="QA0603", native_name="路灯不亮"),
        title="路灯不亮",
        description="张杨路500号附近路灯不亮，晚上一片黑。",
        location=Location(
            address="浦东新区张杨路500号",
            parts=AddressParts(district="浦东新区"),
            district_code="310115",
            lat=31.2286,
            lon=121.5245,
            source_datum=Datum.WGS84,
        ),
        reporter=Reporter(
            role=ReporterRole.CITIZEN,
            contact_hash=contact_hash(KEY, "13800135678"),
            contact_masked="138****5678",
        ),
        urgency=Urgency.NORMAL,
        attributes={
            "sourceType": "phone",
            "appealType": "投诉",
            "oldOrderNum": "SH12345-20261020-000077",
            "handleDays": "5",
        },
        raw=examples.HOTLINE_12345,
    ),
    "12319": Report(
        report_id=ids.report_id(Channel.URBAN_12319, "12319-310115-20261101-0042"),
        channel=Channel.URBAN_12319,
        source_record_id="12319-310115-20261101-0042",
        reported_at=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
        received_at=RECEIVED,
        request_type=RequestType.COMPLAINT,
        category=Category(code="0102", name="市容环境/暴露垃圾", native_code="0102", native_name="暴露垃圾"),
        title="暴露垃圾",
        description="张杨路500号门口垃圾堆放两天无人清运",
        location=Location(
            address="浦东新区张杨路500号",
            parts=AddressParts(district="浦东新区"),
            district_code="310115",
            admin_code="310115003002",
            grid_code="31011500300201",
            lat=WGS_LAT,
            lon=WGS_LON,
            source_datum=Datum.GCJ02,
        ),
        reporter=Reporter(
            role=ReporterRole.CITIZEN,
            contact_hash=contact_hash(KEY, "13900001111"),
            contact_masked="139****1111",
        ),
        urgency=Urgency.URGENT,
        attributes={
            "recType": "事件",
            "mainTypeCode": "01",
            "eventSource": "公众举报",
            "timeLimit": "4工作时",
        },
        raw=examples.URBAN_12319,
    ),
    "962121": Report(
        report_id=ids.report_id(Channel.PROPERTY_962121, "962121-20261101-0007"),
        channel=Channel.PROPERTY_962121,
        source_record_id="962121-20261101-0007",
        reported_at=datetime(2026, 11, 1, 0, 15, tzinfo=UTC),
        received_at=RECEIVED,
        request_type=RequestType.REPAIR,
        category=Category(code="0802", name="物业服务/房屋漏水", native_name="漏水"),
        title="漏水",
        description="楼上卫生间漏水到我家天花板",
        location=Location(
            address="浦东新区花木街道锦绣苑12号楼",
            parts=AddressParts(
                district="浦东新区", street="花木街道", compound="锦绣苑", building="12号楼", room="1502"
            ),
            district_code="310115",
            source_datum=Datum.NONE,
        ),
        reporter=Reporter(
            role=ReporterRole.CITIZEN,
            contact_hash=contact_hash(KEY, "13700002222"),
            contact_masked="137****2222",
        ),
        urgency=Urgency.NORMAL,
        attributes={"propertyCompany": "上海锦绣物业管理有限公司"},
        raw=examples.PROPERTY_962121,
    ),
    "grid": Report(
        report_id=ids.report_id(Channel.GRID_REPORT, "GE-20261101-0815-0001"),
        channel=Channel.GRID_REPORT,
        source_record_id="GE-20261101-0815-0001",
        reported_at=datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC),
        received_at=RECEIVED,
        request_type=RequestType.COMPLAINT,
        category=Category(code="0601", name="公共设施/路灯", native_code="G0601", native_name="路灯损坏"),
        title="路灯损坏",
        description="张杨路500号路灯不亮",
        location=Location(
            address="张杨路500号",
            parts=AddressParts(district="浦东新区"),
            district_code="310115",
            admin_code="310115003002",
            grid_code="31011500300201",
            lat=WGS_LAT,
            lon=WGS_LON,
            source_datum=Datum.GCJ02,
        ),
        reporter=Reporter(role=ReporterRole.GRID_WORKER, worker_id="W3101150031"),
        urgency=Urgency.NORMAL,
        media_urls=["https://grid.example/p/1.jpg"],
        attributes={"isPainSpot": "true"},
        raw=examples.GRID,
    ),
}


@pytest.mark.parametrize("channel", sorted(EXPECTED))
def test_example_maps_to_the_golden_report(ingestor: Ingestor, channel: str) -> None:
    """The channel's example record becomes exactly the expected Report."""
    assert ingestor.ingest(channel, examples.RAW[channel], POSITION, RECEIVED) == EXPECTED[channel]


@pytest.mark.parametrize("channel", sorted(EXPECTED))
def test_mapping_is_deterministic(ingestor: Ingestor, channel: str) -> None:
    """Mapping the same bytes twice gives equal Reports (ids from content, never from a clock)."""
    first = ingestor.ingest(channel, examples.RAW[channel], POSITION, RECEIVED)
    assert first == ingestor.ingest(channel, examples.RAW[channel], POSITION, RECEIVED)
