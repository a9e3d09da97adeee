"""Chicago 311 (Open311-style CSV) as a labelled stream.

sr_type → category, street address, lat/long, created and closed dates; no text.
Information-only calls and aircraft noise are left out (never dispatched, see
SOURCE.md). Ground truth: a request's cluster is its ``parent_sr_number`` when the
city marked it a duplicate, else its own number; a report whose parent is outside
the file therefore opens the cluster as its first sighting.
"""

from __future__ import annotations

from pathlib import Path

from dedup.exceptions import LabelledDataError
from dedup.labelled import LabelledReport, in_time_order
from dedup.loaders._csv import category_table, coordinate, rows, time_ms
from dedup.observation import Observation

EXCLUDED_TYPES = frozenset({"311 INFORMATION ONLY CALL", "Aircraft Noise Complaint"})
REQUIRED = (
    "sr_number",
    "sr_type",
    "origin",
    "created_date",
    "closed_date",
    "street_address",
    "latitude",
    "longitude",
    "duplicate",
    "parent_sr_number",
)


def load_chicago(path: Path) -> list[LabelledReport]:
    """The file's dispatchable requests in event-time order."""
    path = Path(path)
    types = category_table("chicago_types.yaml")
    out: list[LabelledReport] = []
    for line, row in rows(path, REQUIRED):
        sr_type = row["sr_type"]
        if sr_type in EXCLUDED_TYPES:
            continue
        number = row["sr_number"]
        if not number:
            raise LabelledDataError(path, line, "sr_number", "empty request number")
        duplicate = row["duplicate"].strip().lower()
        if duplicate not in {"true", "false"}:
            raise LabelledDataError(
                path, line, "duplicate", f"expected True or False, got {row['duplicate']!r}"
            )
        parent = row["parent_sr_number"]
        if duplicate == "true" and not parent:
            raise LabelledDataError(path, line, "parent_sr_number", "duplicate without a parent")
        obs = Observation(
            report_id=number,
            event_time_ms=time_ms(path, line, "created_date", row["created_date"], required=True) or 0,
            channel=row["origin"],
            category_code=types.get(sr_type, "99"),
            address=row["street_address"],
            lat=coordinate(path, line, "latitude", row["latitude"]),
            lon=coordinate(path, line, "longitude", row["longitude"]),
        )
        out.append(
            LabelledReport(
                obs,
                parent if duplicate == "true" else number,
                closed_ms=time_ms(path, line, "closed_date", row["closed_date"], required=False),
            )
        )
    return in_time_order(out)
