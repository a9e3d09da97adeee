"""The three wire formats: one raw record → field values, and one batch → raw records.

Decoding is separate from validation: these functions only turn bytes into a mapping
of the vendor's field names to values (``RecordError`` with ``DECODE_ERROR`` or
``PARSE_ERROR`` when the bytes are not one record); the channel's pydantic model then
validates the values.

Splitting a batch (an HTTP body, an import file) never fails: it cuts the bytes into
the raw records they contain, each with the line it starts on, and a piece that is
broken is still yielded, so that parsing it fails and it becomes a dead letter with its
own line number instead of taking the rest of the batch down with it.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.exceptions import RecordError
from schemas.models import ErrorKind, FieldError


@dataclass(frozen=True, slots=True)
class Piece:
    """One raw record cut from a batch: its bytes and the 1-based line it starts on."""

    raw: bytes
    line: int


# --- JSON (12345, grid) ---------------------------------------------------------------------------


def _text(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        name = encoding.upper().removesuffix("-SIG")
        raise RecordError(
            ErrorKind.DECODE_ERROR, f"not {name} text: byte {exc.start} cannot be decoded"
        ) from exc


def json_object(raw: bytes) -> dict[str, Any]:
    """One JSON object (UTF-8, an optional BOM tolerated).

    orjson, not the standard library: a third of the cost per record, and stricter where
    it matters (invalid UTF-8, lone surrogates and NaN are errors, not values that fail
    later in the Avro encoder).
    """
    try:
        value = orjson.loads(raw[3:] if raw.startswith(_BOM) else raw)
    except orjson.JSONDecodeError as exc:
        kind = ErrorKind.DECODE_ERROR if "UTF-8" in exc.msg else ErrorKind.PARSE_ERROR
        raise RecordError(kind, f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise RecordError(ErrorKind.PARSE_ERROR, f"expected one JSON object, got a JSON {_json_kind(value)}")
    return value


_BOM = b"\xef\xbb\xbf"


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


_RESYNC = re.compile(r"[,\[]\s*(?=\{)")


def split_json(data: bytes) -> Iterator[Piece]:
    """A JSON array cut into one piece per element, or a single JSON document as one piece.

    Pieces keep the original bytes. Inside an array, an element that is not valid JSON
    is yielded up to the next ``, {`` and the scan goes on from there.
    """
    text = data.decode("utf-8-sig", errors="surrogateescape")
    start = len(text) - len(text.lstrip())
    if text[start : start + 1] == "[":
        yield from _split_array(text, start + 1)
    elif text.strip():
        yield Piece(data.strip(), 1 + text.count("\n", 0, start))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _split_array(text: str, pos: int) -> Iterator[Piece]:
    decoder = json.JSONDecoder()
    line = 1 + text.count("\n", 0, pos)
    end = len(text)
    while True:
        skipped = _skip(text, pos, " \t\r\n,")
        line += text.count("\n", pos, skipped)
        pos = skipped
        if pos >= end or text[pos] == "]":
            tail = text[pos + 1 :].strip()
            if tail:
                yield Piece(_encode(tail), line)
            return
        try:
            _, stop = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            found = _RESYNC.search(text, pos + 1)
            stop = found.start() if found else end
        yield Piece(_encode(text[pos:stop]), line)
        line += text.count("\n", pos, stop)
        pos = stop


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def split_lines(lines: Iterable[bytes] | bytes) -> Iterator[Piece]:
    """JSON lines: every non-blank line is one record."""
    if isinstance(lines, bytes):
        lines = lines.splitlines()
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped:
            yield Piece(stripped, number)


# --- XML (12319) ----------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def xml_case(raw: bytes, root: str = "case") -> dict[str, Any]:
    """One ``<case>`` document: its child elements' text by element name (first of duplicates wins).

    ElementTree does not fetch external entities, and expat ≥ 2.4 refuses entity
    expansion bombs, so untrusted bytes are safe to parse here. A document of the plain
    shape (``_plain_case``) is read without building a tree, with the same result.
    """
    if root == "case":
        fields = _plain_case(raw)
        if fields is not None:
            return fields
    try:
        element = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise RecordError(ErrorKind.PARSE_ERROR, f"not well-formed XML: {exc}") from exc
    except (ValueError, RecursionError, LookupError) as exc:  # e.g. an unknown declared encoding
        raise RecordError(ErrorKind.DECODE_ERROR, f"not usable XML: {exc}") from exc
    if _local(element.tag) != root:
        got = _local(element.tag)
        raise RecordError(ErrorKind.PARSE_ERROR, f"expected one <{root}> element, got <{got}>")
    fields: dict[str, Any] = {}
    for child in element:  # fromstring drops comments and PIs: every child is an element
        tag = child.tag
        if tag[0] == "{":
            tag = tag.rsplit("}", 1)[-1]
        if tag not in fields:
            fields[tag] = child.text
    return fields


# The plain shape: ``<case>``, then only children ``<name>text</name>`` or ``<name/>`` with
# white space (no CR) between them, then ``</case>``. Names are ASCII without a prefix; text
# holds no markup, no reference and no character XML forbids (C0 controls other than tab and
# LF; CR, which XML would normalize; U+FFFE/U+FFFF and ``]]>``, checked apart). No declaration,
# BOM, DOCTYPE, comment, CDATA or attribute, and nothing around the root. Such a document is
# well-formed UTF-8 XML exactly when it decodes as UTF-8, and its children's text is the text
# between the tags, so reading it by pattern gives what ElementTree gives, in a third of the
# time (ElementTree builds a parser and a tree per record); anything else goes to ElementTree.
_PLAIN_NAME = rb"[A-Za-z_][A-Za-z0-9_.\-]*"
_PLAIN_TEXT = rb"[^<&\x00-\x08\x0b\x0c\x0e-\x1f\r]*"
_PLAIN_CASE = re.compile(
    rb"<case>[ \t\n]*(?:(?:<(" + _PLAIN_NAME + rb")>" + _PLAIN_TEXT + rb"</\1>|<" + _PLAIN_NAME + rb"/>)"
    rb"[ \t\n]*)*</case>"
)
_PLAIN_CHILD = re.compile(r"<([A-Za-z_][A-Za-z0-9_.\-]*)(/?)>([^<]*)")


def _plain_case(raw: bytes) -> dict[str, Any] | None:
    """The children of a plain-shape ``<case>`` as ``xml_case`` reads them; None for any other document."""
    # ``b"]" in raw`` is a memchr; most cases have no bracket, and ``]]>`` costs a substring search.
    if _PLAIN_CASE.fullmatch(raw) is None or (b"]" in raw and b"]]>" in raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\ufffe" in text or "\uffff" in text:
        return None
    fields: dict[str, Any] = {}
    for name, empty, value in _PLAIN_CHILD.findall(text, 6):  # from after <case>; end tags do not match
        if name not in fields:
            fields[name] = None if empty or not value else value
    return fields


_CASE_START = re.compile(rb"<case(?=[\s>/])")
_CASE_END = re.compile(rb"</case\s*>")
_XML_NOISE = re.compile(rb"<\?xml[^>]*\?>|</?cases(?:\s[^>]*)?>|<!--.*?-->|\s+", re.S)


def split_xml(data: bytes) -> Iterator[Piece]:
    """``<cases><case>…</case>…</cases>`` (or one bare ``<case>``) cut into one piece per ``<case>``.

    A ``<case>`` without its end tag runs to the next ``<case``; anything between cases
    other than the XML declaration, ``<cases>``, comments and white space is yielded too.
    """
    lines = _LineCounter(data)
    starts = [m.start() for m in _CASE_START.finditer(data)]
    pos = 0
    for index, start in enumerate(starts):
        if start < pos:
            continue
        if _XML_NOISE.sub(b"", data[pos:start]):
            yield Piece(data[pos:start].strip(), lines.at(pos + _leading_space(data, pos)))
        following = starts[index + 1] if index + 1 < len(starts) else len(data)
        end = _CASE_END.search(data, start)
        stop = end.end() if end is not None and end.start() < following else following
        yield Piece(data[start:stop].strip(), lines.at(start))
        pos = stop
    if _XML_NOISE.sub(b"", data[pos:]):
        yield Piece(data[pos:].strip(), lines.at(pos + _leading_space(data, pos)))


def _leading_space(data: bytes, pos: int) -> int:
    return len(data) - pos - len(data[pos:].lstrip())


class _LineCounter:
    """1-based line numbers of increasing byte offsets, counting each newline once."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0
        self._line = 1

    def at(self, offset: int) -> int:
        self._line += self._data.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._line


# --- CSV (962121) ---------------------------------------------------------------------------------


def csv_row(raw: bytes, *, encoding: str, required: Iterable[str]) -> dict[str, Any]:
    """A header line plus ONE data line → the row by header text."""
    text = _text(raw, encoding)
    try:
        # A line counts when some cell holds more than white space (joined: one strip, not one per cell).
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if "".join(row).strip()]
    except csv.Error as exc:
        raise RecordError(ErrorKind.PARSE_ERROR, f"not valid CSV: {exc}") from exc
    if len(rows) != 2:
        raise RecordError(
            ErrorKind.PARSE_ERROR, f"expected a header line and one data line, got {len(rows)} line(s)"
        )
    header, missing = _csv_header(tuple(rows[0]), tuple(required))
    if missing:
        raise RecordError(
            ErrorKind.PARSE_ERROR,
            "header lacks required column(s)",
            [FieldError(field=name, message="column missing from the header") for name in missing],
        )
    if len(rows[1]) != len(header):
        raise RecordError(
            ErrorKind.PARSE_ERROR, f"the data line has {len(rows[1])} cells, the header {len(header)}"
        )
    return dict(zip(header, rows[1], strict=True))


