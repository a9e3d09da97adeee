"""Channel name → everything the transports need to know about that channel.

One mapping path, three ways in: the Kafka loop, HTTP ingest and file import all look
the channel up here and call the same ``decode`` and ``to_report``; only how bytes
arrive differs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.channels import grid, hotline12345, property962121, urban12319
from connectors.channels.native import NativeRecord
from connectors.exceptions import UnknownChannelError
from connectors.formats import Piece, split_csv, split_json, split_lines, split_xml
from connectors.mapping import MappingContext
from schemas.models import Channel, Report

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

Decode = Callable[[bytes], Any]
ToReport = Callable[[Any, bytes, datetime, MappingContext], Report]


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: its native model, wire format and mapping."""

    name: str
    channel: Channel
    model: type[NativeRecord]
    #: Media type of one record and of a batch (HTTP ``Content-Type``).
    content_type: str
    #: Character set of the native bytes.
    encoding: str
    #: Raw bytes of ONE record → validated native model (raises ``RecordError``).
    decode: Decode
    #: Native model → Report (pure).
    to_report: ToReport
    #: A batch (an HTTP body, a whole file) → the raw records in it, with their lines.
    split_batch: Callable[[bytes], Iterator[Piece]]
    #: A file read line by line → raw records, when the format allows streaming (None: read whole).
    split_lines: Callable[[Iterable[bytes]], Iterator[Piece]] | None
    #: File name suffixes ``bingxian import`` accepts for this channel.
    file_suffixes: tuple[str, ...]

    def raw_topic(self, settings: Settings) -> str:
        """The raw topic this channel's system writes to (``topics.raw[<name>]``)."""
        return settings.topics.raw[self.name]


class ChannelRegistry(Mapping[str, ChannelSpec]):
    """The channels by name; an unknown name raises ``UnknownChannelError`` naming the known ones."""

    def __init__(self, specs: Iterable[ChannelSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def __getitem__(self, name: str) -> ChannelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownChannelError(name, list(self._specs)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def _json_lines_or_array(lines: Iterable[bytes]) -> Iterator[Piece]:
    """A file of JSON lines, streamed; a file that turns out to be one JSON array is cut as an array."""
    iterator = iter(lines)
    head: list[bytes] = []
    for line in iterator:
        head.append(line)
        if line.strip():
            break
    if head and head[-1].lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"["):
        yield from split_json(b"".join(head) + b"".join(iterator))
    else:
        yield from split_lines(itertools.chain(head, iterator))


REGISTRY = ChannelRegistry(
    [
        ChannelSpec(
            name="12345",
            channel=Channel.HOTLINE_12345,
            model=hotline12345.HotlineOrder,
            content_type="application/json",
            encoding="utf-8",
            decode=hotline12345.decode,
            to_report=hotline12345.to_report,
            split_batch=split_json,
            split_lines=_json_lines_or_array,
            file_suffixes=(".json", ".jsonl", ".ndjson"),
        ),
        ChannelSpec(
            name="12319",
            channel=Channel.URBAN_12319,
            model=urban12319.UrbanCase,
            content_type="application/xml",
            encoding="utf-8",
            decode=urban12319.decode,
            to_report=urban12319.to_report,
            split_batch=split_xml,
            split_lines=None,
            file_suffixes=(".xml",),
        ),
        ChannelSpec(
            name="962121",
            channel=Channel.PROPERTY_962121,
            model=property962121.PropertyRepair,
            content_type="text/csv",
            encoding="gbk",
            decode=property962121.decode,
            to_report=property962121.to_report,
            split_batch=split_csv,
            split_lines=split_csv,
            file_suffixes=(".csv", ".txt"),
        ),
        ChannelSpec(
            name="grid",
            channel=Channel.GRID_REPORT,
            model=grid.GridEvent,
            content_type="application/json",
            encoding="utf-8",
            decode=grid.decode,
            to_report=grid.to_report,
            split_batch=split_json,
            split_lines=_json_lines_or_array,
            file_suffixes=(".json", ".jsonl", ".ndjson"),
        ),
    ]
)
