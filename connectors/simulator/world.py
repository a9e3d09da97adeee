"""The simulated city: districts, streets, roads and compounds, and the places issues happen at.

The city is data (``data/<city>/city.yaml``), validated when loaded; this module turns
it into geometry. Roads are straight segments with house numbers running along them,
so a house number always lands on the same spot and "150–400 m further along the
same road" is a computable place, which is what near-miss issues need. Positions are
WGS-84 truth; the renderers add GPS noise and convert to each channel's datum.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.exceptions import ConfigError
from connectors.simulator.weighted import Weighted

#: Metres per degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320.0
#: How far the odd and even sides of a road lie from its centre line, in metres.
_KERB_OFFSET_M = 12.0
#: Buildings of a compound spread this far around its gate, in metres.
_COMPOUND_RADIUS_M = 160.0
#: The grid code's community (居委) and grid cells cut roads into pieces this long.
_GRID_CELL_M = 300.0


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RoadSpec(_Spec):
    name: str
    street: str = Field(pattern=r"^\d{3}$")
    start: tuple[float, float] = Field(alias="from")
    end: tuple[float, float] = Field(alias="to")
    numbers: tuple[int, int]

    @model_validator(mode="after")
    def _check(self) -> RoadSpec:
        low, high = self.numbers
        if not 1 <= low < high:
            raise ValueError(f"{self.name}: house numbers must rise from 1 or more, got {self.numbers}")
        return self


class CompoundSpec(_Spec):
    name: str
    road: str
    lane: int = Field(ge=1)
    buildings: int = Field(ge=1)
    company: str


class DistrictSpec(_Spec):
    code: str = Field(pattern=r"^\d{6}$")
    name: str
    short: str
    weight: float = Field(gt=0)
    streets: dict[str, str]
    roads: list[RoadSpec] = Field(min_length=1)
    compounds: list[CompoundSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> DistrictSpec:
        names = [r.name for r in self.roads]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: road names must be unique within the district")
        roads = {r.name: r for r in self.roads}
        for road in self.roads:
            if road.street not in self.streets:
                raise ValueError(f"{self.name}/{road.name}: street {road.street} is not in `streets`")
        for compound in self.compounds:
            road = roads.get(compound.road)
            if road is None:
                raise ValueError(f"{self.name}/{compound.name}: unknown road {compound.road}")
            if not road.numbers[0] <= compound.lane <= road.numbers[1]:
                raise ValueError(f"{self.name}/{compound.name}: lane {compound.lane} is off {road.name}")
        return self


class CitySpec(_Spec):
    city: str
    name: str
    districts: list[DistrictSpec] = Field(min_length=1)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres (equirectangular: exact enough within a city)."""
    mid = math.radians((lat1 + lat2) / 2)
    dx = (lon2 - lon1) * math.cos(mid)
    dy = lat2 - lat1
    return math.hypot(dx, dy) * METRES_PER_DEGREE


