"""HTTP ingest: ``POST /v1/ingest/{channel}`` — native records in the channel's own format → raw topic.

For a channel's system that can call an API but cannot write to Kafka. The contract:

* ``404`` unknown channel; ``401`` without the channel's bearer token (compared in
  constant time); ``413`` body over ``max_body_bytes`` or more than ``max_records``;
  ``415`` a content type the channel does not send;
* every record of the body is validated through the one mapping path; if any fails,
  ``400`` with ``errors`` (record index, line, field path, message) and NOTHING of the
  batch is written to the raw topic (the failed records are kept in ``deadletter``
  under the request id, unless ``deadletter_rejected`` is off);
* otherwise each record's original bytes go to the raw topic (keyed by source id) and
  ``202`` is answered only after Kafka acknowledged every one of them (``503`` if it
  did not: the sender retries; ids are deterministic, so a retry creates no duplicate
  Report downstream).
"""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors import examples
from connectors.delivery import output_producer
from connectors.exceptions import RecordError
from connectors.ingest import Ingestor, dead_letter
from connectors.outputs import OutputEncoder
from connectors.registry import ChannelSpec
from connectors.topics import ensure_connector_topics
from gateway.logs import get_logger
from schemas.models import DeadLetterSource, Transport
from schemas.serde import make_codec

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

log = get_logger(__name__)

