"""Addresses are parsed into the parts a duplicate check compares."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.address import CityHints
from dedup.normalize import nfkc
from dedup.numerals import convert_unit_numerals

HINTS = CityHints.load()


def parse(text: str, district: str | None = None):
    return HINTS.parse(convert_unit_numerals(nfkc(text)), district)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("浦东新区张杨路500号", {"district_code": "310115", "road": "张杨路", "house_number": "500"}),
        (
            "上海市浦东新区潍坊街道张杨路500号",
            {"district_code": "310115", "road": "张杨路", "house_number": "500"},
        ),
        (
            "闵行区七宝镇七莘路1234弄5号301室",
            {
                "district_code": "310112",
                "road": "七莘路",
                "house_number": "1234弄",
                "building": "5",
                "room": "301",
            },
        ),
        (
            "杨浦区控江路1500弄（控江新村）12号楼3单元201室",
            {
                "road": "控江路",
                "house_number": "1500弄",
                "compound": "控江新村",
                "building": "12",
                "room": "3-201",
            },
        ),
        (
            "徐汇区康健新村12号",
            {"district_code": "310104", "compound": "康健新村", "building": "12", "road": None},
        ),
        ("静安区新镇路5号", {"road": "新镇路", "house_number": "5"}),
        # The 街道 of a town (嘉定镇街道) is one sub-district unit, not a road 嘉定镇街.
        (
            "嘉定区嘉定镇街道金沙新村16号",
            {"district_code": "310114", "road": None, "compound": "金沙新村", "building": "16"},
        ),
        ("8600 S SANGAMON ST", {"road": "S SANGAMON ST", "house_number": "8600", "house_value": 8600}),
    ],
)
def test_examples(text, expected):
    """Shanghai nesting (district, 街道/镇, road, 弄, 号, 单元, 室) and Western street numbers."""
    parts = parse(text).as_dict()
    for name, value in expected.items():
        assert parts[name] == value, name


def test_channel_district_code_wins():
    """A district code sent by the channel is kept over the one named in the text."""
    assert parse("浦东新区张杨路500号", "310101").district_code == "310101"


@given(
    road=st.sampled_from(["张杨路", "四平路", "七莘路", "世纪大道", "南京西路", "曹安公路"]),
    number=st.integers(min_value=1, max_value=9999),
    spelling=st.sampled_from(["ascii", "full", "chinese"]),
)
def test_house_number_survives_any_spelling(chinese, road, number, spelling):
    """ASCII, full-width and Chinese-numeral house numbers parse to the same road and number."""
    written = {
        "ascii": str(number),
        "full": "".join(chr(ord(c) + 0xFEE0) for c in str(number)),
        "chinese": chinese(number),
    }[spelling]
    parts = parse(f"浦东新区{road}{written}号")
    assert (parts.road, parts.house_value, parts.house_number) == (road, number, str(number))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "市民反映：上海市虹口广中路400弄8号电梯坏了",
            {"road": "广中路", "house_number": "400弄", "building": "8"},
        ),
        ("来电人反映，上海市浦东新区汤臣豪园6号楼电梯里有人被困", {"compound": "汤臣豪园", "building": "6"}),
        ("巡查发现 浦东新区杨高南路981号", {"district_code": "310115", "road": "杨高南路"}),
        ("浦东南路80弄仁恒滨江园停水", {"road": "浦东南路", "compound": "仁恒滨江园"}),
    ],
)
def test_city_and_district_names_in_free_text_are_not_part_of_the_place(text, expected):
    """In a description the road or compound starts after 上海市/浦东新区, not inside them."""
    parts = HINTS.find_in_text(convert_unit_numerals(nfkc(text))).as_dict()
    for name, value in expected.items():
        assert parts[name] == value, name
