"""Avro encoding of the unified records, in two wire formats.

* :class:`SingleObjectCodec` (default): the Avro spec's single-object encoding,
  ``C3 01`` + 8-byte CRC-64-AVRO fingerprint + body. Any consumer holding the
  ``.avsc`` files decodes it without a registry, which is what a department with
  only a Python script and the schema files needs.
* :class:`RegistryCodec` (when ``schema_registry.url`` is set): Confluent's wire
  format, magic byte ``0`` + 4-byte schema id + body, registering schemas under the
  topic-record subject name strategy (``<topic>-bingxian.<Name>``) so one topic may
  carry several record types.

Both decode records written with any published version of a schema and resolve
them to the current one (fastavro schema resolution), and both raise
:class:`UnknownSchemaError` / :class:`CorruptRecordError` rather than whatever the
Avro library happened to throw.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import Any, Protocol

from fastavro import schemaless_reader, schemaless_writer
from pydantic import BaseModel

from schemas import catalog
from schemas.catalog import RecordSchema
from schemas.exceptions import CorruptRecordError, EncodeError, UnknownSchemaError
from schemas.models import RECORDS
from schemas.writer import Encode, FastPathError, compile_writer

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
REGISTRY_MAGIC = b"\x00"

Record = BaseModel | Mapping[str, Any]


def _writers(schemas: Mapping[str, RecordSchema]) -> dict[str, Encode | None]:
    """The compiled fast-path writer of each schema (``schemas.writer``), by record name."""
    return {name: compile_writer(schema.parsed) for name, schema in schemas.items()}


def _body(schema: RecordSchema, record: Record, fast: Encode | None = None) -> bytes:
    """The Avro body: through the compiled writer when it takes the record, else fastavro.

    The compiled writer gives fastavro's bytes for models and complete dicts; whatever it does
    not take (``FastPathError``) goes through ``model_dump`` and fastavro, which write it or
    raise the error.
    """
    if fast is not None:
        try:
            return fast(record)
        except FastPathError:
            pass
    datum = record.model_dump() if isinstance(record, BaseModel) else record
    out = io.BytesIO()
    try:
        schemaless_writer(out, schema.parsed, datum)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, struct.error) as exc:
        raise EncodeError(f"{schema.name}: value does not fit the schema: {exc}") from exc
    return out.getvalue()


def _read(body: bytes, writer: RecordSchema, reader: RecordSchema) -> dict[str, Any]:
    stream = io.BytesIO(body)
    try:
        value = schemaless_reader(stream, writer.parsed, reader.parsed if reader is not writer else None)
    except Exception as exc:  # fastavro signals corruption with many exception types
        raise CorruptRecordError(f"{writer.name}: corrupt record body: {exc!r}") from exc
    if stream.tell() != len(body):
        extra = len(body) - stream.tell()
        raise CorruptRecordError(f"{writer.name}: {extra} trailing bytes after the record")
    return value


def _name_of(record: Record, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(record, BaseModel):
        return type(record).__name__
    raise EncodeError("a plain mapping needs the record name")


class Codec(Protocol):
    """What producers and consumers need: bytes in, bytes out, with the record's name."""

    #: Whether the bytes depend on the topic (registry ids are per subject), so a record
    #: sent to several topics must be encoded once per topic.
    frames_per_topic: bool

    def encode(self, record: Record, *, topic: str, name: str | None = None) -> bytes: ...

    def decode_dict(self, data: bytes, *, topic: str) -> tuple[str, dict[str, Any]]: ...


def decode(codec: Codec, data: bytes, *, topic: str, expect: str | None = None) -> BaseModel:
    """Decode to the pydantic model; ``expect`` rejects a record of another type."""
    name, value = codec.decode_dict(data, topic=topic)
    if expect is not None and name != expect:
        raise UnknownSchemaError(f"expected a {expect} on {topic}, got a {name}")
    return RECORDS[name].model_validate(value)


