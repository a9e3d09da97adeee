"""Errors of the dedup library, under the project's single root exception.

    BingxianError                  (schemas.exceptions)
    └── DedupError                 anything the dedup library raises on purpose
        ├── ModelFileError         a model file that cannot be read or does not validate
        ├── LexiconError           a synonym / stock-phrase / city table that does not validate
        ├── IndexEntryError        snapshot or changelog bytes this version cannot read
        └── LabelledDataError      a labelled file (Chicago, NYC, simulator) with a bad line

Errors about user input carry where it happened (file, line, field) so the CLI can
print one readable line instead of a stack trace.
"""

from __future__ import annotations

from pathlib import Path

from schemas.exceptions import BingxianError


class DedupError(BingxianError):
    """Root of the dedup library's errors."""


class ModelFileError(DedupError):
    """A dedup model file is missing, malformed, or has unknown features or levels."""


class LexiconError(DedupError):
    """A synonym dictionary, stock-phrase list or city hint table does not validate."""


class IndexEntryError(DedupError):
    """Snapshot or changelog bytes that this version of the index cannot read."""


class LabelledDataError(DedupError):
    """A labelled input file has a bad record; names the file, line and field."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, problem: str) -> None:
        where = str(path) if line is None else f"{path}:{line}"
        if field:
            where = f"{where}: field {field!r}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
