"""The city's data files, loaded and validated once at start.

``categories.yaml`` (unified categories), ``districts.yaml`` (GB/T 2260 districts, their
names and the street table) and ``channels/<name>.yaml`` (per-channel tables) are parsed
into frozen pydantic models; every cross reference (a channel's category code, a
street's district) is checked here, so a typo fails ``bingxian connect`` at start with
the file and key named, not the 10,000th record at 3 a.m.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.exceptions import ConfigError
from schemas.exceptions import validation_problems
from schemas.models import Channel, Datum, ReporterRole, RequestType, Urgency


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryFile(_Data):
    """``categories.yaml``: families, sub categories and the code for "unknown"."""

    families: dict[str, str]
    categories: dict[str, str]
    unknown: str = "9900"

    @field_validator("categories")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [code for code in value if len(code) != 4 or not code.isdigit()]
        if bad:
            raise ValueError(f"category codes must be 4 digits: {bad}")
        return value


class DistrictEntry(_Data):
    name: str
    aliases: list[str] = Field(default_factory=list)


class DistrictFile(_Data):
    """``districts.yaml``: GB/T 2260 districts with their names, and 街道/镇 → district."""

    city_prefixes: list[str] = Field(default_factory=list)
    districts: dict[str, DistrictEntry]
    streets: dict[str, str] = Field(default_factory=dict)


class ChannelConfig(_Data):
    """``channels/<name>.yaml``: how one channel's native values map to the standard."""

    channel: Channel
    timezone: str = "Asia/Shanghai"
    datum: Datum
    contact_key: str = "privacy"
    reporter_role: ReporterRole = ReporterRole.UNKNOWN
    reporter_roles: dict[str, ReporterRole] = Field(default_factory=dict)
    request_types: dict[str, RequestType] = Field(default_factory=dict)
    default_request_type: RequestType = RequestType.UNKNOWN
    urgency: dict[str, Urgency] = Field(default_factory=dict)
    default_urgency: Urgency = Urgency.UNKNOWN
    categories: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("datum")
    @classmethod
    def _datum(cls, value: Datum) -> Datum:
        if value is Datum.UNKNOWN:
            raise ValueError("a channel's datum must be configured (WGS84, GCJ02, BD09, NONE)")
        return value


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


class Districts:
    """Lookups from district names, street names and grid codes to 6-digit district codes."""

    def __init__(self, data: DistrictFile) -> None:
        self.names = {code: entry.name for code, entry in data.districts.items()}
        self._by_name: dict[str, str] = {}
        for code, entry in data.districts.items():
            for name in (entry.name, *entry.aliases):
                self._by_name[_key(name)] = code
        self._full_names = [(entry.name, code) for code, entry in data.districts.items()]
        self._aliases = sorted(
            ((_key(alias), code) for code, entry in data.districts.items() for alias in entry.aliases),
            key=lambda pair: len(pair[0]),
            reverse=True,
        )
        self._prefixes = sorted((_key(p) for p in data.city_prefixes), key=len, reverse=True)
        self._by_street: dict[str, str] = {}
        for street, code in data.streets.items():
            self._by_street[_key(street)] = code
            for suffix in ("街道", "镇"):
                if street.endswith(suffix) and len(street) > len(suffix) + 1:
                    self._by_street.setdefault(_key(street[: -len(suffix)]), code)

    def by_name(self, name: str | None) -> str | None:
        """``浦东新区``, ``浦东``, ``上海市浦东新区`` → ``310115``; None when unknown."""
        if not name:
            return None
        key = _key(name)
        code = self._by_name.get(key)
        if code is None:
            for prefix in self._prefixes:
                if key.startswith(prefix):
                    code = self._by_name.get(key[len(prefix) :])
                    break
        return code

    def in_text(self, text: str | None) -> str | None:
        """The district a free-text address names: a full name anywhere (``…浦东新区…``), or a short name
        at its start (``闵行古美路412号``, ``上海长宁虹桥路``); None otherwise."""
        if not text:
            return None
        for name, code in self._full_names:
            if name in text:
                return code
        text = _key(text)
        for prefix in self._prefixes:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
        for alias, code in self._aliases:
            if text.startswith(alias):
                return code
        return None

    def by_street(self, street: str | None) -> str | None:
        """``花木街道`` or ``花木`` → ``310115``; None when unknown."""
        return self._by_street.get(_key(street)) if street else None

    def by_grid(self, grid_code: str | None) -> str | None:
        """The district of a grid code (its first 6 digits), when it is a known district."""
        if not grid_code or len(grid_code) < 6:
            return None
        prefix = grid_code[:6]
        return prefix if prefix in self.names else None


@dataclass(frozen=True)
class Tables:
    """Everything loaded from the data directory."""

    category_names: dict[str, str]  # code -> "family/sub" display name
    unknown_category: str
    districts: Districts
    channels: dict[str, ChannelConfig]  # channel name -> its table

    def category_name(self, code: str) -> str:
        return self.category_names[code]


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def _model(model: type[_Data], path: Path) -> Any:
    try:
        return model.model_validate(_read(path))
    except ValidationError as exc:
        raise ConfigError(f"{path}: {validation_problems(exc)}") from exc


def _display_names(data: CategoryFile, path: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name in data.categories.items():
        family = data.families.get(code[:2])
        if family is None:
            raise ConfigError(f"{path}: categories.{code}: family {code[:2]} is not in families")
        names[code] = name if name == family else f"{family}/{name}"
    if data.unknown not in names:
        raise ConfigError(f"{path}: unknown: {data.unknown} is not a category")
    return names


def load_tables(data_dir: Path, channel_names: list[str]) -> Tables:
    """Load and cross-check the data files for ``channel_names``; raises ``ConfigError``."""
    categories_path = data_dir / "categories.yaml"
    categories: CategoryFile = _model(CategoryFile, categories_path)
    names = _display_names(categories, categories_path)
    districts_path = data_dir / "districts.yaml"
    district_data: DistrictFile = _model(DistrictFile, districts_path)
    for street, code in district_data.streets.items():
        if code not in district_data.districts:
            raise ConfigError(f"{districts_path}: streets.{street}: {code} is not a district")
    channels: dict[str, ChannelConfig] = {}
    for name in channel_names:
        path = data_dir / "channels" / f"{name}.yaml"
        config: ChannelConfig = _model(ChannelConfig, path)
        for native, code in config.categories.items():
            if code not in names:
                raise ConfigError(f"{path}: categories.{native}: {code} is not in {categories_path.name}")
        channels[name] = config
    return Tables(names, categories.unknown, Districts(district_data), channels)
