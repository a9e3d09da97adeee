"""A labelled report stream: what evaluation and fitting replay through the index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dedup.observation import Observation


class LabelledReport:
    """One report with its ground truth: the real-world issue (cluster) it belongs to."""

    __slots__ = ("closed_ms", "cluster", "flagged", "kind", "near_miss_of", "near_miss_type", "obs")

    def __init__(
        self,
        obs: Observation,
        cluster: str,
        *,
        closed_ms: int | None = None,
        kind: str | None = None,
        flagged: bool = False,
        near_miss_type: str | None = None,
        near_miss_of: str | None = None,
    ) -> None:
        self.obs = obs
        self.cluster = cluster
        self.closed_ms = closed_ms  # when the city closed the ticket this report would open
        self.kind = kind  # simulator: original / repeat / near_miss / single
        self.flagged = flagged  # NYC: the city's resolution text calls it a duplicate
        self.near_miss_type = near_miss_type  # simulator: how a near miss resembles its original
        self.near_miss_of = near_miss_of  # simulator: the cluster (issue) a near miss imitates


SPLITS = ("first-half", "second-half", "all")


def split_mask(stream: Sequence[LabelledReport], split: str) -> list[bool]:
    """Which reports a split measures: halves of the event-time range (not of the count)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    if split == "all" or not stream:
        return [True] * len(stream)
    times = [r.obs.event_time_ms for r in stream]
    middle = (min(times) + max(times)) / 2
    if split == "first-half":
        return [t < middle for t in times]
    return [t >= middle for t in times]


def in_time_order(stream: Iterable[LabelledReport]) -> list[LabelledReport]:
    """Stable sort by event time (ties keep file order), as a partition would see them."""
    return sorted(stream, key=lambda r: r.obs.event_time_ms)
