"""The compiled Avro writer (``schemas.writer``) writes fastavro's bytes, or steps aside."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import REGISTRY, Ingestor
from connectors.simulator import generate
from gateway.settings import Settings
from schemas import EncodeError, SingleObjectCodec, catalog, examples
from schemas.models import DeadLetterSource, Report, Transport
from schemas.writer import FastPathError, Sealed, compile_writer, writer_source

CURRENT = catalog.current()
WRITERS = {name: compile_writer(schema.parsed) for name, schema in CURRENT.items()}


def fastavro_bytes(name: str, record) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, CURRENT[name].parsed, record.model_dump())
    return out.getvalue()


def test_every_current_schema_compiles() -> None:
    """The fast path covers every record we write (else it silently falls back everywhere)."""
    assert all(WRITERS.values())


@pytest.mark.parametrize("name", sorted(examples.ALL))
def test_examples_same_bytes_as_fastavro(name: str) -> None:
    """Each example as a model, as its model_dump, and as decoded from its own encoding."""
    record = examples.ALL[name]()
    expected = fastavro_bytes(name, record)
    codec = SingleObjectCodec()
    decoded = codec.decode_dict(codec.encode(record))[1]  # what the gateway updates and writes again
    assert WRITERS[name](record) == WRITERS[name](record.model_dump()) == WRITERS[name](decoded) == expected


def test_simulated_reports_same_bytes_as_fastavro() -> None:
    """Every channel's mapped Reports (and the dead letters of malformed records) byte for byte."""
    ingestor = Ingestor(Settings())
    received = datetime(2026, 11, 1, 8, 15, 30, 123456, tzinfo=UTC)
    seen = set()
    for record in generate(seed=7, reports=800, malformed=0.2).records:
        position = DeadLetterSource(transport=Transport.KAFKA, topic="t", partition=0, offset=len(seen))
        result = ingestor.ingest(record.channel, record.raw, position, received)
        name = type(result).__name__
        assert WRITERS[name](result) == WRITERS[name](result.model_dump()) == fastavro_bytes(name, result)
        seen.add((record.channel, name))
    assert {channel for channel, _ in seen} == set(REGISTRY)
    assert {name for _, name in seen} == {"Report", "DeadLetter"}


def _report(**changes) -> Report:
    base = examples.report().model_dump()
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            if "." in inner:
                middle, leaf = inner.split(".")
                base[outer][middle][leaf] = value
            else:
                base[outer][inner] = value
        else:
            base[key] = value
    return Report.model_validate(base)


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
optional_text = st.none() | text


@settings(max_examples=200, deadline=None)
@given(
    title=text,
    native_code=optional_text,
    district=optional_text,
    lat=st.none() | st.floats(-90, 90),
    lon=st.none() | st.floats(-180, 180),
    reported=st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    deadline=st.none() | st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC)),
    urls=st.lists(text, max_size=3),
    attributes=st.dictionaries(text, text, max_size=3),
    raw=st.binary(max_size=64),
    confidential=st.booleans(),
)
def test_random_reports_same_bytes(
    title, native_code, district, lat, lon, reported, deadline, urls, attributes, raw, confidential
) -> None:
    record = _report(
        title=title,
        reported_at=reported,
        deadline=deadline,
        media_urls=urls,
        attributes=attributes,
        raw=raw,
        **{
            "category.native_code": native_code,
            "location.parts.district": district,
            "location.lat": lat,
            "location.lon": lon,
            "reporter.confidential": confidential,
        },
    )
    assert WRITERS["Report"](record) == fastavro_bytes("Report", record)
    assert WRITERS["Report"](record.model_dump()) == fastavro_bytes("Report", record)


def test_lengths_and_numbers_beyond_the_small_table() -> None:
    """Lengths ≥ 16384 bytes, many array items, pre-epoch and far-future times, other offsets."""
    cases = [
        _report(description="描" * 20000, raw=b"x" * 70000, media_urls=[str(i) for i in range(20000)]),
        _report(reported_at=datetime(1960, 5, 1, 23, 59, 59, 999000, tzinfo=UTC)),
        _report(reported_at=datetime(9999, 12, 31, 12, tzinfo=timezone(timedelta(hours=8)))),
        _report(**{"location.lat": -0.0, "location.lon": 1e-300}),
    ]
    for record in cases:
        assert WRITERS["Report"](record) == fastavro_bytes("Report", record)


def test_nan_double_same_bytes() -> None:
    """The evidence score is a plain double: NaN and infinities pack as fastavro packs them."""
    for score in (math.nan, math.inf, -math.inf):
        record = examples.evidence().model_copy(update={"score": score})
        ticket = examples.ticket().model_copy(update={"evidence": [record]})
        assert WRITERS["Ticket"](ticket) == fastavro_bytes("Ticket", ticket)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's serializer warns about the bad values
