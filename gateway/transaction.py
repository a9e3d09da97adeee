"""What a failed Kafka transaction means for the gateway: abort and retry, or stop.

librdkafka reports a transaction's failure in two places. Calls that talk to the
coordinator (``send_offsets_to_transaction``, ``commit_transaction``) raise an error that
says itself whether it is fatal or only needs ``abort_transaction``. A delivery that fails
in the background (for instance OUT_OF_ORDER_SEQUENCE_NUMBER after a retried produce
request, which needs a producer epoch bump) says nothing at the call site: the producer
moves to its abortable-error state and every later ``produce()`` is refused with a plain
``_STATE`` error. Read naively, that looks like a programming error and stopped the whole
gateway in the middle of a rebalance. One place decides instead, so every transactional
path treats both forms the same way.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from gateway.settings import Settings


def producer_config(settings: Settings, transactional_id: str) -> dict[str, Any]:
    """librdkafka configuration of a transactional producer as the gateway runs it.

    ``bench.e2e``'s passthrough takes the same, so its baseline pays what the gateway pays
    per transaction and nothing else (it had kept librdkafka's defaults and so waited the
    ~100 ms below on every transaction: a baseline at about half its real speed).
    """
    return settings.kafka.client_config(
        **{
            "transactional.id": transactional_id,
            "transaction.timeout.ms": settings.gateway.transaction_timeout_ms,
            "linger.ms": 5,
            "queue.buffering.max.messages": 1_000_000,
            # Back-to-back transactions: the coordinator answers CONCURRENT_TRANSACTIONS
            # while it still completes the last commit, and librdkafka retries after
            # retry.backoff.ms, doubling up to retry.backoff.max.ms (100 ms → 1 s by
            # default), so the next transaction went on waiting whole backoff steps
            # after the coordinator was free. The Java client retries these after 20 ms
            # (KAFKA-5477).
            "retry.backoff.ms": 20,
            "retry.backoff.max.ms": 200,
            # A dead letter carries the whole input record it is about, so it may be a
            # little over an input's size; the dead-letter topic allows twice the limit.
            "message.max.bytes": settings.topics.deadletter_max_bytes,
        }
    )


def produce_in_transaction(
    producer: Producer, topic: str, key: bytes, value: bytes | None, partition: int | None = None
) -> None:
    """Enqueue one record in the open transaction, waiting while the local queue is full.

    A refusal because the transaction already failed in the background is re-raised as an
    abortable error, so the caller aborts and re-processes the batch instead of dying.
    """
    kwargs: dict[str, object] = {"key": key, "value": value}
    if partition is not None:
        kwargs["partition"] = partition
    while True:
        try:
            producer.produce(topic, **kwargs)
            return
        except BufferError:
            producer.poll(0.05)  # the local queue is full: let deliveries drain
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() != KafkaError._STATE or error.fatal():
                raise
            # Fatal states are reported as _FATAL, never _STATE; if this one cannot be
            # aborted either, abort_transaction() raises and says why.
            raise KafkaException(
                KafkaError(
                    KafkaError._STATE,
                    f"the transaction failed in the background: {error.str()}",
                    txn_requires_abort=True,
                )
            ) from exc


def must_abort(error: KafkaError) -> bool:
    """True when aborting the transaction and processing the batch again can succeed."""
    return not error.fatal() and (error.txn_requires_abort() or error.retriable())
