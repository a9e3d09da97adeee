"""Cutting batches into raw records: every record keeps its bytes and its line; broken ones are still cut."""

from __future__ import annotations

import pytest

from connectors import REGISTRY, RecordError, UnknownChannelError, examples
from connectors.formats import Piece, split_csv, split_json, split_xml, xml_case
from schemas.models import ErrorKind


def test_json_array_keeps_each_elements_bytes_and_line() -> None:
    """Elements of an array come out as their original bytes with the line they start on."""
    data = '[\n {"a": "一"},\n {"b": 2}\n]'.encode()
    assert list(split_json(data)) == [Piece('{"a": "一"}'.encode(), 2), Piece(b'{"b": 2}', 3)]


def test_json_array_with_a_broken_element_goes_on() -> None:
    """A broken element is its own piece; the elements after it are still found."""
    pieces = list(split_json(b'[{"a":1},\n{"a": 2,,},\n{"b":3}]'))
    assert [p.raw for p in pieces] == [b'{"a":1}', b'{"a": 2,,}', b'{"b":3}']
    assert [p.line for p in pieces] == [1, 2, 3]


def test_a_single_json_document_is_one_piece() -> None:
    """An HTTP body holding one object (even pretty-printed) is one record."""
    assert list(split_json(b'\n{\n "a": 1\n}\n')) == [Piece(b'{\n "a": 1\n}', 2)]


def test_json_lines_files_skip_blank_lines_but_count_them() -> None:
    """JSON lines: one piece per non-blank line, numbered as in the file; an array file is cut as an array."""
    lines = REGISTRY["grid"].split_lines
    assert list(lines([b'{"a":1}\r\n', b"\r\n", b'{"b":2}\n'])) == [
        Piece(b'{"a":1}', 1),
        Piece(b'{"b":2}', 3),
    ]
    assert list(lines([b"\n", b'[{"a":1},\n', b'{"b":2}]\n'])) == [Piece(b'{"a":1}', 2), Piece(b'{"b":2}', 3)]


def test_xml_cases_are_cut_with_lines_and_junk_is_kept() -> None:
    """Each <case> is a piece; an unterminated case ends at the next; stray text is a piece too."""
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<cases>\n<case><caseCode>1</caseCode></case>\n'
        b"<case><caseCode>2</caseCode>\n<case><caseCode>3</caseCode></case>\njunk\n</cases>\n"
    )
    pieces = list(split_xml(data))
    assert [p.line for p in pieces] == [3, 4, 5, 6]
    assert pieces[0].raw == b"<case><caseCode>1</caseCode></case>"
    assert pieces[1].raw == b"<case><caseCode>2</caseCode>"
    assert pieces[3].raw.startswith(b"junk")


def test_a_single_bare_case_is_one_piece() -> None:
    """The one-record form (a bare <case>) splits to itself."""
    assert [p.raw for p in split_xml(examples.URBAN_12319)] == [examples.URBAN_12319]


def test_xml_case_reads_children_and_ignores_namespaces() -> None:
    """Children by local name; the first of duplicates wins; empty elements are None."""
    raw = b'<c:case xmlns:c="urn:x"><c:caseCode>A</c:caseCode><c:caseCode>B</c:caseCode><x/></c:case>'
    assert xml_case(raw) == {"caseCode": "A", "x": None}


def test_xml_entity_bomb_is_refused() -> None:
    """A billion-laughs document is refused by expat, not expanded."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
        + b"]><case><represent>&i;</represent></case>"
    )
    with pytest.raises(RecordError, match="amplification") as caught:
        REGISTRY["12319"].decode(bomb)
    assert caught.value.kind is ErrorKind.PARSE_ERROR


def test_csv_rows_get_the_header_and_crlf() -> None:
    """Each data line becomes header + line, CRLF-terminated; a quoted value across lines stays whole."""
    data = 'a,b\r\n1,2\r\n\r\n3,"x\r\ny"\r\n'.encode("gbk")
    assert list(split_csv(data)) == [
        Piece(b"a,b\r\n1,2\r\n", 2),
        Piece(b'a,b\r\n3,"x\r\ny"\r\n', 4),
    ]


def test_csv_split_is_safe_for_gbk_multibyte_characters() -> None:
    """GBK trail bytes never look like a newline, comma or quote."""
    data = "名称,内容\r\n锦绣苑,漏水“严重”\r\n".encode("gbk")
    (piece,) = split_csv(data)
    assert piece.raw.decode("gbk") == "名称,内容\r\n锦绣苑,漏水“严重”\r\n"


def test_registry_names_the_known_channels() -> None:
    """An unknown channel is an error that lists the known ones."""
    assert list(REGISTRY) == ["12345", "12319", "962121", "grid"]
    with pytest.raises(UnknownChannelError, match="12345, 12319, 962121, grid"):
        REGISTRY["12346"]
