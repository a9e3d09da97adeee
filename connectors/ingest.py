"""The one mapping path: raw bytes of one native record → ``Report`` or ``DeadLetter``.

``Ingestor`` is built once from the settings (data files loaded and cross-checked,
HMAC keys resolved, one ``MappingContext`` per channel); ``Ingestor.ingest_many`` (and
``ingest``, its batch of one) then never raises for any input: whatever cannot be
decoded, validated or mapped comes back as a ``DeadLetter`` with its position, error
kind, field errors and the original bytes.

A batch is mapped stage by stage (every record decoded, then every record mapped), not
record by record: each stage's code and data stay in the processor's caches across the
batch, which makes the same work ~20 % cheaper per record than running the stages in
turn for each record (docs/benchmarks.md, "Staged mapping").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from connectors.exceptions import ConfigError, RecordError, UnknownChannelError
from connectors.mapping import MappingContext, mask_phones_in_text
from connectors.registry import REGISTRY, ChannelRegistry, ChannelSpec
from connectors.tables import load_tables
from schemas import ids
from schemas.exceptions import field_path
from schemas.models import DeadLetter, DeadLetterSource, ErrorKind, FieldError, Report

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

PRIVACY_KEY = "privacy"


def position_id(position: DeadLetterSource) -> str:
    """The dead-letter id of a source position: the same position always gives the same id."""
    p = position
    return ids.dead_letter_id(p.transport.value, p.topic, p.partition, p.offset, p.file, p.line, p.request_id)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def dead_letter(
    channel: str | None,
    raw: bytes,
    position: DeadLetterSource,
    received_at: datetime,
    error: RecordError,
    *,
    redrive_count: int = 0,
    dead_letter_id: str | None = None,
) -> DeadLetter:
    """A ``DeadLetter`` for a record that failed with ``error`` at ``position``."""
    return DeadLetter(
        dead_letter_id=dead_letter_id or position_id(position),
        channel=channel,
        source=position,
        received_at=_aware(received_at),
        error_kind=error.kind,
        error_message=mask_phones_in_text(error.message),
        errors=error.errors,
        raw=raw,
        redrive_count=redrive_count,
    )


def _mapping_error(exc: ValidationError) -> RecordError:
    errors = [
        FieldError(field=field_path(err["loc"], "(report)"), message=err["msg"])
        for err in exc.errors(include_input=False, include_url=False)
    ]
    return RecordError(ErrorKind.MAPPING_ERROR, "the mapped Report is invalid", errors)


class Ingestor:
    """Per-channel mapping contexts, built once; ``ingest`` per record."""

    def __init__(
        self, settings: Settings, channels: list[str] | None = None, registry: ChannelRegistry = REGISTRY
    ) -> None:
        self.settings = settings
        self.registry = registry
        names = list(channels) if channels is not None else list(registry)
        specs = [registry[name] for name in names]
        tables = load_tables(settings.connectors.data_dir, names)
        self._contexts: dict[str, tuple[ChannelSpec, MappingContext]] = {}
        for spec in specs:
            config = tables.channels[spec.name]
            if config.channel is not spec.channel:
                raise ConfigError(
                    f"channels/{spec.name}.yaml: channel is {config.channel.value}, "
                    f"expected {spec.channel.value}"
                )
            context = MappingContext(spec.name, config, tables, self._key(config.contact_key, spec.name))
            self._contexts[spec.name] = (spec, context)

    def _key(self, reference: str, channel: str) -> bytes:
        if reference == PRIVACY_KEY:
            secret = self.settings.privacy.contact_hmac_key
        else:
            found = self.settings.connectors.contact_keys.get(reference)
            if found is None:
                raise ConfigError(
                    f"channels/{channel}.yaml: contact_key {reference!r} is neither 'privacy' nor a name in "
                    "connectors.contact_keys"
                )
            secret = found
        return secret.get_secret_value().encode("utf-8")

    @property
    def channels(self) -> list[str]:
        return list(self._contexts)

    def context(self, channel: str) -> MappingContext:
        return self._contexts[channel][1]

    def to_report(self, channel: str, raw: bytes, received_at: datetime) -> Report:
        """Decode, validate and map one record; raises ``RecordError`` (or ``UnknownChannelError``)."""
        try:
            spec, context = self._contexts[channel]
        except KeyError:
            raise UnknownChannelError(channel, self.channels) from None
        native = spec.decode(raw)
        try:
            return spec.to_report(native, raw, _aware(received_at), context)
        except ValidationError as exc:
            raise _mapping_error(exc) from exc

    def ingest(
        self, channel: str, raw: bytes, position: DeadLetterSource, received_at: datetime
    ) -> Report | DeadLetter:
        """A ``Report``, or a ``DeadLetter`` saying why not. Never raises for any bytes."""
        return self.ingest_many(channel, [Arrival(raw, position, received_at)])[0]

    def ingest_many(self, channel: str, arrivals: Sequence[Arrival]) -> list[Report | DeadLetter]:
        """One ``Report`` or ``DeadLetter`` per arrival, in order. Never raises for any bytes.

        Stage by stage over the batch (see the module's docstring); a record that fails
        a stage leaves the batch there as its dead letter, the others go on.
        """
        results: list[Report | DeadLetter | None] = [None] * len(arrivals)
        entry = self._contexts.get(channel)
        if entry is None:
            error = RecordError(ErrorKind.MAPPING_ERROR, str(UnknownChannelError(channel, self.channels)))
            return [dead_letter(channel, a.raw, a.position, a.received_at, error) for a in arrivals]
        spec, context = entry
        decoded: list[tuple[int, Any]] = []
        for i, arrival in enumerate(arrivals):
            try:
                decoded.append((i, spec.decode(arrival.raw)))
            except Exception as exc:  # every failure is this record's dead letter, never the batch's
                results[i] = _failed(channel, arrival, exc, mapping=False)
        to_report = spec.to_report
        for i, native in decoded:
            arrival = arrivals[i]
            try:
                results[i] = to_report(native, arrival.raw, _aware(arrival.received_at), context)
            except Exception as exc:
                results[i] = _failed(channel, arrival, exc, mapping=True)
        return results  # type: ignore[return-value]  # every slot is filled by one of the stages


class Arrival(NamedTuple):
    """One native record as it arrived: its bytes, where from, and when it was received."""

    raw: bytes
    position: DeadLetterSource
    received_at: datetime


def _failed(channel: str, arrival: Arrival, exc: Exception, *, mapping: bool) -> DeadLetter:
    """The dead letter of a record whose decoding (or, ``mapping``, mapping) raised ``exc``."""
    if isinstance(exc, RecordError):
        error = exc
    elif mapping and isinstance(exc, ValidationError):  # the mapped Report is invalid
        error = _mapping_error(exc)
    else:  # a mapping bug must not stop the stream; the record waits for redrive
        error = RecordError(ErrorKind.MAPPING_ERROR, f"unexpected {type(exc).__name__} while mapping")
    return dead_letter(channel, arrival.raw, arrival.position, arrival.received_at, error)


_cache: dict[int, tuple[Settings, Ingestor]] = {}


def ingestor_for(settings: Settings) -> Ingestor:
    """The ``Ingestor`` of a settings object, built on first use (settings are frozen)."""
    entry = _cache.get(id(settings))
    if entry is None or entry[0] is not settings:
        entry = (settings, Ingestor(settings))
        _cache[id(settings)] = entry
    return entry[1]


def ingest(
    channel: str, raw: bytes, position: DeadLetterSource, received_at: datetime, settings: Settings
) -> Report | DeadLetter:
    """One native record → ``Report`` | ``DeadLetter``; pure and never raises for a record.

    Only invalid configuration (the data files the settings point at) raises
    ``ConfigError``, on the first call with those settings.
    """
    return ingestor_for(settings).ingest(channel, raw, position, received_at)
