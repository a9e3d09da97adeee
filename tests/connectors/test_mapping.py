"""Mapping rules per channel: categories, districts, privacy, coordinates, urgency, flags."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import prcoords
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from connectors import Ingestor, examples
from connectors.datum import bd09_to_wgs84, gcj02_to_wgs84
from gateway.settings import Settings
from schemas.models import (
    Datum,
    DeadLetter,
    DeadLetterSource,
    ErrorKind,
    Report,
    ReporterRole,
    RequestType,
    Transport,
    Urgency,
)
from schemas.privacy import contact_hash, mask_phone

RECEIVED = datetime(2026, 11, 1, tzinfo=UTC)
TEST_KEY = b"connectors-test-key"  # conftest.TEST_KEY
POSITION = DeadLetterSource(transport=Transport.FILE, file="x", line=1)


def _json(channel: str, **changes: object) -> bytes:
    record = json.loads(examples.RAW[channel])
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record, ensure_ascii=False).encode()


def _xml(**changes: str) -> bytes:
    text = examples.URBAN_12319.decode()
    for element, value in changes.items():
        start = text.index(f"<{element}>") + len(element) + 2
        text = text[:start] + value + text[text.index(f"</{element}>") :]
    return text.encode()


def _csv(**changes: str) -> bytes:
    header, row = examples.PROPERTY_962121.decode("gbk").rstrip("\r\n").split("\r\n")
    values = dict(zip(header.split(","), row.split(","), strict=True))
    values.update(changes)
    return f"{header}\r\n{','.join(values.values())}\r\n".encode("gbk")


def _report(ingestor: Ingestor, channel: str, raw: bytes) -> Report:
    result = ingestor.ingest(channel, raw, POSITION, RECEIVED)
    assert isinstance(result, Report), result
    return result


def test_unknown_category_code_maps_to_9900_and_keeps_the_native_code(ingestor: Ingestor) -> None:
    """A code no table knows is 待分类, not dropped; the native code and name stay for the operator."""
    report = _report(ingestor, "12345", _json("12345", questionCode="QZ9999", questionName="新问题"))
    assert (report.category.code, report.category.name) == ("9900", "待分类")
    assert (report.category.native_code, report.category.native_name) == ("QZ9999", "新问题")


def test_missing_category_maps_to_9900(ingestor: Ingestor) -> None:
    """No category at all is 待分类 too."""
    report = _report(ingestor, "grid", _json("grid", eventTypeCode=None, eventTypeName=None))
    assert report.category.code == "9900"
    assert report.title == "张杨路500号路灯不亮"


def test_full_width_category_code_is_folded(ingestor: Ingestor) -> None:
    """ＱＡ０６０３ typed full-width is QA0603."""
    assert _report(ingestor, "12345", _json("12345", questionCode="ＱＡ０６０３")).category.code == "0601"


@pytest.mark.parametrize(
    ("district", "address", "expected"),
    [
        ("浦东", "张杨路500号", "310115"),
        ("上海市黄浦区", "", "310101"),
        ("", "上海市徐汇区漕溪北路1200号", "310104"),
        ("", "闵行古美路412号门口", "310112"),
        ("火星区", "某路1号", None),
    ],
)
def test_12345_district_from_name_or_address(
    ingestor: Ingestor, district: str, address: str, expected: str | None
) -> None:
    """Full or short names, the city prefix, or a district the address names (short names at its start)."""
    report = _report(ingestor, "12345", _json("12345", district=district, address=address))
    assert report.location.district_code == expected


def test_962121_district_from_the_street_table_when_blank(ingestor: Ingestor) -> None:
    """区 blank: 街道 finds the district, with or without its 街道 suffix."""
    assert _report(ingestor, "962121", _csv(街道="花木")).location.district_code == "310115"
    assert _report(ingestor, "962121", _csv(街道="徐家汇街道")).location.district_code == "310104"
    assert _report(ingestor, "962121", _csv(街道="无名街道", 区="")).location.district_code is None


def test_grid_code_prefix_must_be_a_known_district(ingestor: Ingestor) -> None:
    """A grid code of another city gives no district (key 000000), but keeps grid and admin codes."""
    report = _report(ingestor, "grid", _json("grid", gridCode="32010200100101"))
    assert report.location.district_code is None
    assert report.location.grid_code == "32010200100101"
    assert report.location.admin_code == "320102001001"


def test_secret_caller_has_a_hash_but_no_masked_contact(ingestor: Ingestor) -> None:
    """isSecret hides the masked number from display; the keyed hash still links repeat callers."""
    report = _report(ingestor, "12345", _json("12345", isSecret=True))
    assert report.reporter.confidential is True
    assert report.reporter.contact_masked is None
    assert report.reporter.contact_hash is not None


def test_same_caller_same_hash_across_channels_and_formats(ingestor: Ingestor) -> None:
    """+86, spaces and full-width digits do not change the caller's hash, whatever the channel."""
    a = _report(ingestor, "12345", _json("12345", callerPhone="１３９ ００００ １１１１"))
    b = _report(ingestor, "12319", examples.URBAN_12319)
    assert a.reporter.contact_hash == b.reporter.contact_hash


