"""The comparison features, their levels, and how each level reads in an explanation.

Each feature compares one aspect of two reports and yields one *level*; the model
gives each level a weight in bits (log2 m/u). Level 0 of every feature is
``missing``: one side lacks the field, and a missing field is no evidence either way,
so its weight is fixed at 0 and cannot be fitted or configured.

The bins are part of the definition of a level and so of a model file: changing a
bin is a new model version.
"""

from __future__ import annotations

MISSING = "missing"

# Upper bounds of the bins (inclusive); the last level is "beyond the last bound".
DISTANCE_BINS_M: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
TIME_BINS_H: tuple[float, ...] = (1.0, 6.0, 24.0, 72.0, 168.0)
# Lower bounds (inclusive) for similarities in percent, best first.
TEXT_BINS: tuple[float, ...] = (90.0, 75.0, 55.0, 35.0)
TOKEN_BINS: tuple[float, ...] = (80.0, 60.0, 40.0, 20.0)
HOUSE_NEAR = 10
HOUSE_BLOCK = 100

# feature -> levels in index order (index 0 is always MISSING)
LEVELS: dict[str, tuple[str, ...]] = {
    "address": (
        MISSING,
        "same_room",
        "same_building",
        "same_house",
        "same_compound",
        "unit_differs",
        "road_near",
        "road_block",
        "road_far",
        "road_only",
        "road_differs",
        "compound_differs",
        "same_district",
        "district_differs",
    ),
    "distance": (MISSING, "d25", "d50", "d100", "d200", "d500", "d1000", "far"),
    "category": (MISSING, "same_code", "same_family", "sibling", "compatible", "unclassified"),
    "text": (MISSING, "r90", "r75", "r55", "r35", "low"),
    "tokens": (MISSING, "j80", "j60", "j40", "j20", "low"),
    "object": (MISSING, "same", "overlap", "differ"),
    "symptom": (MISSING, "same", "overlap", "differ"),
    # same_other: the same caller about another problem (object or category differ):
    # one person calling twice from home about two things is no evidence of one issue.
    "caller": (MISSING, "same", "differ", "same_other"),
    "time": (MISSING, "h1", "h6", "h24", "h72", "d7", "older"),
    # The report's own category family: how often reports of this family repeat an
    # open ticket at all (in Chicago, abandoned vehicles never do; signals often).
    "family": (MISSING, *(f"f{i:02d}" for i in range(1, 11)), "other"),
}
FEATURES: tuple[str, ...] = tuple(LEVELS)

# How a feature is named in the explanation line, and how a level reads.
LABELS: dict[str, str] = {
    "address": "地址",
    "distance": "距离",
    "category": "类别",
    "text": "文本",
    "tokens": "词",
    "object": "对象",
    "symptom": "现象",
    "caller": "来电人",
    "time": "间隔",
    "family": "大类",
}
LEVEL_LABELS: dict[str, dict[str, str]] = {
    "address": {
        "same_room": "同室",
        "same_building": "同楼",
        "same_house": "同门牌",
        "same_compound": "同小区",
        "unit_differs": "同门牌异室",
        "road_near": "同路近号",
        "road_block": "同路同段",
        "road_far": "同路远号",
        "road_only": "同路",
        "road_differs": "异路",
        "compound_differs": "异小区",
        "same_district": "同区",
        "district_differs": "异区",
    },
    "category": {
        "same_code": "同类",
        "same_family": "同大类",
        "sibling": "同大类异小类",
        "compatible": "相关类",
        "unclassified": "待分类",
    },
    "object": {"same": "相同", "overlap": "部分相同", "differ": "不同"},
    "symptom": {"same": "相同", "overlap": "部分相同", "differ": "不同"},
    "caller": {"same": "同一人", "differ": "不同人", "same_other": "同一人另一问题"},
    "time": {"h1": "≤1 h", "h6": "≤6 h", "h24": "≤24 h", "h72": "≤3 d", "d7": "≤7 d", "older": ">7 d"},
}


def level_index(feature: str, level: str) -> int:
    """The index of ``level`` in ``feature``; raises KeyError for an unknown one."""
    return LEVELS[feature].index(level)
