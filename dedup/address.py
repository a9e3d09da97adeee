"""Addresses parsed into the parts a duplicate check compares separately.

``张杨路500号`` is 86 % alike both to the typo ``张扬路500号`` and to the different house
``张杨路501号``; a character score cannot separate them. Parsed, the first is "same
house number, road spelled differently" and the second "same road, next house".

Shanghai addresses nest: district, sub-district (街道/镇), road, lane (弄), building
(号 within a lane, or 号楼/栋/幢), unit (单元), room (室). Inside a lane, 弄 is the house
number a dispatcher goes to and the 号 after it is the building. Which names mean
which district and which words end a road or compound name are city data
(``dedup/data/city_<name>.yaml``). Western street addresses ("8600 S SANGAMON ST",
used by the Chicago and NYC evaluation data) are parsed as number + street.

No third-party parser: cpca (MIT) pulls in pandas and a country-wide table to find
a district that the channel usually sends as a code anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dedup.exceptions import LexiconError
from dedup.lexicon import builtin_text

_HAN = "\u4e00-\u9fff"
# 号楼 is not cut when a position word follows: in 6号楼下的门 the 楼 belongs to 楼下 (downstairs),
# and cutting it leaves 下的门, which names nothing.
_UNIT_NUMBER = re.compile(r"\d+(?:号楼(?![上下前后里])|单元|号|弄|栋|幢|座|室|层|楼)")
_WESTERN = re.compile(r"^\s*(\d+[A-Z]?)(?:-\d+)?\s+(.+?)\s*$")
_SPACES = re.compile(r"\s+")
_ROAD_AFTER_DISTRICT = re.compile(r"[东南西北中]?(?:路|大道|街|公路)")
_BRACKETS = re.compile(r"[（(]([^）)]*)[）)]")


class ParsedAddress:
    """The parts of one address; any part may be None."""

    __slots__ = ("building", "compound", "district_code", "house_number", "house_value", "road", "room")

    def __init__(
        self,
        *,
        district_code: str | None = None,
        road: str | None = None,
        house_number: str | None = None,
        house_value: int | None = None,
        compound: str | None = None,
        building: str | None = None,
        room: str | None = None,
    ) -> None:
        self.district_code = district_code
        self.road = road
        self.house_number = house_number
        self.house_value = house_value
        self.compound = compound
        self.building = building
        self.room = room

    def as_dict(self) -> dict[str, Any]:
        """The parts by name (for tests and debugging)."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items() if v is not None)
        return f"ParsedAddress({parts})"