def test_phone_numbers_in_free_text_are_masked(ingestor: Ingestor) -> None:
    """A number typed into the description or address is masked like the contact."""
    raw = _json(
        "12345", content="请回电13812345678或021-58881234", address="张杨路500号（１３８１２３４５６７８）"
    )
    report = _report(ingestor, "12345", raw)
    assert "13812345678" not in report.description
    assert "58881234" not in report.description
    assert "138****5678" in report.description
    assert "１３８１２３４５６７８" not in report.location.address


#: Pieces phone numbers and their near misses are made of, in ASCII and full width.
_PHONE_PIECES = st.sampled_from(
    [
        "1",
        "13",
        "138",
        "0",
        "021",
        "86",
        "+",
        "１３８",
        "０２１",
        "1234",
        "5678",
        "１２３４",
        "56781",
        "-",
        " ",
        "\u3000",
        "号",
        "请回电",
    ]
)


@given(st.lists(_PHONE_PIECES, max_size=12).map("".join))
@example("请回电138 1234 5678")
@example("+86 １３８-１２３４-5678号")
@example("021 58881234")
def test_the_masking_prefilter_never_lets_a_number_through(text: str) -> None:
    """The seven-digit pre-check only skips texts the full pattern would not change."""
    from connectors.mapping import _PHONE_IN_TEXT, mask_phones_in_text

    unfiltered = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()) or "****", text)
    assert mask_phones_in_text(text) == unfiltered


def test_gcj02_coordinates_become_wgs84(ingestor: Ingestor) -> None:
    """12319 x/y in GCJ-02 move ~500 m to WGS-84; the source datum is recorded."""
    report = _report(ingestor, "12319", examples.URBAN_12319)
    assert report.location.source_datum is Datum.GCJ02
    assert report.location.lon == pytest.approx(121.5246559, abs=2e-7)
    assert report.location.lat == pytest.approx(31.2287917, abs=1e-7)


@pytest.mark.parametrize(("x", "y"), [("0", "0"), ("121.5", ""), ("", "")])
def test_no_or_half_or_zero_position_means_none(ingestor: Ingestor, x: str, y: str) -> None:
    """0,0 and a missing half are "no position", not a point in the Gulf of Guinea."""
    report = _report(ingestor, "12319", _xml(x=x, y=y))
    assert (report.location.lat, report.location.lon, report.location.source_datum) == (
        None,
        None,
        Datum.NONE,
    )


def test_out_of_range_coordinates_are_rejected(ingestor: Ingestor) -> None:
    """A latitude of 310 is a dead letter naming the problem, not a silently wrong point."""
    letter = ingestor.ingest("grid", _json("grid", gpsy=310.5), POSITION, RECEIVED)
    assert isinstance(letter, DeadLetter)
    assert letter.error_kind is ErrorKind.VALIDATION_ERROR
    assert "latitude" in letter.errors[0].message


@pytest.mark.parametrize(
    ("channel", "raw", "expected"),
    [
        ("12345", _json("12345", urgency="特急"), Urgency.EMERGENCY),
        ("12345", _json("12345", urgency=None), Urgency.NORMAL),
        ("grid", _json("grid", level=3), Urgency.EMERGENCY),
        ("grid", _json("grid", level="２"), Urgency.URGENT),
        ("12319", _xml(timeLimit="7工作日"), Urgency.NORMAL),
        ("962121", _csv(报修类别="电梯故障"), Urgency.URGENT),
    ],
)
def test_urgency_tables(ingestor: Ingestor, channel: str, raw: bytes, expected: Urgency) -> None:
    """Urgency comes from each channel's own field through its configured table."""
    assert _report(ingestor, channel, raw).urgency is expected


def test_request_types_and_roles(ingestor: Ingestor) -> None:
    """appealType maps (unknown → UNKNOWN); an inspector's case carries the inspector id."""
    assert _report(ingestor, "12345", _json("12345", appealType="求助")).request_type is RequestType.HELP
    assert _report(ingestor, "12345", _json("12345", appealType="催办")).request_type is RequestType.UNKNOWN
    raw = _xml(eventSource="监督员").replace(b"</case>", b"<inspectorId>JD-0815</inspectorId></case>")
    report = _report(ingestor, "12319", raw)
    assert report.reporter.role is ReporterRole.INSPECTOR
    assert report.reporter.worker_id == "JD-0815"
    assert _report(ingestor, "962121", examples.PROPERTY_962121).request_type is RequestType.REPAIR


