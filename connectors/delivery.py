"""A producer that never loses a delivery failure.

librdkafka reports the fate of every record through a callback, from whichever thread
calls ``poll``/``flush``. ``TrackedProducer`` remembers the first failure and raises it
(``DeliveryError``) at the next ``produce`` or ``flush``, so a caller that commits
offsets (or answers 202) only after a successful ``flush`` can never acknowledge
something Kafka did not take.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.exceptions import DeliveryError
from gateway.logs import librdkafka_logger

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

#: Producer settings the connectors rely on: idempotence (no duplicates from retries) and acks=all.
PRODUCER_DEFAULTS = {"enable.idempotence": True, "acks": "all", "linger.ms": 5, "compression.type": "lz4"}


def make_producer(client_config: dict[str, Any]) -> Producer:
    """A librdkafka producer with the connectors' defaults (overridable by ``kafka.extra``)."""
    return Producer({**PRODUCER_DEFAULTS, **client_config}, logger=librdkafka_logger())


def output_producer(settings: Settings) -> Producer:
    """The producer of mapped results: Reports (checked against ``topics.max_record_bytes``
    before they are produced) and dead letters, which carry a whole raw record and so may be
    larger, up to the dead-letter topic's limit."""
    limit = {"message.max.bytes": settings.topics.deadletter_max_bytes}
    return make_producer(settings.kafka.client_config(**limit))


class TrackedProducer:
    """Wraps a ``Producer``: the first delivery error is remembered and raised."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        self._lock = threading.Lock()
        self._error: str | None = None

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            with self._lock:
                if self._error is None:
                    self._error = f"{msg.topic()}: {err.str()}"

    def check(self) -> None:
        """Raise the remembered delivery failure, if any (once raised, it is cleared)."""
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise DeliveryError(f"Kafka did not acknowledge a record: {error}")

    def produce(self, topic: str, value: bytes | None, key: bytes | None = None) -> None:
        """Queue one record; waits (polling) while librdkafka's queue is full."""
        self.check()
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=self._delivered)
                return
            except BufferError:
                self.producer.poll(0.05)
            except KafkaException as exc:
                raise DeliveryError(f"{topic}: cannot produce: {exc}") from exc

    def flush(self, timeout_s: float) -> None:
        """Wait until every queued record is acknowledged; raise if one failed or time ran out."""
        remaining = self.producer.flush(timeout_s)
        self.check()
        if remaining:
            raise DeliveryError(f"{remaining} record(s) not acknowledged within {timeout_s:g} s")
