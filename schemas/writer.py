"""Avro binary encoding of our records (pydantic models or complete dicts), compiled once per schema.

``fastavro.schemaless_writer`` is generic: per field it looks the type up in the schema,
and per optional field it tries each branch of the union in turn. For the records this
project writes (validated pydantic models of known types, and the complete dicts the
gateway decodes, updates and writes again) that work is decided once: a
``compile_writer(schema)`` walks the parsed schema and returns one closure per field
that appends the field's bytes. The bytes are Avro's binary encoding, the same as
fastavro writes (tests compare the two on every simulated and example record).

It is a fast path only. Any value it does not expect — a type other than the one the
validated model holds, an unknown enum symbol, an integer out of range, a string that
is not encodable — raises ``FastPathError``, and the caller then encodes the record with
fastavro, which either writes it or raises its own error. So the output bytes and the
error messages are fastavro's in every case; only the common case is faster. Schemas
using a type not listed below compile to ``None`` (fastavro is used throughout).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

#: What a compiled field writer does: append ``value``'s encoding to ``out``.
Write = Callable[[bytearray, Any], None]
#: A compiled record writer: the record's body, or ``FastPathError`` for any value it does not cover.
Encode = Callable[[Any], bytes]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_PACK_DOUBLE = struct.Struct("<d").pack


class FastPathError(Exception):
    """A value outside the fast path; encode the record with fastavro instead."""


def _varint(n: int) -> bytes:
    """Avro's zig-zag variable-length encoding of a 64-bit signed integer."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


#: Encodings of 0 … 16383: lengths, counts, enum and union indexes need no arithmetic.
_SMALL = [_varint(n) for n in range(16384)]
_SMALL_LIMIT = len(_SMALL)
_NULL_BRANCH = _SMALL[0]
_VALUE_BRANCH = _SMALL[1]


def _long(out: bytearray, value: Any) -> None:
    if type(value) is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise FastPathError
    out += _SMALL[value] if 0 <= value < _SMALL_LIMIT else _varint(value)


def _int(out: bytearray, value: Any) -> None:
    if type(value) is not int or not _INT_MIN <= value <= _INT_MAX:
        raise FastPathError
    out += _SMALL[value] if 0 <= value < _SMALL_LIMIT else _varint(value)


def _string(out: bytearray, value: Any) -> None:
    if type(value) is not str:
        raise FastPathError
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fastavro words the error
        raise FastPathError from None
    size = len(data)
    out += _SMALL[size] if size < _SMALL_LIMIT else _varint(size)
    out += data


def _bytes(out: bytearray, value: Any) -> None:
    if type(value) is not bytes:
        raise FastPathError
    size = len(value)
    out += _SMALL[size] if size < _SMALL_LIMIT else _varint(size)
    out += value


def _boolean(out: bytearray, value: Any) -> None:
    if value is True:
        out.append(1)
    elif value is False:
        out.append(0)
    else:
        raise FastPathError


def _double(out: bytearray, value: Any) -> None:
    if type(value) is not float:
        raise FastPathError
    out += _PACK_DOUBLE(value)


def _null(out: bytearray, value: Any) -> None:
    if value is not None:
        raise FastPathError


def _timestamp_millis(out: bytearray, value: Any) -> None:
    """fastavro's ``prepare_timestamp_millis`` for an aware datetime, then a long."""
    if type(value) is not datetime or value.tzinfo is None:
        raise FastPathError
    delta = value - _EPOCH
    _long(out, (delta.days * 24 * 3600 + delta.seconds) * 1000 + int(delta.microseconds / 1000))


_PRIMITIVES: dict[str, Write] = {
    "null": _null,
    "boolean": _boolean,
    "int": _int,
    "long": _long,
    "double": _double,
    "string": _string,
    "bytes": _bytes,
}


