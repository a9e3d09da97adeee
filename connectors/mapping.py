"""What the four channel mappings share, decided once per channel at start.

A ``MappingContext`` is built from the channel's data file, the city tables and the
HMAC key; the per-record helpers (time zone, datum conversion, category lookup,
contact hashing, free-text masking) then only run. The per-channel mapping functions
(``connectors.channels.<name>.to_report``) are pure: the same native record, raw bytes
and receive time always give the same ``Report``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from connectors.datum import converter
from connectors.tables import ChannelConfig, Tables
from schemas.models import Datum, ReporterRole, RequestType, Urgency
from schemas.privacy import mask_phone, normalize_phone

#: Mobile numbers (optionally +86) and landlines with an area code, as people type them into free
#: text: with spaces or dashes, in ASCII or full-width digits.
_D = "[0-9０-９]"
_PHONE_IN_TEXT = re.compile(
    rf"(?<!{_D})(?:(?:[+＋]|00)?[8８][6６][-\s]?)?[1１][3-9３-９]{_D}(?:[-\s]?{_D}{{4}}){{2}}(?!{_D})"
    rf"|(?<!{_D})[0０]{_D}{{2,3}}[-\s]?{_D}{{7,8}}(?!{_D})"
)


#: What every match of ``_PHONE_IN_TEXT`` contains: seven digits, at most one separator between
#: two. Searched first because it is ~4 times as fast (no look-behind to try at every
#: position), and most free text (house numbers, dates) holds no such run.
_SEVEN_DIGITS = re.compile(rf"{_D}(?:[-\s]?{_D}){{6}}")


def mask_phones_in_text(text: str) -> str:
    """Free text with every phone number replaced by its masked form (``138****5678``)."""
    if not _SEVEN_DIGITS.search(text) or not _PHONE_IN_TEXT.search(text):
        return text
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()) or "****", text)


class MappingContext:
    """One channel's tables and key, turned into the lookups its mapping calls per record."""

    def __init__(self, name: str, config: ChannelConfig, tables: Tables, key: bytes) -> None:
        self.name = name
        self.channel = config.channel
        self.config = config
        self.districts = tables.districts
        self.datum = config.datum
        self._zone = zoneinfo.ZoneInfo(config.timezone)
        self._convert = converter(config.datum)
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._unknown = (tables.unknown_category, tables.category_name(tables.unknown_category))
        self._categories = {
            native: (code, tables.category_name(code)) for native, code in config.categories.items()
        }

    def utc(self, value: datetime) -> datetime:
        """A native time in UTC; naive times are local to the channel's configured zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._zone)
        return value.astimezone(UTC)

    def utc_or_none(self, value: datetime | None) -> datetime | None:
        return None if value is None else self.utc(value)

    def category(self, key: str | None, native_code: str | None, native_name: str | None) -> dict[str, Any]:
        """The unified category (Report.category fields) for a native key; unknown keys give 9900 待分类."""
        code, name = self._categories.get(key, self._unknown) if key else self._unknown
        return {"code": code, "name": name, "native_code": native_code, "native_name": native_name}

    def request_type(self, native: str | None) -> RequestType:
        found = self.config.request_types.get(native) if native else None
        return found or self.config.default_request_type

    def urgency(self, native: str | None) -> Urgency:
        found = self.config.urgency.get(native) if native else None
        return found or self.config.default_urgency

    def reporter_role(self, native: str | None) -> ReporterRole:
        found = self.config.reporter_roles.get(native) if native else None
        return found or self.config.reporter_role

    def contact(self, phone: str | None, *, secret: bool = False) -> tuple[str | None, str | None]:
        """``(contact_hash, contact_masked)``; the masked form is None when the caller asked for secrecy.

        The hash is ``schemas.privacy.contact_hash`` (a test holds them equal), computed from a
        keyed HMAC prepared once and the number normalized once.
        """
        digits = normalize_phone(phone) if phone else None
        if digits is None:
            return None, None
        mac = self._mac.copy()
        mac.update(digits.encode("ascii"))
        return mac.hexdigest()[:32], None if secret else mask_phone(digits)

    def position(self, point: tuple[float, float] | None) -> tuple[float | None, float | None, Datum]:
        """``(lat, lon, source_datum)`` in WGS-84; ``NONE`` when the record has no position."""
        if point is None or self._convert is None:
            return None, None, Datum.NONE
        lon, lat = self._convert(*point)
        return lat, lon, self.datum