#: Charsets accepted for the GBK channel (GB2312 and GB18030 are GBK's subset and superset).
_GBK = {"gbk", "gb2312", "gb18030", "cp936"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ALTERNATE_TYPES = {"application/xml": {"text/xml"}}


@dataclass(frozen=True)
class _Accepted:
    record_ids: list[str]
    report_ids: list[str]


class _HttpError(Exception):
    """An HTTP error answer, raised inside the handler and rendered once."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


def _error(status: int, message: str, request_id: str, **extra: Any) -> JSONResponse:
    headers = {"X-Request-ID": request_id}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"request_id": request_id, "error": message, **extra}, status, headers=headers)


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = header.partition(";")
    params = {}
    for part in rest.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def _check_content_type(spec: ChannelSpec, header: str | None) -> None:
    kind, params = _media_type(header or "")
    allowed = {spec.content_type, *_ALTERNATE_TYPES.get(spec.content_type, set())}
    charset = params.get("charset")
    if kind not in allowed:
        raise _HttpError(
            415, f"channel {spec.name} sends {spec.content_type}, not {kind or 'no content type'}"
        )
    expected = _GBK if spec.encoding == "gbk" else {"utf-8", "utf8"}
    if charset is not None and charset not in expected:
        raise _HttpError(415, f"channel {spec.name} sends {spec.encoding.upper()}, not charset={charset}")


class _Ingest:
    """The request handler's state: settings, the one mapping path, the producer."""

    def __init__(self, settings: Settings, producer: Producer | None, ingestor: Ingestor | None) -> None:
        self.settings = settings
        self.options = settings.connectors.http
        self.ingestor = ingestor or Ingestor(settings)
        self.encoder = OutputEncoder(
            settings, make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        )
        self._own_producer = producer is None
        self.producer = producer

    def start(self) -> None:
        if self.producer is None:
            ensure_connector_topics(self.settings, self.ingestor.channels)
            self.producer = output_producer(self.settings)

    def close(self) -> None:
        if self._own_producer and self.producer is not None:
            self.producer.flush(self.options.ack_timeout_s)

    def authorize(self, channel: str, header: str | None) -> None:
        token = self.options.tokens.get(channel)
        scheme, _, given = (header or "").partition(" ")
        expected = token.get_secret_value().encode() if token is not None else b""
        # compare_digest runs in time independent of where the strings differ.
        ok = hmac.compare_digest(given.strip().encode(), expected) and token is not None
        if scheme.lower() != "bearer" or not ok:
            raise _HttpError(401, f"a valid bearer token for channel {channel} is required")

    def handle(self, spec: ChannelSpec, body: bytes, request_id: str) -> _Accepted:
        """Validate every record; write all (and wait for acks) or none."""
        received = datetime.now(UTC)
        pieces = list(spec.split_batch(body))
        if not pieces:
            raise _HttpError(400, "the body holds no record", errors=[])
        if len(pieces) > self.options.max_records:
            raise _HttpError(413, f"{len(pieces)} records, more than max_records={self.options.max_records}")
        errors: list[dict[str, Any]] = []
        failed: list[tuple[int, bytes, RecordError]] = []
        accepted: list[tuple[bytes, str, str]] = []
        for index, piece in enumerate(pieces):
            try:
                report = self.ingestor.to_report(spec.name, piece.raw, received)
                self.encoder.report_value(report)  # what connect will check: refused now, not later
            except RecordError as exc:
                failed.append((index, piece.raw, exc))
                problems = exc.errors or [None]
                for problem in problems:
                    errors.append(
                        {
                            "index": index,
                            "line": piece.line,
                            "field": problem.field if problem else None,
                            "message": problem.message if problem else exc.message,
                            "kind": exc.kind.value,
                        }
                    )
            else:
                accepted.append((piece.raw, report.source_record_id, report.report_id))
        if failed:
            if self.options.deadletter_rejected:
                self._dead_letters(spec, failed, request_id, received)
            raise _HttpError(
                400,
                f"{len(failed)} of {len(pieces)} record(s) are invalid; nothing was written",
                errors=errors,
            )
        self._write(spec.raw_topic(self.settings), accepted)
        return _Accepted([a[1] for a in accepted], [a[2] for a in accepted])

    def _dead_letters(
        self,
        spec: ChannelSpec,
        failed: list[tuple[int, bytes, RecordError]],
        request_id: str,
        received: datetime,
    ) -> None:
        outputs = []
        for index, raw, error in failed:
            position = DeadLetterSource(transport=Transport.HTTP, request_id=f"{request_id}#{index}")
            outputs.append(self.encoder.dead_letter(dead_letter(spec.name, raw, position, received, error)))
        self._produce_and_wait([(o.topic, o.key, o.value) for o in outputs])

    def _write(self, topic: str, accepted: list[tuple[bytes, str, str]]) -> None:
        self._produce_and_wait([(topic, source_id.encode("utf-8"), raw) for raw, source_id, _ in accepted])

    def _produce_and_wait(self, records: list[tuple[str, bytes, bytes | None]]) -> None:
        """Produce and block until Kafka acknowledged each record (this request's only)."""
        assert self.producer is not None
        done = threading.Event()
        state = {"left": len(records), "error": None}
        lock = threading.Lock()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            with lock:
                state["left"] -= 1
                if err is not None and state["error"] is None:
                    state["error"] = f"{msg.topic()}: {err.str()}"
                if state["left"] == 0:
                    done.set()

        deadline = time.monotonic() + self.options.ack_timeout_s
        for topic, key, value in records:
            while True:
                try:
                    self.producer.produce(topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:
                    self.producer.poll(0.05)
                except KafkaException as exc:
                    raise _HttpError(503, f"Kafka refused the records: {exc}; retry later") from exc
        while not done.is_set():
            if time.monotonic() > deadline:
                raise _HttpError(503, "Kafka did not acknowledge the records in time; retry later")
            self.producer.poll(0.01)
        if state["error"] is not None:
            raise _HttpError(503, f"Kafka did not acknowledge a record ({state['error']}); retry later")


def _request_body_docs() -> dict[str, Any]:
    by_type: dict[str, Any] = {}
    for name, raw in examples.RAW.items():
        spec_type = {"962121": "text/csv; charset=GBK"}.get(name) or (
            "application/xml" if name == "12319" else "application/json"
        )
        text = raw.decode("gbk" if name == "962121" else "utf-8")
        by_type.setdefault(spec_type, {"schema": {"type": "string"}, "examples": {}})["examples"][name] = {
            "summary": f"one {name} record",
            "value": text,
        }
    return {"requestBody": {"required": True, "content": by_type}}


def create_app(
    settings: Settings, producer: Producer | None = None, *, ingestor: Ingestor | None = None
) -> FastAPI:
    """The ingest API; ``producer`` is created from ``settings.kafka`` when not given."""
    state = _Ingest(settings, producer, ingestor)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start()
        yield
        state.close()

    app = FastAPI(
        title="bingxian ingest",
        version="1",
        summary="Native channel records over HTTP, written to the channel's raw Kafka topic.",
        lifespan=lifespan,
    )

    @app.post(
        "/v1/ingest/{channel}",
        status_code=202,
        openapi_extra=_request_body_docs(),
        responses={
            400: {
                "description": "invalid records: errors[] with index, line, field, message; nothing written"
            },
            401: {"description": "missing or wrong bearer token"},
            404: {"description": "unknown channel"},
            413: {"description": "body or batch too large"},
            415: {"description": "not the channel's content type"},
            503: {"description": "Kafka did not acknowledge; retry"},
        },
    )
    async def ingest(channel: str, request: Request) -> JSONResponse:
        """Accept one native record or a batch in the channel's own format; 202 once Kafka has them."""
        given = request.headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        spec = state.ingestor.registry.get(channel)
        if spec is None or channel not in state.ingestor.channels:
            return _error(404, f"unknown channel {channel!r}", request_id)
        try:
            state.authorize(channel, request.headers.get("authorization"))
            _check_content_type(spec, request.headers.get("content-type"))
            body = await _read_limited(request, state.options.max_body_bytes)
            accepted = await run_in_threadpool(state.handle, spec, body, request_id)
        except _HttpError as problem:
            log.info("ingest refused", request_id=request_id, channel=channel, status=problem.status)
            return _error(problem.status, problem.body.pop("error"), request_id, **problem.body)
        log.info("ingest accepted", request_id=request_id, channel=channel, accepted=len(accepted.record_ids))
        return JSONResponse(
            {
                "request_id": request_id,
                "accepted": len(accepted.record_ids),
                "record_ids": accepted.record_ids,
                "report_ids": accepted.report_ids,
            },
            202,
            headers={"X-Request-ID": request_id},
        )

    return app


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _HttpError(413, f"body of {declared} bytes is over the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _HttpError(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
