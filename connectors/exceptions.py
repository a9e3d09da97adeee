"""Errors of the connectors, under the project's root exception.

    BingxianError (schemas.exceptions)
    └── ConnectorError           anything raised by connectors on purpose
        ├── ConfigError          a data file or setting is wrong; names the file and key
        ├── UnknownChannelError  a channel name no registry entry has
        ├── RecordError          one native record cannot be read or mapped (→ a DeadLetter)
        ├── InputFileError       a file to import cannot be opened or read (a user mistake)
        └── DeliveryError        Kafka did not acknowledge a produced record

A ``RecordError`` is about data, never about the process: the ingest path turns it
into a ``DeadLetter`` carrying the position, and the connector goes on. The others
stop the command that hit them.
"""

from __future__ import annotations

from schemas.exceptions import BingxianError
from schemas.models import ErrorKind, FieldError


class ConnectorError(BingxianError):
    """Root of the connectors' errors."""


class ConfigError(ConnectorError):
    """Configuration or a data file under ``connectors/data`` is invalid."""


class UnknownChannelError(ConnectorError, KeyError):
    """A channel name that the registry does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown channel {name!r}; known: {', '.join(known)}")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class RecordError(ConnectorError):
    """A native record that cannot be decoded, parsed, validated or mapped.

    ``errors`` are field-level (``field`` is the vendor's field path); messages never
    quote a field's value, so a phone number cannot leak into a dead letter's text.
    """

    def __init__(self, kind: ErrorKind, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors or []


class InputFileError(ConnectorError):
    """A file given to ``bingxian import`` cannot be used."""


class DeliveryError(ConnectorError):
    """The broker did not acknowledge a record; raised at the next flush, never swallowed."""
