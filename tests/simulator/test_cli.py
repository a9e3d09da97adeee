"""``bingxian simulate`` writes the files and says what it made."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from connectors.simulator.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Keep ``simulate`` a subcommand, as under ``bingxian``."""

    return app


def test_simulate_writes_files(tmp_path: Path) -> None:
    """--out writes the four channel files, truth and closures; the summary counts the records."""
    result = CliRunner().invoke(
        _app(), ["simulate", "--seed", "3", "--reports", "500", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"12345.jsonl", "12319.xml", "962121.csv", "grid.jsonl", "truth.jsonl", "closures.jsonl"} <= names
    assert len((tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()) == 500
    assert "simulated 500 records" in result.output


def test_simulate_needs_a_destination() -> None:
    """Without --out or --kafka the command refuses with a usage error."""
    result = CliRunner().invoke(_app(), ["simulate", "--reports", "10"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_unknown_city_is_one_line() -> None:
    """A city without data is a clear error and exit code 2."""
    result = CliRunner().invoke(_app(), ["simulate", "--city", "atlantis", "--out", "/nonexistent"])
    assert result.exit_code == 2
    assert "atlantis" in result.output
