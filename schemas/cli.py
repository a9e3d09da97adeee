"""``bingxian schemas``: inspect the data standard and guard its evolution."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from schemas import catalog
from schemas.catalog import RecordSchema, load_directory
from schemas.compat import check_pair

schemas_app = typer.Typer(
    help="The unified Avro schemas: list, check compatibility, snapshot.", no_args_is_help=True
)
_out = Console()


@schemas_app.command("list")
def list_schemas() -> None:
    """List the current record schemas with their single-object fingerprints."""
    for schema in catalog.current().values():
        fields = len(schema.definition["fields"])
        _out.print(f"{schema.fullname:32} fingerprint {schema.fingerprint.hex()}  fields {fields}")


def _against(directory: Path | None) -> list[tuple[str, dict[str, RecordSchema]]]:
    if directory is not None:
        return [(str(directory), load_directory(directory))]
    return [(str(v), load_directory(v)) for v in catalog.history_versions()]


@schemas_app.command("check")
def check(
    against: Path | None = typer.Option(
        None, help="A directory of .avsc files to compare with (default: every version in schemas/history)."
    ),
    schema_dir: Path | None = typer.Option(
        None, help="The candidate schemas (default: the shipped schemas/avro)."
    ),
) -> None:
    """Check backward and forward compatibility of the current schemas with every published version."""
    current = load_directory(schema_dir) if schema_dir else catalog.current()
    versions = _against(against)
    if not versions:
        _out.print("no published versions to compare with")
        return
    failures = 0
    for label, old in versions:
        for name, new in current.items():
            if name not in old:
                continue
            problems = check_pair(new, old[name])
            status = "[green]ok[/]" if not problems else "[red]INCOMPATIBLE[/]"
            _out.print(f"{name:20} vs {label}: {status}")
            for problem in problems:
                _out.print(f"    {problem}")
            failures += bool(problems)
    if failures:
        raise typer.Exit(1)


@schemas_app.command("snapshot")
def snapshot(version: int = typer.Argument(..., help="The version number to publish, e.g. 2.")) -> None:
    """Publish the current schemas as schemas/history/v<version> (a release step)."""
    for path in catalog.snapshot(catalog.HISTORY_DIR / f"v{version}"):
        _out.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the ``schemas`` command group to the CLI."""
    app.add_typer(schemas_app, name="schemas")
