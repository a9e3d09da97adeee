"""The public surface of `schemas` is deliberate: a change to it shows up here."""

import schemas


def test_all_is_sorted_and_complete() -> None:
    """`__all__` is sorted and every name in it exists."""
    assert schemas.__all__ == sorted(schemas.__all__)
    for name in schemas.__all__:
        assert hasattr(schemas, name), name


def test_public_names_are_pinned() -> None:
    """Adding or removing a public name is a conscious change to this list."""
    assert set(schemas.__all__) == {
        "AddressParts",
        "BingxianError",
        "Category",
        "Channel",
        "Codec",
        "CorruptRecordError",
        "Datum",
        "DeadLetter",
        "DeadLetterSource",
        "DedupBand",
        "EncodeError",
        "ErrorKind",
        "FeatureContribution",
        "FieldError",
        "IncompatibleSchemaError",
        "Location",
        "MergeEvidence",
        "RegistryCodec",
        "Report",
        "Reporter",
        "ReporterRole",
        "RequestType",
        "Resolution",
        "SchemaError",
        "SingleObjectCodec",
        "Ticket",
        "TicketEvent",
        "TicketEventType",
        "TicketStatus",
        "TicketStatusChange",
        "Transport",
        "UnknownSchemaError",
        "Urgency",
        "catalog",
        "decode",
        "examples",
        "make_codec",
    }
