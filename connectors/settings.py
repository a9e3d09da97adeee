"""The ``connectors`` section of the configuration.

City specifics (category tables, districts, datum, time zone, HMAC key reference)
live in YAML data files (``data_dir``); this model holds how the connectors run.
Unknown keys are errors (``extra="forbid"``), like every section of ``Settings``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: The Shanghai starter tables shipped with the package.
DEFAULT_DATA_DIR = Path(__file__).parent / "data"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectSettings(_Section):
    """``bingxian connect``: raw topics → ``reports`` / ``deadletter``."""

    group_prefix: str = Field("bingxian-connect-", description="consumer group = prefix + channel name")
    batch_size: int = Field(500, ge=1, description="most records mapped before one flush + commit")
    poll_timeout_s: float = Field(
        0.2, gt=0, description="longest wait for input per round of the channels; batches never wait to fill"
    )
    flush_timeout_s: float = Field(30.0, gt=0, description="longest wait for acknowledgements")
    unknown_district_key: str = Field(
        "000000", pattern=r"^\d{6}$", description="Kafka key of a report whose district is unknown"
    )


class HttpIngestSettings(_Section):
    """``bingxian ingest-http``: native records over HTTP → raw topics."""

    tokens: dict[str, SecretStr] = Field(
        default_factory=dict, description="channel name -> bearer token; a channel without one refuses all"
    )
    max_body_bytes: int = Field(1_048_576, ge=1, description="larger bodies get 413")
    max_records: int = Field(1000, ge=1, description="most records in one batch request")
    ack_timeout_s: float = Field(30.0, gt=0, description="longest wait for Kafka's acknowledgement")
    deadletter_rejected: bool = Field(
        True, description="also write the records of a 400 batch that failed to `deadletter`"
    )


class ImportSettings(_Section):
    """``bingxian import``: a vendor export file → raw topic."""

    flush_every: int = Field(5000, ge=1, description="records between waits for acknowledgements")
    flush_timeout_s: float = Field(60.0, gt=0)


class ConnectorSettings(_Section):
    """Everything the connectors read from configuration."""

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="categories.yaml, districts.yaml, channels/<name>.yaml; the shipped Shanghai tables by "
        "default",
    )
    contact_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="named HMAC keys a channel file may reference (contact_key: <name>); 'privacy' always "
        "means privacy.contact_hmac_key",
    )
    connect: ConnectSettings = Field(default_factory=ConnectSettings)
    http: HttpIngestSettings = Field(default_factory=HttpIngestSettings)
    file_import: ImportSettings = Field(default_factory=ImportSettings)
