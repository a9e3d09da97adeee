"""The city and phrase data are valid and plausible, and the text helpers say numbers as people do."""

from __future__ import annotations

import random

import pytest

from connectors.exceptions import ConfigError
from connectors.simulator.problems import chinese_number, load_phrasebook, load_problems, typo
from connectors.simulator.world import load_city, metres

#: A box around Shanghai's land area, WGS-84.
LON, LAT = (120.85, 122.0), (30.65, 31.9)


def test_city_geometry_is_in_shanghai() -> None:
    """Every road lies inside Shanghai, is at least 300 m long, and its district code is GB/T 2260."""
    city = load_city("shanghai")
    assert len(city.districts) == 16
    for road in city.roads:
        for lon, lat in (road.start, road.end):
            assert LON[0] < lon < LON[1], road.name
            assert LAT[0] < lat < LAT[1], road.name
        assert road.length_m >= 300, road.name
        assert road.street_code.startswith(road.district.code)


def test_compound_buildings_surround_their_gate() -> None:
    """Buildings of a compound lie within 200 m of the compound's lane on its road."""
    for compound in load_city("shanghai").compounds:
        gate = compound.road.point(compound.lane)
        for lon, lat in compound.buildings:
            assert metres(gate[0], gate[1], lon, lat) <= 200


def test_house_numbers_run_along_the_road_on_two_kerbs() -> None:
    """Neighbouring numbers are metres apart; odd and even numbers face each other across the road."""
    road = next(r for r in load_city("shanghai").roads if r.name == "张杨路")
    a, b = road.point(501), road.point(502)
    assert 15 < metres(*a, *b) < 35
    far = road.point(1501)
    assert metres(*a, *far) > 1000


def test_962121_text_is_gbk() -> None:
    """Everything a 962121 row may contain encodes in GBK (else the export would be corrupt)."""
    city = load_city("shanghai")
    texts = [c.name + c.company + c.road.street_name + c.district.name for c in city.compounds]
    for problem in load_problems():
        if "962121" in problem.channels:
            texts += problem.says + problem.details
    texts += load_phrasebook().property_closers
    for text in texts:
        text.encode("gbk")


def test_unknown_city_is_a_config_error() -> None:
    """A city without a data directory fails with the path it looked for."""
    with pytest.raises(ConfigError, match="atlantis"):
        load_city("atlantis")


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (5, "五"),
        (10, "十"),
        (12, "十二"),
        (105, "一百零五"),
        (500, "五百"),
        (1050, "一千零五十"),
        (1239, "一千二百三十九"),
        (3005, "三千零五"),
    ],
)
def test_chinese_numerals(number: int, spoken: str) -> None:
    """House numbers as callers say them."""
    assert chinese_number(number) == spoken


def test_typo_changes_one_character_and_keeps_the_suffix() -> None:
    """张杨路 → 张扬路: one same-sounding character, 路/公路/大道 untouched."""
    homophones = load_phrasebook().homophones
    rng = random.Random(1)
    assert typo("张杨路", homophones, rng) == "张扬路"
    changed = typo("沪青平公路", homophones, rng)
    assert changed.endswith("公路")
    assert changed != "沪青平公路"
    assert sum(a != b for a, b in zip(changed, "沪青平公路", strict=True)) == 1
    assert typo("路", homophones, rng) == "路"
