"""``bingxian import``: a vendor's export file → the channel's raw topic, record by record.

Each record in the file is cut out with its line number, checked through the one
mapping path, and then either written (its original bytes) to the raw topic, where
``connect`` maps it like any other, or written to ``deadletter`` with ``file`` and
``line``. Line-oriented formats (JSON lines, CSV) are streamed; a JSON array or an
XML ``<cases>`` file is read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from connectors.delivery import TrackedProducer, make_producer
from connectors.exceptions import InputFileError
from connectors.formats import Piece
from connectors.ingest import Ingestor
from connectors.outputs import OutputEncoder
from connectors.registry import ChannelSpec
from connectors.topics import ensure_connector_topics
from gateway.logs import get_logger
from schemas.models import DeadLetter, DeadLetterSource, Transport
from schemas.serde import Codec, make_codec

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class Rejection:
    """One rejected record: where it is and why (field-level, never its content)."""

    line: int
    dead_letter_id: str
    problems: list[str]


@dataclass
class ImportSummary:
    """What an import did."""

    file: str
    channel: str
    read: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def _counted(stream: BinaryIO, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    for line in stream:
        if progress is not None:
            progress(len(line))
        yield line


def _pieces(spec: ChannelSpec, stream: BinaryIO, progress: Callable[[int], None] | None) -> Iterable[Piece]:
    if spec.split_lines is not None:
        return spec.split_lines(_counted(stream, progress))
    data = stream.read()
    if progress is not None:
        progress(len(data))
    return spec.split_batch(data)


def check_file(spec: ChannelSpec, path: Path) -> None:
    """User mistakes caught before anything is written: missing file, a format the channel does not use."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a file")
    if path.suffix.lower() not in spec.file_suffixes:
        expected = " / ".join(spec.file_suffixes)
        raise InputFileError(f"{path}: a {spec.name} export is {expected}, not {path.suffix or 'no suffix'}")


class FileImporter:
    """Imports files of one channel; the producer is flushed every ``flush_every`` records and at the end."""

    def __init__(
        self,
        settings: Settings,
        channel: str,
        *,
        ingestor: Ingestor | None = None,
        codec: Codec | None = None,
        producer: TrackedProducer | None = None,
    ) -> None:
        self.settings = settings
        self.ingestor = ingestor or Ingestor(settings, [channel])
        self.spec = self.ingestor.registry[channel]
        self.topic = self.spec.raw_topic(settings)
        codec = codec or make_codec(settings.schema_registry.url, settings.schema_registry.extra)
        self.encoder = OutputEncoder(settings, codec)
        self.producer = producer or TrackedProducer(make_producer(settings.kafka.client_config()))
        self.options = settings.connectors.file_import

    def run(self, path: Path, progress: Callable[[int], None] | None = None) -> ImportSummary:
        """Import one file; raises ``InputFileError`` for user mistakes, ``DeliveryError`` if Kafka fails."""
        check_file(self.spec, path)
        ensure_connector_topics(self.settings, [self.spec.name])
        summary = ImportSummary(file=str(path), channel=self.spec.name)
        try:
            with path.open("rb") as stream:
                for piece in _pieces(self.spec, stream, progress):
                    self._one(path, piece, summary)
                    if summary.read % self.options.flush_every == 0:
                        self.producer.flush(self.options.flush_timeout_s)
        except OSError as exc:
            raise InputFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        self.producer.flush(self.options.flush_timeout_s)
        log.info(
            "file imported",
            file=summary.file,
            channel=summary.channel,
            read=summary.read,
            accepted=summary.accepted,
            rejected=len(summary.rejected),
        )
        return summary

    def _one(self, path: Path, piece: Piece, summary: ImportSummary) -> None:
        summary.read += 1
        position = DeadLetterSource(transport=Transport.FILE, file=str(path), line=piece.line)
        result = self.ingestor.ingest(self.spec.name, piece.raw, position, datetime.now(UTC))
        if isinstance(result, DeadLetter):
            output = self.encoder.dead_letter(result)
            self.producer.produce(output.topic, output.value, output.key)
            problems = [f"{e.field}: {e.message}" for e in result.errors] or [result.error_message]
            summary.rejected.append(Rejection(piece.line, result.dead_letter_id, problems))
        else:
            self.producer.produce(self.topic, piece.raw, result.source_record_id.encode("utf-8"))
            summary.accepted += 1