class SingleObjectCodec:
    """Avro single-object encoding; readers need only the ``.avsc`` files."""

    frames_per_topic = False

    def __init__(self) -> None:
        self._current = catalog.current()
        # Every fingerprint we can read -> (writer schema, reader schema of the same name).
        self._readers: dict[bytes, tuple[RecordSchema, RecordSchema]] = {}
        for name, versions in catalog.history().items():
            for writer in versions:
                self._readers[writer.fingerprint] = (writer, self._current[name])
        for schema in self._current.values():
            self._readers[schema.fingerprint] = (schema, schema)
        self._headers = {n: SINGLE_OBJECT_MAGIC + s.fingerprint for n, s in self._current.items()}
        self._fast = _writers(self._current)

    def encode(self, record: Record, *, topic: str = "", name: str | None = None) -> bytes:
        name = _name_of(record, name)
        return self._headers[name] + _body(self._current[name], record, self._fast[name])

    def decode_dict(self, data: bytes, *, topic: str = "") -> tuple[str, dict[str, Any]]:
        if len(data) < 10 or data[:2] != SINGLE_OBJECT_MAGIC:
            raise CorruptRecordError("not an Avro single-object encoded record (expected C3 01 header)")
        try:
            writer, reader = self._readers[bytes(data[2:10])]
        except KeyError:
            raise UnknownSchemaError(f"unknown schema fingerprint {bytes(data[2:10]).hex()}") from None
        return reader.name, _read(data[10:], writer, reader)


class RegistryCodec:
    """Confluent Schema Registry wire format through ``confluent_kafka.schema_registry``."""

    frames_per_topic = True

    def __init__(self, url: str, extra: Mapping[str, str] | None = None) -> None:
        from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

        self._schema_cls = Schema
        self._client = SchemaRegistryClient.new_client({"url": url, **(extra or {})})
        self._current = catalog.current()
        self._by_fullname = {s.fullname: s for s in self._current.values()}
        self._fast = _writers(self._current)
        self._ids: dict[tuple[str, str], bytes] = {}
        self._writers: dict[int, tuple[RecordSchema, RecordSchema]] = {}

    def _header(self, topic: str, schema: RecordSchema) -> bytes:
        key = (topic, schema.name)
        header = self._ids.get(key)
        if header is None:
            subject = f"{topic}-{schema.fullname}"
            schema_id = self._client.register_schema(subject, self._schema_cls(schema.to_json(), "AVRO"))
            header = REGISTRY_MAGIC + schema_id.to_bytes(4, "big")
            self._ids[key] = header
            self._writers[schema_id] = (schema, schema)
        return header

    def encode(self, record: Record, *, topic: str, name: str | None = None) -> bytes:
        schema = self._current[_name_of(record, name)]
        return self._header(topic, schema) + _body(schema, record, self._fast[schema.name])

    def decode_dict(self, data: bytes, *, topic: str) -> tuple[str, dict[str, Any]]:
        if len(data) < 5 or data[:1] != REGISTRY_MAGIC:
            raise CorruptRecordError("not a Schema Registry framed record (expected magic byte 0)")
        schema_id = int.from_bytes(data[1:5], "big")
        pair = self._writers.get(schema_id)
        if pair is None:
            pair = self._lookup(schema_id)
        writer, reader = pair
        return reader.name, _read(data[5:], writer, reader)

    def _lookup(self, schema_id: int) -> tuple[RecordSchema, RecordSchema]:
        try:
            registered = self._client.get_schema(schema_id)
        except Exception as exc:
            raise UnknownSchemaError(f"schema id {schema_id} is not in the registry: {exc}") from exc
        definition = json.loads(registered.schema_str)
        fullname = definition.get("name", "")
        if "." not in fullname and definition.get("namespace"):
            fullname = f"{definition['namespace']}.{fullname}"
        reader = self._by_fullname.get(fullname)
        if reader is None:
            raise UnknownSchemaError(f"schema id {schema_id} is {fullname!r}, not a bingxian record")
        pair = (RecordSchema.from_definition(reader.name, definition), reader)
        self._writers[schema_id] = pair
        return pair


def make_codec(registry_url: str | None = None, extra: Mapping[str, str] | None = None) -> Codec:
    """The codec the configuration asks for: a registry if a URL is set, else single-object."""
    if registry_url:
        return RegistryCodec(registry_url, extra)
    return SingleObjectCodec()