def _enum(symbols: list[str]) -> Write:
    index = {symbol: _SMALL[i] for i, symbol in enumerate(symbols)}

    def write(out: bytearray, value: Any) -> None:
        if not isinstance(value, str):
            raise FastPathError
        try:
            out += index[value]
        except KeyError:
            raise FastPathError from None

    return write


def _optional(branch: Write) -> Write:
    """``["null", X]``: index 0 for None, else index 1 and the value."""

    def write(out: bytearray, value: Any) -> None:
        if value is None:
            out += _NULL_BRANCH
        else:
            out += _VALUE_BRANCH
            branch(out, value)

    return write


def _array(items: Write) -> Write:
    def write(out: bytearray, value: Any) -> None:
        if type(value) is not list:
            raise FastPathError
        if value:
            size = len(value)
            out += _SMALL[size] if size < _SMALL_LIMIT else _varint(size)
            for item in value:
                items(out, item)
        out += _NULL_BRANCH  # the block count 0 that ends the array

    return write


def _map(values: Write) -> Write:
    def write(out: bytearray, value: Any) -> None:
        if type(value) is not dict:
            raise FastPathError
        if value:
            size = len(value)
            out += _SMALL[size] if size < _SMALL_LIMIT else _varint(size)
            for key, item in value.items():
                _string(out, key)
                values(out, item)
        out += _NULL_BRANCH

    return write


class _NotCoveredError(Exception):
    """The schema uses a type outside the fast path."""


def _recursive(out: bytearray, value: Any) -> None:
    raise FastPathError


def _record(fields: list[tuple[str, Write]]) -> Write:
    pairs = tuple(fields)
    count = len(pairs)

    def write(out: bytearray, value: Any) -> None:
        # A pydantic model's ``__dict__`` holds exactly its fields (``extra="forbid"``), by the
        # Avro field names (``tests/schemas/test_models_match_avsc.py``). A dict is taken when it
        # holds exactly the schema's fields, as a decoded record does; one that lacks a field
        # with a default (fastavro fills it in) or has keys fastavro would ignore steps aside.
        if type(value) is dict:
            values = value
        elif isinstance(value, BaseModel):
            values = value.__dict__
        else:
            raise FastPathError
        if len(values) != count:
            raise FastPathError
        try:
            for name, field in pairs:
                field(out, values[name])
        except KeyError:
            raise FastPathError from None

    return write


def _compile(schema: Any, named: dict[str, Write]) -> Write:
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return _PRIMITIVES[schema]
        if schema in named:
            return named[schema]
        raise _NotCoveredError(schema)
    if isinstance(schema, list):
        if len(schema) == 2 and schema[0] == "null":
            return _optional(_compile(schema[1], named))
        raise _NotCoveredError(f"union {schema}")
    kind = schema.get("type")
    logical = schema.get("logicalType")
    if kind == "long" and logical == "timestamp-millis":
        return _timestamp_millis
    if logical is not None:
        raise _NotCoveredError(f"logical type {logical}")
    if kind in _PRIMITIVES:
        return _PRIMITIVES[kind]
    if kind == "enum":
        named[schema["name"]] = write = _enum(schema["symbols"])
        return write
    if kind == "array":
        return _array(_compile(schema["items"], named))
    if kind == "map":
        return _map(_compile(schema["values"], named))
    if kind == "record":
        name = schema["name"]
        named[name] = _recursive  # a reference to a record from inside itself is not supported
        named[name] = write = _record([(f["name"], _compile(f["type"], named)) for f in schema["fields"]])
        return write
    raise _NotCoveredError(f"type {kind}")


def compile_writer(parsed: dict[str, Any]) -> Encode | None:
    """A function writing a record of this (fastavro-parsed) schema; None if not supported.

    The function raises ``FastPathError`` for any value outside the fast path.
    """
    try:
        record = _compile(parsed, {})
    except _NotCoveredError:
        return None

    def write(value: Any) -> bytes:
        out = bytearray()
        record(out, value)
        return bytes(out)

    return write
