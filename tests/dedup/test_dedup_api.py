"""The public surface of ``dedup`` is exactly what other areas import."""

import dedup

EXPECTED = {
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
}


def test_all_is_sorted_and_pinned():
    """__all__ is sorted and names exactly the expected members, each importable."""
    assert dedup.__all__ == sorted(dedup.__all__)
    assert set(dedup.__all__) == EXPECTED
    for name in dedup.__all__:
        assert getattr(dedup, name) is not None


def test_errors_share_the_project_root():
    """Every dedup error is a BingxianError, so callers can catch one root."""
    from schemas.exceptions import BingxianError

    for name in ("DedupError", "IndexEntryError", "LabelledDataError", "LexiconError", "ModelFileError"):
        assert issubclass(getattr(dedup, name), BingxianError)
