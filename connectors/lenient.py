"""Lenient field types for native records: what real vendor exports look like.

Vendors send the same value in many shapes: times as ``2026/11/1 8:15``, ISO with an
offset or epoch milliseconds; digits typed on a Chinese IME as full-width ``１３８``;
empty strings or whitespace where a value is absent; ``"0"``/``"1"``/``true`` for flags.
These ``Annotated`` types fold every accepted shape into one Python value at the edge
(pydantic validation of the native model), so the mapping code sees clean values only.

Times without an offset stay *naive* here: the channel's configured time zone is
applied by the mapping (``connectors.mapping``), because the zone is configuration,
not a property of the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

#: The first and last instants accepted anywhere (guards against epoch seconds sent as ms and vice versa).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_TIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:(?:[ T]+|(?<=日))(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?分?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_EPOCH = re.compile(r"\d{9,10}|\d{12,13}")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?")
#: The shape most vendors send, ISO 8601 to the second with an optional offset, in ASCII:
#: ``datetime.fromisoformat`` reads it in ~0.1 µs where ``_TIME`` and the constructor take ~4 µs.
#: The two agree on every value of this shape; what ``fromisoformat`` refuses takes the general
#: path, which words the error.
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?", re.ASCII)
_EARLIEST_NAIVE = EARLIEST.replace(tzinfo=None)
_LATEST_NAIVE = LATEST.replace(tzinfo=None)
_TRUE = frozenset({"1", "true", "yes", "y", "是", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "否", "f"})


def fold(value: str) -> str:
    """NFKC (full-width digits and letters to ASCII, ideographic space to space), then strip."""
    if value.isascii():
        return value.strip()
    return unicodedata.normalize("NFKC", value).strip()


def _text(value: Any) -> Any:
    if type(value) is str:  # the common case first: this runs for most fields of every record
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _code(value: Any) -> Any:
    value = _text(value)
    return fold(value) or None if isinstance(value, str) else value


def _from_epoch(number: int) -> datetime:
    seconds = number / 1000 if number >= 10**11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"epoch value {number} is out of range") from exc


def parse_time(value: Any) -> datetime | None:
    """One of the time shapes vendors send, as a datetime (naive when the source has no offset).

    Accepted: ``2026-11-01 08:15:30``, ``2026/11/1 8:15``, ``2026-11-01T08:15:30+08:00``,
    ``2026年11月1日8时15分``, compact ``20261101081530``, a date alone (``2026-11-01``,
    ``20261101``; midnight), epoch milliseconds (12–13 digits) or seconds (9–10 digits)
    as a number or a digit string, full-width digits in any of them. Blank means absent
    (``None``). Anything else raises ``ValueError``.
    """
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        raise ValueError("a time cannot be a boolean")
    if isinstance(value, int | float):
        result = _from_epoch(int(value))
    elif isinstance(value, str):
        text = fold(value)
        if not text:
            return None
        result = _iso(text) if _ISO.fullmatch(text) else None
        if result is None:
            result = _from_epoch(int(text)) if _EPOCH.fullmatch(text) else _match_time(text)
    else:
        raise ValueError(f"a time must be a string or a number, not {type(value).__name__}")
    # A naive time is read as UTC for the range check: compared with naive bounds, not converted.
    if not (EARLIEST <= result < LATEST if result.tzinfo else _EARLIEST_NAIVE <= result < _LATEST_NAIVE):
        raise ValueError(f"time {result.isoformat()} is outside {EARLIEST.year}–{LATEST.year}")
    return result


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13: the general path raises with its own message
        return None


def _match_time(text: str) -> datetime:
    match = _TIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
    else:
        match = _COMPACT.fullmatch(text)
        if match is None:
            raise ValueError(f"unrecognised time format {text[:40]!r}")
        (year, month, day, hour, minute, second), fraction, zone = match.groups(), None, None
    try:
        result = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError as exc:
        raise ValueError(f"impossible time {text[:40]!r}: {exc}") from exc
    if zone:
        result = datetime.fromisoformat(f"{result.isoformat()}{'+00:00' if zone == 'Z' else zone}")
    return result


def parse_flag(value: Any) -> bool | None:
    """``"0"``/``"1"``, ``true``/``false``, ``是``/``否``, 0/1 or a bool; blank means absent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = fold(value).lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"not a yes/no flag: {str(value)[:20]!r}")


def parse_int(value: Any) -> int | None:
    """An integer given as a number or a (full-width) digit string; blank means absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("an integer cannot be a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = fold(value)
        if not text:
            return None
        if re.fullmatch(r"[+-]?\d{1,9}", text):
            return int(text)
    raise ValueError(f"not an integer: {str(value)[:20]!r}")


def parse_float(value: Any) -> float | None:
    """A decimal number given as a number or a (full-width) string; blank means absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a number cannot be a boolean")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        text = fold(value)
        if not text:
            return None
        try:
            result = float(text)
        except ValueError:
            raise ValueError(f"not a number: {text[:20]!r}") from None
    else:
        raise ValueError(f"not a number: {type(value).__name__}")
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return result


def _required(parse: Any) -> Any:
    """Wrap a parser so that an absent (blank) value is an error with a plain message."""

    def check(value: Any) -> Any:
        result = parse(value)
        if result is None:
            raise ValueError("required, must not be blank")
        return result

    return check


#: Free text: stripped; blank is absent. Numbers are accepted and kept as their text.
Text = Annotated[str, BeforeValidator(_required(_text))]
OptText = Annotated[str | None, BeforeValidator(_text)]
#: A code or identifier: full-width folded, stripped; blank is absent.
Code = Annotated[str, BeforeValidator(_required(_code))]
OptCode = Annotated[str | None, BeforeValidator(_code)]
Time = Annotated[datetime, BeforeValidator(_required(parse_time))]
OptTime = Annotated[datetime | None, BeforeValidator(parse_time)]
OptFlag = Annotated[bool | None, BeforeValidator(parse_flag)]
OptInt = Annotated[int | None, BeforeValidator(parse_int)]
OptFloat = Annotated[float | None, BeforeValidator(parse_float)]
