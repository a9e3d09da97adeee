"""HTTP ingest with FastAPI's TestClient against the real broker: 202 only after Kafka has the records."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from connectors import examples
from connectors.http_ingest import create_app
from connectors.settings import ConnectorSettings, HttpIngestSettings
from gateway.settings import Settings
from gateway.testing import read_topic
from schemas.models import DeadLetter, Transport
from schemas.serde import SingleObjectCodec, decode

TOKENS = {name: f"token-{name}" for name in examples.RAW}
TYPES = {
    "12345": "application/json",
    "grid": "application/json",
    "12319": "application/xml",
    "962121": "text/csv; charset=GBK",
}


@pytest.fixture
def http_settings(kafka_settings: Settings) -> Settings:
    """Kafka settings plus a token per channel and a small body limit."""
    http = HttpIngestSettings(tokens={k: SecretStr(v) for k, v in TOKENS.items()}, max_body_bytes=20_000)
    return kafka_settings.model_copy(
        update={"connectors": kafka_settings.connectors.model_copy(update={"http": http})}
    )


@pytest.fixture
def client(http_settings: Settings) -> Iterator[TestClient]:
    """The ingest app, its producer started by the lifespan."""
    with TestClient(create_app(http_settings)) as test_client:
        yield test_client


def _post(client: TestClient, channel: str, body: bytes, **headers: str):
    headers = {
        "Authorization": f"Bearer {TOKENS.get(channel, 'x')}",
        "Content-Type": TYPES.get(channel, ""),
        **headers,
    }
    return client.post(f"/v1/ingest/{channel}", content=body, headers=headers)


def _raw(settings: Settings, channel: str) -> list[bytes]:
    return [r.value for r in read_topic(settings.kafka.bootstrap_servers, settings.topics.raw[channel])]


@pytest.mark.parametrize("channel", sorted(examples.RAW))
def test_one_record_is_accepted_after_kafka_has_it(
    client: TestClient, http_settings: Settings, channel: str
) -> None:
    """202 with the record and report ids; the raw topic holds exactly the posted bytes."""
    response = _post(client, channel, examples.RAW[channel])
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 1
    assert len(body["record_ids"]) == len(body["report_ids"]) == 1
    assert response.headers["X-Request-ID"] == body["request_id"]
    assert _raw(http_settings, channel) == [examples.RAW[channel]]


def test_batches_in_each_format(client: TestClient, http_settings: Settings) -> None:
    """A JSON array, a <cases> document and a GBK CSV with many rows are split into their records."""
    array = b"[" + b",".join([examples.GRID, examples.GRID.replace(b"0001", b"0002")]) + b"]"
    cases = b"<cases>" + examples.URBAN_12319 + examples.URBAN_12319.replace(b"0042", b"0043") + b"</cases>"
    header, row = examples.PROPERTY_962121.rstrip(b"\r\n").split(b"\r\n")
    csv = b"\r\n".join([header, row, row.replace(b"0007", b"0008"), row.replace(b"0007", b"0009")]) + b"\r\n"
    assert _post(client, "grid", array).json()["accepted"] == 2
    assert _post(client, "12319", cases).json()["accepted"] == 2
    response = _post(client, "962121", csv)
    assert response.json()["record_ids"] == [
        "962121-20261101-0007",
        "962121-20261101-0008",
        "962121-20261101-0009",
    ]
    assert _raw(http_settings, "962121")[1] == header + b"\r\n" + row.replace(b"0007", b"0008") + b"\r\n"


def test_one_bad_record_rejects_the_batch_with_field_details(
    client: TestClient, http_settings: Settings
) -> None:
    """400 names index, line and field; nothing reaches the raw topic; the reject is dead-lettered."""
    bad = json.loads(examples.HOTLINE_12345)
    bad["callTime"] = "明天"
    del bad["content"]
    body = (
        "[\n" + examples.HOTLINE_12345.decode() + ",\n" + json.dumps(bad, ensure_ascii=False) + "\n]"
    ).encode()
    response = _post(client, "12345", body, **{"X-Request-ID": "req-42"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["index"], e["line"], e["field"]) for e in errors} == {(1, 3, "callTime"), (1, 3, "content")}
    assert "13800135678" not in response.text
    assert _raw(http_settings, "12345") == []
    topic = http_settings.topics.deadletter
    (letter,) = [
        decode(SingleObjectCodec(), r.value, topic=topic)
        for r in read_topic(http_settings.kafka.bootstrap_servers, topic)
    ]
    assert isinstance(letter, DeadLetter)
    assert (letter.source.transport, letter.source.request_id) == (Transport.HTTP, "req-42#1")


def test_a_record_whose_report_would_be_over_the_record_limit_is_refused_now(
    http_settings: Settings,
) -> None:
    """The connector would dead-letter it; HTTP says so at once, as a field error, and writes nothing.

    (A 202 would promise a Report that can never be produced.)
    """
    settings = http_settings.model_copy(
        update={"topics": http_settings.topics.model_copy(update={"max_record_bytes": 10_000})}
    )
    record = json.loads(examples.HOTLINE_12345)
    record["content"] = "".join(chr(0x4E00 + i * 7919 % 20_000) for i in range(2_500))
    body = json.dumps(record, ensure_ascii=False).encode()
    assert len(body) < 10_000 < 2 * len(body)
    with TestClient(create_app(settings)) as client:
        response = _post(client, "12345", body)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "(report)"
    assert "over the record limit of 10,000" in error["message"]
    assert _raw(settings, "12345") == []


@pytest.mark.parametrize(
    ("channel", "headers", "body", "status"),
    [
        ("12345", {"Authorization": "Bearer wrong"}, examples.HOTLINE_12345, 401),
        ("12345", {"Authorization": ""}, examples.HOTLINE_12345, 401),
        ("12345", {"Authorization": f"Bearer {TOKENS['grid']}"}, examples.HOTLINE_12345, 401),
        ("99999", {}, examples.HOTLINE_12345, 404),
        ("12345", {}, b"[" + b",".join([examples.HOTLINE_12345] * 60) + b"]", 413),
        ("12345", {"Content-Type": "application/xml"}, examples.HOTLINE_12345, 415),
        ("962121", {"Content-Type": "text/csv; charset=utf-8"}, examples.PROPERTY_962121, 415),
        ("12345", {}, b"  ", 400),
    ],
)
def test_refusals(
    client: TestClient,
    http_settings: Settings,
    channel: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
) -> None:
    """Wrong token, unknown channel, too large, wrong content type, empty: refused, nothing written."""
    response = _post(client, channel, body, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if channel in http_settings.topics.raw:
        assert _raw(http_settings, channel) == []


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    """/openapi.json describes the ingest path with each channel's content type and example."""
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/ingest/{channel}"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/xml",
        "text/csv; charset=GBK",
    }
    assert {"202", "400", "401", "404", "413", "415"} <= set(operation["responses"])