def test_unexpected_values_step_aside_and_fastavro_words_the_error() -> None:
    """A value outside the fast path raises ``FastPathError``; the codec's error is fastavro's."""
    codec = SingleObjectCodec()
    cases = [
        examples.report().model_copy(update={"title": "\ud800"}),  # lone surrogate
        examples.report().model_copy(update={"channel": "NOT_A_CHANNEL"}),
        examples.report().model_copy(update={"filing_only": 1}),
        examples.report().model_copy(update={"reported_at": datetime(2026, 1, 1)}),  # naive
    ]
    for record in cases:
        with pytest.raises(FastPathError):
            WRITERS["Report"](record)
        datum = record.model_dump()
        try:
            expected = ("bytes", fastavro_bytes("Report", record))
        except Exception as exc:  # whatever fastavro raises, the codec must say the same
            expected = ("error", f"Report: value does not fit the schema: {exc}")
        try:
            got = ("bytes", codec.encode(record)[10:])
        except EncodeError as exc:
            got = ("error", str(exc))
        assert got == expected, datum


def test_incomplete_or_padded_mappings_go_through_fastavro() -> None:
    """A dict lacking a field with a default, with keys the schema lacks, or another mapping type
    is fastavro's to write.

    fastavro fills in the default and ignores the extra key; the codec's bytes are the same.
    """
    record = examples.report()
    lacking = {k: v for k, v in record.model_dump().items() if k != "media_urls"}  # default []
    padded = {**record.model_dump(), "not_in_schema": 1}
    codec = SingleObjectCodec()
    for datum in (lacking, padded, MappingProxyType(record.model_dump())):
        with pytest.raises(FastPathError):
            WRITERS["Report"](datum)
    assert codec.encode(lacking, name="Report") == codec.encode(padded, name="Report") == codec.encode(record)


def test_unsupported_schema_types_compile_to_none() -> None:
    for field_type in ("float", ["int", "string"], {"type": "fixed", "name": "F", "size": 2}):
        schema = {"type": "record", "name": "X", "fields": [{"name": "f", "type": field_type}]}
        assert compile_writer(schema) is None


def test_self_referencing_record_same_bytes_as_fastavro() -> None:
    """A record type named inside itself is a call to its own generated function."""
    from fastavro import parse_schema

    schema = parse_schema(
        {
            "type": "record",
            "name": "Node",
            "fields": [
                {"name": "label", "type": "string"},
                {"name": "next", "type": ["null", "Node"]},
            ],
        }
    )
    chain = {"label": "街道", "next": {"label": "居委", "next": {"label": "网格", "next": None}}}
    out = io.BytesIO()
    schemaless_writer(out, schema, chain)
    writer = compile_writer(schema)
    assert writer is not None
    assert writer(chain) == out.getvalue()


def test_writer_source_is_the_code_that_runs() -> None:
    """``writer_source`` shows one function per record type and the entry point."""
    source = writer_source(CURRENT["Report"].parsed)
    records = ("Report", "Category", "Location", "AddressParts", "Reporter")
    assert source.count("def ") == len(records) + 1  # the entry point, ``encode``
    compile(source, "<test>", "exec")


def test_a_sealed_record_keeps_its_bytes_for_every_writer_of_its_definition() -> None:
    """Sealed evidence in a ticket and in an event: fastavro's bytes each time, encoded once."""
    ticket = examples.ticket().model_dump()
    event = examples.ticket_event().model_dump()
    plain_ticket, plain_event = fastavro_bytes("Ticket", examples.ticket()), WRITERS["TicketEvent"](event)
    evidence = Sealed(ticket["evidence"][0])
    ticket["evidence"] = [evidence]
    event["evidence"] = evidence
    assert evidence.encoded is None
    assert WRITERS["Ticket"](ticket) == plain_ticket
    kept = evidence.encoded
    assert kept is not None
    assert WRITERS["TicketEvent"](event) == plain_event
    assert WRITERS["Ticket"](ticket) == plain_ticket
    assert evidence.encoded is kept  # the event's writer and the second ticket reused the bytes


def test_a_sealed_record_is_written_afresh_for_another_definition() -> None:
    """Bytes kept for one definition of a record are never written for a different one of its name."""
    from fastavro import parse_schema

    def schema(*fields: dict) -> dict:
        inner = {"type": "record", "name": "Part", "fields": list(fields)}
        return parse_schema({"type": "record", "name": "Whole", "fields": [{"name": "part", "type": inner}]})

    short = schema({"name": "a", "type": "string"})
    longer = schema({"name": "a", "type": "string"}, {"name": "b", "type": ["null", "string"]})
    part = Sealed({"a": "井盖"})
    first = compile_writer(short)
    second = compile_writer(longer)
    assert first is not None
    assert second is not None
    assert first({"part": part}) == first({"part": {"a": "井盖"}})
    with pytest.raises(FastPathError):
        second({"part": part})  # lacks "b": fastavro's turn, not the bytes kept for `short`


def test_a_sealed_record_refuses_changes() -> None:
    """Kept bytes cannot go stale: every way of changing the dict raises."""
    part = Sealed({"a": "1"})
    for change in (
        lambda: part.__setitem__("a", "2"),
        lambda: part.__delitem__("a"),
        lambda: part.update(a="2"),
        lambda: part.pop("a"),
        lambda: part.popitem(),
        lambda: part.clear(),
        lambda: part.setdefault("b", "2"),
    ):
        with pytest.raises(TypeError):
            change()
    assert part == {"a": "1"}
