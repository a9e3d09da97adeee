"""What every native record model shares: lenient about extras, strict about its own fields.

Unknown fields are ignored (``extra="ignore"``), not rejected: vendors add columns
(``isSupervise``, ``orderState`` …) without telling anyone, and a new column must not
send a whole channel to the dead-letter topic. Fields are declared with the vendor's
own spelling as the alias; Python code uses the snake_case names.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from connectors.exceptions import RecordError
from connectors.lenient import fold, parse_float
from connectors.mapping import mask_phones_in_text
from schemas.models import ErrorKind, FieldError


class NativeRecord(BaseModel):
    """Base of the four native record models."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=NativeRecord)


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


def validate(model: type[M], fields: dict[str, Any]) -> M:
    """``model`` validated from decoded field values; failures become a ``RecordError`` per field.

    Messages are pydantic's (or our validators') text without the input value, so a
    phone number typed into the wrong field cannot end up in a dead letter's errors.
    """
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = [
            FieldError(
                field=".".join(str(part) for part in err["loc"]) or "(record)",
                message=mask_phones_in_text(err["msg"].removeprefix("Value error, ")),
            )
            for err in exc.errors(include_input=False, include_url=False)
        ]
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
        message = f"{model.__name__} is invalid: {summary}"
        raise RecordError(ErrorKind.VALIDATION_ERROR, message, errors) from None


def compact(**values: str | None) -> dict[str, str]:
    """Report attributes: the given values without the absent ones (free text must come masked)."""
    return {key: value for key, value in values.items() if value}


def title(native_name: str | None, description: str, limit: int = 30) -> str:
    """The native category name when there is one, else the start of the description."""
    if native_name:
        return mask_phones_in_text(native_name)
    text = mask_phones_in_text(description)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def admin_code(grid_code: str | None) -> str | None:
    """The 12-digit 街道/社区 division code a grid code starts with, when it has one."""
    if grid_code and len(grid_code) >= 12 and grid_code[:12].isdigit():
        return grid_code[:12]
    return None
