"""The public surface of `connectors` is deliberate: a change to it shows up here."""

import inspect

import connectors


def test_all_is_complete() -> None:
    """Every name in `__all__` exists (ruff's RUF022 keeps it sorted)."""
    for name in connectors.__all__:
        assert hasattr(connectors, name), name


def test_public_names_are_pinned() -> None:
    """Adding or removing a public name is a conscious change to this list."""
    assert set(connectors.__all__) == {
        "REGISTRY",
        "Arrival",
        "ChannelRegistry",
        "ChannelSpec",
        "ConfigError",
        "ConnectorError",
        "ConnectorSettings",
        "DeliveryError",
        "Ingestor",
        "InputFileError",
        "MappingContext",
        "RecordError",
        "UnknownChannelError",
        "dead_letter",
        "ingest",
        "ingestor_for",
        "mask_phones_in_text",
        "position_id",
    }


def test_ingest_signature_is_the_agreed_one() -> None:
    """`ingest(channel, raw, position, received_at, settings)` is what the gateway and dedup call."""
    assert list(inspect.signature(connectors.ingest).parameters) == [
        "channel",
        "raw",
        "position",
        "received_at",
        "settings",
    ]
