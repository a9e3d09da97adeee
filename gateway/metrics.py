"""Prometheus metrics of the gateway.

Each service instance gets its own registry, so several instances (tests, the
demo) can live in one process without their counters mixing.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    """The counters, gauges and histograms ``/metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reports_in = Counter("bingxian_reports_in", "Reports consumed", registry=r)
        self.tickets_created = Counter("bingxian_tickets_created", "Tickets opened", ["band"], registry=r)
        self.merges = Counter("bingxian_reports_merged", "Reports merged into an open ticket", registry=r)
        self.review = Counter(
            "bingxian_review_band", "Reports that opened a ticket flagged for review", registry=r
        )
        self.held_back = Counter(
            "bingxian_review_held_back",
            "Of the review band, reports scored past the merge threshold but held back by a problem guard",
            ["reason"],
            registry=r,
        )
        self.filed = Counter("bingxian_reports_filed", "Filing-only reports recorded", registry=r)
        self.dropped = Counter("bingxian_inputs_dropped", "Inputs dropped on purpose", ["reason"], registry=r)
        self.dead_letters = Counter(
            "bingxian_dead_letters", "Inputs sent to the dead-letter topic", registry=r
        )
        self.status_changes = Counter("bingxian_status_changes", "Status changes applied", registry=r)
        self.merged_by_person = Counter(
            "bingxian_tickets_merged_by_person",
            "Tickets a person merged into the one they repeat (duplicate_of, 人工并单)",
            registry=r,
        )
        self.released = Counter(
            "bingxian_open_tickets_released",
            "Open tickets let go from state after open_retention_days without a change",
            registry=r,
        )
        self.routed = Counter(
            "bingxian_tickets_routed", "Tickets routed per department", ["department"], registry=r
        )
        self.candidates_capped = Counter(
            "bingxian_dedup_candidates_capped", "Dedup decisions whose candidate list hit the cap", registry=r
        )
        self.lag = Gauge(
            "bingxian_consumer_lag", "Records behind the end of the partition", ["partition"], registry=r
        )
        self.latency = Histogram(
            "bingxian_report_to_ticket_seconds",
            "Time from a report's ingestion to the commit of its ticket",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
            registry=r,
        )
        self.commit_time = Histogram(
            "bingxian_transaction_commit_seconds",
            "Time to commit one transaction",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.restore_seconds = Histogram(
            "bingxian_restore_seconds",
            "Time to restore one partition's state from the changelog",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.aborts = Counter("bingxian_transactions_aborted", "Transactions aborted and retried", registry=r)
        self.assigned = Gauge(
            "bingxian_assigned_partitions", "Partitions of reports this instance owns", registry=r
        )
