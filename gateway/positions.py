"""Turning operator input (``--from 2026-11-01T08:00+08:00`` or ``--from 1200``) into offsets.

Shared by ``replay`` and ``subscribe``: an ISO time is resolved per partition with
``offsets_for_times`` (the first offset at or after that time), an integer is an
offset applied to every partition. Both clamp to the partition's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition


class PositionError(ValueError):
    """The operator's position could not be understood."""


@dataclass(frozen=True, slots=True)
class Position:
    """A point in a topic: a time (ms since epoch) or an offset."""

    time_ms: int | None = None
    offset: int | None = None

    @classmethod
    def parse(cls, text: str) -> Position:
        text = text.strip()
        if text.isdigit():
            return cls(offset=int(text))
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise PositionError(
                f"{text!r} is neither an offset nor an ISO time like 2026-11-01T08:00+08:00"
            ) from None
        if value.tzinfo is None:
            raise PositionError(f"{text!r} needs a time zone, e.g. {text}+08:00")
        return cls(time_ms=int(value.astimezone(UTC).timestamp() * 1000))


def resolve(
    consumer: Consumer, topic: str, partitions: list[int], position: Position | None, *, end: bool
) -> dict[int, int]:
    """Offset per partition for ``position``; None is each partition's start, or its end with ``end``."""
    bounds = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}
    if position is None:
        return {p: (high if end else low) for p, (low, high) in bounds.items()}
    if position.offset is not None:
        return {p: min(max(position.offset, low), high) for p, (low, high) in bounds.items()}
    query = [TopicPartition(topic, p, position.time_ms) for p in partitions]
    found = consumer.offsets_for_times(query, timeout=10)
    # -1: no record at or after that time, i.e. the end of the partition.
    return {tp.partition: (tp.offset if tp.offset >= 0 else bounds[tp.partition][1]) for tp in found}
