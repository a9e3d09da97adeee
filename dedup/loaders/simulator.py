"""The simulator's output (``bingxian simulate --out DIR``) as a labelled stream.

PATH is the ``truth.jsonl`` file (or its directory). Beside it are the four channel
exports, which are cut into records and mapped to ``schemas.Report`` through the
connectors' own decode/validate/map path (``connectors.ingest.Ingestor``), then to
``Observation.from_report``, exactly as the gateway sees them. Each report's cluster
is its ``issue_id``; ``closures.jsonl`` gives when the issue's ticket was closed.
Malformed records (the connectors reject them) and 事件报备 filings (never
dispatched) are left out, as they never reach the deduplicator.

connectors is imported here, at call time: the dedup library itself stays free of
it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dedup.exceptions import LabelledDataError
from dedup.labelled import LabelledReport, in_time_order
from dedup.observation import Observation

TRUTH_FILE = "truth.jsonl"
CLOSURES_FILE = "closures.jsonl"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # received_at is not used by dedup


def _jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabelledDataError(path, None, None, f"cannot read: {exc.strerror}") from exc
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledDataError(path, number, None, f"not JSON: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise LabelledDataError(path, number, None, "expected a JSON object")
        out.append((number, value))
    return out


def _ms(path: Path, line: int, field: str, value: Any) -> int:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise LabelledDataError(path, line, field, f"not an ISO timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise LabelledDataError(path, line, field, "timestamp without a time zone")
    return round(parsed.timestamp() * 1000)


def load_simulator(path: Path) -> list[LabelledReport]:
    """Mapped, dispatchable reports of one simulation, in event-time order."""
    from connectors.exceptions import RecordError
    from connectors.ingest import Ingestor
    from connectors.registry import REGISTRY
    from connectors.simulator.output import FILE_NAMES
    from gateway.settings import load_settings

    path = Path(path)
    truth_path = path / TRUTH_FILE if path.is_dir() else path
    folder = truth_path.parent
    truth: dict[tuple[str, str], tuple[str, str, str | None, str | None]] = {}
    for line, item in _jsonl(truth_path):
        for field in ("channel", "source_record_id", "kind"):
            if not isinstance(item.get(field), str):
                raise LabelledDataError(truth_path, line, field, "missing or not a string")
        if item["kind"] == "malformed":
            continue
        if not isinstance(item.get("issue_id"), str):
            raise LabelledDataError(truth_path, line, "issue_id", "missing for a well-formed record")
        near, of = item.get("near_miss_type"), item.get("near_miss_of")
        truth[(item["channel"], item["source_record_id"])] = (
            item["issue_id"],
            item["kind"],
            near if isinstance(near, str) else None,
            of if isinstance(of, str) else None,
        )
    closed: dict[str, int] = {}
    closures = folder / CLOSURES_FILE
    if closures.exists():
        for line, item in _jsonl(closures):
            if not isinstance(item.get("issue_id"), str):
                raise LabelledDataError(closures, line, "issue_id", "missing or not a string")
            closed[item["issue_id"]] = _ms(closures, line, "closed_at", item.get("closed_at"))

    ingestor = Ingestor(load_settings(None), list(FILE_NAMES))
    out: list[LabelledReport] = []
    for channel, name in FILE_NAMES.items():
        export = folder / name
        if not export.exists():
            raise LabelledDataError(
                export, None, None, f"the {channel} export is missing beside {TRUTH_FILE}"
            )
        spec, data = REGISTRY[channel], export.read_bytes()
        if spec.split_lines is not None and name.endswith(".jsonl"):
            pieces = spec.split_lines(data.splitlines(keepends=True))
        else:
            pieces = spec.split_batch(data)
        for piece in pieces:
            try:
                report = ingestor.to_report(channel, piece.raw, _EPOCH)
            except RecordError:
                continue  # a deliberately malformed record: the connectors dead-letter it
            label = truth.get((channel, report.source_record_id))
            if label is None:
                raise LabelledDataError(
                    export,
                    piece.line,
                    "source_record_id",
                    f"{report.source_record_id} is not in {TRUTH_FILE}",
                )
            if report.filing_only:
                continue
            issue_id, kind, near, of = label
            out.append(
                LabelledReport(
                    Observation.from_report(report),
                    issue_id,
                    closed_ms=closed.get(issue_id),
                    kind=kind,
                    near_miss_type=near,
                    near_miss_of=of,
                )
            )
    return in_time_order(out)
