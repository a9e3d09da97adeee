"""From a raw report to the comparable features the index stores and scores.

Order matters and is fixed: NFKC first (full-width digits and letters fold), then
unit numerals to digits, then the address is parsed, then stock phrases and the
address are cut out of the description, and only then are the object and symptom
looked up and the text tokenised. What is left is what the citizen actually said
about the problem.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib

from dedup.address import CityHints, ParsedAddress
from dedup.config import DedupConfig
from dedup.lexicon import Lexicon
from dedup.numerals import convert_unit_numerals
from dedup.observation import Observation

_NOT_WORD = re.compile(r"[\W_]+")
# Tokens become single code points so that rapidfuzz compares token sets as strings:
# on two sorted strings of distinct tokens, Indel similarity is exactly the Dice
# coefficient of the sets, and rapidfuzz.process.cdist computes it in C.
_TOKEN_BASE = 0x10000
_TOKEN_SPAN = 0x100000


def nfkc(text: str) -> str:
    """Unicode NFKC (folds full-width ５００ and Ａ) — rapidfuzz's default_process does not."""
    return unicodedata.normalize("NFKC", text)


def _token_char(token: str) -> str:
    return chr(_TOKEN_BASE + zlib.crc32(token.encode("utf-8")) % _TOKEN_SPAN)


def token_string(text: str, objects: tuple[str, ...], symptoms: tuple[str, ...]) -> str:
    """The report's token set as a sorted string of code points (see ``_TOKEN_BASE``)."""
    tokens = {f"o:{t}" for t in objects} | {f"s:{t}" for t in symptoms}
    tokens.update(text[i : i + 2] for i in range(len(text) - 1))
    if len(text) == 1:
        tokens.add(text)
    return "".join(sorted({_token_char(t) for t in tokens}))


class NormalizedReport:
    """The comparable form of one report; strings, not ids, so it can be serialised."""

    __slots__ = (
        "building",
        "caller",
        "category_code",
        "compound",
        "district",
        "family",
        "house",
        "house_value",
        "lat",
        "lon",
        "objects",
        "report_id",
        "road",
        "room",
        "said_symptoms",
        "symptoms",
        "text",
        "time_ms",
        "tokens",
    )

    def __init__(
        self,
        *,
        report_id: str,
        time_ms: int,
        category_code: str,
        lat: float | None,
        lon: float | None,
        district: str | None,
        road: str | None,
        house: str | None,
        house_value: int | None,
        compound: str | None,
        building: str | None,
        room: str | None,
        caller: str | None,
        objects: tuple[str, ...],
        symptoms: tuple[str, ...],
        text: str,
        tokens: str,
        said_symptoms: tuple[str, ...] = (),
    ) -> None:
        self.report_id = report_id
        self.time_ms = time_ms
        self.category_code = category_code
        self.family = category_code[:2]
        self.lat = lat
        self.lon = lon
        self.district = district
        self.road = road
        self.house = house
        self.house_value = house_value
        self.compound = compound
        self.building = building
        self.room = room
        self.caller = caller
        self.objects = objects
        self.symptoms = symptoms
        self.text = text
        self.tokens = tokens
        # The exclusive symptoms (``Lexicon.exclusive``) the description names without the title.
        self.said_symptoms = said_symptoms

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if k != "tokens")
        return f"NormalizedReport({parts})"


def _coordinate(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is None or lon is None:
        return None, None
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and math.isfinite(lon)) or (lat == 0.0 and lon == 0.0):
        return None, None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None, None
    return lat, lon


_BUILDING = re.compile(r"(\d+)(?:号楼|栋|幢|座)")
_ROOM = re.compile(r"(\d+)室")


def _units_from_description(parsed: ParsedAddress, description: str) -> None:
    """Building and room named only in the description (奉浦苑 in the address, 1号楼 in the text)."""
    if parsed.building is None:
        found = _BUILDING.search(description)
        if found:
            parsed.building = found.group(1)
    if parsed.room is None:
        found = _ROOM.search(description)
        if found:
            parsed.room = found.group(1)


def _is_lane(house: str | None) -> bool:
    return house is not None and house.endswith("弄")


