"""Comparison levels of one report against many stored rows, feature by feature.

Every function returns one small integer per row: the level index of
``dedup.features.LEVELS`` (0 = missing). Scoring is then a table lookup per feature
and a sum, so the model can be swapped without touching this code, and the same
levels feed both ``decide`` and ``fit``.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from dedup.features import (
    DISTANCE_BINS_M,
    FEATURES,
    HOUSE_BLOCK,
    HOUSE_NEAR,
    LEVELS,
    TEXT_BINS,
    TIME_BINS_H,
    TOKEN_BINS,
)
from dedup.normalize import NormalizedReport
from dedup.rows import Hashed, RowStore, distances_m

_A = {name: {level: i for i, level in enumerate(levels)} for name, levels in LEVELS.items()}
_DIST_EDGES = np.array(DISTANCE_BINS_M)
_TIME_EDGES_MS = np.array(TIME_BINS_H) * 3_600_000.0
_FAMILY_LEVEL = {level[1:]: i for i, level in enumerate(LEVELS["family"]) if level.startswith("f")}
_FAMILY_OTHER = LEVELS["family"].index("other")
# Similarity bins, worst to best, for searchsorted: level = n_bins - position + 1.
_TEXT_EDGES = np.array(sorted(TEXT_BINS))
_TOKEN_EDGES = np.array(sorted(TOKEN_BINS))


class Comparison:
    """Levels of every feature for a set of rows, plus the raw distance, time gap and exclusive symptoms."""

    __slots__ = ("distance_m", "exclusive", "gap_ms", "levels")

    def __init__(
        self,
        levels: dict[str, np.ndarray],
        distance_m: np.ndarray,
        gap_ms: np.ndarray,
        exclusive: np.ndarray | None = None,
    ) -> None:
        self.levels = levels
        self.distance_m = distance_m
        self.gap_ms = gap_ms
        # Rows whose description names the other symptom of an exclusive pair (see below).
        self.exclusive = np.zeros(len(gap_ms), dtype=np.bool_) if exclusive is None else exclusive

    def problem_conflict(self) -> np.ndarray:
        """Rows whose problem visibly differs, or that show nothing of the same problem.

        Differs: category another sub code or family, object differs, or the two
        descriptions name exclusive symptoms (缺失 and 破损: two covers, not one).
        Shows nothing: no problem feature agrees (see ``problem_unsupported``).

        Merging two different problems loses one of them, the costliest mistake;
        however high the place, caller and time evidence, such a pair goes to a person.
        Neither test is a scored feature: they only hold a merge back.
        """
        return self.problem_differs() | problem_unsupported(self.levels)

    def problem_differs(self) -> np.ndarray:
        """The first half of ``problem_conflict``: rows whose problem visibly differs."""
        return _levels_differ(self.levels) | self.exclusive

    def score(self, tables: dict[str, np.ndarray]) -> np.ndarray:
        """Sum of the weights of each row's levels (bits)."""
        total = np.zeros(len(self.gap_ms))
        for feature in FEATURES:
            total += tables[feature][self.levels[feature]]
        return total


_SIBLING, _COMPATIBLE = _A["category"]["sibling"], _A["category"]["compatible"]


def _other_category(category: np.ndarray) -> np.ndarray:
    """Rows whose category is another sub code of the family, or another family."""
    # Two comparisons, not np.isin: on a block of tens of rows isin's set-up costs more than the work.
    return (category == _SIBLING) | (category == _COMPATIBLE)


