"""NYC 311 (the standard open-data layout) as an unlabelled stream with duplicate flags.

No parent ids are published; ``resolution_description`` says "duplicate" on requests
the agency closed as such. Most of their originals predate the 4-hour sample, so this
stream checks how flagged duplicates and ordinary traffic flow, not clustering.
"""

from __future__ import annotations

from pathlib import Path

from dedup.exceptions import LabelledDataError
from dedup.labelled import LabelledReport, in_time_order
from dedup.loaders._csv import category_table, coordinate, rows, time_ms
from dedup.observation import Observation

REQUIRED = (
    "unique_key",
    "created_date",
    "closed_date",
    "complaint_type",
    "descriptor",
    "incident_address",
    "intersection_street_1",
    "intersection_street_2",
    "resolution_description",
    "latitude",
    "longitude",
    "open_data_channel_type",
)


def load_nyc(path: Path) -> list[LabelledReport]:
    """Every request, in event-time order; ``flagged`` marks the city's duplicates."""
    path = Path(path)
    types = category_table("nyc_types.yaml")
    out: list[LabelledReport] = []
    for line, row in rows(path, REQUIRED):
        key = row["unique_key"]
        if not key:
            raise LabelledDataError(path, line, "unique_key", "empty request id")
        address = row["incident_address"]
        if not address and row["intersection_street_1"]:
            address = f"{row['intersection_street_1']} & {row['intersection_street_2']}"
        obs = Observation(
            report_id=key,
            event_time_ms=time_ms(path, line, "created_date", row["created_date"], required=True) or 0,
            channel=row["open_data_channel_type"],
            category_code=types.get(row["complaint_type"], "99"),
            title=row["complaint_type"],
            description=row["descriptor"],
            address=address,
            lat=coordinate(path, line, "latitude", row["latitude"]),
            lon=coordinate(path, line, "longitude", row["longitude"]),
        )
        flagged = "duplicate" in row["resolution_description"].lower()
        out.append(
            LabelledReport(
                obs,
                key,
                closed_ms=time_ms(path, line, "closed_date", row["closed_date"], required=False),
                flagged=flagged,
            )
        )
    return in_time_order(out)
