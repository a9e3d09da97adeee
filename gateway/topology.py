"""Every topic bingxian uses, with the layout each needs.

``reports``, ``ticket-status`` and the changelog share the partition count, because
the changelog partition *p* holds the state of ``reports`` partition *p*. Ticket
topics are compacted and keyed by ticket id, so a reader from the beginning sees
the latest state of every ticket and a replay overwrites instead of duplicating.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.settings import Settings
from gateway.topics import TopicSpec

COMPACT = {"cleanup.policy": "compact"}
#: The audit trail and dead letters are kept for a year by default.
KEEP_A_YEAR = {"cleanup.policy": "delete", "retention.ms": str(365 * 24 * 3600 * 1000)}


def topic_specs(settings: Settings, departments: Iterable[str] = ()) -> list[TopicSpec]:
    """All topics: raw inputs, reports, outputs, department topics, dead letters and the changelog."""
    t = settings.topics
    n, rf = t.partitions, t.replication_factor
    specs = [TopicSpec(name, n, rf) for name in t.raw.values()]
    specs += [
        TopicSpec(t.reports, n, rf),
        TopicSpec(t.ticket_status, n, rf),
        TopicSpec(t.deadletter, n, rf, {**KEEP_A_YEAR, "max.message.bytes": str(t.deadletter_max_bytes)}),
        TopicSpec(t.tickets, n, rf, COMPACT),
        TopicSpec(t.ticket_events, n, rf, KEEP_A_YEAR),
        TopicSpec(t.changelog, n, rf, {**COMPACT, "segment.ms": str(t.changelog_segment_ms)}),
    ]
    specs += [TopicSpec(t.department(code), n, rf, COMPACT) for code in sorted(set(departments))]
    return specs
