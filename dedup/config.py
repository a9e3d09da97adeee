"""How the index blocks and keeps candidates: a frozen, validated configuration.

Weights and thresholds are the *model* (``dedup.model``, fitted, versioned);
everything here is city policy an operator may change without refitting: which
category families can describe the same problem, how long each family's issues
stay matchable, how many candidates one decision may look at.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Hours an open ticket stays matchable after its last report, per unified family
# (domain.md's routing catalogue). Emergencies are over within a day; street-order
# problems (占道经营) and broken facilities are reported again for days while the
# ticket is open (the time feature weighs how long ago).
DEFAULT_WINDOWS_HOURS: dict[str, float] = {
    "01": 72.0,  # 市容环境
    "02": 168.0,  # 宣传广告
    "03": 72.0,  # 施工管理
    "04": 24.0,  # 突发事件
    "05": 72.0,  # 街面秩序
    "06": 168.0,  # 公共设施
    "07": 168.0,  # 园林绿化
    "08": 168.0,  # 物业服务
    "09": 72.0,  # 供水、供气、供热
    "10": 72.0,  # 社会事务
}

# Families that may describe the same real problem when different operators classify it.
DEFAULT_COMPATIBLE: tuple[tuple[str, str], ...] = (
    ("01", "05"),  # 垃圾/占道: 市容 or 街面秩序
    ("01", "07"),  # 绿化带垃圾
    ("03", "01"),  # 建筑垃圾, 工地扬尘
    ("04", "06"),  # 井盖缺失, 路面塌陷 reported as emergencies
    ("04", "09"),  # 爆管
    ("06", "07"),  # 行道树压坏设施
    ("08", "09"),  # 小区内停水, 漏水
    ("08", "06"),  # 小区内设施
)


class DedupConfig(BaseModel):
    """Blocking, windows and bounds of one ``TicketIndex``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    city: str = Field(
        "shanghai", description="Name of the shipped city hint table (dedup/data/city_NAME.yaml)"
    )
    city_file: Path | None = Field(None, description="A city hint table file instead of the shipped one")
    lexicon_files: tuple[Path, ...] = Field((), description="Extra synonym/stock-phrase YAML files")
    windows_hours: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WINDOWS_HOURS))
    default_window_hours: float = Field(72.0, gt=0)
    compatible_families: tuple[tuple[str, str], ...] = DEFAULT_COMPATIBLE
    unclassified_family: str = Field("99", description="Family compatible with every other one")
    recurrence_window_days: float = Field(30.0, ge=0, description="How long a closed ticket can be recurred")
    max_candidates: int = Field(1000, ge=1, description="Cap on reports compared per decision")
    max_members: int = Field(3, ge=0, description="Strongest members kept per ticket besides the primary")
    geo_cell_m: float = Field(150.0, gt=0, description="Size of a blocking cell; neighbours are searched too")
    review_problem_conflict: bool = Field(
        True,
        description=(
            "A candidate whose category is another sub code or family (sibling, compatible), whose "
            "object differs, whose description names an exclusive symptom, or that agrees on no "
            "problem feature at all is never merged automatically: REVIEW at most, a person decides"
        ),
    )
    expire_every_s: int = Field(3600, ge=1, description="Event-time interval of automatic expiry")

    @field_validator("windows_hours")
    @classmethod
    def _positive_windows(cls, value: dict[str, float]) -> dict[str, float]:
        for family, hours in value.items():
            if hours <= 0:
                raise ValueError(f"window of family {family} must be positive, got {hours}")
        return value

    def window_ms(self, family: str) -> int:
        """How long (event time) a report of ``family`` stays matchable."""
        return int(self.windows_hours.get(family, self.default_window_hours) * 3_600_000)

    def compatible(self, family: str) -> frozenset[str]:
        """Families whose tickets a report of ``family`` is compared with (itself included)."""
        out = {family}
        for a, b in self.compatible_families:
            if a == family:
                out.add(b)
            elif b == family:
                out.add(a)
        return frozenset(out)
