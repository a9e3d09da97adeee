"""Errors of the data standard, rooted in the project's single root exception.

    BingxianError                 every error bingxian raises on purpose
    └── SchemaError               anything about schemas and encoded records
        ├── UnknownSchemaError    a record written with a schema we do not know
        ├── CorruptRecordError    bytes that are not a valid record of their schema
        ├── EncodeError           a value that does not fit the schema
        └── IncompatibleSchemaError  a schema change that breaks old readers or old data

The root lives here because ``schemas`` is the one package every other package
imports; ``connectors``, ``dedup`` and ``gateway`` subclass it in their own
``exceptions`` modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class BingxianError(Exception):
    """Root of every error bingxian raises on purpose."""


class SchemaError(BingxianError):
    """Something about schemas or Avro-encoded records."""


class UnknownSchemaError(SchemaError):
    """The record names a schema (fingerprint or registry id) this process does not know."""


class CorruptRecordError(SchemaError):
    """The bytes are not a valid record of the schema they name."""


class EncodeError(SchemaError):
    """A value does not fit its Avro schema."""


class IncompatibleSchemaError(SchemaError):
    """A schema change breaks backward or forward compatibility; ``problems`` names the fields."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def field_path(loc: Iterable[object], top: str = "(top level)") -> str:
    """A pydantic error location as the dotted path a user finds in the file: ``topics.raw.12345``.

    An empty location is a problem with the whole value; ``top`` names it for the reader.
    """
    return ".".join(str(part) for part in loc) or top


def validation_problems(exc: ValidationError, top: str = "(top level)") -> str:
    """Every problem pydantic found, as ``path: message; …``: the one line a user sees for a bad file."""
    return "; ".join(f"{field_path(e['loc'], top)}: {e['msg']}" for e in exc.errors())
