"""Each processor counter moves its Prometheus metric, and only that one (no broker).

The service turns the difference of a processor's counters around one record into metric
increments (``GatewayService._count``); a counter missing from that map would count in
the processor's summary and never reach ``/metrics``.
"""

from __future__ import annotations

import pytest

from dedup import TicketIndex, load_model
from dedup.decision import HELD_BACK_SAYS
from gateway.processor import PartitionProcessor
from gateway.routing import Router, load_catalogue
from gateway.service import GatewayService, _snapshot
from gateway.settings import Settings
from schemas import SingleObjectCodec


def _samples(service: GatewayService) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in service.metrics.registry.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    }


def _service_and_processor() -> tuple[GatewayService, PartitionProcessor]:
    settings = Settings()
    processor = PartitionProcessor(
        0,
        index=TicketIndex(load_model()),
        router=Router(load_catalogue()),
        codec=SingleObjectCodec(),
        topics=settings.topics,
    )
    return GatewayService(settings), processor


@pytest.mark.parametrize(
    ("counter", "sample", "labels"),
    [
        ("merged", "bingxian_reports_merged_total", {}),
        ("review", "bingxian_review_band_total", {}),
        ("filed", "bingxian_reports_filed_total", {}),
        ("status_changes", "bingxian_status_changes_total", {}),
        ("dead_letters", "bingxian_dead_letters_total", {}),
        ("released_open", "bingxian_open_tickets_released_total", {}),
        ("merged_by_person", "bingxian_tickets_merged_by_person_total", {}),
        ("duplicates_dropped", "bingxian_inputs_dropped_total", {"reason": "report already placed"}),
        ("status_dropped", "bingxian_inputs_dropped_total", {"reason": "status change already applied"}),
    ],
)
def test_a_processor_counter_moves_its_metric(counter: str, sample: str, labels: dict[str, str]) -> None:
    service, processor = _service_and_processor()
    before = _snapshot(processor)
    samples = _samples(service)
    setattr(processor.stats, counter, getattr(processor.stats, counter) + 3)
    service._count(before, processor)
    after = _samples(service)
    key = (sample, tuple(sorted(labels.items())))
    moved = {k: v - samples.get(k, 0.0) for k, v in after.items() if v != samples.get(k, 0.0)}
    assert moved == {key: 3.0}


@pytest.mark.parametrize("reason", sorted(HELD_BACK_SAYS))
def test_a_held_back_review_counts_under_its_reason(reason: str) -> None:
    """Why REVIEWs were held back from MERGE, by guard: what a dispatch centre staffs for."""
    service, processor = _service_and_processor()
    before = _snapshot(processor)
    samples = _samples(service)
    processor.stats.held_back[reason] = 3
    service._count(before, processor)
    after = _samples(service)
    moved = {k: v - samples.get(k, 0.0) for k, v in after.items() if v != samples.get(k, 0.0)}
    assert moved == {("bingxian_review_held_back_total", (("reason", reason),)): 3.0}
