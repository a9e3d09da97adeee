"""``bingxian dedup fit`` and ``bingxian dedup eval``: fit a model on labelled data, measure one.

A user's mistake (missing file, bad line in the data, malformed model) is one line on
stderr naming the file, line and field, and exit code 2; never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer

from dedup.exceptions import DedupError


class Source(StrEnum):
    """Labelled data sets the loaders understand."""

    CHICAGO = "chicago"
    NYC = "nyc"
    SIMULATOR = "simulator"


class Split(StrEnum):
    """Which half of the event-time range to fit on or measure."""

    FIRST = "first-half"
    SECOND = "second-half"
    ALL = "all"


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except DedupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _loader(source: Source) -> Callable[[Path], list]:  # type: ignore[type-arg]
    if source is Source.CHICAGO:
        from dedup.loaders.chicago import load_chicago

        return load_chicago
    if source is Source.NYC:
        from dedup.loaders.nyc import load_nyc

        return load_nyc
    from dedup.loaders.simulator import load_simulator

    return load_simulator


def _config(path: Path | None):  # type: ignore[no-untyped-def]  # noqa: ANN202
    from dedup.config import DedupConfig

    if path is None:
        return DedupConfig()
    import yaml
    from pydantic import ValidationError

    from dedup.exceptions import ModelFileError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return DedupConfig(**data)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except (yaml.YAMLError, TypeError, ValidationError) as exc:
        raise ModelFileError(f"{path}: invalid dedup configuration: {exc}") from exc


SourceArg = typer.Option(..., "--source", help="Which loader reads PATH.")
PathArg = typer.Argument(..., help="The labelled file (for the simulator: its ground-truth JSONL).")
ConfigOpt = typer.Option(None, "--dedup-config", help="A DedupConfig YAML (windows, blocking, caps).")


def eval_command(
    path: Path = PathArg,
    source: Source = SourceArg,
    model: Path | None = typer.Option(None, "--model", help="Model file; the shipped default if unset."),
    split: Split = typer.Option(Split.ALL, "--split", help="Measure only this half of the time range."),
    dedup_config: Path | None = ConfigOpt,
) -> None:
    """Replay a labelled stream through the index and print precision, recall, F1, B-cubed, bands."""
    with _user_errors():
        from dedup.evaluate import evaluate, format_metrics
        from dedup.index import TicketIndex
        from dedup.labelled import split_mask
        from dedup.model import load_model
        from dedup.replay import replay

        stream = _loader(source)(path)
        chosen = load_model(model)
        outcomes = replay(stream, TicketIndex(chosen, _config(dedup_config)))
        metrics = evaluate(outcomes, split_mask(stream, split.value))
        title = f"{source.value} {path.name}, split {split.value}, model {chosen.version}"
        for line in format_metrics(metrics, title=title):
            typer.echo(line)


def fit_command(
    path: Path = PathArg,
    source: Source = SourceArg,
    split: Split = typer.Option(Split.FIRST, "--split", help="Fit on this half of the time range."),
    out: Path = typer.Option(..., "--out", help="Where to write the fitted model (JSON or YAML)."),
    objective: str = typer.Option(
        "f1", "--objective", help="MERGE threshold: 'f1' (best F1) or 'precision:0.98' (lowest reaching it)."
    ),
    version: str | None = typer.Option(None, "--version", help="Model version string."),
    review_budget: float = typer.Option(0.05, "--review-budget", help="Largest REVIEW share of reports."),
    dedup_config: Path | None = ConfigOpt,
) -> None:
    """Estimate weights (Fellegi–Sunter, calibrated) and thresholds from labelled data."""
    with _user_errors():
        from dedup.exceptions import ModelFileError
        from dedup.fit import fit
        from dedup.model import load_model

        if objective != "f1":
            try:
                target = float(objective.removeprefix("precision:"))
            except ValueError:
                target = -1.0
            if not objective.startswith("precision:") or not 0 < target <= 1:
                raise ModelFileError(
                    f"--objective must be 'f1' or 'precision:P' with 0<P≤1, got {objective!r}"
                )
        stream = _loader(source)(path)
        model = fit(
            stream,
            split.value,
            load_model(None),
            _config(dedup_config),
            version=version or f"{source.value}-{split.value}",
            objective=objective,
            review_budget=review_budget,
            source=f"{source.value}:{path.name}",
        )
        model.dump(out)
        figures = model.meta["fit_figures"]
        typer.echo(
            f"wrote {out}: version {model.version}, merge ≥ {model.merge_threshold:.2f}, "
            f"review ≥ {model.review_threshold:.2f}; on the fitting half P {figures['precision']:.3f} "
            f"R {figures['recall']:.3f} F1 {figures['f1']:.3f}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``dedup`` command group to the ``bingxian`` CLI."""
    group = typer.Typer(
        help="Duplicate detection: fit weights, evaluate on labelled data.", no_args_is_help=True
    )
    group.command("eval")(eval_command)
    group.command("fit")(fit_command)
    app.add_typer(group, name="dedup")
