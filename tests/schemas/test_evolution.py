"""Schema evolution: newer writers and older readers (and the reverse) keep working; breaks are caught."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from typer.testing import CliRunner

from gateway.cli import app
from schemas import catalog, examples
from schemas.catalog import RecordSchema
from schemas.compat import check_pair

NEW_SYMBOL = "NEWLY_ADDED"


def _first_enum(schema: Any) -> dict[str, Any] | None:
    if isinstance(schema, dict):
        if schema.get("type") == "enum":
            return schema
        for field in schema.get("fields", []):
            found = _first_enum(field["type"])
            if found:
                return found
        if isinstance(schema.get("type"), dict):
            return _first_enum(schema["type"])
    if isinstance(schema, list):
        for branch in schema:
            found = _first_enum(branch)
            if found:
                return found
    return None


def _top_level_enum_field(schema: dict[str, Any]) -> str:
    for field in schema["fields"]:
        if isinstance(field["type"], dict) and field["type"].get("type") == "enum":
            return field["name"]
    raise AssertionError(f"{schema['name']} has no top-level enum field")


def _newer(name: str) -> tuple[RecordSchema, str]:
    """The current schema plus one optional field and one new symbol in a top-level enum."""
    definition = copy.deepcopy(catalog.current()[name].definition)
    definition["fields"].append(
        {
            "name": "added_later",
            "type": ["null", "string"],
            "default": None,
            "doc": "added in a newer version",
        }
    )
    enum_field = _top_level_enum_field(definition)
    enum = next(f for f in definition["fields"] if f["name"] == enum_field)["type"]
    enum["symbols"].insert(len(enum["symbols"]) - 1, NEW_SYMBOL)
    return RecordSchema.from_definition(name, definition), enum_field


def _write(schema: RecordSchema, datum: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(schema.definition), datum)
    return out.getvalue()


def _read(data: bytes, writer: RecordSchema, reader: RecordSchema) -> dict[str, Any]:
    return schemaless_reader(
        io.BytesIO(data), parse_schema(writer.definition), parse_schema(reader.definition)
    )


@pytest.mark.parametrize("name", sorted(examples.ALL))
def test_old_reader_reads_newer_data(name: str) -> None:
    """Newer data (new field, new enum symbol) reads with the old schema: field dropped, symbol defaulted."""
    old = catalog.current()[name]
    new, enum_field = _newer(name)
    datum = examples.ALL[name]().model_dump()
    datum["added_later"] = "hello"
    datum[enum_field] = NEW_SYMBOL
    value = _read(_write(new, datum), new, old)
    assert "added_later" not in value
    enum_default = next(f for f in old.definition["fields"] if f["name"] == enum_field)["type"]["default"]
    assert value[enum_field] == enum_default


@pytest.mark.parametrize("name", sorted(examples.ALL))
def test_new_reader_reads_older_data(name: str) -> None:
    """Data written with the old schema is read by the newer one, the new field taking its default."""
    old = catalog.current()[name]
    new, _ = _newer(name)
    datum = examples.ALL[name]().model_dump()
    value = _read(_write(old, datum), old, new)
    assert value["added_later"] is None
    assert value[_top_level_enum_field(old.definition)] == datum[_top_level_enum_field(old.definition)]


@pytest.mark.parametrize("name", sorted(examples.ALL))
def test_static_check_accepts_compatible_change(name: str) -> None:
    """The compatibility checker accepts an added optional field and an added enum symbol."""
    new, _ = _newer(name)
    assert check_pair(new, catalog.current()[name]) == []


def _write_candidate(tmp_path: Path, mutate) -> Path:
    for name, schema in catalog.current().items():
        definition = copy.deepcopy(schema.definition)
        if name == "Report":
            mutate(definition)
        path = tmp_path / f"bingxian.{name}.avsc"
        path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def test_cli_check_passes_on_shipped_schemas() -> None:
    """`bingxian schemas check` exits 0 on the shipped schemas."""
    result = CliRunner().invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "INCOMPATIBLE" not in result.output


def test_cli_check_names_a_required_field_added(tmp_path: Path) -> None:
    """A field added without a default breaks old data; the check fails naming the field."""

    def add_required(definition: dict[str, Any]) -> None:
        definition["fields"].append({"name": "priority_score", "type": "int", "doc": "no default"})

    result = CliRunner().invoke(
        app, ["schemas", "check", "--schema-dir", str(_write_candidate(tmp_path, add_required))]
    )
    assert result.exit_code == 1
    assert "Report.priority_score" in result.output


def test_cli_check_names_a_changed_type(tmp_path: Path) -> None:
    """Changing a field's type to an unpromotable one fails naming the nested field."""

    def retype(definition: dict[str, Any]) -> None:
        location = next(f for f in definition["fields"] if f["name"] == "location")["type"]
        lat = next(f for f in location["fields"] if f["name"] == "lat")
        lat["type"] = ["null", "boolean"]

    result = CliRunner().invoke(
        app, ["schemas", "check", "--schema-dir", str(_write_candidate(tmp_path, retype))]
    )
    assert result.exit_code == 1
    assert "Report.location.lat" in result.output


def test_removed_enum_symbol_without_default_is_incompatible() -> None:
    """Removing an enum symbol from a reader without a default is caught (forward direction)."""
    old = catalog.current()["Report"]
    definition = copy.deepcopy(old.definition)
    channel = next(f for f in definition["fields"] if f["name"] == "channel")["type"]
    channel["symbols"].remove("GRID_REPORT")
    del channel["default"]
    problems = check_pair(RecordSchema.from_definition("Report", definition), old)
    assert any("Report.channel" in p and "GRID_REPORT" in p for p in problems)