def test_no_token_configured_means_the_channel_refuses_all(kafka_settings: Settings) -> None:
    """A channel without a token in the configuration accepts nobody, not everybody."""
    settings = kafka_settings.model_copy(update={"connectors": ConnectorSettings()})
    with TestClient(create_app(settings)) as test_client:
        response = test_client.post(
            "/v1/ingest/grid",
            content=examples.GRID,
            headers={"Authorization": "Bearer ", "Content-Type": "application/json"},
        )
    assert response.status_code == 401


def test_503_when_kafka_does_not_acknowledge(http_settings: Settings) -> None:
    """If the raw topic refuses the record, the sender gets 503 (retry), never a false 202."""
    from confluent_kafka import Producer

    topics = http_settings.topics.model_copy(
        update={"raw": {**http_settings.topics.raw, "grid": "raw.grid-missing"}}
    )
    settings = http_settings.model_copy(update={"topics": topics})
    producer = Producer(
        {"bootstrap.servers": http_settings.kafka.bootstrap_servers, "message.timeout.ms": 2000}
    )
    try:
        with TestClient(create_app(settings, producer)) as test_client:
            response = _post(test_client, "grid", examples.GRID)
    finally:
        producer.close()  # ours, not the app's: left open it outlived the broker, retrying to connect
    assert response.status_code == 503
    assert "retry" in response.json()["error"]
