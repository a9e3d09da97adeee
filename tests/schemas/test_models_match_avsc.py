"""The pydantic models and the .avsc files describe the same records, field for field."""

from __future__ import annotations

import types
import typing
from enum import StrEnum

import pytest
from pydantic import BaseModel

from schemas import catalog, models


def _named_types(schema: object, found: dict[str, dict]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, found)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            found.setdefault(schema["name"].split(".")[-1], schema)
        for key in ("fields",):
            for field in schema.get(key, []):
                _named_types(field["type"], found)
        for key in ("items", "values"):
            if key in schema:
                _named_types(schema[key], found)
        if isinstance(schema.get("type"), dict | list):
            _named_types(schema["type"], found)


def _all_named() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for record in catalog.current().values():
        _named_types(record.definition, found)
    return found


NAMED = _all_named()


def _is_optional(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_optional(typing.get_args(annotation)[0])
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


@pytest.mark.parametrize("name", sorted(n for n, s in NAMED.items() if s["type"] == "record"))
def test_record_fields_agree(name: str) -> None:
    """Every Avro record has a model with the same fields, order, optionality and defaults."""
    schema = NAMED[name]
    model = getattr(models, name)
    assert issubclass(model, BaseModel)
    avro_fields = [f["name"] for f in schema["fields"]]
    assert list(model.model_fields) == avro_fields
    for field in schema["fields"]:
        info = model.model_fields[field["name"]]
        nullable = isinstance(field["type"], list) and "null" in field["type"]
        assert _is_optional(info.annotation) == nullable, field["name"]
        assert ("default" in field) == (not info.is_required()), field["name"]


@pytest.mark.parametrize("name", sorted(n for n, s in NAMED.items() if s["type"] == "enum"))
def test_enum_symbols_agree(name: str) -> None:
    """Every Avro enum has a StrEnum with the same symbols in the same order and a default."""
    schema = NAMED[name]
    enum = getattr(models, name)
    assert issubclass(enum, StrEnum)
    assert [m.value for m in enum] == schema["symbols"]
    assert schema.get("default") in schema["symbols"]


def test_every_field_is_documented() -> None:
    """Every record and field in the standard carries a doc."""
    for name, schema in NAMED.items():
        assert schema.get("doc"), name
        for field in schema.get("fields", []):
            assert field.get("doc"), f"{name}.{field['name']}"
