"""``bingxian demo``, the README's first promise, run end to end on the session's broker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline_and_stops_cleanly(
    kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connectors, gateway and HTTP ingest run as child processes; every record is accounted for."""
    monkeypatch.chdir(tmp_path)  # the demo keeps its state in ./.bingxian
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka)
    result = CliRunner().invoke(
        app, ["demo", "--reports", "600", "--seed", "7", "--rate", "2000", "--exit-when-done"]
    )
    assert result.exit_code == 0, result.output
    summary = re.search(
        r"(\d+) native records → (\d+) reports \+ (\d+) dead letters \((\d+)/(\d+) accounted for\) → "
        r"(\d+) tickets, (\d+) duplicates merged",
        result.output,
    )
    assert summary is not None, result.output
    sent, reports, letters, accounted, total, tickets, merged = map(int, summary.groups())
    assert sent == total == accounted == reports + letters == 600
    assert letters > 0  # the simulator's malformed records took the dead-letter path
    assert 0 < tickets < reports  # duplicates were merged into fewer tickets
    assert merged > 0
    assert "one merge, explained" in result.output
    assert "one for a person to decide" in result.output
    assert "bingxian review list" in result.output
    assert "/healthz" in result.output
    assert "bingxian subscribe" in result.output
    assert "stopped cleanly" in result.output
    assert "Traceback" not in result.output
    logs = tmp_path / ".bingxian" / "demo-logs"
    assert {p.name for p in logs.iterdir()} >= {"connectors.log", "gateway.log", "ingest-http.log"}
