"""Fixtures of the connector tests: settings with a known HMAC key, and an Ingestor built from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connectors import Ingestor
from gateway.settings import PrivacySettings, Settings

TEST_KEY = b"connectors-test-key"
RECEIVED = datetime(2026, 11, 1, 0, 16, tzinfo=UTC)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default settings with a known contact key (and no config file from the environment)."""
    return Settings(privacy=PrivacySettings(contact_hmac_key=SecretStr(TEST_KEY.decode())))


@pytest.fixture(scope="session")
def ingestor(settings: Settings) -> Ingestor:
    """The Ingestor of the shipped Shanghai tables."""
    return Ingestor(settings)


@pytest.fixture
def received_at() -> datetime:
    """A fixed receive time, so mapped Reports are comparable."""
    return RECEIVED
