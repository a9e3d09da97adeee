"""The heap kept frozen out of the cyclic collector: safe because processing makes no cycles."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dedup import TicketIndex, load_model
from gateway.heap import HeapKeeper
from gateway.processor import PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.settings import Settings
from gateway.workload import build, feed
from schemas import SingleObjectCodec


class _Node:
    """Something that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.me = self


def _cycle() -> weakref.ref[_Node]:
    return weakref.ref(_Node())  # the only strong references are the node's own


@pytest.fixture
def thawed() -> Iterator[None]:
    """Whatever a test freezes goes back to the collector afterwards."""
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _processor(settings: Settings) -> PartitionProcessor:
    return PartitionProcessor(
        0,
        index=TicketIndex(load_model()),
        router=Router(load_catalogue()),
        codec=SingleObjectCodec(),
        topics=settings.topics,
    )


def test_processing_and_restore_leave_no_reference_cycles(thawed: None) -> None:
    """What freezing relies on: a report, a status change, a changelog flush and a restore free
    everything they drop by reference counting alone, so nothing frozen waits for a sweep."""
    settings = Settings()
    values = [item.value for item in build(settings, reports=3000, seed=11).items]
    gc.collect()
    gc.freeze()  # what exists before is not this test's business
    gc.disable()  # so no automatic collection hides a cycle made below
    processor = _processor(settings)
    emitted = feed(processor, values, flush_every=settings.gateway.batch_size)
    restored = _processor(settings)
    for emit in emitted:
        if emit.topic == settings.topics.changelog:
            restored.restore(emit.key, emit.value)
    restored.finish_restore()
    assert processor.stats.merged > 0
    assert processor.stats.status_changes > 0
    assert restored.tickets.keys() == processor.tickets.keys()
    assert gc.collect() == 0


def test_a_settled_heap_hides_cycles_until_the_sweep_frees_them(thawed: None) -> None:
    now = [0.0]
    keeper = HeapKeeper(600, clock=lambda: now[0])
    watched = _cycle()
    assert keeper.settle() is None  # no sweep due: frozen
    gc.collect()
    assert watched() is not None  # the collector no longer sees it
    now[0] = 599.0
    assert keeper.settle() is None
    now[0] = 600.0
    freed = keeper.settle()
    assert freed is not None
    assert freed >= 1
    assert watched() is None


def test_a_sweep_interval_of_zero_leaves_the_collector_alone(thawed: None) -> None:
    keeper = HeapKeeper(0)
    watched = _cycle()
    assert keeper.settle() is None
    gc.collect()
    assert watched() is None
