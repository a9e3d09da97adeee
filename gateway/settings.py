"""Configuration: one YAML file plus environment overrides, validated at start.

Why pydantic-settings: operators configure a long-running service by a file under
version control and override single values per host (``BINGXIAN_KAFKA__BOOTSTRAP_SERVERS``)
without editing it. Unknown keys are rejected (``extra="forbid"``) so a typo in a
config file is an error at start, not a silently ignored setting.

Each area owns its own section model (``connectors.settings``, ``dedup.settings``,
``gateway.settings``); this module only composes them.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors.settings import ConnectorSettings

CONFIG_ENV = "BINGXIAN_CONFIG"
#: The file ``load_settings`` was given, for the duration of that one call.
_explicit_config: ContextVar[Path | None] = ContextVar("bingxian_explicit_config", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Section):
    """How to reach the cluster. ``extra`` is passed to librdkafka verbatim (e.g. SASL)."""

    bootstrap_servers: str = "127.0.0.1:9092"
    extra: dict[str, str] = Field(default_factory=dict)

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka configuration for a client of this cluster."""
        return {"bootstrap.servers": self.bootstrap_servers, **self.extra, **overrides}


class TopicSettings(_Section):
    """Topic names and layout. Every topic name is configuration, never a literal in code."""

    raw: dict[str, str] = Field(
        default_factory=lambda: {
            "12345": "raw.12345",
            "12319": "raw.12319",
            "962121": "raw.962121",
            "grid": "raw.grid",
        },
        description="channel name -> raw topic the channel's system writes native records to",
    )
    reports: str = "reports"
    deadletter: str = "deadletter"
    tickets: str = "tickets"
    ticket_events: str = "ticket-events"
    ticket_status: str = "ticket-status"
    department_prefix: str = "tickets."
    changelog: str = "bingxian-gateway-state-changelog"
    changelog_segment_ms: int = Field(
        3_600_000,
        ge=60_000,
        description="segment.ms of the changelog. The broker never compacts the active segment, and "
        "Kafka's default (7 days, or 1 GiB) leaves a week of ticket rewrites for every restore to read; "
        "an hour bounds that part by an hour of traffic.",
    )
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    max_record_bytes: int = Field(
        1_000_000,
        ge=10_000,
        description="Largest Report bingxian writes to reports (librdkafka's default message.max.bytes, "
        "under Kafka's default topic limit of 1,048,588); a larger one becomes a dead letter.",
    )

    @property
    def deadletter_max_bytes(self) -> int:
        """Limit of the dead-letter topic and its producers: a dead letter carries a whole raw record."""
        return 2 * self.max_record_bytes

    def department(self, code: str) -> str:
        """The topic a department subscribes to."""
        return f"{self.department_prefix}{code}"


class SchemaRegistrySettings(_Section):
    """Optional Confluent Schema Registry. Without a URL, Avro single-object encoding is used."""

    url: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class PrivacySettings(_Section):
    """Key for the keyed hash of caller contacts. Must be set per city in production."""

    contact_hmac_key: SecretStr = SecretStr("bingxian-development-key-change-me")


class GatewaySettings(_Section):
    """The long-running ``bingxian run`` service."""

    group_id: str = "bingxian-gateway"
    instance_id: str = Field(
        default_factory=lambda: os.environ.get("HOSTNAME") or os.uname().nodename,
        description="Stable per instance: the transactional id derives from it, so a restarted "
        "instance fences its crashed predecessor and aborts its open transaction at once.",
    )
    batch_size: int = Field(500, ge=1, description="Most reports per transaction.")
    poll_timeout_ms: int = Field(
        50,
        ge=1,
        description="Longest wait for input when there is none (the loop then checks for stop and "
        "idle markers). A batch never waits to fill: it is what has arrived, up to batch_size.",
    )
    transaction_timeout_ms: int = Field(30_000, ge=1000)
    max_aborts_in_row: int = Field(
        20,
        ge=1,
        description="Aborted transactions in a row (retried after 50 ms, doubling to 5 s) before the "
        "service stops with the last error instead of retrying input that keeps failing (~1 min).",
    )
    gc_sweep_seconds: float = Field(
        600,
        ge=0,
        description="The state is frozen out of CPython's cyclic collector after each round of "
        "work, and swept (one full collection) this often; 0 leaves the collector as CPython runs "
        "it. See gateway/heap.py.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(
        8081, ge=0, le=65535, description="Health, readiness and metrics; 0 picks a free port."
    )
    routing_file: Path | None = Field(
        None, description="Routing catalogue YAML; the shipped Shanghai starter if unset."
    )
    dedup_model: Path | None = Field(None, description="Dedup model file; the shipped default if unset.")
    retention_days: int = Field(30, ge=1, description="How long closed tickets stay in state (event time).")
    open_retention_days: int = Field(
        180,
        ge=1,
        description="How long a ticket still open stays in state without any change (event time): one "
        "no department ever closes must not grow the state and every restore for ever. A status change "
        "for it after that is a dead letter (UNKNOWN_TICKET); the release is logged and counted.",
    )
    ticket_evidence: int = Field(
        10,
        ge=1,
        description="Dedup evidences a Ticket carries: the opening decision and the latest merges. "
        "Every merge's evidence is in ticket-events; the bound keeps a much-reported ticket's record "
        "small (each one is ~540 bytes, and Kafka refuses records over max.message.bytes).",
    )
    restore_timeout_s: float = Field(300.0, gt=0)

    @property
    def status_group_id(self) -> str:
        """The group that forwards ``ticket-status``: its own, so ``group_id`` balances ``reports`` alone."""
        return f"{self.group_id}-status"


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the file named by ``BINGXIAN_CONFIG`` (or passed explicitly)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self._path is None:
            return {}
        data = yaml.safe_load(self._path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{self._path}: the top level must be a mapping")
        return data


class Settings(BaseSettings):
    """The whole configuration of one bingxian process."""

    model_config = SettingsConfigDict(
        env_prefix="BINGXIAN_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    schema_registry: SchemaRegistrySettings = Field(default_factory=SchemaRegistrySettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)

    _config_path: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get(CONFIG_ENV)
        path = _explicit_config.get() or (Path(named) if named else None)
        yaml_source = _YamlSource(settings_cls, path)
        # Precedence: explicit arguments, then environment, then the file.
        return init_settings, env_settings, yaml_source, file_secret_settings


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$BINGXIAN_CONFIG``) and the environment.

    The path is handed to the file source through a context variable, not the process
    environment: a file named once must not become every later ``Settings()``'s file.
    """
    token = _explicit_config.set(path)
    try:
        return Settings(**overrides)
    finally:
        _explicit_config.reset(token)
