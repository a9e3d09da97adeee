"""Gateway fixtures: isolated settings and topics on the session's real broker, simulated input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dedup import load_model
from gateway.routing import load_catalogue
from gateway.settings import Settings
from gateway.testing import isolated_settings
from gateway.topics import ensure_topics
from gateway.topology import topic_specs

_WORKLOADS: dict[tuple[int, int], object] = {}


@pytest.fixture
def gateway_settings(kafka: str, tmp_path: Path) -> Settings:
    """Settings whose topics, groups and instance ids are this test's alone; topics created.

    The dedup model is copied once and pinned by path, so every gateway process of the test
    (crashed, restarted, reference) decides with the very same model file.
    """
    model = tmp_path / "dedup-model.json"
    load_model(None).dump(model)
    settings = isolated_settings(kafka, dedup_model=model)
    ensure_topics(kafka, topic_specs(settings, load_catalogue().all_departments()))
    return settings


@pytest.fixture(scope="session")
def workload() -> Callable[[int, int], object]:
    """Simulated traffic mapped to reports (cached per size and seed: building it is deterministic)."""
    from gateway.workload import build  # the simulator is only needed by the tests that ask

    def make(reports: int, seed: int) -> object:
        key = (reports, seed)
        if key not in _WORKLOADS:
            _WORKLOADS[key] = build(Settings(), reports=reports, seed=seed)
        return _WORKLOADS[key]

    return make