def _other_name_from_description(parsed: ParsedAddress, found: ParsedAddress) -> None:
    """The compound's other name, when the description gives it (凉城路700弄5号 + 凉城新村5号楼).

    A compound is known by its name and by its lane address; a report whose address
    field gives one and whose description the other names the place both ways, so
    it blocks and compares with reports that use either name (and teaches the index
    the alias). Taken only when the description does not name another place: a lane
    address with the same road and lane (or none), a compound with the same name (or
    none).
    """
    if parsed.compound is None and _is_lane(parsed.house_number):
        same_lane = found.road is None or (
            found.road == parsed.road and found.house_number == parsed.house_number
        )
        if found.compound is not None and same_lane:
            parsed.compound = found.compound
    elif (
        parsed.road is None
        and parsed.compound is not None
        and _is_lane(found.house_number)
        and found.compound in (None, parsed.compound)
    ):
        parsed.road = found.road
        parsed.house_number = found.house_number
        parsed.house_value = found.house_value


class Normalizer:
    """Built once per index (the dictionaries and patterns compile here), then applied per report."""

    __slots__ = ("_address_spans", "_broad_titles", "_stock", "hints", "lexicon")

    def __init__(self, config: DedupConfig | None = None) -> None:
        config = config or DedupConfig()
        self.lexicon = Lexicon.load(config.lexicon_files)
        self.hints = CityHints.load(config.city, config.city_file)
        phrases = self.lexicon.stock_phrases
        self._stock = re.compile("|".join(map(re.escape, phrases))) if phrases else None
        self._address_spans = self.hints.strip_pattern_generic()
        self._broad_titles = frozenset(nfkc(t).strip() for t in self.lexicon.broad_titles)

    def clean_text(
        self, title: str, description: str, address: str, road: str | None, compound: str | None
    ) -> str:
        """Title and description with stock phrases, address and punctuation removed.

        Both arrive NFKC-normalised with unit numerals converted: ``normalize`` does that
        once per report, for this and for the address search in the description.
        """
        title = title.lower()
        description = description.lower()
        text = description if title and title in description else f"{title}。{description}"
        if self._stock is not None:
            text = self._stock.sub(" ", text)
        for span in (address, road, compound):
            if span and len(span) >= 2:
                text = text.replace(span.lower(), " ")
        text = self._address_spans.sub(" ", text)
        return _NOT_WORD.sub("", text)

    def _described(self, description: str) -> str:
        if self._stock is not None:
            return self._stock.sub("，", description)  # a boundary, so 反映张杨路 is not a road
        return description

    def normalize(self, obs: Observation) -> NormalizedReport:
        """The comparable features of ``obs`` (cached on the object for this normaliser)."""
        cached = obs._normalized
        if cached is not None and cached[0] is self:
            return cached[1]  # type: ignore[no-any-return]
        address = convert_unit_numerals(nfkc(obs.address))
        description = convert_unit_numerals(nfkc(obs.description))  # once: the steps below share it
        parsed = self.hints.parse(address, obs.district_code)
        if parsed.road is None and parsed.compound is None:
            # Callers often give the place only in the description.
            found = self.hints.find_in_text(self._described(description), parsed.district_code)
            if found.road is not None or found.compound is not None:
                parsed = found
        else:
            _other_name_from_description(parsed, self.hints.find_in_text(self._described(description)))
        if parsed.building is None or parsed.room is None:
            _units_from_description(parsed, description)
        title = convert_unit_numerals(nfkc(obs.title))
        if title.strip() in self._broad_titles:
            title = ""  # a category several problems share: the description says which one
        text = self.clean_text(title, description, address, parsed.road, parsed.compound)
        objects = self.lexicon.objects.find(text)
        symptoms = self.lexicon.symptoms.find(text)
        said: tuple[str, ...] = ()
        if not self.lexicon.exclusive_terms.isdisjoint(symptoms):
            # The title is often the channel's category name, shared by several problems
            # (窨井盖缺失 for a broken cover too): the caller's own words decide.
            described = self.clean_text("", description, address, parsed.road, parsed.compound)
            said = tuple(
                t for t in self.lexicon.symptoms.find(described) if t in self.lexicon.exclusive_terms
            )
        lat, lon = _coordinate(obs.lat, obs.lon)
        norm = NormalizedReport(
            report_id=obs.report_id,
            time_ms=obs.event_time_ms,
            category_code=obs.category_code,
            lat=lat,
            lon=lon,
            district=parsed.district_code,
            road=parsed.road,
            house=parsed.house_number,
            house_value=parsed.house_value,
            compound=parsed.compound,
            building=parsed.building,
            room=parsed.room,
            caller=obs.contact_hash or None,
            objects=objects,
            symptoms=symptoms,
            text=text,
            tokens=token_string(text, objects, symptoms) if text else "",
            said_symptoms=said,
        )
        obs._normalized = (self, norm)
        return norm
