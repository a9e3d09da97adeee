"""Factories for observations and indexes; no Kafka anywhere in dedup tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from dedup import DedupConfig, DedupModel, Observation, TicketIndex, load_model

# A point in Pudong; 1e-5 degree of latitude is about 1.11 m.
BASE_LAT, BASE_LON = 31.2300, 121.5200


_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """Positional reading of 1..9999 (一千二百三十九, 一百零五, 十二)."""
    parts = []
    zero = False
    for value, name in ((1000, "千"), (100, "百"), (10, "十")):
        digit = n // value % 10
        if digit:
            if zero:
                parts.append("零")
                zero = False
            parts.append(("" if value == 10 and n < 20 and not parts else _DIGITS[digit]) + name)
        elif parts:
            zero = True
    if n % 10:
        if zero:
            parts.append("零")
        parts.append(_DIGITS[n % 10])
    return "".join(parts)


@pytest.fixture(scope="session")
def chinese() -> Callable[[int], str]:
    """The positional Chinese reading of a number (for property tests)."""
    return chinese_numeral


ObsFactory = Callable[..., Observation]


@pytest.fixture
def make_obs() -> ObsFactory:
    """Observations with sensible defaults: a street-light report at 张杨路500号."""
    counter = itertools.count(1)

    def make(**fields: Any) -> Observation:
        values: dict[str, Any] = {
            "report_id": f"R{next(counter)}",
            "event_time_ms": 0,
            "channel": "12345",
            "category_code": "0601",
            "title": "路灯不亮",
            "description": "市民来电反映：浦东新区张杨路500号门口路灯不亮，希望尽快处理。",
            "address": "浦东新区张杨路500号",
            "district_code": "310115",
            "lat": BASE_LAT,
            "lon": BASE_LON,
            "contact_hash": None,
        }
        values.update(fields)
        return Observation(**values)

    return make


@pytest.fixture(scope="session")
def default_model() -> DedupModel:
    """The shipped model."""
    return load_model()


@pytest.fixture
def make_index(default_model: DedupModel) -> Callable[..., TicketIndex]:
    """An empty index with the shipped model unless told otherwise."""

    def make(model: DedupModel | None = None, **config: Any) -> TicketIndex:
        return TicketIndex(model or default_model, DedupConfig(**config))

    return make
