"""CSV reading that reports the file, line and field of a bad value."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import yaml

from dedup.exceptions import LabelledDataError


def rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; checks the header first."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LabelledDataError(path, None, None, f"cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise LabelledDataError(path, 1, missing[0], f"missing column (needs {', '.join(required)})")
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            raise LabelledDataError(path, reader.line_num, None, f"not valid CSV: {exc}") from exc


def time_ms(path: Path, line: int, field: str, value: str, *, required: bool) -> int | None:
    """An ISO timestamp as UTC milliseconds (naive times are taken as UTC: only differences matter)."""
    if not value:
        if required:
            raise LabelledDataError(path, line, field, "empty timestamp")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LabelledDataError(path, line, field, f"not an ISO timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def coordinate(path: Path, line: int, field: str, value: str) -> float | None:
    """A decimal coordinate, or None when empty."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise LabelledDataError(path, line, field, f"not a number: {value!r}") from exc


def category_table(name: str) -> dict[str, str]:
    """A shipped native-type → unified-code table of ``dedup/loaders``."""
    text = resources.files("dedup.loaders").joinpath(name).read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()}
