"""Traffic simulator: realistic native records of the four channels, with ground truth.

``generate`` plans real-world issues in a simulated city (``data/``), has them
reported through 12345, 12319, 962121 and the grid app — several times, reworded,
with different address spellings and datums, plus near misses that must not be
merged and malformed records that must be rejected — and renders every report in
its channel's native format (``docs/channels.md``). ``write_files`` and ``produce``
send the result to files or to the raw topics. See ``docs/simulator.md``.
"""

from connectors.simulator.output import department_changes, produce, write_files
from connectors.simulator.simulation import DEFAULT_START, generate
from connectors.simulator.truth import Closure, Issue, Kind, NearMissType, SimRecord, Simulation

__all__ = [
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
