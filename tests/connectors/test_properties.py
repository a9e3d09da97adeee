"""Property tests: no bytes make a connector raise; every record lands as a Report or a DeadLetter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors import Ingestor, examples
from connectors.outputs import OutputEncoder
from gateway.settings import Settings
from schemas.models import DeadLetter, DeadLetterSource, Report, Transport
from schemas.serde import SingleObjectCodec

CHANNELS = sorted(examples.RAW)
RECEIVED = datetime(2026, 11, 1, tzinfo=UTC)
POSITION = DeadLetterSource(transport=Transport.KAFKA, topic="raw", partition=3, offset=42)
SLOW = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def encoder(settings: Settings) -> OutputEncoder:
    """Encodes results the way the connect loop does."""
    return OutputEncoder(settings, SingleObjectCodec())


def _lands(ingestor: Ingestor, encoder: OutputEncoder, channel: str, raw: bytes) -> Report | DeadLetter:
    result = ingestor.ingest(channel, raw, POSITION, RECEIVED)
    assert isinstance(result, Report | DeadLetter)
    output = encoder.encode(result, POSITION)
    assert output.value
    if isinstance(output.result, DeadLetter):
        assert output.result.raw == raw
        assert output.result.source == POSITION
    else:
        assert output.result.raw == raw
    return output.result


@SLOW
@given(channel=st.sampled_from(CHANNELS), raw=st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(ingestor, encoder, channel: str, raw: bytes) -> None:
    """Random bytes become a DeadLetter (or, by luck, a Report), never an exception."""
    _lands(ingestor, encoder, channel, raw)


@SLOW
@given(channel=st.sampled_from(CHANNELS), data=st.data())
def test_byte_level_mutations_never_raise(ingestor, encoder, channel: str, data: st.DataObject) -> None:
    """Flipping, inserting or cutting bytes of a valid record still lands somewhere."""
    raw = bytearray(examples.RAW[channel])
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip":
            raw[index] = data.draw(st.integers(0, 255))
        elif action == "insert":
            raw[index:index] = data.draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and len(raw) > 1:
            del raw[index]
        elif action == "truncate":
            del raw[index:]
            raw = raw or bytearray(b"{")
    _lands(ingestor, encoder, channel, bytes(raw))


@SLOW
@given(channel=st.sampled_from(["12345", "grid"]), data=st.data())
def test_json_field_mutations_never_raise(ingestor, encoder, channel: str, data: st.DataObject) -> None:
    """Any JSON value in any field, missing fields and extra fields: a Report or a DeadLetter."""
    record = json.loads(examples.RAW[channel])
    field = data.draw(st.sampled_from(sorted(record)))
    if data.draw(st.booleans()):
        record[field] = data.draw(json_values)
    else:
        del record[field]
    record[data.draw(st.text(max_size=8))] = data.draw(json_values)
    _lands(ingestor, encoder, channel, json.dumps(record, ensure_ascii=False).encode())


@SLOW
@given(data=st.data())
def test_xml_field_mutations_never_raise(ingestor, encoder, data: st.DataObject) -> None:
    """Any text in any 12319 element lands as a Report or a DeadLetter."""
    text = examples.URBAN_12319.decode()
    element = data.draw(
        st.sampled_from(["caseCode", "represent", "reportTime", "x", "y", "gridCode", "recType"])
    )
    start = text.index(f"<{element}>") + len(element) + 2
    end = text.index(f"</{element}>")
    value = escape(data.draw(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]))))
    _lands(ingestor, encoder, "12319", (text[:start] + value + text[end:]).encode())


@SLOW
@given(data=st.data())
def test_csv_cell_mutations_never_raise(ingestor, encoder, data: st.DataObject) -> None:
    """Any GBK-encodable text in any 962121 cell lands as a Report or a DeadLetter."""
    header, row = examples.PROPERTY_962121.decode("gbk").rstrip("\r\n").split("\r\n")
    cells = row.split(",")
    index = data.draw(st.integers(0, len(cells) - 1))
    cells[index] = data.draw(st.text(alphabet='0123456789０１２ ,"/-:年月日浦东花木漏水', max_size=20))
    raw = f"{header}\r\n{','.join(cells)}\r\n".encode("gbk")
    _lands(ingestor, encoder, "962121", raw)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_dead_letter_says_where_and_why(ingestor: Ingestor, channel: str) -> None:
    """A broken record's DeadLetter carries its position, kind, message and original bytes."""
    raw = examples.RAW[channel][:25]
    letter = ingestor.ingest(channel, raw, POSITION, RECEIVED)
    assert isinstance(letter, DeadLetter)
    assert letter.channel == channel
    assert letter.source == POSITION
    assert letter.raw == raw
    assert letter.error_message
    assert letter.error_kind.value in {"DECODE_ERROR", "PARSE_ERROR", "VALIDATION_ERROR"}
