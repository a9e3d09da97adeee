"""The simulator's ground truth as a labelled stream — not available yet.

``bingxian simulate`` (connectors) is being written; when it exists this loader maps
its native records through the connectors' mapping functions to ``schemas.Report``
and then ``Observation.from_report``, labelled by the ground-truth JSONL.
"""

from __future__ import annotations

from pathlib import Path

from dedup.exceptions import LabelledDataError
from dedup.labelled import LabelledReport


def load_simulator(path: Path) -> list[LabelledReport]:
    """Refuses clearly until the simulator exists."""
    raise LabelledDataError(
        path, None, None, "the simulator loader needs connectors' simulator, not built yet"
    )
