"""Weighted choices with their cumulative weights computed once.

The simulator makes millions of weighted draws; ``random.choices`` re-validates and
re-accumulates its weights on every call, which was a third of the run time.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """Items with weights; ``pick`` draws one, consuming one ``random()`` like ``random.choices``."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if len(items) != len(weights) or not items:
            raise ValueError("a weighted choice needs as many weights as items, and at least one")
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect(self.cum, rng.random() * self.total, 0, len(self.cum) - 1)]