def _levels_differ(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Per row: category sibling/compatible, or object differ: the visible differences the
    levels show (the caller level uses it; ``Comparison.problem_differs`` adds exclusive symptoms)."""
    return _other_category(levels["category"]) | (levels["object"] == _A["object"]["differ"])


def _agreeing(feature: str, *agree: str) -> np.ndarray:
    """A per-level lookup of ``feature``: True at the levels that say "the same problem"."""
    return np.isin(np.array(LEVELS[feature]), agree)


# Per problem feature, its agreeing levels as a table indexed by level (like the weights):
# any similarity above the lowest bin counts; "low", "differ" and "missing" never do.
_PROBLEM_AGREES: dict[str, np.ndarray] = {
    "category": _agreeing("category", "same_code", "same_family"),
    "object": _agreeing("object", "same", "overlap"),
    "symptom": _agreeing("symptom", "same", "overlap"),
    "text": _agreeing("text", "r90", "r75", "r55", "r35"),
    "tokens": _agreeing("tokens", "j80", "j60", "j40", "j20"),
}


def problem_unsupported(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Per row: no feature says the two reports name the same problem.

    Place, caller and time say where, who and when, not what: a resident who calls
    about square-dance noise (社会生活噪声) and then about the door card reader (filed as
    其他) matches on building and caller and on nothing about the problem. Such a pair
    is no evidence of one issue, however high its score; a person decides. One agreeing
    problem feature (same category, a shared object or symptom, any text likeness)
    lifts the guard; two 其他 reports share a category code, which counts. Reports with
    no problem fields at all are held back too: there is nothing to say they are one
    problem.
    """
    agrees = np.zeros(len(levels["category"]), dtype=np.bool_)
    for feature, table in _PROBLEM_AGREES.items():
        agrees |= table[levels[feature]]
    return ~agrees


def _first_true(conditions: list[np.ndarray], choices: list[int], default: int, n: int) -> np.ndarray:
    """``np.select(conditions, choices, default)`` as int8: the choice of each row's first true condition.

    Assigned from the last condition to the first, so the first true one is written last and
    wins. np.select broadcasts and stacks every condition first, which on the few dozen rows
    of a block costs several times the comparisons themselves.
    """
    out = np.full(n, default, dtype=np.int8)
    for condition, choice in zip(reversed(conditions), reversed(choices), strict=True):
        out[condition] = choice
    return out


def _similarity_levels(scores: np.ndarray, edges: np.ndarray, present: np.ndarray) -> np.ndarray:
    # edges ascending: 20,40,60,80 -> position 0..4; best bin (>=80) must be level 1.
    position = np.searchsorted(edges, scores, side="right")
    levels = (len(edges) + 1 - position).astype(np.int8)
    return np.where(present, levels, 0).astype(np.int8)


def _term_levels(q: int, masks: np.ndarray) -> np.ndarray:
    if q == 0:
        return np.zeros(len(masks), dtype=np.int8)
    qm = np.uint64(q)
    common = (masks & qm) != 0
    same = masks == qm
    out = np.where(same, 1, np.where(common, 2, 3)).astype(np.int8)
    return np.where(masks == 0, 0, out).astype(np.int8)


def _exclusive_rows(q_said: int, said: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Rows naming one symptom of an exclusive pair where the query names only the other.

    A report naming both (or neither) conflicts with nothing: it may describe the same
    thing either way.
    """
    out = np.zeros(len(said), dtype=np.bool_)
    if not q_said:
        return out
    for a, b in pairs:
        q_a, q_b = bool(q_said & a), bool(q_said & b)
        if q_a == q_b:
            continue
        mine, other = (np.uint64(a), np.uint64(b)) if q_a else (np.uint64(b), np.uint64(a))
        out |= ((said & other) != 0) & ((said & mine) == 0)
    return out


def _one_substitution(a: str, b: str) -> bool:
    return len(a) == len(b) and len(a) >= 3 and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _address_levels(
    q: NormalizedReport, qh: Hashed, s: RowStore, idx: np.ndarray, alias: np.ndarray | None = None
) -> np.ndarray:
    a = _A["address"]
    ints = s.ints
    road = ints["road"][idx]
    house = ints["house"][idx]
    compound = ints["compound"][idx]
    building = ints["building"][idx]
    room = ints["room"][idx]
    district = ints["district"][idx]
    value = ints["house_value"][idx]

    road_known = (road != 0) & (qh.road != 0)
    road_eq = road_known & (road == qh.road)
    same_number = (qh.house != 0) & (house == qh.house)
    if q.road is not None:
        # One wrong character in a road name (张扬路 for 张杨路) at the same house number
        # is a typo, not another road; checked in Python only for those few rows.
        for i in np.flatnonzero(road_known & ~road_eq & same_number):
            other = s.norms[idx[i]].road  # type: ignore[union-attr]
            if other is not None and _one_substitution(q.road, other):
                road_eq[i] = True
    house_eq = road_eq & same_number
    # A lane (弄) is a compound's address, not a door: the same lane with the building
    # unknown on one side is the same compound (two flats' leaks in two buildings of
    # one lane are two issues), never the same house.
    street_house_eq = house_eq if not (q.house or "").endswith("弄") else np.zeros(len(idx), dtype=np.bool_)
    compound_known = (compound != 0) & (qh.compound != 0)
    compound_eq = compound_known & (compound == qh.compound)
    same_place = house_eq | (compound_eq & ~(road_known & ~road_eq))
    if alias is not None:
        # The same place named once by its compound and once by its lane address.
        same_place = same_place | alias
    building_known = (building != 0) & (qh.building != 0)
    building_eq = building_known & (building == qh.building)
    room_known = (room != 0) & (qh.room != 0)
    room_eq = room_known & (room == qh.room)
    unit_conflict = (building_known & ~building_eq) | (room_known & ~room_eq)
    district_known = (district != 0) & (qh.district != 0)
    district_eq = district_known & (district == qh.district)
    if q.house_value is not None:
        numbers = value >= 0
        delta = np.abs(value - q.house_value)
    else:
        numbers = np.zeros(len(idx), dtype=np.bool_)
        delta = np.zeros(len(idx), dtype=np.int64)

    conditions = [
        district_known & ~district_eq,
        same_place & unit_conflict,
        same_place & room_eq,
        same_place & building_eq,
        street_house_eq,
        same_place,
        road_eq & numbers & (delta <= HOUSE_NEAR),
        road_eq & numbers & (delta <= HOUSE_BLOCK),
        road_eq & numbers,
        road_eq,
        road_known,
        compound_known,
        district_eq,
    ]
    choices = [
        a["district_differs"],
        a["unit_differs"],
        a["same_room"],
        a["same_building"],
        a["same_house"],
        a["same_compound"],
        a["road_near"],
        a["road_block"],
        a["road_far"],
        a["road_only"],
        a["road_differs"],
        a["compound_differs"],
        a["same_district"],
    ]
    return _first_true(conditions, choices, 0, len(idx))


def _category_levels(qh: Hashed, family_unclassified: int, s: RowStore, idx: np.ndarray) -> np.ndarray:
    c = _A["category"]
    category = s.ints["category"][idx]
    family = s.ints["family"][idx]
    sub = s.sub[idx]
    same_family = family == qh.family
    unclassified = (family == family_unclassified) | (qh.family == family_unclassified)
    both_sub = sub & qh.sub
    conditions = [
        unclassified & ~(same_family & both_sub & (category == qh.category)),
        same_family & both_sub & (category == qh.category),
        same_family & both_sub,
        same_family,
    ]
    choices = [c["unclassified"], c["same_code"], c["sibling"], c["same_family"]]
    return _first_true(conditions, choices, c["compatible"], len(idx))


def compare(
    q: NormalizedReport,
    qh: Hashed,
    family_unclassified: int,
    store: RowStore,
    idx: np.ndarray,
    alias: np.ndarray | None = None,
    exclusive: tuple[tuple[int, int], ...] = (),
) -> Comparison:
    """Compare ``q`` with the stored rows ``idx``: the level of every feature for every row.

    ``alias`` marks rows known to name the query's place under its other name (a
    compound for a lane address or back); they count as the same place. ``exclusive``
    holds the symptom masks of ``Lexicon.exclusive``.
    """
    n = len(idx)
    levels: dict[str, np.ndarray] = {}
    levels["address"] = _address_levels(q, qh, store, idx, alias)

    if q.lat is not None and q.lon is not None:
        dist = distances_m(q.lat, q.lon, store.lat[idx], store.lon[idx])
        known = ~np.isnan(dist)
        bins = np.searchsorted(_DIST_EDGES, np.where(known, dist, 0.0), side="left") + 1
        levels["distance"] = np.where(known, bins, 0).astype(np.int8)
    else:
        dist = np.full(n, np.nan)
        levels["distance"] = np.zeros(n, dtype=np.int8)

    levels["category"] = _category_levels(qh, family_unclassified, store, idx)

    if q.text:
        # Python ints, not NumPy scalars, index the per-row lists: several times faster.
        rows = [store.norms[i] for i in idx.tolist()]
        texts = [r.text for r in rows]  # type: ignore[union-attr]
        present = np.array([bool(t) for t in texts], dtype=np.bool_)
        ratio = cdist([q.text], texts, scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
        levels["text"] = _similarity_levels(ratio, _TEXT_EDGES, present)
        tokens = [r.tokens for r in rows]  # type: ignore[union-attr]
        dice = cdist([q.tokens], tokens, scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
        levels["tokens"] = _similarity_levels(dice, _TOKEN_EDGES, present)
    else:
        levels["text"] = np.zeros(n, dtype=np.int8)
        levels["tokens"] = np.zeros(n, dtype=np.int8)

    levels["object"] = _term_levels(qh.obj, store.obj[idx])
    levels["symptom"] = _term_levels(qh.sym, store.sym[idx])

    caller = store.ints["caller"][idx]
    if qh.caller:
        # The same caller counts as evidence of the same issue only when the problem
        # agrees: a resident calling about the lift and then about a leak at home is
        # two issues, and "same address + same caller" must not outweigh that.
        other_problem = _levels_differ(levels)
        same = np.where(other_problem, _A["caller"]["same_other"], _A["caller"]["same"])
        levels["caller"] = np.where(caller == 0, 0, np.where(caller == qh.caller, same, 2)).astype(np.int8)
    else:
        levels["caller"] = np.zeros(n, dtype=np.int8)

    # Time since the *ticket* was opened, whichever of its reports is compared: an
    # old ticket is less likely to be the one a repeat belongs to, however recently
    # it was last reported.
    gap = np.abs(store.ints["opened"][idx] - q.time_ms)
    levels["family"] = np.full(n, _FAMILY_LEVEL.get(q.family, _FAMILY_OTHER), dtype=np.int8)
    levels["time"] = (np.searchsorted(_TIME_EDGES_MS, gap, side="left") + 1).astype(np.int8)
    said = _exclusive_rows(qh.said, store.said[idx], exclusive) if qh.said else None
    return Comparison(levels, dist, gap, said)
