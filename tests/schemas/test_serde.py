"""Round trips and failure modes of both wire formats."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import (
    CorruptRecordError,
    RegistryCodec,
    SingleObjectCodec,
    UnknownSchemaError,
    catalog,
    decode,
    examples,
)
from schemas.serde import REGISTRY_MAGIC, SINGLE_OBJECT_MAGIC

RECORDS = sorted(examples.ALL)


@pytest.fixture(params=["single-object", "registry"])
def codec(request: pytest.FixtureRequest):
    if request.param == "single-object":
        return SingleObjectCodec()
    # confluent's mock:// registry is a registry double for serializer tests, not a broker.
    return RegistryCodec("mock://bingxian-tests")


@pytest.mark.parametrize("name", RECORDS)
def test_round_trip(codec, name: str) -> None:
    """Every record type decodes to an equal model in both wire formats."""
    record = examples.ALL[name]()
    data = codec.encode(record, topic="t")
    assert decode(codec, data, topic="t") == record


@pytest.mark.parametrize("name", RECORDS)
def test_single_object_header(name: str) -> None:
    """Single-object encoding starts with C3 01 and the schema's CRC-64-AVRO fingerprint."""
    data = SingleObjectCodec().encode(examples.ALL[name]())
    assert data[:2] == SINGLE_OBJECT_MAGIC
    assert data[2:10] == catalog.current()[name].fingerprint


def test_registry_header_and_subject() -> None:
    """Registry framing is magic 0 + the id under the topic-record subject."""
    codec = RegistryCodec("mock://bingxian-subjects")
    data = codec.encode(examples.report(), topic="reports")
    assert data[:1] == REGISTRY_MAGIC
    schema_id = int.from_bytes(data[1:5], "big")
    registered = codec._client.get_latest_version("reports-bingxian.Report")
    assert registered.schema_id == schema_id


def test_fingerprint_matches_the_avro_spec_algorithm() -> None:
    """Our fingerprints equal an independent CRC-64-AVRO of the canonical form (spec's Rabin)."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    for schema in catalog.current().values():
        fp = empty
        for byte in schema.canonical.encode():
            fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
        assert schema.fingerprint == fp.to_bytes(8, "little")


def test_decode_rejects_unknown_fingerprint() -> None:
    """A record written with a schema we never published is a typed error naming the fingerprint."""
    data = SINGLE_OBJECT_MAGIC + b"\x01" * 8 + b"\x00"
    with pytest.raises(UnknownSchemaError, match="0101010101010101"):
        SingleObjectCodec().decode_dict(data)


def test_decode_rejects_missing_header() -> None:
    """Bytes without the single-object header are corrupt, not a crash."""
    with pytest.raises(CorruptRecordError):
        SingleObjectCodec().decode_dict(b'{"json": "not avro"}')


def test_decode_rejects_trailing_bytes() -> None:
    """A valid record followed by garbage is corrupt."""
    codec = SingleObjectCodec()
    data = codec.encode(examples.status_change()) + b"garbage"
    with pytest.raises(CorruptRecordError, match="trailing"):
        codec.decode_dict(data)


def test_expect_rejects_other_record_type() -> None:
    """Decoding with an expected type refuses a record of another type."""
    codec = SingleObjectCodec()
    with pytest.raises(UnknownSchemaError, match="expected a Ticket"):
        decode(codec, codec.encode(examples.report()), topic="tickets", expect="Ticket")


def test_registry_rejects_unknown_id() -> None:
    """An id the registry does not know is a typed error."""
    codec = RegistryCodec("mock://bingxian-unknown")
    with pytest.raises(UnknownSchemaError):
        codec.decode_dict(REGISTRY_MAGIC + (424242).to_bytes(4, "big") + b"\x00", topic="t")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_typed_errors(data: bytes) -> None:
    """Whatever the bytes, decoding returns a record or raises a SchemaError subclass."""
    codec = SingleObjectCodec()
    body = SINGLE_OBJECT_MAGIC + catalog.current()["TicketStatusChange"].fingerprint + data
    for candidate in (data, body):
        with contextlib.suppress(CorruptRecordError, UnknownSchemaError):
            codec.decode_dict(candidate)


@settings(max_examples=100, deadline=None)
@given(
    description=st.text(max_size=200),
    title=st.text(max_size=30),
    lat=st.none() | st.floats(-90, 90),
    attributes=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5),
)
def test_report_round_trip_property(description: str, title: str, lat: float | None, attributes) -> None:
    """Any text, coordinates and attributes survive an encode/decode round trip."""
    base = examples.report()
    record = base.model_copy(
        update={
            "description": description,
            "title": title,
            "attributes": attributes,
            "location": base.location.model_copy(update={"lat": lat}),
        }
    )
    codec = SingleObjectCodec()
    assert decode(codec, codec.encode(record), topic="t") == record
