"""The dedup engine's input: one report, as a plain ``__slots__`` object.

pydantic stays at the edges (style anchor 11): the gateway builds an ``Observation``
from the decoded Avro dict, tests and loaders build them directly, and
``Observation.from_report`` adapts a validated ``schemas.Report``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemas.models import Report


class Observation:
    """One report as the dedup engine sees it. Times are event times in UTC milliseconds."""

    __slots__ = (
        "_normalized",
        "address",
        "category_code",
        "channel",
        "contact_hash",
        "description",
        "district_code",
        "event_time_ms",
        "filing_only",
        "lat",
        "lon",
        "report_id",
        "title",
    )

    def __init__(
        self,
        *,
        report_id: str,
        event_time_ms: int,
        channel: str = "",
        category_code: str = "99",
        title: str = "",
        description: str = "",
        address: str = "",
        district_code: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        contact_hash: str | None = None,
        filing_only: bool = False,
    ) -> None:
        self.report_id = report_id
        self.event_time_ms = int(event_time_ms)
        self.channel = channel
        self.category_code = category_code or "99"
        self.title = title or ""
        self.description = description or ""
        self.address = address or ""
        self.district_code = district_code
        self.lat = lat
        self.lon = lon
        self.contact_hash = contact_hash
        self.filing_only = filing_only
        # (normalizer, NormalizedReport) of the last normalisation: decide() then
        # open_ticket() on the same object normalise once.
        self._normalized: tuple[object, Any] | None = None

    @classmethod
    def from_report(cls, report: Report) -> Observation:
        """Adapt a validated ``schemas.Report``."""
        location = report.location
        return cls(
            report_id=report.report_id,
            event_time_ms=round(report.reported_at.timestamp() * 1000),
            channel=str(report.channel.value if hasattr(report.channel, "value") else report.channel),
            category_code=report.category.code,
            title=report.title,
            description=report.description,
            address=location.address,
            district_code=location.district_code,
            lat=location.lat,
            lon=location.lon,
            contact_hash=report.reporter.contact_hash,
            filing_only=report.filing_only,
        )

    @property
    def family(self) -> str:
        """The 2-digit category family ("06" for "0601")."""
        return self.category_code[:2]

    def __repr__(self) -> str:
        return (
            f"Observation(report_id={self.report_id!r}, event_time_ms={self.event_time_ms}, "
            f"category_code={self.category_code!r}, address={self.address!r})"
        )
