"""Avro binary encoding of our records (pydantic models or complete dicts), compiled once per schema.

``fastavro.schemaless_writer`` is generic: per field it looks the type up in the schema,
and per optional field it tries each branch of the union in turn. For the records this
project writes (validated pydantic models of known types, and the complete dicts the
gateway decodes, updates and writes again) that work is decided once: ``compile_writer``
turns the parsed schema into Python source, one straight-line function per record type
with every field's type check and encoding written out, and compiles it (the way
``dataclasses`` and ``attrs`` build their methods). Generated code, not one closure per
field, because a function call per field was most of the cost: the generated writer is
about three times as fast as fastavro here, the closures were less than twice
(docs/benchmarks.md). ``writer_source(schema)`` shows the code. The bytes are Avro's
binary encoding, the same as fastavro writes (tests compare the two on every simulated
and example record, and on random ones).

It is a fast path only. Any value it does not expect — a type other than the one the
validated model holds, an unknown enum symbol, an integer out of range, a string that
is not encodable, a dict with other keys than the schema's fields — raises
``FastPathError``, and the caller then encodes the record with fastavro, which either
writes it or raises its own error. So the output bytes and the error messages are
fastavro's in every case; only the common case is faster. Schemas using a type not
covered below compile to ``None`` (fastavro is used throughout).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

#: A compiled record writer: the record's body, or ``FastPathError`` for any value it does not cover.
Encode = Callable[[Any], bytes]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class FastPathError(Exception):
    """A value outside the fast path; encode the record with fastavro instead."""


class Sealed(dict):  # type: ignore[type-arg]
    """A record as a dict that no longer changes, so the writer keeps its bytes after the first write.

    The gateway re-encodes a ticket on every change (a merge, each status change), and each
    time wrote again its kept merge evidence: ~8 % of its processing time (py-spy), for
    values that never change once decided. Any writer of the same record definition
    reuses the bytes (a ticket and the event that carries the same evidence). Changing a
    sealed dict raises ``TypeError``: stale bytes cannot happen by mistake.

    "The same definition" is the record's schema as written out where the writer meets
    it; a type it names without defining it there is taken to mean the one definition
    that name has in the catalog the writers are compiled from (``catalog.current()``).
    """

    __slots__ = ("encoded",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoded: tuple[str, bytes] | None = None  # (record definition key, bytes)

    def _refuse(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("a Sealed record does not change; build a new one")

    __setitem__ = __delitem__ = __ior__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]


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
_SMALL = tuple(_varint(n) for n in range(16384))

#: What the generated code refers to, besides the per-schema enum tables.
_GLOBALS: dict[str, Any] = {
    "FastPathError": FastPathError,
    "BaseModel": BaseModel,
    "Sealed": Sealed,
    "datetime": datetime,
    "EPOCH": _EPOCH,
    "SMALL": _SMALL,
    "LIMIT": len(_SMALL),
    "varint": _varint,
    "pack_double": struct.Struct("<d").pack,
    "LONG_MIN": _LONG_MIN,
    "LONG_MAX": _LONG_MAX,
    "INT_MIN": _INT_MIN,
    "INT_MAX": _INT_MAX,
}

_SIZE = "out += SMALL[{n}] if {n} < LIMIT else varint({n})"
_FAIL = "raise FastPathError"


class _NotCoveredError(Exception):
    """The schema uses a type outside the fast path."""


class _Generator:
    """Python source for one schema: a function per record type, the other types inline."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.records: dict[str, str] = {}  # record name → its function's name
        self.enums: dict[str, str] = {}  # enum name → its table's name
        self.tables: dict[str, dict[str, bytes]] = {}
        self._names = 0

    def fresh(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def value(self, schema: Any, var: str) -> list[str]:
        """Lines appending the encoding of the local ``var`` (of type ``schema``) to ``out``."""
        if isinstance(schema, str):
            if schema in self.records:
                return [f"{self.records[schema]}(out, {var})"]
            if schema in self.enums:
                return self._enum_lookup(self.enums[schema], var)
            return self._primitive(schema, var)
        if isinstance(schema, list):
            if len(schema) == 2 and schema[0] == "null":
                return [
                    f"if {var} is None:",
                    "    out.append(0)",
                    "else:",
                    "    out.append(2)",  # branch 1, zig-zag encoded
                    *_indent(self.value(schema[1], var)),
                ]
            raise _NotCoveredError(f"union {schema}")
        kind, logical = schema.get("type"), schema.get("logicalType")
        if kind == "long" and logical == "timestamp-millis":
            return [
                f"if type({var}) is not datetime or {var}.tzinfo is None: {_FAIL}",
                f"delta = {var} - EPOCH",
                "ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000",
                "out += SMALL[ms] if 0 <= ms < LIMIT else varint(ms)",
            ]
        if logical is not None:
            raise _NotCoveredError(f"logical type {logical}")
        if kind == "enum":
            table = self.fresh("ENUM")
            self.enums[schema["name"]] = table
            self.tables[table] = {symbol: _SMALL[i] for i, symbol in enumerate(schema["symbols"])}
            return self._enum_lookup(table, var)
        if kind in ("array", "map"):
            item, size = self.fresh("item"), self.fresh("n")
            if kind == "array":
                check, loop, key = "list", f"for {item} in {var}:", []
            else:
                key_var = self.fresh("key")
                check, loop = "dict", f"for {key_var}, {item} in {var}.items():"
                key = self._primitive("string", key_var)
            body = self.value(schema["items" if kind == "array" else "values"], item)
            return [
                f"if type({var}) is not {check}: {_FAIL}",
                f"if {var}:",
                f"    {size} = len({var})",
                f"    {_SIZE.format(n=size)}",
                f"    {loop}",
                *_indent(key + body, 2),
                "out.append(0)",  # the block count 0 that ends the array or map
            ]
        if kind == "record":
            return [f"{self.record(schema)}(out, {var})"]
        return self._primitive(kind, var)

    def record(self, schema: dict[str, Any]) -> str:
        name = self.fresh("write_record")
        self.records[schema["name"]] = name
        fields = schema["fields"]
        # Writers compiled from the same record definition share a Sealed record's bytes.
        key = hashlib.blake2b(json.dumps(schema, sort_keys=True).encode(), digest_size=8).hexdigest()
        lines = [
            f"def {name}(out, value):",
            "    if type(value) is Sealed:",
            "        kept = value.encoded",
            f"        if kept is None or kept[0] != {key!r}:",
            "            start = len(out)",
            f"            {name}(out, dict(value))",
            f"            value.encoded = ({key!r}, bytes(out[start:]))",
            "        else:",
            "            out += kept[1]",
            "        return",
            # A pydantic model's ``__dict__`` holds exactly its fields (``extra="forbid"``), by the
            # Avro field names (``tests/schemas/test_models_match_avsc.py``). A dict is taken when
            # it holds exactly the schema's fields, as a decoded record does; one that lacks a
            # field with a default (fastavro fills it in) or has keys fastavro would ignore steps
            # aside (the KeyError becomes FastPathError in the entry point).
            "    if type(value) is dict:",
            "        fields = value",
            "    elif isinstance(value, BaseModel):",
            "        fields = value.__dict__",
            "    else:",
            f"        {_FAIL}",
            f"    if len(fields) != {len(fields)}: {_FAIL}",
        ]
        for field in fields:
            var = self.fresh("f")
            lines.append(f"    {var} = fields[{field['name']!r}]")
            lines.extend(_indent(self.value(field["type"], var)))
        self.functions.append("\n".join(lines))
        return name

    def _enum_lookup(self, table: str, var: str) -> list[str]:
        return [f"if not isinstance({var}, str): {_FAIL}", f"out += {table}[{var}]"]

    @staticmethod
    def _primitive(kind: str, var: str) -> list[str]:
        if kind == "string":
            return [
                f"if type({var}) is not str: {_FAIL}",
                f"data = {var}.encode()",
                "size = len(data)",
                _SIZE.format(n="size"),
                "out += data",
            ]
        if kind == "bytes":
            return [
                f"if type({var}) is not bytes: {_FAIL}",
                f"size = len({var})",
                _SIZE.format(n="size"),
                f"out += {var}",
            ]
        if kind in ("long", "int"):
            low, high = ("LONG_MIN", "LONG_MAX") if kind == "long" else ("INT_MIN", "INT_MAX")
            return [
                f"if type({var}) is not int or not {low} <= {var} <= {high}: {_FAIL}",
                f"out += SMALL[{var}] if 0 <= {var} < LIMIT else varint({var})",
            ]
        if kind == "double":
            return [f"if type({var}) is not float: {_FAIL}", f"out += pack_double({var})"]
        if kind == "boolean":
            return [
                f"if {var} is True:",
                "    out.append(1)",
                f"elif {var} is False:",
                "    out.append(0)",
                "else:",
                f"    {_FAIL}",
            ]
        if kind == "null":
            return [f"if {var} is not None: {_FAIL}"]
        raise _NotCoveredError(f"type {kind}")


def _indent(lines: list[str], levels: int = 1) -> list[str]:
    pad = "    " * levels
    return [pad + line for line in lines]


_ENTRY = """
def encode(value):
    out = bytearray()
    try:
        {record}(out, value)
    except (KeyError, UnicodeEncodeError):  # a missing field, an unknown symbol, a lone surrogate
        raise FastPathError from None
    return bytes(out)
"""


def writer_source(parsed: dict[str, Any]) -> str:
    """The Python source ``compile_writer`` runs for this schema (for reading and debugging)."""
    return _generate(parsed)[0]


def _generate(parsed: dict[str, Any]) -> tuple[str, dict[str, dict[str, bytes]]]:
    generator = _Generator()
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise _NotCoveredError("not a record")
    entry = generator.record(parsed)
    source = "\n\n".join([*generator.functions, _ENTRY.format(record=entry)])
    return source, generator.tables


def compile_writer(parsed: dict[str, Any]) -> Encode | None:
    """A function writing a record of this (fastavro-parsed) schema; None if not supported.

    The function raises ``FastPathError`` for any value outside the fast path.
    """
    try:
        source, tables = _generate(parsed)
    except _NotCoveredError:
        return None
    namespace = {**_GLOBALS, **tables}
    exec(compile(source, f"<avro writer {parsed['name']}>", "exec"), namespace)
    return namespace["encode"]
