"""connectors: the four channels' native records in, unified ``Report``s (or ``DeadLetter``s) out.

The public surface other areas call (the gateway, dedup, tests); a test pins it.
Transports (``connectors.connect``, ``connectors.http_ingest``, ``connectors.file_import``)
and the CLI are imported where they are used, not here, so importing the mapping does
not pull in Kafka clients or FastAPI.
"""

from connectors.exceptions import (
    ConfigError,
    ConnectorError,
    DeliveryError,
    InputFileError,
    RecordError,
    UnknownChannelError,
)
from connectors.ingest import Arrival, Ingestor, dead_letter, ingest, ingestor_for, position_id
from connectors.mapping import MappingContext, mask_phones_in_text
from connectors.registry import REGISTRY, ChannelRegistry, ChannelSpec
from connectors.settings import ConnectorSettings

__all__ = [
    "REGISTRY",
    "Arrival",
    "ChannelRegistry",
    "ChannelSpec",
    "ConfigError",
    "ConnectorError",
    "ConnectorSettings",
    "DeliveryError",
    "Ingestor",
    "InputFileError",
    "MappingContext",
    "RecordError",
    "UnknownChannelError",
    "dead_letter",
    "ingest",
    "ingestor_for",
    "mask_phones_in_text",
    "position_id",
]
