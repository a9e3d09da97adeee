"""Static Avro schema compatibility, following the specification's resolution rules.

*Backward*: the new schema can read data written with the old one (consumers
upgrade first). *Forward*: the old schema can read data written with the new one
(producers upgrade first). The check walks both schemas and names the field path
of every problem, e.g. ``Report.location.lat: reader has no default for a field
the writer lacks``. Empirical round-trips (tests) complement it.
"""

from __future__ import annotations

from typing import Any

from schemas.catalog import RecordSchema

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def _collect_names(schema: Any, names: dict[str, dict[str, Any]]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _collect_names(branch, names)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed"):
            names.setdefault(schema["name"], schema)
        if kind == "record":
            for field in schema["fields"]:
                _collect_names(field["type"], names)
        elif kind == "array":
            _collect_names(schema["items"], names)
        elif kind == "map":
            _collect_names(schema["values"], names)
        elif isinstance(kind, dict | list):
            _collect_names(kind, names)


class _Checker:
    def __init__(self, reader: dict[str, Any], writer: dict[str, Any]) -> None:
        self.rnames: dict[str, dict[str, Any]] = {}
        self.wnames: dict[str, dict[str, Any]] = {}
        _collect_names(reader, self.rnames)
        _collect_names(writer, self.wnames)
        self.problems: list[str] = []
        self._seen: set[tuple[str, str]] = set()

    def _resolve(self, schema: Any, names: dict[str, dict[str, Any]]) -> Any:
        while True:
            if isinstance(schema, str) and schema not in _PRIMITIVES:
                schema = names[schema]
            elif (
                isinstance(schema, dict)
                and isinstance(schema.get("type"), str | list | dict)
                and (schema["type"] in _PRIMITIVES or isinstance(schema["type"], dict | list))
            ):
                schema = schema["type"]  # {"type": "long", "logicalType": ...} reads as its base type
            else:
                return schema

    @staticmethod
    def _kind(schema: Any) -> str:
        if isinstance(schema, list):
            return "union"
        if isinstance(schema, str):
            return schema
        return schema["type"]

    def matches(self, reader: Any, writer: Any) -> bool:
        """Whether a writer (non-union) branch can be read by this reader branch (shallow test)."""
        r, w = self._resolve(reader, self.rnames), self._resolve(writer, self.wnames)
        rk, wk = self._kind(r), self._kind(w)
        if rk in ("record", "enum", "fixed") and wk == rk:
            return r["name"] == w["name"] or w["name"] in r.get("aliases", [])
        return rk == wk or rk in _PROMOTIONS.get(wk, set())

    def check(self, reader: Any, writer: Any, path: str) -> None:
        r, w = self._resolve(reader, self.rnames), self._resolve(writer, self.wnames)
        rk, wk = self._kind(r), self._kind(w)
        if wk == "union":
            for branch in w:
                self.check(r, branch, path)
            return
        if rk == "union":
            for branch in r:
                if self.matches(branch, w):
                    self.check(branch, w, path)
                    return
            self.problems.append(f"{path}: writer type {wk} matches no branch of the reader's union")
            return
        if not self.matches(r, w):
            self.problems.append(f"{path}: writer type {wk} cannot be read as {rk}")
            return
        if rk == "record":
            key = (r["name"], w["name"])
            if key in self._seen:  # recursive types: checked once
                return
            self._seen.add(key)
            wfields = {f["name"]: f for f in w["fields"]}
            for field in r["fields"]:
                sub = f"{path}.{field['name']}"
                source = wfields.get(field["name"])
                if source is None:
                    source = next((wfields[a] for a in field.get("aliases", []) if a in wfields), None)
                if source is None:
                    if "default" not in field:
                        self.problems.append(f"{sub}: reader has no default for a field the writer lacks")
                    continue
                self.check(field["type"], source["type"], sub)
        elif rk == "enum":
            missing = [s for s in w["symbols"] if s not in r["symbols"]]
            if missing and "default" not in r:
                self.problems.append(
                    f"{path}: reader enum {r['name']} lacks symbols {missing} and has no default"
                )
        elif rk == "array":
            self.check(r["items"], w["items"], f"{path}[]")
        elif rk == "map":
            self.check(r["values"], w["values"], f"{path}{{}}")
        elif rk == "fixed" and r["size"] != w["size"]:
            self.problems.append(f"{path}: fixed size {w['size']} cannot be read as size {r['size']}")


def can_read(reader: RecordSchema, writer: RecordSchema) -> list[str]:
    """Problems reading data written with ``writer`` using ``reader``; empty when compatible."""
    checker = _Checker(reader.definition, writer.definition)
    checker.check(reader.definition, writer.definition, reader.name)
    return checker.problems


def check_pair(new: RecordSchema, old: RecordSchema) -> list[str]:
    """Backward (new reads old) and forward (old reads new) problems, labelled."""
    return [f"backward: {p}" for p in can_read(new, old)] + [f"forward: {p}" for p in can_read(old, new)]
