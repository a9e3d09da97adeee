"""Cutting batches into raw records: every record keeps its bytes and its line; broken ones are still cut."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import REGISTRY, Ingestor, RecordError, UnknownChannelError, examples, formats
from connectors.formats import Piece, split_csv, split_json, split_xml, xml_case
from schemas.models import DeadLetter, DeadLetterSource, ErrorKind, Transport


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


def _read(raw: bytes) -> object:
    try:
        return xml_case(raw)
    except RecordError as exc:
        return exc.kind, exc.message, exc.errors


def _element_tree_only(raw: bytes) -> object:
    with mock.patch.object(formats, "_plain_case", return_value=None):
        return _read(raw)


_NAMES = st.sampled_from(["caseCode", "x", "_b", "a.b", "a-b", "c:x", "1a", "é", "case"])
_TEXT = st.lists(
    st.sampled_from([*"ab 中\t\n\r>]/=\"'\x00\x01\x85\ufffe\ufffd😀", "]]>", "&amp;", "&x;", "<!---->"]),
    max_size=6,
).map("".join)


def _child(name: str, text: str, tail: str, form: int) -> str:
    forms = [
        f"<{name}>{text}</{name}>",
        f"<{name}/>",
        f"<{name}></{name}>",
        f"<{name} />",
        f"<{name} a='1'/>",
    ]
    return forms[form] + tail


_CHILD = st.builds(_child, _NAMES, _TEXT, st.sampled_from(["", "", " ", "\n", "\r\n"]), st.integers(0, 4))
_CASES = st.builds(
    "{}<case>{}{}</case>{}".format,
    st.sampled_from(["", "", " ", "<?xml version='1.0'?>", "\ufeff"]),
    st.sampled_from(["", "\n"]),
    st.lists(_CHILD, max_size=6).map("".join),
    st.sampled_from(["", "", "\n", "x"]),
).map(lambda text: text.encode("utf-8", "surrogatepass"))


@settings(max_examples=400)
@given(_CASES | _CASES.map(lambda raw: raw.replace("中".encode(), b"\xe4\xb8")))
def test_plain_shape_reads_as_element_tree_does(raw: bytes) -> None:
    """The pattern reading of plain <case> documents gives ElementTree's fields and errors, byte for byte."""
    assert _read(raw) == _element_tree_only(raw)


def test_simulated_cases_take_the_plain_path() -> None:
    """The fast path is the common path: the shipped example and simulated cases are plain."""
    assert formats._plain_case(examples.URBAN_12319) == _element_tree_only(examples.URBAN_12319)


_QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE case [<!ENTITY a "'
    + b"x" * 100_000
    + b'">]><case><caseCode>1</caseCode><represent>'
    + b"&a;" * 20_000
    + b"</represent></case>"
)
_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE case [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
    + b"]><case><caseCode>1</caseCode><represent>&i;</represent></case>"
)
_XXE = (
    b'<?xml version="1.0"?><!DOCTYPE case [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<case><caseCode>1</caseCode><represent>&x;</represent><reportTime>2026-11-01</reportTime></case>"
)


@pytest.mark.parametrize("raw", [_LAUGHS, _QUADRATIC, _XXE], ids=["billion-laughs", "quadratic", "xxe"])
def test_hostile_xml_becomes_a_dead_letter_quickly(ingestor: Ingestor, raw: bytes) -> None:
    """Entity bombs and external entities are refused by the parser: a PARSE_ERROR dead letter, no hang."""
    position = DeadLetterSource(transport=Transport.HTTP, request_id="r1")
    start = time.process_time()
    letter = ingestor.ingest("12319", raw, position, datetime(2026, 11, 1, tzinfo=UTC))
    assert time.process_time() - start < 2
    assert isinstance(letter, DeadLetter)
    assert letter.error_kind is ErrorKind.PARSE_ERROR
    assert letter.raw == raw


def test_external_dtd_and_parameter_entities_are_not_fetched() -> None:
    """A DOCTYPE pointing at a URL or a file is not loaded: the case reads as if it were absent."""
    for raw in (
        b'<!DOCTYPE case SYSTEM "http://127.0.0.1:9/x.dtd"><case><caseCode>1</caseCode></case>',
        b'<!DOCTYPE case [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><case><caseCode>1</caseCode></case>',
    ):
        assert xml_case(raw) == {"caseCode": "1"}


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
