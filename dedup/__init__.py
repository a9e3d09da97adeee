"""Deduplication of complaint reports (并单): is this report a repeat of an open ticket?

Pure matching, no Kafka: the gateway feeds observations one at a time to a
``TicketIndex`` per partition and persists the index through ``drain_changes`` /
``load_entry``. The public surface is pinned by ``tests/dedup/test_dedup_api.py``.
"""

from dedup.config import DedupConfig
from dedup.decision import Contribution, Decision
from dedup.exceptions import (
    DedupError,
    IndexEntryError,
    LabelledDataError,
    LexiconError,
    ModelFileError,
)
from dedup.index import IndexStats, TicketIndex, UnknownTicketError
from dedup.model import DedupModel, load_model
from dedup.normalize import NormalizedReport, Normalizer
from dedup.observation import Observation

__all__ = [
    "Contribution",
    "Decision",
    "DedupConfig",
    "DedupError",
    "DedupModel",
    "IndexEntryError",
    "IndexStats",
    "LabelledDataError",
    "LexiconError",
    "ModelFileError",
    "NormalizedReport",
    "Normalizer",
    "Observation",
    "TicketIndex",
    "UnknownTicketError",
    "load_model",
]
