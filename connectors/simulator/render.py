"""Planned reports → native records, byte for byte as each channel's system writes them.

The formats are the ones fixed in ``docs/channels.md`` (JSON 工单 for 12345, an XML
``<case>`` for 12319, a GBK CSV header + row for 962121, a JSON event for the grid
app). Each renderer varies what real records vary — time formats, address spellings,
phone formats, which optional fields are present, coordinates in the channel's datum —
and, for a planned malformed record, breaks it the way real exports break.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import prcoords

from connectors.simulator.problems import Phrasebook, chinese_number, full_width, typo
from connectors.simulator.scenario import PlannedReport, Proportions
from connectors.simulator.weighted import Weighted
from connectors.simulator.world import Place, shift

#: The 962121 export header (``connectors.channels.property962121.HEADER``), as GBK bytes with CRLF.
PROPERTY_HEADER = "工单编号,报修时间,小区名称,楼号,室号,联系电话,报修类别,报修内容,物业公司,街道,区"
PROPERTY_HEADER_LINE = (PROPERTY_HEADER + "\r\n").encode("gbk")
#: 12345 questionCode an operator uses when nothing else fits; maps to 9900 待分类.
HOTLINE_OTHER = ("QA9999", "其他")
_REQUIRED = {
    "12345": ("orderNum", "callTime", "content"),
    "12319": ("caseCode", "represent", "reportTime"),
    "962121": ("工单编号", "报修内容"),
    "grid": ("eventId", "gridCode", "reportPerson", "description"),
}
_TIME_FIELD = {"12345": "callTime", "12319": "reportTime", "962121": "报修时间", "grid": "happenTime"}


def _dash(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _slash_minutes(at: datetime) -> str:
    return f"{at.year}/{at.month:02d}/{at.day:02d} {at.hour:02d}:{at.minute:02d}"


def _slash_short(at: datetime) -> str:
    return f"{at.year}/{at.month}/{at.day} {at.hour}:{at.minute:02d}"


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _epoch_ms(at: datetime) -> int:
    return int(at.timestamp()) * 1000


def _epoch_digits(at: datetime) -> str:
    return str(_epoch_ms(at))


# How often each channel writes its times in each format (channels.md lists the formats).
_HOTLINE_TIMES = Weighted([_dash, _slash_minutes, _iso, _epoch_ms, _epoch_digits], [55, 15, 15, 10, 5])
_URBAN_TIMES = Weighted([_dash, _iso], [80, 20])
_PROPERTY_TIMES = Weighted([_slash_short, _dash], [60, 40])
_GRID_TIMES = Weighted([_epoch_ms, _dash], [60, 40])
# 12345 intake: phone calls dominate; only app and WeChat orders carry the caller's position.
_SOURCE = Weighted(["phone", "web", "app", "wechat"], [60, 10, 15, 15])
_LOCATED_SOURCES = ("app", "wechat")
_LOCATED_SHARE = 0.30
_APPEAL = Weighted(["投诉", "求助", "举报", "建议", "咨询"], [60, 25, 8, 5, 2])
_PHOTOS = Weighted([0, 1, 2, 3], [10, 50, 30, 10])
_BUILDING = Weighted(["{}号楼", "{}号", "{}幢", "{}"], [50, 25, 10, 15])
# Compound address forms (name / building / road+lane+number / road+lane+name): citizens vary more.
_CITIZEN_FORM = Weighted([0, 1, 2, 3], [25, 40, 20, 15])
_TERSE_FORM = Weighted([0, 1, 2, 3], [10, 60, 20, 10])


class Renderer:
    """Writes planned reports in their channel's native format; one instance per simulation."""

    def __init__(
        self,
        rng: random.Random,
        phrases: Phrasebook,
        props: Proportions,
        city_name: str,
        resolvable_streets: set[str],
    ) -> None:
        self.rng = rng
        self.city_name = city_name
        self.phrases = phrases
        self.props = props
        # Streets the connectors can place in a district; only then may 962121 leave 区 blank.
        self.resolvable_streets = resolvable_streets
        self._channels: dict[str, Callable[[PlannedReport], bytes]] = {
            "12345": self._hotline,
            "12319": self._urban,
            "962121": self._property,
            "grid": self._grid,
        }

    def render(self, report: PlannedReport) -> bytes:
        """The raw bytes of one record; lowers ``report.at`` to the minute when the format has no seconds."""
        return self._channels[report.channel](report)

    # -- 12345 ----------------------------------------------------------------------------------

    def _hotline(self, r: PlannedReport) -> bytes:
        rng, problem, place = self.rng, r.problem, r.place
        code = problem.native.hotline
        assert code is not None  # the planner only sends a problem through channels it has codes for
        source = _SOURCE.pick(rng)
        record: dict[str, Any] = {"orderNum": r.source_record_id}
        record["callTime"] = self._time(r, _HOTLINE_TIMES)
        caller = r.caller
        if caller is not None and caller.name and source == "phone":
            record["callerName"] = caller.name
        if caller is not None and (source != "web" or rng.random() < 0.6):
            record["callerPhone"] = self._phone(caller.phone)
        record["sourceType"] = source
        record["appealType"] = _APPEAL.pick(rng)
        record["questionCode"], record["questionName"] = (
            HOTLINE_OTHER if r.category_noise else (code.code, code.name)
        )
        with_address_field = rng.random() < 0.7
        where = self._address(place, "citizen") if not with_address_field or rng.random() < 0.8 else ""
        detail = f"，{rng.choice(problem.details)}" if rng.random() < 0.5 else ""
        opener, closer = rng.choice(self.phrases.hotline_openers), rng.choice(self.phrases.hotline_closers)
        record["content"] = f"{opener}{where}{rng.choice(problem.says)}{detail}。{closer}"
        if with_address_field:
            record["address"] = self._address(place, "citizen")
        if rng.random() < 0.8 or r.opens_closed_ticket:
            district = place.district
            record["district"] = district.name if rng.random() < 0.6 else district.short
        secret = caller is not None and caller.secret
        record["isSecret"] = rng.choice((("1" if secret else "0"), secret))
        if rng.random() < 0.7:
            days = 1 if r.urgent else 5
            record["handleDays"] = days
            if rng.random() < 0.4:
                record["deadlineDate"] = _dash(r.at + timedelta(days=days))
        record["urgency"] = ("特急" if problem.urgent >= 0.8 else "紧急") if r.urgent else "一般"
        if r.old_order is not None:
            record["oldOrderNum"] = r.old_order.source_record_id
        if source in _LOCATED_SOURCES and rng.random() < self.props.coordinates["12345"] / _LOCATED_SHARE:
            lon, lat = self._reported_position(place, elsewhere=0.15)
            record["addressPoints"] = f"{lon:.6f},{lat:.6f}"
        if r.malformed:
            return self._broken_json(r, record)
        return _json(record)

    # -- 12319 ----------------------------------------------------------------------------------

    def _urban(self, r: PlannedReport) -> bytes:
        rng, problem, place = self.rng, r.problem, r.place
        code = problem.native.urban
        assert code is not None
        citizen = r.event_source == "公众举报"
        record: dict[str, Any] = {
            "caseCode": r.source_record_id,
            "recType": code.rec,
            "mainTypeCode": code.main[0],
            "mainTypeName": code.main[1],
            "subTypeCode": code.sub[0],
            "subTypeName": code.sub[1],
        }
        if citizen:
            represent = f"{self._address(place, 'citizen')}{rng.choice(problem.says)}"
        else:
            prefix = rng.choice(self.phrases.inspector_prefixes)
            represent = f"{prefix}{self._address(place, 'grid')}{rng.choice(problem.official)}"
        if rng.random() < 0.3:
            represent += f"，{rng.choice(problem.details)}"
        record["represent"] = represent
        record["location"] = self._address(place, "official")
        record["gridCode"] = place.grid_code
        if rng.random() < self.props.coordinates["12319"]:
            lon, lat = self._gcj(place)
            record["x"], record["y"] = f"{lon:.6f}", f"{lat:.6f}"
        record["eventSource"] = r.event_source
        if citizen and r.caller is not None:
            record["reporterPhone"] = self._phone(r.caller.phone)
        if r.worker:
            record["inspectorId"] = r.worker
        record["reportTime"] = self._time(r, _URBAN_TIMES)
        record["timeLimit"] = code.limit
        if code.component and r.event_source == "监督员":
            # The same physical object always has the same id: a strong signal for repeats.
            record["componentId"] = f"{code.component}{place.grid_code}{place.number % 10_000:04d}"
        if r.malformed:
            return self._broken_xml(r, record)
        return _xml(record)

    # -- 962121 ---------------------------------------------------------------------------------

    def _property(self, r: PlannedReport) -> bytes:
        rng, problem, place = self.rng, r.problem, r.place
        code, compound, building = problem.native.property, place.compound, place.building
        assert code is not None  # 962121 problems are compound problems with a 962121 code
        assert compound is not None
        assert building is not None
        reported = self._time(r, _PROPERTY_TIMES)
        name = compound.name
        if rng.random() < 0.1 and not name.endswith("小区"):
            name += "小区"
        building_text = _BUILDING.pick(rng).format(building)
        room = r.caller.room if r.caller is not None else place.room
        room_text = ""
        if room and (problem.room or rng.random() < 0.8):
            room_text = room if rng.random() < 0.6 else f"{room}室"
        phone = self._phone(r.caller.phone) if r.caller is not None else ""
        content = rng.choice(problem.says)
        if rng.random() < 0.3:
            content = f"{building}号楼{content}"
        if rng.random() < 0.4:
            content += f"，{rng.choice(problem.details)}"
        closer = rng.choice(self.phrases.property_closers)
        if closer:
            content += f"，{closer}"
        district, street = place.district, place.road.street_name
        roll = rng.random()
        district_text = district.name if roll < 0.75 else district.short if roll < 0.85 else ""
        if not district_text and street not in self.resolvable_streets:
            district_text = district.name
        company = compound.company if rng.random() < 0.9 else ""
        row = [
            r.source_record_id, reported, name, building_text, room_text, phone,
            code.type, content, company, street, district_text,
        ]  # fmt: skip
        if r.malformed:
            return self._broken_csv(r, row, content)
        return PROPERTY_HEADER_LINE + _csv_line(row).encode("gbk")

    # -- grid -----------------------------------------------------------------------------------

    def _grid(self, r: PlannedReport) -> bytes:
        rng, problem, place = self.rng, r.problem, r.place
        code = problem.native.grid
        assert code is not None
        record: dict[str, Any] = {
            "eventId": r.source_record_id,
            "gridCode": place.grid_code,
            "reportPerson": r.worker,
            "eventTypeCode": code.code,
            "eventTypeName": code.name,
        }
        prefix = rng.choice(self.phrases.grid_prefixes)
        where = self._address(place, "grid") if rng.random() < 0.6 else ""
        detail = f"，{rng.choice(problem.details)}" if rng.random() < 0.3 else ""
        record["description"] = f"{prefix}{where}{rng.choice(problem.official)}{detail}"
        if rng.random() < 0.85:
            record["address"] = self._address(place, "grid")
        if rng.random() < self.props.coordinates["grid"]:
            lon, lat = self._gcj(place)
            record["gpsx"], record["gpsy"] = round(lon, 6), round(lat, 6)
        record["happenTime"] = self._time(r, _GRID_TIMES)
        record["level"] = (3 if problem.urgent >= 0.8 else 2) if r.urgent else 1
        photos = _PHOTOS.pick(rng)
        record["photoUrls"] = [
            f"https://grid.example/p/{r.source_record_id}-{k}.jpg" for k in range(1, photos + 1)
        ]
        record["filingOnly"] = r.filing_only
        record["isPainSpot"] = rng.random() < 0.1
        if r.malformed:
            return self._broken_json(r, record)
        return _json(record)

    # -- shared pieces --------------------------------------------------------------------------

    def _time(self, r: PlannedReport, formats: Weighted[Callable[[datetime], Any]]) -> Any:
        """The report time in one of the channel's formats; the truth follows what the record says."""
        render = formats.pick(self.rng)
        if render in (_slash_minutes, _slash_short):
            r.at = r.at.replace(second=0)
        return render(r.at)

    def _phone(self, phone: str) -> str:
        """The caller's number the way it was typed: spaces, +86, dashes or full-width digits."""
        rng = self.rng
        if phone.startswith("021"):
            return rng.choice((f"021-{phone[3:]}", phone))
        roll = rng.random()
        if roll < 0.65:
            return phone
        if roll < 0.75:
            return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        if roll < 0.85:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        if roll < 0.9:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if roll < 0.95:
            return full_width(phone)
        return f"86{phone}"

    def _address(self, place: Place, style: str) -> str:
        """One spelling of the place: 'citizen' (free and varied), 'official' (12319), 'grid' (terse)."""
        rng, props = self.rng, self.props
        citizen = style == "citizen"
        district = place.district
        prefix = ""
        if style == "official":
            prefix = district.name
        elif citizen:
            roll = rng.random()
            prefix = district.name if roll < 0.35 else district.short if roll < 0.6 else ""
            if prefix and rng.random() < 0.1:
                prefix = f"{self.city_name}{prefix}"
        road = place.road.name
        if citizen and rng.random() < props.road_typo:
            road = typo(road, self.phrases.homophones, rng)
        compound = place.compound
        if compound is None:
            near = rng.choice(self.phrases.near_words) if style != "official" else ""
            return f"{prefix}{road}{self._number(place.number, citizen)}号{near}"
        building = place.building
        lane = self._number(place.number, citizen)
        room = f"{place.room}室" if place.room and rng.random() < 0.5 else ""
        forms = (
            f"{compound.name}",
            f"{compound.name}{building}号楼{room}",
            f"{road}{lane}弄{building}号{room}",
            f"{road}{lane}弄{compound.name}",
        )
        return prefix + forms[(_CITIZEN_FORM if citizen else _TERSE_FORM).pick(rng)]

    def _number(self, number: int, citizen: bool) -> str:
        if citizen:
            roll = self.rng.random()
            if roll < self.props.chinese_numerals:
                return chinese_number(number)
            if roll < self.props.chinese_numerals + self.props.full_width_digits:
                return full_width(str(number))
        return str(number)

    def _reported_position(self, place: Place, elsewhere: float = 0.0) -> tuple[float, float]:
        """A WGS-84 fix of the place with GPS noise; sometimes taken some way off (the caller's home)."""
        rng, noise = self.rng, self.props.gps_noise_metres
        east, north = rng.gauss(0, noise), rng.gauss(0, noise)
        if rng.random() < elsewhere:
            distance, angle = rng.uniform(30, 120), rng.uniform(0, 2 * math.pi)
            east, north = east + distance * math.cos(angle), north + distance * math.sin(angle)
        return shift(place.lon, place.lat, east, north)

    def _gcj(self, place: Place) -> tuple[float, float]:
        """A noisy fix of the place in GCJ-02, as a Chinese map SDK reports it."""
        lon, lat = self._reported_position(place)
        gcj = prcoords.wgs_gcj((lat, lon))
        return gcj.lon, gcj.lat

    # -- breaking records -----------------------------------------------------------------------

    def _bad_time(self, at: datetime) -> str:
        """A time that cannot exist: the 31st of a 30-day month, month 13, or hour 25."""
        rng = self.rng
        choice = rng.randrange(3)
        if choice == 0:
            day = 31 if at.month in (4, 6, 9, 11) else 32
            return f"{at.year}-{at.month:02d}-{day} {at.hour:02d}:{at.minute:02d}:{at.second:02d}"
        if choice == 1:
            return f"{at.year}-13-{at.day:02d} {at.hour:02d}:{at.minute:02d}:{at.second:02d}"
        return f"{at.year}-{at.month:02d}-{at.day:02d} 25:{at.minute:02d}:{at.second:02d}"

    def _drop_required(self, channel: str, record: dict[str, Any]) -> None:
        name = self.rng.choice(_REQUIRED[channel])
        if self.rng.random() < 0.7:
            record.pop(name, None)
        else:
            record[name] = ""

    def _broken_json(self, r: PlannedReport, record: dict[str, Any]) -> bytes:
        rng, kind = self.rng, r.malformed
        if kind == "broken_json":
            return _cut(_json(record).decode("utf-8"), rng, 2)
        if kind == "missing_field":
            self._drop_required(r.channel, record)
        elif kind == "impossible_date":
            field = _TIME_FIELD[r.channel]
            if r.channel == "grid" and rng.random() < 0.3:
                record[field] = _epoch_ms(r.at) * 1000  # milliseconds sent as microseconds
            else:
                record[field] = self._bad_time(r.at)
        elif kind == "coordinates_out_of_range":
            lon, lat = self._gcj(r.place) if r.channel == "grid" else self._reported_position(r.place)
            swapped = rng.random() < 0.5
            if r.channel == "12345":
                # Latitude and longitude swapped, or the decimal point lost on the way.
                record["addressPoints"] = (
                    f"{lat:.6f},{lon:.6f}" if swapped else f"{round(lon * 1e6)},{round(lat * 1e6)}"
                )
            else:
                record["gpsx"], record["gpsy"] = (
                    (round(lat, 6), round(lon, 6)) if swapped else (round(lon * 10, 5), round(lat, 6))
                )
        return _json(record)

    def _broken_xml(self, r: PlannedReport, record: dict[str, Any]) -> bytes:
        rng, kind = self.rng, r.malformed
        if kind == "truncated_xml":
            return _cut(_xml(record).decode("utf-8"), rng, 3)
        if kind == "missing_field":
            self._drop_required("12319", record)
        elif kind == "impossible_date":
            record["reportTime"] = self._bad_time(r.at)
        elif kind == "coordinates_out_of_range":
            lon, lat = self._gcj(r.place)
            record["x"], record["y"] = (
                (f"{lat:.6f}", f"{lon:.6f}") if rng.random() < 0.5 else (f"{lon * 10:.5f}", f"{lat:.6f}")
            )
        return _xml(record)

    def _broken_csv(self, r: PlannedReport, row: list[str], content: str) -> bytes:
        rng, kind = self.rng, r.malformed
        if kind == "undecodable_gbk":
            # 0xFF is never a GBK byte: the export mangled the text (a bad copy, a wrong code page).
            line = _csv_line(row)
            cut = line.index(content) + rng.randint(1, max(1, len(content) - 1))
            return PROPERTY_HEADER_LINE + line[:cut].encode("gbk") + b"\xff" + line[cut:].encode("gbk")
        if kind == "wrong_column_count":
            row = row[: rng.randint(4, 7)]  # the row was cut off before 报修内容
        elif kind == "impossible_date":
            row[1] = self._bad_time(r.at)
        else:
            row[0 if rng.random() < 0.5 else 7] = ""
        return PROPERTY_HEADER_LINE + _csv_line(row).encode("gbk")


def _cut(text: str, rng: random.Random, keep_off: int) -> bytes:
    """The record cut off somewhere after its first third (a transfer that stopped mid-way).

    The cut never ends in white space, which a reader would strip: the bytes a
    connector sees in a file are then exactly the raw record.
    """
    end = rng.randint(len(text) // 3, len(text) - keep_off)
    return text[:end].rstrip().encode("utf-8")


def _json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml(record: dict[str, Any]) -> bytes:
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in record.items() if v is not None)
    return f"<case>{body}</case>".encode()


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(row)
    return out.getvalue()
