"""Column storage of the reports the index compares against, for vectorised scoring.

A decision compares one report with up to a thousand stored ones. Looping over them
in Python costs 5–10 µs each; comparing columns with NumPy costs a few µs for all of
them. Each stored report is one row; strings are reduced to stable 64-bit hashes
(0 = missing) so that equality is one vector comparison. The ``NormalizedReport``
is kept beside the row for the texts and for serialising the entry.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from dedup.normalize import NormalizedReport

NEVER = np.iinfo(np.int64).max  # closed_at of an open ticket
_EARTH_M_PER_DEG = 111_195.0


def h64(value: str | None) -> int:
    """A stable, process-independent 64-bit hash; 0 means missing."""
    if not value:
        return 0
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


class Hashed:
    """The hashed comparison fields of one normalised report."""

    __slots__ = (
        "building",
        "caller",
        "category",
        "compound",
        "district",
        "family",
        "house",
        "obj",
        "road",
        "room",
        "said",
        "sub",
        "sym",
    )

    def __init__(self, norm: NormalizedReport, obj: int, sym: int, said: int = 0) -> None:
        self.category = h64(norm.category_code)
        self.family = h64(norm.family)
        self.sub = len(norm.category_code) > 2
        self.district = h64(norm.district)
        self.road = h64(norm.road)
        self.house = h64(norm.house)
        self.compound = h64(norm.compound)
        self.building = h64(norm.building)
        self.room = h64(norm.room)
        self.caller = h64(norm.caller)
        self.obj = obj
        self.sym = sym
        self.said = said  # mask of the exclusive symptoms its description names


_INT_COLUMNS = (
    "time",
    "opened",
    "last",
    "window",
    "closed_at",
    "tslot",
    "category",
    "family",
    "district",
    "road",
    "house",
    "house_value",
    "compound",
    "building",
    "room",
    "caller",
)


class RowStore:
    """Growable columns; a row id is an index into every column."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.ints: dict[str, np.ndarray] = {name: np.zeros(capacity, dtype=np.int64) for name in _INT_COLUMNS}
        self.sub = np.zeros(capacity, dtype=np.bool_)
        self.obj = np.zeros(capacity, dtype=np.uint64)
        self.sym = np.zeros(capacity, dtype=np.uint64)
        self.said = np.zeros(capacity, dtype=np.uint64)
        self.lat = np.full(capacity, np.nan)
        self.lon = np.full(capacity, np.nan)
        self.norms: list[NormalizedReport | None] = [None] * capacity
        self.ticket_ids: list[str | None] = [None] * capacity
        self._free: list[int] = []
        self._next = 0

    def __len__(self) -> int:
        return self._next - len(self._free)

    def _grow(self) -> None:
        new = self.capacity * 2
        for name, column in self.ints.items():
            self.ints[name] = np.concatenate([column, np.zeros(new - self.capacity, dtype=np.int64)])
        self.sub = np.concatenate([self.sub, np.zeros(new - self.capacity, dtype=np.bool_)])
        self.obj = np.concatenate([self.obj, np.zeros(new - self.capacity, dtype=np.uint64)])
        self.sym = np.concatenate([self.sym, np.zeros(new - self.capacity, dtype=np.uint64)])
        self.said = np.concatenate([self.said, np.zeros(new - self.capacity, dtype=np.uint64)])
        self.lat = np.concatenate([self.lat, np.full(new - self.capacity, np.nan)])
        self.lon = np.concatenate([self.lon, np.full(new - self.capacity, np.nan)])
        self.norms.extend([None] * (new - self.capacity))
        self.ticket_ids.extend([None] * (new - self.capacity))
        self.capacity = new

    def add(
        self,
        norm: NormalizedReport,
        hashed: Hashed,
        *,
        ticket_id: str,
        tslot: int,
        opened_ms: int,
        last_ms: int,
        window_ms: int,
        closed_at: int,
    ) -> int:
        """Store one report; returns its row id."""
        if self._free:
            row = self._free.pop()
        else:
            if self._next == self.capacity:
                self._grow()
            row = self._next
            self._next += 1
        ints = self.ints
        ints["time"][row] = norm.time_ms
        ints["opened"][row] = opened_ms
        ints["last"][row] = last_ms
        ints["window"][row] = window_ms
        ints["closed_at"][row] = closed_at
        ints["tslot"][row] = tslot
        ints["category"][row] = hashed.category
        ints["family"][row] = hashed.family
        ints["district"][row] = hashed.district
        ints["road"][row] = hashed.road
        ints["house"][row] = hashed.house
        ints["house_value"][row] = -1 if norm.house_value is None else norm.house_value
        ints["compound"][row] = hashed.compound
        ints["building"][row] = hashed.building
        ints["room"][row] = hashed.room
        ints["caller"][row] = hashed.caller
        self.sub[row] = hashed.sub
        self.obj[row] = hashed.obj
        self.sym[row] = hashed.sym
        self.said[row] = hashed.said
        self.lat[row] = np.nan if norm.lat is None else norm.lat
        self.lon[row] = np.nan if norm.lon is None else norm.lon
        self.norms[row] = norm
        self.ticket_ids[row] = ticket_id
        return row

    def remove(self, row: int) -> None:
        """Free a row (its id may be reused by a later ``add``)."""
        self.norms[row] = None
        self.ticket_ids[row] = None
        self.ints["closed_at"][row] = NEVER
        self._free.append(row)


def geo_cell(lat: float, lon: float, cell_m: float) -> tuple[int, int]:
    """The blocking cell of a point: rows of ``cell_m`` metres, columns as wide at that row's latitude."""
    cy = math.floor(lat * _EARTH_M_PER_DEG / cell_m)
    return cy, _column(cy, lon, cell_m)


def _column(cy: int, lon: float, cell_m: float) -> int:
    centre = (cy + 0.5) * cell_m / _EARTH_M_PER_DEG
    scale = max(math.cos(math.radians(centre)), 1e-6)
    return math.floor(lon * _EARTH_M_PER_DEG * scale / cell_m)


def neighbour_cells(lat: float, lon: float, cell_m: float) -> list[tuple[int, int]]:
    """The cell of a point and its eight neighbours (own cell first)."""
    cy = math.floor(lat * _EARTH_M_PER_DEG / cell_m)
    out = [(cy, _column(cy, lon, cell_m))]
    for dy in (-1, 0, 1):
        cx = _column(cy + dy, lon, cell_m)
        for dx in (-1, 0, 1):
            cell = (cy + dy, cx + dx)
            if cell != out[0]:
                out.append(cell)
    return out


def distances_m(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Equirectangular distances in metres (exact enough below a few km); NaN where unknown."""
    dy = (lats - lat) * _EARTH_M_PER_DEG
    dx = (lons - lon) * (_EARTH_M_PER_DEG * math.cos(math.radians(lat)))
    return np.hypot(dx, dy)
