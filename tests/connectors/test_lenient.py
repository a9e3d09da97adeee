"""The lenient field parsers: every shape vendors send folds to one value; anything else is an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from connectors import lenient
from connectors.lenient import OptCode, OptText, fold, parse_flag, parse_float, parse_int, parse_time

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

local_times = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)).map(
    lambda t: t.replace(microsecond=0)
)
blanks = st.text(alphabet=" \t\r\n\u3000", max_size=5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01 08:15:30", datetime(2026, 11, 1, 8, 15, 30)),
        ("2026/11/01 08:15", datetime(2026, 11, 1, 8, 15)),
        ("2026/11/1 8:15", datetime(2026, 11, 1, 8, 15)),
        ("2026-11-01T08:15:30+08:00", datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)),
        ("2026-11-01T00:15:30Z", datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)),
        ("2026年11月1日8时15分", datetime(2026, 11, 1, 8, 15)),
        ("2026-11-01", datetime(2026, 11, 1)),
        ("２０２６-１１-０１ ０８:１５:３０", datetime(2026, 11, 1, 8, 15, 30)),
        ("1793492130000", datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)),
        (1793492130000, datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)),
        (1793492130, datetime(2026, 11, 1, 0, 15, 30, tzinfo=UTC)),
        ("  ", None),
        (None, None),
    ],
)
def test_time_shapes(text: object, expected: datetime | None) -> None:
    """Each documented time shape parses to the same instant (naive = local, aware = absolute)."""
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-13-01", "yesterday", "2026-11-01 25:00", "12:00", "1.5", True, [2026], "9" * 13, "1999-12-31"],
)
def test_time_rejects_the_rest(text: object) -> None:
    """Impossible dates, prose, booleans and out-of-range epochs are errors, not guesses."""
    with pytest.raises(ValueError, match=r"."):
        parse_time(text)


@given(local_times, st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]))
def test_time_round_trips_through_every_format(moment: datetime, fmt: str) -> None:
    """Any local time rendered in a supported format parses back to itself."""
    assert parse_time(moment.strftime(fmt)) == moment


def _outcome(value: object) -> object:
    try:
        result = parse_time(value)
    except ValueError as exc:
        return "error", str(exc)
    return result, None if result is None else result.utcoffset()


iso_like = st.builds(
    "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}".format,
    st.integers(1990, 2110),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from([" ", "T"]),
    st.integers(0, 25),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from(["", "Z", "+08:00", "-05:30", "+00:00", "+23:59", "+24:00", "+08:60"]),
)


class _NoFastPath:
    """Within it, ``parse_time`` takes the general path for every value."""

    def __enter__(self) -> None:
        self._saved = lenient._ISO
        lenient._ISO = lenient.re.compile(r"(?!)")

    def __exit__(self, *exc: object) -> None:
        lenient._ISO = self._saved


@pytest.fixture(scope="module")
def general_path() -> _NoFastPath:
    return _NoFastPath()


@given(iso_like)
def test_iso_fast_path_agrees_with_the_general_path(general_path: _NoFastPath, text: str) -> None:
    """The ISO shape read by ``fromisoformat`` gives what the general pattern gives, errors included."""
    fast = _outcome(text)
    with general_path:
        assert _outcome(text) == fast


@given(local_times)
def test_time_unpadded_slash_format(moment: datetime) -> None:
    """The 962121 shape without zero padding (2026/11/1 8:15) parses back to the minute."""
    text = f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute}"
    assert parse_time(text) == moment.replace(second=0)


@given(local_times, st.integers(min_value=-12, max_value=14))
def test_time_with_offset_is_absolute(moment: datetime, hours: int) -> None:
    """An ISO time with an offset is the same instant in UTC."""
    aware = moment.replace(tzinfo=timezone(timedelta(hours=hours)))
    assert parse_time(aware.isoformat()) == aware


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)))
def test_epoch_milliseconds_as_number_and_string(moment: datetime) -> None:
    """Epoch milliseconds mean the same instant as an int or a digit string."""
    millis = int(moment.timestamp() * 1000)
    expected = datetime.fromtimestamp(millis / 1000, tz=UTC)
    assert parse_time(millis) == parse_time(str(millis)) == expected


@given(local_times)
def test_full_width_digits_fold(moment: datetime) -> None:
    """A time typed with full-width digits equals the ASCII one."""
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    assert parse_time(text.translate(FULL_WIDTH)) == parse_time(text)


@given(st.integers(min_value=-(10**9) + 1, max_value=10**9 - 1), blanks, blanks)
def test_integers_with_full_width_digits_and_whitespace(number: int, before: str, after: str) -> None:
    """An integer survives full-width digits and stray whitespace, as text or as a number."""
    assert parse_int(before + str(number).translate(FULL_WIDTH) + after) == number
    assert parse_int(number) == number


@given(st.floats(min_value=-180, max_value=180, allow_nan=False), blanks)
def test_floats_from_text(value: float, pad: str) -> None:
    """A decimal number given as text parses to the same float."""
    assert parse_float(pad + repr(value) + pad) == value


class _Blank(BaseModel):
    text: OptText
    code: OptCode


@given(blanks)
def test_blank_means_absent(text: str) -> None:
    """Whitespace-only strings (ideographic space included) are absent for every parser."""
    assert _Blank.model_validate({"text": text, "code": text}) == _Blank(text=None, code=None)
    assert parse_time(text) is None
    assert parse_int(text) is None
    assert parse_float(text) is None
    assert parse_flag(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("0", False),
        (True, True),
        (0, False),
        ("true", True),
        ("FALSE", False),
        ("是", True),
        ("否", False),
    ],
)
def test_flags(value: object, expected: bool) -> None:
    """Flags accept the spellings vendors use."""
    assert parse_flag(value) is expected


@pytest.mark.parametrize("value", ["2", "maybe", 5, 1.5])
def test_flags_reject_the_rest(value: object) -> None:
    """Anything else is an error."""
    with pytest.raises(ValueError, match="flag"):
        parse_flag(value)


@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "12a", True])
def test_floats_reject_non_numbers(value: object) -> None:
    """Non-finite values, exponents and booleans are not coordinates."""
    with pytest.raises(ValueError, match="number"):
        parse_float(value)


def test_fold_keeps_chinese_and_folds_width() -> None:
    """NFKC folds full-width digits, letters and the ideographic space; Chinese text stays."""
    assert fold("\u3000ＱＡ０６０３ 浦东 ") == "QA0603 浦东"