@functools.lru_cache(maxsize=64)
def _csv_header(cells: tuple[str, ...], required: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The header's column names (trimmed, BOM dropped) and the required ones it lacks.

    Every record carries the same header line, so it is cleaned once per distinct header.
    """
    header = tuple(cell.strip().lstrip("\ufeff") for cell in cells)
    return header, tuple(name for name in required if name not in header)


def split_csv(lines: Iterable[bytes] | bytes) -> Iterator[Piece]:
    """Header + many data lines → one piece per data line: header + CRLF + line + CRLF.

    Splitting on bytes is safe for GBK: its trail bytes are ≥ 0x40, so ``\\n``, ``,``
    and ``"`` never occur inside a character. A quoted value spanning lines stays in
    one piece (counted by the balance of ``"``).
    """
    if isinstance(lines, bytes):
        lines = lines.splitlines()
    header: bytes | None = None
    pending: list[bytes] = []
    first = 0
    for number, line in enumerate(lines, 1):
        line = line.rstrip(b"\r\n")
        if header is None:
            if line.strip():
                header = line
            continue
        if not pending:
            if not line.strip():
                continue
            first = number
        pending.append(line)
        if b"".join(pending).count(b'"') % 2 == 0:
            yield Piece(header + b"\r\n" + b"\r\n".join(pending) + b"\r\n", first)
            pending = []
    if pending:
        yield Piece(header + b"\r\n" + b"\r\n".join(pending) + b"\r\n", first)