class CityHints:
    """A city's address vocabulary: district names → codes, road and compound suffixes."""

    __slots__ = (
        "_compound",
        "_district",
        "_road",
        "_road_suffix_chars",
        "_road_with_number",
        "_subdistrict",
        "_subdistrict_suffixes",
        "_unit_names",
        "city",
        "city_prefixes",
        "district_names",
    )

    def __init__(
        self,
        *,
        city: str,
        city_prefixes: list[str],
        districts: Mapping[str, list[str]],
        subdistrict_suffixes: list[str],
        road_suffixes: list[str],
        compound_suffixes: list[str],
    ) -> None:
        self.city = city
        self.city_prefixes = tuple(sorted(city_prefixes, key=len, reverse=True))
        self.district_names: dict[str, str] = {}
        for code, names in districts.items():
            if not re.fullmatch(r"\d{6}", str(code)):
                raise LexiconError(f"city {city}: district code {code!r} is not 6 digits")
            for name in names:
                self.district_names[name] = str(code)
        names = sorted(self.district_names, key=len, reverse=True)
        self._district = re.compile("|".join(map(re.escape, names))) if names else None
        self._subdistrict_suffixes = tuple(sorted(subdistrict_suffixes, key=len, reverse=True))
        sub = "|".join(map(re.escape, self._subdistrict_suffixes))
        self._subdistrict = re.compile(f"^[{_HAN}]{{1,6}}?(?:{sub})") if sub else None
        self._road_suffix_chars = frozenset(s[0] for s in road_suffixes)
        road = "|".join(map(re.escape, sorted(road_suffixes, key=len, reverse=True)))
        # 街坊 ends a compound (金杨新村四街坊), not a road.
        self._road = re.compile(f"([{_HAN}0-9]{{1,12}}?(?:{road}))(?!坊)(?:(\\d+)弄)?(?:(\\d+)号(?!楼))?")
        compound = "|".join(map(re.escape, sorted(compound_suffixes, key=len, reverse=True)))
        self._compound = re.compile(f"[{_HAN}]{{2,8}}?(?:{compound})")
        # In free text a road counts only with a number after it: 路灯 is not a road.
        self._road_with_number = re.compile(f"[{_HAN}]{{1,6}}(?:{road})\\d+(?:号|弄)")
        # City and district names in free text (上海市虹口广中路…, 浦东新区汤臣豪园…): cut
        # out before looking for a road or compound, which would otherwise start at
        # them; a district name a road suffix follows is a road (浦东南路) and stays.
        units = sorted({*self.city_prefixes, *self.district_names}, key=len, reverse=True)
        self._unit_names = (
            re.compile(f"(?:{'|'.join(map(re.escape, units))})(?![东南西北中]?(?:路|大道|街|公路))")
            if units
            else None
        )

    @classmethod
    def load(cls, city: str = "shanghai", path: Path | None = None) -> CityHints:
        """The shipped table for ``city``, or the file at ``path``."""
        source = str(path) if path else f"dedup/data/city_{city}.yaml"
        try:
            text = Path(path).read_text(encoding="utf-8") if path else builtin_text(f"city_{city}.yaml")
        except (OSError, FileNotFoundError) as exc:
            raise LexiconError(f"{source}: no such city hint table") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{source}: not valid YAML: {exc}") from exc
        try:
            return cls(
                city=str(data["city"]),
                city_prefixes=list(data.get("city_prefixes") or []),
                districts={str(k): list(v) for k, v in (data.get("districts") or {}).items()},
                subdistrict_suffixes=list(data.get("subdistrict_suffixes") or []),
                road_suffixes=list(data["road_suffixes"]),
                compound_suffixes=list(data.get("compound_suffixes") or []),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise LexiconError(f"{source}: missing or malformed key {exc}") from exc

    def parse(self, text: str, district_code: str | None = None) -> ParsedAddress:
        """Parse an NFKC-normalised address whose unit numerals are already digits."""
        if text.isascii():
            return _parse_western(text, district_code)
        compound = None
        for inner in _BRACKETS.findall(text):
            found = self._compound.search(inner)
            if found:
                compound = found.group(0)
        text = _SPACES.sub("", _BRACKETS.sub("", text))
        for prefix in self.city_prefixes:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
        if self._district is not None:
            found = self._district.match(text)
            # 浦东南路 and 长宁路 are roads, not the districts 浦东 and 长宁 plus a road.
            if found and not _ROAD_AFTER_DISTRICT.match(text, found.end()):
                district_code = district_code or self.district_names[found.group(0)]
                text = text[found.end() :]
        while self._subdistrict is not None:
            found = self._subdistrict.match(text)
            if not found:
                break
            end = found.end()
            # 嘉定镇街道 is one unit (the 街道 of the town 嘉定镇): the lazy match stops at 镇,
            # and the 街 after it must not be read as a road suffix.
            for suffix in self._subdistrict_suffixes:
                if text.startswith(suffix, end):
                    end += len(suffix)
                    break
            # 新镇路 is a road, not the town 新镇: keep a match that a road suffix follows.
            if text[end : end + 1] in self._road_suffix_chars:
                break
            text = text[end:]
        road = house = None
        house_value = None
        building = None
        rest = text
        found = self._road.search(text)
        if found:
            road = found.group(1)
            lane, number = found.group(2), found.group(3)
            if lane:
                house, house_value = f"{lane}弄", int(lane)
                building = number
            elif number:
                house, house_value = number, int(number)
            rest = text[found.end() :]
        if compound is None:
            found = self._compound.search(rest if road else text)
            if found:
                compound = found.group(0)
        building_match = re.search(r"(\d+)(?:号楼|栋|幢|座)", rest)
        if building_match:
            building = building_match.group(1)
        elif building is None and road is None:
            number_only = re.search(r"(\d+)号", rest)
            building = number_only.group(1) if number_only else None
        unit = re.search(r"(\d+)单元", rest)
        room_match = re.search(r"(\d+)室", rest)
        room = room_match.group(1) if room_match else None
        if room and unit:
            room = f"{unit.group(1)}-{room}"
        return ParsedAddress(
            district_code=district_code,
            road=road,
            house_number=house,
            house_value=house_value,
            compound=compound,
            building=building,
            room=room,
        )

    def find_in_text(self, text: str, district_code: str | None = None) -> ParsedAddress:
        """An address mentioned somewhere in free text (when the address field is empty)."""
        district = district_code
        if self._unit_names is not None:
            for unit in self._unit_names.finditer(text):
                if district is None:
                    district = self.district_names.get(unit.group(0))
            text = self._unit_names.sub("，", text)
        found = self._road_with_number.search(text)
        if found:
            return self.parse(text[found.start() :], district)
        compound = self._compound.search(text)
        if compound is None:
            return ParsedAddress(district_code=district)
        name = compound.group(0)
        for prefix in self.city_prefixes:
            if name.startswith(prefix) and len(name) - len(prefix) >= 2:
                name = name[len(prefix) :]
                break
        if self._district is not None:
            prefix = self._district.match(name)
            if prefix and len(name) - prefix.end() >= 2:
                district = district or self.district_names[prefix.group(0)]
                name = name[prefix.end() :]
        building = re.match(r"(\d+)(?:号楼|号|栋|幢|座)", text[compound.end() :])
        return ParsedAddress(
            district_code=district, compound=name, building=building.group(1) if building else None
        )

    def strip_pattern_generic(self) -> re.Pattern[str]:
        """Address-like spans of any description: city and district names, "road + number", unit numbers.

        The report's own road and compound are removed separately (they are known
        only per report, and compiling a pattern per report would cost more than
        the rest of normalisation).
        """
        names = [*self.city_prefixes, *self.district_names]
        alternatives = [re.escape(n) for n in sorted(set(names), key=len, reverse=True)]
        alternatives.append(self._road_with_number.pattern)
        alternatives.append(_UNIT_NUMBER.pattern)
        return re.compile("|".join(alternatives))


def _parse_western(text: str, district_code: str | None) -> ParsedAddress:
    text = _SPACES.sub(" ", text.upper()).strip()
    found = _WESTERN.match(text)
    if not found:
        return ParsedAddress(district_code=district_code, road=text or None)
    number = found.group(1)
    digits = re.match(r"\d+", number)
    return ParsedAddress(
        district_code=district_code,
        road=found.group(2),
        house_number=number,
        house_value=int(digits.group(0)) if digits else None,
    )
