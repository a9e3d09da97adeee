"""Keep CPython's cyclic collector off the gateway's state.

The state (every ticket's Avro dict, the dedup index's rows) is hundreds of thousands of
long-lived objects with no reference cycles between them. CPython's full collections
still walk every one: on ``bench.processor``'s 20,000 reports, 7 full collections took
2.6-3.5 s of CPU, the longest 412-603 ms, a stall that every report in flight waits for.
The state grows with the city, and so would the stalls.

So the service freezes the heap (``gc.freeze``) at the end of each round of its loop:
what is alive then leaves the collector's generations. Frozen objects are still freed by
reference counting when the state lets them go; what the collector no longer sees is a
reference cycle among them, and the processing path makes none (a test holds it to
that). Anything else that might (an exception's traceback in a thread, a library) is
caught by a sweep every ``gateway.gc_sweep_seconds``: unfreeze, one full collection,
freeze again, logged with its duration and what it freed. One bounded pause on the
service's schedule instead of unbounded ones on the collector's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from gateway.logs import get_logger

log = get_logger(__name__)


class HeapKeeper:
    """Freezes the heap after each round of work; sweeps it every ``sweep_every_s`` seconds.

    ``sweep_every_s`` of 0 leaves the collector as CPython runs it (nothing is frozen).
    """

    def __init__(self, sweep_every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.sweep_every_s = sweep_every_s
        self._clock = clock
        self._last_sweep = clock()

    @property
    def enabled(self) -> bool:
        return self.sweep_every_s > 0

    def settle(self) -> int | None:
        """Freeze what is alive now; sweep first when one is due. Returns the objects a sweep freed."""
        if not self.enabled:
            return None
        now = self._clock()
        collected = None
        if now - self._last_sweep >= self.sweep_every_s:
            collected = self.sweep()
            self._last_sweep = now
        gc.freeze()
        return collected

    def sweep(self) -> int:
        """One full collection over everything, frozen or not (the only pause the heap takes)."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        log.info(
            "heap swept",
            collected=collected,
            seconds=round(time.perf_counter() - started, 3),
        )
        return collected

    def release(self) -> None:
        """Hand the heap back to the collector (at shutdown: the process may go on without the service)."""
        if self.enabled:
            gc.unfreeze()
