"""Taking a batch from a Kafka consumer without waiting for it to fill.

``Consumer.consume(n, timeout)`` returns only when n records have arrived or the whole
timeout has passed, so at light traffic every record waits out the timeout before it is
processed: 50 ms of the gateway's live latency, and the loop's capacity with it
(docs/benchmarks.md). ``poll`` returns the first record as soon as it is there, and
``consume(n - 1, 0)`` takes what librdkafka has already fetched behind it: a backlog
still fills whole batches, a trickle is processed at once. The gateway and the
connectors take their batches this way.
"""

from __future__ import annotations

from confluent_kafka import Consumer, Message


def next_batch(consumer: Consumer, size: int, timeout_s: float) -> list[Message]:
    """Up to ``size`` records: waits at most ``timeout_s`` for the first, not at all for the rest."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    if size <= 1:
        return [first]
    return [first, *consumer.consume(size - 1, 0)]
