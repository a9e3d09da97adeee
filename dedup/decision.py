"""What the index answers for one report, and the one-line reason a person can check.

The per-feature contributions *are* the explanation: an operator who sees
"地址 同门牌 +3.5, 距离 12 m +3.0, 对象 不同 −5.0 → 1.5 < 6.0 NEW" knows why two
reports at one address were kept apart without reading any code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dedup.features import LABELS, LEVEL_LABELS

Band = Literal["MERGE", "REVIEW", "NEW"]
MERGE: Band = "MERGE"
REVIEW: Band = "REVIEW"
NEW: Band = "NEW"

# Why a score past the merge threshold was held back to REVIEW (``Comparison.problem_conflict``):
# the key (``Decision.held_back``, a metric label) and how the explanation says it.
PROBLEM_DIFFERS = "problem_differs"
NO_SHARED_PROBLEM = "no_shared_problem"
HELD_BACK_SAYS: dict[str, str] = {
    PROBLEM_DIFFERS: "问题不同 (类别、对象或现象)",
    NO_SHARED_PROBLEM: "未见同一问题 (类别、对象、现象、文本均无相符)",
}


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature's level and its weight in bits for the compared pair."""

    feature: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The band for one report, the candidate it was decided against, and why."""

    band: Band
    ticket_id: str | None
    candidate_report_id: str | None
    score: float
    merge_threshold: float
    review_threshold: float
    model_version: str
    contributions: tuple[Contribution, ...]
    recurrence_of: str | None
    explanation: str
    candidates_considered: int
    candidates_dropped: int = 0
    held_back: str | None = None  # a key of HELD_BACK_SAYS when a guard turned MERGE into REVIEW


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def describe(
    contribution: Contribution, *, distance_m: float | None = None, gap_h: float | None = None
) -> str:
    """One feature's part of the explanation, e.g. "距离 35 m +1.8" or "地址 同门牌 +3.5"."""
    label = LABELS.get(contribution.feature, contribution.feature)
    if contribution.feature == "distance" and distance_m is not None:
        detail = f"{distance_m:.0f} m"
    elif contribution.feature == "time" and gap_h is not None:
        detail = f"{gap_h:.1f} h"
    else:
        detail = LEVEL_LABELS.get(contribution.feature, {}).get(contribution.level, "")
    return (
        f"{label} {detail} {_signed(contribution.weight)}"
        if detail
        else f"{label} {_signed(contribution.weight)}"
    )


def explain(
    contributions: tuple[Contribution, ...],
    score: float,
    band: Band,
    merge_threshold: float,
    review_threshold: float,
    *,
    distance_m: float | None = None,
    gap_h: float | None = None,
    closed_ticket: str | None = None,
    recurrence: bool = False,
    held_back: str | None = None,
) -> str:
    """The readable line: contributions by size, the total, the threshold it passed or missed, the band."""
    shown = sorted((c for c in contributions if c.weight != 0.0), key=lambda c: (-abs(c.weight), c.feature))
    parts = ", ".join(describe(c, distance_m=distance_m, gap_h=gap_h) for c in shown) or "无证据"
    total = f"{score:.1f}".replace("-", "−")
    if closed_ticket is not None and recurrence:
        return f"{parts} → {total} ≥ {merge_threshold:.1f}, 但工单 {closed_ticket} 已关闭 → {band} (复发)"
    if closed_ticket is not None:
        return f"{parts} → {total} < {merge_threshold:.1f} (工单 {closed_ticket} 已关闭) → {band}"
    if held_back is not None:
        return f"{parts} → {total} ≥ {merge_threshold:.1f}, 但{HELD_BACK_SAYS[held_back]} → {band}"
    if band == MERGE:
        return f"{parts} → {total} ≥ {merge_threshold:.1f} MERGE"
    if band == REVIEW:
        return f"{parts} → {total} ≥ {review_threshold:.1f} REVIEW (< {merge_threshold:.1f})"
    return f"{parts} → {total} < {review_threshold:.1f} NEW"
