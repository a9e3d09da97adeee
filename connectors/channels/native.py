"""What every native record model shares: lenient about extras, strict about its own fields.

Unknown fields are ignored (``extra="ignore"``), not rejected: vendors add columns
(``isSupervise``, ``orderState`` …) without telling anyone, and a new column must not
send a whole channel to the dead-letter topic. Fields are declared with the vendor's
own spelling as the alias; Python code uses the snake_case names.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from connectors.lenient import fold, parse_float


class NativeRecord(BaseModel):
    """Base of the four native record models."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, str_strip_whitespace=True)


def _point(value: Any) -> Any:
    """``"121.52,31.23"`` (lon,lat; ASCII or full-width comma) → ``(lon, lat)``; blank → None."""
    if value is None or isinstance(value, tuple):
        return value
    if isinstance(value, list | tuple) and len(value) == 2:
        parts = list(value)
    elif isinstance(value, str):
        text = fold(value)
        if not text:
            return None
        parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
        if len(parts) != 2:
            raise ValueError("expected 'lon,lat'")
    else:
        raise ValueError("expected 'lon,lat'")
    lon, lat = (parse_float(p) for p in parts)
    return check_lon_lat(lon, lat)


def check_lon_lat(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    """A longitude/latitude pair in range; ``(0, 0)`` and a missing half mean "no position".

    ``0,0`` is how several vendor systems write "unknown"; it is not a place in China.
    """
    if lon is None or lat is None or (lon == 0 and lat == 0):
        return None
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude {lon} is out of range")
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude {lat} is out of range")
    return (lon, lat)


def _url_list(value: Any) -> Any:
    """A list of URLs; one string means a one-element list; blanks and null are dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [v.strip() for v in value if not (isinstance(v, str) and not v.strip()) and v is not None]
    return value


#: ``lon,lat`` as one string, already range-checked.
LonLat = Annotated[tuple[float, float] | None, BeforeValidator(_point)]
UrlList = Annotated[list[str], BeforeValidator(_url_list)]
