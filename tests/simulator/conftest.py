"""Fixtures of the simulator tests: one simulation, and its records mapped by the connectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from connectors import Ingestor
from connectors.simulator import SimRecord, Simulation, generate
from gateway.settings import Settings
from schemas import DeadLetter, DeadLetterSource, Report, Transport

SEED = 20261101
REPORTS = 12_000


@dataclass(frozen=True, slots=True)
class Mapped:
    """A simulated record and what the connectors made of it."""

    record: SimRecord
    result: Report | DeadLetter


@pytest.fixture(scope="session")
def sim() -> Simulation:
    """A 12,000-record simulation shared by the tests that only read it."""
    return generate(SEED, REPORTS)


@pytest.fixture(scope="session")
def ingestor() -> Ingestor:
    """The connectors' mapping with the shipped Shanghai tables."""
    return Ingestor(Settings())


@pytest.fixture(scope="session")
def mapped(sim: Simulation, ingestor: Ingestor) -> list[Mapped]:
    """Every record of ``sim`` through the connectors' decode, validate and map path."""
    received = datetime(2027, 1, 1, tzinfo=UTC)
    out = []
    for n, record in enumerate(sim.records, 1):
        position = DeadLetterSource(transport=Transport.FILE, file=f"sim.{record.channel}", line=n)
        out.append(Mapped(record, ingestor.ingest(record.channel, record.raw, position, received)))
    return out
