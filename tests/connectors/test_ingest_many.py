"""``Ingestor.ingest_many``: a batch mapped stage by stage gives what mapping each record alone gives."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors import REGISTRY, Arrival, ChannelRegistry, Ingestor, examples
from connectors.channels import grid
from gateway.settings import Settings
from schemas.models import DeadLetter, DeadLetterSource, ErrorKind, Report, Transport

RECEIVED = datetime(2026, 11, 1, tzinfo=UTC)


def _arrival(raw: bytes, offset: int) -> Arrival:
    position = DeadLetterSource(transport=Transport.KAFKA, topic="raw", partition=0, offset=offset)
    return Arrival(raw, position, RECEIVED)


def _raw_records(channel: str) -> st.SearchStrategy[bytes]:
    """The channel's valid example, a cut-off copy of it, or any bytes."""
    valid = examples.RAW[channel]
    return st.one_of(
        st.just(valid),
        st.integers(1, len(valid) - 1).map(lambda n: valid[:n]),
        st.binary(max_size=80),
    )


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), channel=st.sampled_from(sorted(examples.RAW)))
def test_a_batch_maps_as_its_records_do_one_by_one(
    ingestor: Ingestor, channel: str, data: st.DataObject
) -> None:
    """Same results, same order, one per arrival, whatever mix of good and broken records."""
    raws = data.draw(st.lists(_raw_records(channel), max_size=12))
    arrivals = [_arrival(raw, offset) for offset, raw in enumerate(raws)]
    batch = ingestor.ingest_many(channel, arrivals)
    alone = [ingestor.ingest(channel, a.raw, a.position, a.received_at) for a in arrivals]
    assert batch == alone
    for result, arrival in zip(batch, arrivals, strict=True):
        assert isinstance(result, Report | DeadLetter)
        assert result.raw == arrival.raw
        if isinstance(result, DeadLetter):
            assert result.source == arrival.position


def test_a_mapping_bug_in_one_record_leaves_the_rest_of_the_batch_mapped(settings: Settings) -> None:
    """An unexpected exception in one record's mapping is that record's dead letter, not the batch's."""
    bad_id = "GRID-BUG"

    def buggy(event: grid.GridEvent, *args: object) -> Report:
        if event.event_id == bad_id:
            raise ZeroDivisionError
        return grid.to_report(event, *args)  # type: ignore[arg-type]

    specs = [dataclasses.replace(s, to_report=buggy) if s.name == "grid" else s for s in REGISTRY.values()]
    ingestor = Ingestor(settings, registry=ChannelRegistry(specs))
    good = examples.RAW["grid"]
    event_id = grid.decode(good).event_id
    bug = good.replace(event_id.encode(), bad_id.encode())
    results = ingestor.ingest_many("grid", [_arrival(good, 0), _arrival(bug, 1), _arrival(b"{", 2)])
    assert isinstance(results[0], Report)
    assert isinstance(results[1], DeadLetter)
    assert results[1].error_kind is ErrorKind.MAPPING_ERROR
    assert results[1].error_message == "unexpected ZeroDivisionError while mapping"
    assert results[1].source.offset == 1
    assert isinstance(results[2], DeadLetter)
    assert results[2].error_kind is ErrorKind.PARSE_ERROR


def test_an_unknown_channel_is_a_dead_letter_per_record(ingestor: Ingestor) -> None:
    """Naming no configured channel dead-letters each record with the known names, raising nothing."""
    results = ingestor.ingest_many("fax", [_arrival(b"a", 0), _arrival(b"b", 1)])
    assert [r.raw for r in results] == [b"a", b"b"]
    assert all(isinstance(r, DeadLetter) and "12345" in r.error_message for r in results)
