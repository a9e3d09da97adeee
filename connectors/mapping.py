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

from connectors.datum import converter
from connectors.tables import ChannelConfig, Tables
from schemas.models import AddressParts, Category, Datum, Reporter, ReporterRole, RequestType, Urgency
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


#: Most distinct values one memo of a context keeps built (keys hold native codes, names and
#: worker ids as sent, so garbage input must not grow it without end); past it, it starts over.
MEMO_LIMIT = 4096


class _Memo(dict):  # type: ignore[type-arg]
    """A dict that empties itself instead of growing past ``MEMO_LIMIT``."""

    def keep(self, key: object, value: object) -> object:
        if len(self) >= MEMO_LIMIT:
            self.clear()
        self[key] = value
        return value


class MappingContext:
    """One channel's tables and key, turned into the lookups its mapping calls per record.

    The small value objects many Reports share (a category, the district-only address
    parts, a reporter without contact details) are built once and handed out again: they
    are frozen, and pydantic takes a model instance in a Report field as it is. Validating
    them afresh for every record was a third of the Report's validation.
    """

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
        self._built_categories = _Memo()
        self._built_reporters = _Memo()
        self._district_parts = {
            code: AddressParts(district=name) for code, name in tables.districts.names.items()
        }
        self._no_parts = AddressParts()

    def utc(self, value: datetime) -> datetime:
        """A native time in UTC; naive times are local to the channel's configured zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._zone)
        return value.astimezone(UTC)

    def utc_or_none(self, value: datetime | None) -> datetime | None:
        return None if value is None else self.utc(value)

    def category(self, key: str | None, native_code: str | None, native_name: str | None) -> Category:
        """The unified category of a native key, with its native code and name; unknown keys: 9900 待分类."""
        memo = (key, native_code, native_name)
        found = self._built_categories.get(memo)
        if found is None:
            code, name = self._categories.get(key, self._unknown) if key else self._unknown
            category = Category(code=code, name=name, native_code=native_code, native_name=native_name)
            found = self._built_categories.keep(memo, category)
        return found  # type: ignore[no-any-return]

    def reporter(
        self,
        role: ReporterRole,
        *,
        contact: tuple[str | None, str | None] = (None, None),
        worker_id: str | None = None,
        confidential: bool = False,
    ) -> Reporter:
        """The Report's reporter; ``contact`` is ``(contact_hash, contact_masked)`` from :meth:`contact`."""
        contact_hash, contact_masked = contact
        if contact_hash is not None:  # one caller's: not worth keeping
            return Reporter(
                role=role,
                contact_hash=contact_hash,
                contact_masked=contact_masked,
                worker_id=worker_id,
                confidential=confidential,
            )
        memo = (role, worker_id, confidential)
        found = self._built_reporters.get(memo)
        if found is None:
            reporter = Reporter(role=role, worker_id=worker_id, confidential=confidential)
            found = self._built_reporters.keep(memo, reporter)
        return found  # type: ignore[no-any-return]

    def district_parts(self, district_code: str | None) -> AddressParts:
        """Address parts naming only the district (or nothing, when the district is unknown)."""
        return self._district_parts.get(district_code, self._no_parts) if district_code else self._no_parts

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
