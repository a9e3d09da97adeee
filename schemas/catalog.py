"""Loading the ``.avsc`` files: the current schemas and their published history.

Shared named types (Category, Location, …) live in their own files and are
resolved by fastavro's ``load_schema``; each top-level record is then held fully
expanded, which is what a registry, a fingerprint and a compatibility check need.
Everything is parsed once, at load; encoding and decoding only look things up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form

from schemas.exceptions import SchemaError

NAMESPACE = "bingxian"
#: Records that travel on topics; the others are shared named types.
TOP_LEVEL = ("Report", "Ticket", "TicketEvent", "TicketStatusChange", "DeadLetter")
AVRO_DIR = Path(__file__).parent / "avro"
HISTORY_DIR = Path(__file__).parent / "history"


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """One top-level record schema, parsed once."""

    name: str
    definition: dict[str, Any]
    parsed: Any
    canonical: str
    fingerprint: bytes  # CRC-64-AVRO of the parsing canonical form, little-endian (Avro spec)

    @property
    def fullname(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    def to_json(self) -> str:
        """The expanded schema with docs and defaults, as a registry stores it."""
        return json.dumps(self.definition, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_definition(cls, name: str, definition: dict[str, Any]) -> RecordSchema:
        try:
            parsed = parse_schema(definition)  # the write hint stops fastavro re-parsing per call
            canonical = to_parsing_canonical_form(parsed)
        except Exception as exc:  # fastavro raises several unrelated types
            raise SchemaError(f"schema {name} does not parse: {exc}") from exc
        return cls(
            name=name,
            definition=definition,
            parsed=parsed,
            canonical=canonical,
            fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
        )


def load_directory(directory: Path) -> dict[str, RecordSchema]:
    """Load every top-level record found in ``directory`` (files ``bingxian.<Name>.avsc``)."""
    found: dict[str, RecordSchema] = {}
    for name in TOP_LEVEL:
        path = directory / f"{NAMESPACE}.{name}.avsc"
        if not path.exists():
            continue
        try:
            definition = load_schema(str(path), _write_hint=False)
        except Exception as exc:
            raise SchemaError(f"{path}: {exc}") from exc
        found[name] = RecordSchema.from_definition(name, definition)
    return found


@cache
def current() -> dict[str, RecordSchema]:
    """The schemas this version of bingxian writes and reads."""
    schemas = load_directory(AVRO_DIR)
    missing = set(TOP_LEVEL) - set(schemas)
    if missing:
        raise SchemaError(f"missing schema files for {sorted(missing)} in {AVRO_DIR}")
    return schemas


def history_versions() -> list[Path]:
    """Published earlier versions, oldest first (``schemas/history/v1``, ``v2``, …)."""
    if not HISTORY_DIR.exists():
        return []
    versions = [p for p in HISTORY_DIR.iterdir() if p.is_dir() and p.name.startswith("v")]
    return sorted(versions, key=lambda p: int(p.name[1:]))


@cache
def history() -> dict[str, list[RecordSchema]]:
    """Every published version of each record, oldest first."""
    out: dict[str, list[RecordSchema]] = {name: [] for name in TOP_LEVEL}
    for version in history_versions():
        for name, schema in load_directory(version).items():
            out[name].append(schema)
    return out


def snapshot(target: Path) -> list[Path]:
    """Write the current schemas, expanded, as a new history version (done at release)."""
    target.mkdir(parents=True, exist_ok=False)
    written = []
    for name, schema in current().items():
        path = target / f"{NAMESPACE}.{name}.avsc"
        path.write_text(json.dumps(schema.definition, ensure_ascii=False, indent=2) + "\n", "utf-8")
        written.append(path)
    return written
