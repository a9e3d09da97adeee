"""Problem types, the channels' codes for them, and how people word them.

Everything here is data (``data/problems.yaml``, ``data/phrasing.yaml``); this module
validates it and offers the small text transformations reports need: Chinese
numerals (五百号), full-width digits (５００号) and one-character road-name typos.
Native codes must exist in the connectors' tables (``connectors/data/channels``),
otherwise the rendered record would map to 9900 待分类 and the truth would lie about
its category; ``tests/simulator`` checks that.
"""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.exceptions import ConfigError

CHANNELS = ("12345", "12319", "962121", "grid")
ChannelName = Literal["12345", "12319", "962121", "grid"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HotlineCode(_Spec):
    code: str
    name: str


class UrbanCode(_Spec):
    rec: Literal["事件", "部件"]
    main: tuple[str, str]
    sub: tuple[str, str]
    limit: str
    component: str | None = None


class PropertyCode(_Spec):
    type: str


class NativeCodes(_Spec):
    hotline: HotlineCode | None = Field(None, alias="12345")
    urban: UrbanCode | None = Field(None, alias="12319")
    property: PropertyCode | None = Field(None, alias="962121")
    grid: HotlineCode | None = None

    def has(self, channel: str) -> bool:
        return getattr(self, _FIELD[channel]) is not None


_FIELD = {"12345": "hotline", "12319": "urban", "962121": "property", "grid": "grid"}


class ProblemType(_Spec):
    """One kind of real-world problem (路灯不亮, 电梯困人 …) and how each channel records it."""

    key: str
    category: str = Field(pattern=r"^\d{4}$")
    setting: Literal["street", "compound"]
    weight: float = Field(gt=0)
    multi: float = Field(ge=0, le=1)
    gap_minutes: float = Field(gt=0)
    close_hours: tuple[float, float]
    urgent: float = Field(ge=0, le=1)
    room: bool = False
    channels: dict[ChannelName, float]
    native: NativeCodes
    says: list[str] = Field(min_length=2)
    official: list[str] = Field(min_length=1)
    details: list[str] = Field(min_length=1)

    def native_key(self, channel: str) -> str:
        """The key of this problem in the connectors' category table of ``channel``.

        ``connectors/data/channels/<channel>.yaml`` maps these keys to unified codes:
        the 12345 questionCode, ``<recType>:<subTypeCode>`` for 12319, the 962121
        报修类别, the grid eventTypeCode.
        """
        native = self.native
        if channel == "12345" and native.hotline:
            return native.hotline.code
        if channel == "12319" and native.urban:
            return f"{native.urban.rec}:{native.urban.sub[0]}"
        if channel == "962121" and native.property:
            return native.property.type
        if channel == "grid" and native.grid:
            return native.grid.code
        raise KeyError(f"{self.key} has no {channel} code")

    @model_validator(mode="after")
    def _check(self) -> ProblemType:
        for channel in self.channels:
            if not self.native.has(channel):
                raise ValueError(f"{self.key}: reported through {channel} but has no {channel} code")
        if "962121" in self.channels and self.setting != "compound":
            raise ValueError(f"{self.key}: 962121 only takes problems inside compounds")
        low, high = self.close_hours
        if not 0 < low <= high:
            raise ValueError(f"{self.key}: close_hours must be 0 < min <= max")
        return self


class Phrasebook(_Spec):
    """Stock phrases, names, phone prefixes and typo pairs (``data/phrasing.yaml``)."""

    hotline_openers: list[str]
    hotline_closers: list[str]
    inspector_prefixes: list[str]
    grid_prefixes: list[str]
    property_closers: list[str]
    near_words: list[str]
    surnames: list[str]
    given_names: list[str]
    name_suffixes: list[str]
    mobile_prefixes: list[str]
    homophones: dict[str, str]


def _load_yaml(name: str) -> object:
    path = resources.files("connectors.simulator").joinpath(f"data/{name}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@cache
def load_problems() -> tuple[ProblemType, ...]:
    """The problem types of ``data/problems.yaml``, validated."""
    data = _load_yaml("problems.yaml")
    try:
        problems = data["problems"]  # type: ignore[index]
        return tuple(ProblemType.model_validate({"key": k, **v}) for k, v in problems.items())
    except (ValidationError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"data/problems.yaml: {exc}") from exc


@cache
def load_phrasebook() -> Phrasebook:
    """The phrases of ``data/phrasing.yaml``, validated."""
    try:
        return Phrasebook.model_validate(_load_yaml("phrasing.yaml"))
    except ValidationError as exc:
        raise ConfigError(f"data/phrasing.yaml: {exc}") from exc


_DIGITS = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))


def chinese_number(n: int) -> str:
    """1239 → 一千二百三十九, 105 → 一百零五, 12 → 十二, as callers say house numbers (1..9999)."""
    if not 0 < n < 10_000:
        raise ValueError(f"house number out of range: {n}")
    out: list[str] = []
    pending_zero = False
    for value, unit in _UNITS:
        digit, n = divmod(n, value)
        if digit:
            if pending_zero:
                out.append("零")
            # 十二, not 一十二, when ten is the leading unit.
            out.append(unit if (digit == 1 and value == 10 and not out) else _DIGITS[digit] + unit)
            pending_zero = False
        elif out:
            pending_zero = True
    if n:
        if pending_zero:
            out.append("零")
        out.append(_DIGITS[n])
    return "".join(out)


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def full_width(text: str) -> str:
    """ASCII digits as full-width digits, as a Chinese IME in full-width mode types them."""
    return text.translate(_FULL_WIDTH)


def typo(name: str, homophones: dict[str, str], rng: random.Random) -> str:
    """The road name with one character replaced by a same-sounding one (张杨路 → 张扬路).

    The suffix (路, 公路, 大道) is never touched; a name without a typo-prone
    character is returned unchanged.
    """
    body_end = len(name) - 1
    for suffix in ("公路", "大道"):
        if name.endswith(suffix):
            body_end = len(name) - len(suffix)
    positions = [i for i in range(body_end) if name[i] in homophones]
    if not positions:
        return name
    i = rng.choice(positions)
    return name[:i] + homophones[name[i]] + name[i + 1 :]
