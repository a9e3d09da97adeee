"""The simulator's public surface (what tests, benchmarks and the demo import) changes on purpose only."""

from __future__ import annotations

import connectors.simulator


def test_exported_names() -> None:
    """``connectors.simulator.__all__`` is pinned and sorted, and every name exists."""
    assert connectors.simulator.__all__ == [
        "DEFAULT_START",
        "Closure",
        "Issue",
        "Kind",
        "NearMissType",
        "SimRecord",
        "Simulation",
        "department_changes",
        "generate",
        "produce",
        "write_files",
    ]
    assert all(hasattr(connectors.simulator, name) for name in connectors.simulator.__all__)