def test_grid_filing_only_and_photos(ingestor: Ingestor) -> None:
    """事件报备 sets filing_only; a single photo URL string is a one-element list."""
    report = _report(
        ingestor, "grid", _json("grid", filingOnly="1", photoUrls="https://grid.example/p/9.jpg")
    )
    assert report.filing_only is True
    assert report.media_urls == ["https://grid.example/p/9.jpg"]


def test_time_zone_and_offsets(ingestor: Ingestor) -> None:
    """A naive time is Asia/Shanghai; an explicit offset wins."""
    assert _report(
        ingestor, "12345", _json("12345", callTime="2026-11-01T08:15:30+09:00")
    ).reported_at == datetime(2026, 10, 31, 23, 15, 30, tzinfo=UTC)
    deadline = _report(ingestor, "12345", _json("12345", deadlineDate="2026/11/6 17:00")).deadline
    assert deadline == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)


def test_962121_columns_found_by_header_in_any_order(ingestor: Ingestor) -> None:
    """Columns are read by header text; an extra column is ignored."""
    header, row = examples.PROPERTY_962121.decode("gbk").rstrip("\r\n").split("\r\n")
    cells = [*list(zip(header.split(","), row.split(","), strict=True))[::-1], ("备注", "无")]
    raw = ",".join(c[0] for c in cells) + "\r\n" + ",".join(c[1] for c in cells) + "\r\n"
    assert _report(ingestor, "962121", raw.encode("gbk")).source_record_id == "962121-20261101-0007"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (examples.PROPERTY_962121.split(b"\r\n")[0] + b"\r\n", ErrorKind.PARSE_ERROR),
        (examples.PROPERTY_962121.replace(b",1502,", b",1502,extra,"), ErrorKind.PARSE_ERROR),
        (examples.PROPERTY_962121.decode("gbk").encode("utf-8"), ErrorKind.DECODE_ERROR),
        (
            examples.PROPERTY_962121 + examples.PROPERTY_962121.split(b"\r\n")[1] + b"\r\n",
            ErrorKind.PARSE_ERROR,
        ),
        (b"\x81", ErrorKind.DECODE_ERROR),
    ],
)
def test_962121_malformed_rows(ingestor: Ingestor, raw: bytes, kind: ErrorKind) -> None:
    """Header only, a wrong cell count, UTF-8 instead of GBK, two rows, broken GBK: dead letters."""
    letter = ingestor.ingest("962121", raw, POSITION, RECEIVED)
    assert isinstance(letter, DeadLetter)
    assert letter.error_kind is kind


def test_tables_are_data(tmp_path: Path, settings: Settings) -> None:
    """Editing a channel's YAML (category, datum) changes the mapping without code changes."""
    data = tmp_path / "data"
    shutil.copytree(Path(settings.connectors.data_dir), data)
    path = data / "channels" / "12345.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    table["categories"]["QA0603"] = "0605"
    table["datum"] = "BD09"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    custom = Ingestor(
        settings.model_copy(update={"connectors": settings.connectors.model_copy(update={"data_dir": data})})
    )
    report = _report(custom, "12345", examples.HOTLINE_12345)
    assert report.category.code == "0605"
    assert report.location.source_datum is Datum.BD09
    assert report.location.lon != pytest.approx(121.5245, abs=1e-3)


@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.0))
def test_gcj02_conversion_agrees_with_prcoords_bored(lon: float, lat: float) -> None:
    """The restated two-step GCJ-02 inverse is within ~1 cm of prcoords.gcj_wgs_bored anywhere in China."""
    expected = prcoords.gcj_wgs_bored((lat, lon))
    got_lon, got_lat = gcj02_to_wgs84(lon, lat)
    assert abs(got_lon - expected.lon) < 2e-7
    assert abs(got_lat - expected.lat) < 2e-7


@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.0))
def test_bd09_conversion_agrees_with_prcoords_bored(lon: float, lat: float) -> None:
    """BD-09 → WGS-84 is within ~2 cm of prcoords.bd_wgs_bored."""
    expected = prcoords.bd_wgs_bored((lat, lon))
    got_lon, got_lat = bd09_to_wgs84(lon, lat)
    assert abs(got_lon - expected.lon) < 2e-7
    assert abs(got_lat - expected.lat) < 2e-7


def test_outside_china_gcj02_is_wgs84() -> None:
    """The GCJ offset only applies inside China; elsewhere the point is returned unchanged, silently."""
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


@given(st.text(alphabet="0123456789０１２３+ -８６", min_size=1, max_size=20))
def test_contact_hash_is_the_schemas_one(ingestor: Ingestor, phone: str) -> None:
    """The mapping's prepared HMAC gives exactly schemas.privacy.contact_hash for any number."""
    hashed, masked = ingestor.context("12345").contact(phone)
    assert hashed == contact_hash(TEST_KEY, phone)
    assert masked == mask_phone(phone)
