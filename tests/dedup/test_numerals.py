"""Unit numerals become digits; every other Chinese character survives."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.normalize import nfkc
from dedup.numerals import UNIT_WORDS, convert_unit_numerals, numeral_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("四平路一千二百三十九号", "四平路1239号"),
        ("二号楼三单元五〇二室", "2号楼3单元502室"),
        ("一百零八弄", "108弄"),
        ("十五层", "15层"),
        ("3#楼", "3号楼"),
        ("七宝镇", "七宝镇"),
        ("八佰伴", "八佰伴"),
        ("四平路", "四平路"),
    ],
)
def test_examples(text, expected):
    """Documented conversions, and place names with numerals left alone."""
    assert convert_unit_numerals(text) == expected


@given(n=st.integers(min_value=1, max_value=9999), unit=st.sampled_from(UNIT_WORDS))
def test_positional_numerals_before_any_unit(chinese, n, unit):
    """Every positional numeral up to 9999 before a unit word becomes its value."""
    assert convert_unit_numerals(f"四平路{chinese(n)}{unit}") == f"四平路{n}{unit}"


@given(st.text(alphabet="七宝四平路八佰伴五角场十六铺万千百", max_size=20))
def test_text_without_unit_words_is_unchanged(text):
    """No unit word, no change: whole-string conversion would corrupt place names."""
    assert convert_unit_numerals(text) == text


@given(st.integers(min_value=0, max_value=10**6))
def test_full_width_digits_fold_under_nfkc(n):
    """Full-width digits are the same number after NFKC (the normaliser's first step)."""
    full = "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    assert nfkc(f"{full}号") == f"{n}号"


def test_malformed_numeral_is_left_alone():
    """A run that is not a number (三十三十) stays as written."""
    assert numeral_value("三十三十") is None
    assert convert_unit_numerals("三十三十号") == "三十三十号"
