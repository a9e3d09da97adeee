"""Chinese numerals to digits, but only where they count something: before a unit word.

Whole-string converters (cn2an.transform and friends) turn 七宝 into 7宝 and 四平路 into
4平路, which breaks every later comparison of road names. House numbers, lanes,
buildings, rooms and floors are the only numbers an address comparison needs, and
they are always followed by a unit word, so only a numeral run directly before one of
号楼 号 弄 栋 幢 室 单元 层 楼 is converted: 四平路一千二百三十九号 → 四平路1239号.
Both readings are handled: positional (一千二百三十九) and digit by digit (五〇二, 幺).
"""

from __future__ import annotations

import re

UNIT_WORDS: tuple[str, ...] = ("号楼", "单元", "号", "弄", "栋", "幢", "室", "层", "楼")

_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "○": 0, "Ｏ": 0,
    "一": 1, "幺": 1, "壹": 1,
    "二": 2, "两": 2, "贰": 2,
    "三": 3, "叁": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_MULTIPLIERS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_MULTIPLIERS)
_UNITS_ALT = "|".join(sorted(UNIT_WORDS, key=len, reverse=True))
_BEFORE_UNIT = re.compile(f"([{_NUMERAL_CHARS}]+)(?=(?:{_UNITS_ALT}))")
# "3#楼", "12#" are common shorthand for 3号楼 / 12号.
_HASH_NUMBER = re.compile(r"(\d+)#")


def numeral_value(text: str) -> int | None:
    """The value of a Chinese numeral run, or None when it is not a well-formed number.

    >>> numeral_value("一千二百三十九"), numeral_value("五〇二"), numeral_value("十五")
    (1239, 502, 15)
    """
    if not text:
        return None
    if not any(ch in _MULTIPLIERS for ch in text):
        # Digit by digit, as room numbers and phone-style readings are spoken.
        if any(ch not in _DIGITS for ch in text):
            return None
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total = 0
    pending: int | None = None
    last_multiplier = 10_000
    for ch in text:
        if ch in _DIGITS:
            if pending is not None and pending != 0:
                return None  # two digits in a row inside a positional number
            pending = _DIGITS[ch]
        elif ch in _MULTIPLIERS:
            multiplier = _MULTIPLIERS[ch]
            if multiplier >= last_multiplier:
                return None  # 三十三十, 百千: not a number
            total += (1 if pending is None else pending) * multiplier
            pending = None
            last_multiplier = multiplier
        else:
            return None
    return total + (pending or 0)


def _replace(match: re.Match[str]) -> str:
    value = numeral_value(match.group(1))
    return match.group(1) if value is None else str(value)


def convert_unit_numerals(text: str) -> str:
    """Convert numerals directly before a unit word to Arabic digits; leave every other character.

    Expects NFKC-normalised text (full-width digits already folded).
    """
    text = _HASH_NUMBER.sub(r"\1号", text)
    return _BEFORE_UNIT.sub(_replace, text)