def shift(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m``/``north_m`` metres away from (lon, lat)."""
    lat2 = lat + north_m / METRES_PER_DEGREE
    lon2 = lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return lon2, lat2


@dataclass(eq=False, slots=True)
class District:
    code: str
    name: str
    short: str
    weight: float
    streets: dict[str, str]
    roads: list[Road] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    #: Roads by length: a random spot of the district is on a long road more often.
    road_choice: Weighted[Road] | None = None


@dataclass(eq=False, slots=True)
class Road:
    """A road as a straight segment; house numbers ``low..high`` run from ``start`` to ``end``."""

    index: int
    name: str
    district: District
    street_code: str
    start: tuple[float, float]
    end: tuple[float, float]
    low: int
    high: int
    length_m: float = 0.0
    _normal: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        (lon0, lat0), (lon1, lat1) = self.start, self.end
        self.length_m = metres(lon0, lat0, lon1, lat1)
        # Unit normal in metres (east, north), to put odd and even numbers on opposite kerbs.
        east = (lon1 - lon0) * math.cos(math.radians(lat0)) * METRES_PER_DEGREE
        north = (lat1 - lat0) * METRES_PER_DEGREE
        size = math.hypot(east, north)
        self._normal = (-north / size, east / size)

    @property
    def street_name(self) -> str:
        return self.district.streets[self.street_code[6:]]

    def fraction(self, number: int) -> float:
        """Where along the road (0 = start, 1 = end) a house number is."""
        return (number - self.low) / (self.high - self.low)

    def number_at(self, fraction: float, odd: bool) -> int:
        """The house number of the given side nearest to ``fraction`` along the road."""
        number = round(self.low + fraction * (self.high - self.low))
        if (number % 2 == 1) != odd:
            number += 1 if number < self.high else -1
        return max(self.low, min(self.high, number))

    def point(self, number: int) -> tuple[float, float]:
        """WGS-84 (lon, lat) of a house number: on the centre line, moved to its kerb."""
        f = self.fraction(number)
        lon = self.start[0] + f * (self.end[0] - self.start[0])
        lat = self.start[1] + f * (self.end[1] - self.start[1])
        side = _KERB_OFFSET_M if number % 2 else -_KERB_OFFSET_M
        return shift(lon, lat, self._normal[0] * side, self._normal[1] * side)

    def grid_code(self, number: int) -> str:
        """14-digit unit grid code (district 6 + street 3 + community 3 + grid 2) of a house number.

        Derived from the position, never drawn at random, so every report of one spot
        carries the same grid code, as a real grid map would give.
        """
        cell = int(self.fraction(number) * self.length_m // _GRID_CELL_M)
        community = 1 + (self.index * 7 + cell // 4) % 40
        grid = 1 + cell % 4
        return f"{self.street_code}{community:03d}{grid:02d}"


@dataclass(eq=False, slots=True)
class Compound:
    """A 小区 at lane ``lane`` of ``road``; building ``b`` stands at ``buildings[b - 1]``."""

    index: int
    name: str
    road: Road
    lane: int
    company: str
    buildings: list[tuple[float, float]]

    @property
    def district(self) -> District:
        return self.road.district


@dataclass(frozen=True, slots=True)
class Place:
    """Where an issue really is: a house number on a road, or a building of a compound."""

    road: Road
    number: int
    compound: Compound | None
    building: int | None
    room: str | None
    lon: float
    lat: float

    @property
    def district(self) -> District:
        return self.road.district

    @property
    def grid_code(self) -> str:
        return self.road.grid_code(self.number)

    def metres_to(self, other: Place) -> float:
        return metres(self.lon, self.lat, other.lon, other.lat)


class City:
    """Districts, roads and compounds, with the place pickers the scenario draws from."""

    def __init__(self, spec: CitySpec) -> None:
        self.name = spec.name
        self.districts: list[District] = []
        self.roads: list[Road] = []
        self.compounds: list[Compound] = []
        for d in spec.districts:
            district = District(d.code, d.name, d.short, d.weight, dict(d.streets))
            by_name: dict[str, Road] = {}
            for r in d.roads:
                road = Road(len(self.roads), r.name, district, d.code + r.street, r.start, r.end, *r.numbers)
                by_name[r.name] = road
                district.roads.append(road)
                self.roads.append(road)
            for c in d.compounds:
                compound = _compound(len(self.compounds), c, by_name[c.road])
                district.compounds.append(compound)
                self.compounds.append(compound)
            district.road_choice = Weighted(district.roads, [r.length_m for r in district.roads])
            self.districts.append(district)
        self._district_choice = Weighted(self.districts, [d.weight for d in self.districts])

    def district(self, rng: random.Random) -> District:
        return self._district_choice.pick(rng)

    def street_place(self, rng: random.Random) -> Place:
        """A random house number on a random road (roads weighted by length)."""
        district = self.district(rng)
        assert district.road_choice is not None  # set when the city is built
        road = district.road_choice.pick(rng)
        number = rng.randint(road.low, road.high)
        return self.at_number(road, number)

    def compound_place(self, rng: random.Random, *, room: bool) -> Place:
        """A random building (and, for problems inside a flat, a room) of a random compound."""
        compound = rng.choice(self.district(rng).compounds)
        building = rng.randint(1, len(compound.buildings))
        return self.in_compound(compound, building, random_room(rng) if room else None)

    @staticmethod
    def at_number(road: Road, number: int) -> Place:
        lon, lat = road.point(number)
        return Place(road, number, None, None, None, lon, lat)

    @staticmethod
    def in_compound(compound: Compound, building: int, room: str | None) -> Place:
        lon, lat = compound.buildings[building - 1]
        return Place(compound.road, compound.lane, compound, building, room, lon, lat)

    def nearby_on_road(self, rng: random.Random, place: Place, low_m: float, high_m: float) -> Place | None:
        """A different house number on the same road ``low_m``–``high_m`` metres away, if the road has one."""
        road = place.road
        distance = rng.uniform(low_m, high_m)
        here = road.fraction(place.number)
        directions = [1, -1] if rng.random() < 0.5 else [-1, 1]
        odd = place.number % 2 == 1 if rng.random() < 0.7 else place.number % 2 == 0
        for direction in directions:
            there = here + direction * distance / road.length_m
            if 0.0 <= there <= 1.0:
                candidate = self.at_number(road, road.number_at(there, odd))
                if candidate.number != place.number and low_m <= candidate.metres_to(place) <= high_m:
                    return candidate
        return None


def random_room(rng: random.Random) -> str:
    """A flat number (室号) such as 1502: floor 1–18, flat 01–04."""
    return f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"


def _compound(index: int, spec: CompoundSpec, road: Road) -> Compound:
    """Place the buildings around the compound's gate, the same way on every load.

    A private ``Random`` seeded by the compound's name keeps the layout independent of
    the scenario's random stream: the city looks the same whatever seed is simulated.
    """
    gate_lon, gate_lat = road.point(spec.lane)
    layout = random.Random(f"{road.district.code}/{spec.name}")
    buildings = []
    for _ in range(spec.buildings):
        angle = layout.uniform(0, 2 * math.pi)
        radius = _COMPOUND_RADIUS_M * math.sqrt(layout.random())
        buildings.append(shift(gate_lon, gate_lat, radius * math.cos(angle), radius * math.sin(angle)))
    return Compound(index, spec.name, road, spec.lane, spec.company, buildings)


@cache
def load_city(name: str) -> City:
    """The city called ``name`` from the shipped data (``data/<name>/city.yaml``)."""
    path = resources.files("connectors.simulator").joinpath(f"data/{name}/city.yaml")
    if not path.is_file():
        raise ConfigError(f"no simulator data for city {name!r} (expected {path})")
    try:
        spec = CitySpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return City(spec)
