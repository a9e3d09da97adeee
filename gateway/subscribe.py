"""``bingxian subscribe``: a department follows its own ticket topic.

Each department reads ``tickets.<code>`` with its own consumer group, so its
position is its own and it can stop and resume. The topic is compacted and keyed
by ticket id: every line is the latest state of a ticket, and a ticket reappears
when it changes (a merge adds a report, a status moves on). Contacts are shown
masked only; confidential callers not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from gateway.logs import librdkafka_logger
from gateway.positions import Position
from gateway.settings import Settings
from schemas.serde import Codec

TZ_LOCAL = "Asia/Shanghai"


class UnknownTopicError(LookupError):
    """The department's topic does not exist (a mistyped code, or the gateway never routed to it)."""


def follow(
    settings: Settings,
    department: str,
    codec: Codec,
    *,
    from_beginning: bool = False,
    since: Position | None = None,
    idle_exit_s: float | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[dict[str, Any]]:
    """Yield the department's tickets as they arrive (decoded Avro dicts), committing as it goes."""
    topic = settings.topics.department(department)
    consumer = Consumer(
        settings.kafka.client_config(
            **{
                "group.id": f"bingxian-subscribe-{department}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
            }
        ),
        logger=librdkafka_logger(),
    )

    metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        consumer.close()
        raise UnknownTopicError(
            f"topic {topic} does not exist: is {department!r} a department code of the routing catalogue?"
        )
    idle_since = time.monotonic()

    def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
        nonlocal idle_since
        idle_since = time.monotonic()  # joining the group is not idleness
        if since is not None and since.time_ms is not None:
            for tp in c.offsets_for_times(
                [TopicPartition(tp.topic, tp.partition, since.time_ms) for tp in partitions]
            ):
                tp.offset = tp.offset if tp.offset >= 0 else -1  # -1: OFFSET_END
                _set(partitions, tp)
        elif from_beginning:
            for tp in partitions:
                tp.offset = OFFSET_BEGINNING
        c.assign(partitions)

    consumer.subscribe([topic], on_assign=on_assign)
    try:
        while not stop():
            message = consumer.poll(0.5)
            if message is None:
                if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                    return
                continue
            if message.error() is not None or not message.value():
                continue
            idle_since = time.monotonic()
            yield codec.decode_dict(message.value(), topic=topic)[1]
    finally:
        consumer.close()


def _set(partitions: list[TopicPartition], found: TopicPartition) -> None:
    for tp in partitions:
        if tp.partition == found.partition:
            tp.offset = found.offset


def _local(value: datetime | None) -> str:
    if value is None:
        return "-"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(TZ_LOCAL)).strftime("%m-%d %H:%M")


def table_row(ticket: dict[str, Any]) -> list[str]:
    """One line per ticket: what a department dispatcher scans for.

    A ticket a person merged into another shows where its work went (``CLOSED→TK-…``):
    it is closed with no reports, and the dispatcher's next look is that ticket.
    """
    merged_into = ticket.get("merged_into")
    return [
        _local(ticket["updated_at"]),
        ticket["ticket_id"],
        ticket["status"] + (f"→{merged_into}" if merged_into else ""),
        ticket["category"]["name"],
        (ticket["location"]["address"] or "-")[:28],
        str(ticket["report_count"]),
        _local(ticket["deadline"]),
        ticket["caller_masked"] or "-",
    ]


TABLE_HEADER = ["updated", "ticket", "status", "category", "address", "reports", "deadline", "caller"]


def json_line(ticket: dict[str, Any]) -> str:
    """The ticket as one JSON line (times in ISO 8601, UTC)."""
    return json.dumps(ticket, ensure_ascii=False, default=lambda v: v.isoformat(), separators=(",", ":"))
