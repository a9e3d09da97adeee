"""The routing catalogue (派单目录): which departments get a ticket.

Lead (主办) and assisting (协办) departments come from the longest prefix of the
unified category code, the street office from the admin or grid code prefix
(the physical grid), and channel overrides (962121 → housing bureau plus the
named property company). Anything the catalogue cannot place goes to the dispatch
centre, never nowhere. The catalogue is data (``gateway/data/routing.yaml``),
validated at start so a typo fails loudly before the first ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.exceptions import BingxianError, validation_problems

_TOPIC_SAFE = r"^[a-z0-9][a-z0-9._-]*$"


class RoutingCatalogueError(BingxianError):
    """A routing catalogue that cannot be read or does not validate; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRoute(_Strict):
    lead: str = Field(pattern=_TOPIC_SAFE)
    assist: tuple[str, ...] = ()
    time_limit_hours: int | None = Field(None, gt=0)


class StreetOffice(_Strict):
    code: str = Field(pattern=_TOPIC_SAFE)
    name: str


class Override(_Strict):
    channel: str
    lead: str | None = Field(None, pattern=_TOPIC_SAFE)
    assist_attribute: str | None = None


class RoutingCatalogue(_Strict):
    """The validated contents of a routing YAML file."""

    version: int
    dispatch_centre: str = Field(pattern=_TOPIC_SAFE)
    default_time_limit_hours: int = Field(gt=0)
    departments: dict[str, str]
    categories: dict[str, CategoryRoute]
    streets: dict[str, StreetOffice] = Field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    property_companies: dict[str, str] = Field(default_factory=dict)

    @field_validator("categories")
    @classmethod
    def _known_codes(cls, value: dict[str, CategoryRoute]) -> dict[str, CategoryRoute]:
        for prefix in value:
            if not prefix.isdigit():
                raise ValueError(f"category prefix {prefix!r} must be digits")
        return value

    def all_departments(self) -> set[str]:
        """Every department code a ticket can be routed to (for topic creation)."""
        codes = {self.dispatch_centre, *self.departments}
        for route in self.categories.values():
            codes.update((route.lead, *route.assist))
        codes.update(s.code for s in self.streets.values())
        codes.update(o.lead for o in self.overrides if o.lead)
        codes.update(self.property_companies.values())
        return codes


@dataclass(frozen=True, slots=True)
class Route:
    """Where one ticket goes, and by when it must be answered."""

    lead: str
    assisting: tuple[str, ...]
    time_limit_hours: int

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.assisting)


class Router:
    """Routes a ticket (as its Avro dict) with a catalogue; built once, called per ticket."""

    def __init__(self, catalogue: RoutingCatalogue) -> None:
        self.catalogue = catalogue
        self._prefixes = sorted(catalogue.categories, key=len, reverse=True)
        self._street_prefixes = sorted(catalogue.streets, key=len, reverse=True)
        self._overrides = {o.channel: o for o in catalogue.overrides}

    def route(
        self, category_code: str, channel: str, location: dict[str, Any], attributes: dict[str, str]
    ) -> Route:
        """Lead, assisting departments and time limit for a ticket opened by a report."""
        cat = self.catalogue
        route = next((cat.categories[p] for p in self._prefixes if category_code.startswith(p)), None)
        if route is None or category_code.startswith("99"):
            return Route(cat.dispatch_centre, (), cat.default_time_limit_hours)
        lead, assisting = route.lead, list(route.assist)
        override = self._overrides.get(channel)
        if override is not None:
            if override.lead:
                lead = override.lead
            if override.assist_attribute:
                company = cat.property_companies.get(attributes.get(override.assist_attribute, ""))
                if company:
                    assisting.append(company)
        street = self._street_office(location)
        if street:
            assisting.append(street)
        unique = tuple(dict.fromkeys(d for d in assisting if d != lead))
        return Route(lead, unique, route.time_limit_hours or cat.default_time_limit_hours)

    def _street_office(self, location: dict[str, Any]) -> str | None:
        for code in (location.get("admin_code"), location.get("grid_code")):
            if not code:
                continue
            for prefix in self._street_prefixes:
                if code.startswith(prefix):
                    return self.catalogue.streets[prefix].code
        return None


def load_catalogue(path: Path | None = None) -> RoutingCatalogue:
    """Load and validate a routing catalogue; the shipped Shanghai starter by default.

    Raises ``RoutingCatalogueError`` naming the file and every invalid field, so the
    service refuses to start with one readable message rather than a stack trace.
    """
    where = "the shipped routing catalogue" if path is None else str(path)
    try:
        if path is None:
            text = resources.files("gateway").joinpath("data/routing.yaml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return RoutingCatalogue.model_validate(yaml.safe_load(text))
    except OSError as exc:
        raise RoutingCatalogueError(f"cannot read {where}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RoutingCatalogueError(f"{where} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise RoutingCatalogueError(f"invalid routing catalogue {where}: {validation_problems(exc)}") from exc
