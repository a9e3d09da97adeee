"""Caller contacts: keyed hashes for matching, masked forms for display.

Raw phone numbers and names never enter a structured field other than ``raw`` (the
audit copy of the original bytes), never reach a department topic and never reach
a log. Matching a repeat caller across channels needs a stable token: an HMAC with a
per-city secret key, so the token cannot be reversed by hashing every phone number
(which an unkeyed hash of an 11-digit number would allow in minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(value: str) -> str | None:
    """Digits only, full-width folded, +86/0086 country prefix removed; None when nothing is left."""
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def contact_hash(key: bytes, phone: str | None) -> str | None:
    """Keyed HMAC-SHA256 (hex, 32 chars) of the normalized number; None when there is no number."""
    if not phone:
        return None
    digits = normalize_phone(phone)
    if digits is None:
        return None
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def mask_phone(phone: str | None) -> str | None:
    """``138****5678`` for display: first three and last four digits of a mobile, last four otherwise."""
    if not phone:
        return None
    digits = normalize_phone(phone)
    if digits is None:
        return None
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return f"{'*' * (len(digits) - 4)}{digits[-4:]}"
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """``张*`` / ``欧阳**``: keeps the family name's first character only."""
    if not name or not name.strip():
        return None
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)
