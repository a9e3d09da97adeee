"""`bingxian import` on a real broker: records to the raw topic, rejects to deadletter with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors import examples
from connectors.file_import import FileImporter
from gateway.cli import app
from gateway.settings import Settings
from gateway.testing import read_topic, write_config
from schemas.models import DeadLetter, Transport
from schemas.serde import SingleObjectCodec, decode

CODEC = SingleObjectCodec()


def _rows(n: int) -> list[str]:
    header, row = examples.PROPERTY_962121.decode("gbk").rstrip("\r\n").split("\r\n")
    return [header] + [row.replace("962121-20261101-0007", f"962121-{i:04d}") for i in range(n)]


def _letters(settings: Settings) -> list[DeadLetter]:
    topic = settings.topics.deadletter
    return [decode(CODEC, r.value, topic=topic) for r in read_topic(settings.kafka.bootstrap_servers, topic)]


def test_962121_csv_import(kafka_settings: Settings, tmp_path: Path) -> None:
    """Ten good rows land on raw.962121 as header + row; two bad ones go to deadletter with their lines."""
    lines = _rows(10)
    lines.insert(4, "962121-bad-time,昨天下午,锦绣苑,1,101,,漏水,漏水,物业,花木街道,")  # line 5
    lines.insert(8, ",2026/11/1 8:15,锦绣苑,1,101,,漏水,漏水,物业,花木街道,")  # line 9: no 工单编号
    lines.insert(10, "")  # a blank line is not a record
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    summary = FileImporter(kafka_settings, "962121").run(path)

    assert (summary.read, summary.accepted) == (12, 10)
    assert [r.line for r in summary.rejected] == [5, 9]
    assert summary.rejected[0].problems == ["报修时间: unrecognised time format '昨天下午'"]
    assert summary.rejected[1].problems == ["工单编号: required, must not be blank"]
    raw = read_topic(kafka_settings.kafka.bootstrap_servers, kafka_settings.topics.raw["962121"])
    assert len(raw) == 10
    assert all(r.value.startswith(lines[0].encode("gbk") + b"\r\n") for r in raw)
    assert {r.key for r in raw} == {f"962121-{i:04d}".encode() for i in range(10)}
    letters = _letters(kafka_settings)
    assert sorted((d.source.transport, d.source.file, d.source.line) for d in letters) == [
        (Transport.FILE, str(path), 5),
        (Transport.FILE, str(path), 9),
    ]


@pytest.mark.parametrize(
    ("channel", "name", "body", "bad_line"),
    [
        (
            "12345",
            "orders.json",
            "[\n"
            + ",\n".join(
                [examples.HOTLINE_12345.decode(), '{"orderNum": "x",, }', examples.HOTLINE_12345.decode()]
            )
            + "\n]\n",
            3,
        ),
        (
            "grid",
            "events.jsonl",
            "\n".join([examples.GRID.decode(), "{not json", examples.GRID.decode()]) + "\n",
            2,
        ),
        (
            "12319",
            "cases.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<cases>\n'
            + examples.URBAN_12319.decode()
            + "\n<case><caseCode>broken</caseCode>\n"
            + examples.URBAN_12319.decode()
            + "\n</cases>\n",
            4,
        ),
    ],
)
def test_json_and_xml_imports(
    kafka_settings: Settings, tmp_path: Path, channel: str, name: str, body: str, bad_line: int
) -> None:
    """Arrays, JSON lines and <cases> files: the broken record is rejected by line, the rest go on."""
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    summary = FileImporter(kafka_settings, channel).run(path)
    assert (summary.read, summary.accepted) == (3, 2)
    assert [r.line for r in summary.rejected] == [bad_line]
    raw = read_topic(kafka_settings.kafka.bootstrap_servers, kafka_settings.topics.raw[channel])
    assert [r.value for r in raw] == [examples.RAW[channel]] * 2
    (letter,) = _letters(kafka_settings)
    assert (letter.source.file, letter.source.line, letter.channel) == (str(path), bad_line, channel)


def test_cli_import_prints_a_summary_with_file_line_and_field(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """The command reports read/accepted/rejected and names file:line: field for each reject."""
    record = json.loads(examples.GRID)
    record["happenTime"] = "soon"
    path = tmp_path / "events.jsonl"
    path.write_text(
        examples.GRID.decode() + "\n" + json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    config = write_config(kafka_settings, tmp_path / "config.yaml")
    result = CliRunner().invoke(app, ["import", "--channel", "grid", str(path), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "read 2, accepted 1, rejected 1" in result.output
    assert f"{path}:2: happenTime: unrecognised time format 'soon'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "--channel", "grid", "/nonexistent/events.jsonl"],
            "/nonexistent/events.jsonl: no such file",
        ),
        (
            ["import", "--channel", "12399", "x.csv"],
            "unknown channel '12399'; known: 12345, 12319, 962121, grid",
        ),
        (["import", "--channel", "12345", "{csv}"], "a 12345 export is .json / .jsonl / .ndjson, not .csv"),
    ],
)
def test_cli_user_mistakes_are_one_line_without_a_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Missing file, unknown channel, wrong file type: exit 2 and one readable line."""
    csv = tmp_path / "export.csv"
    csv.write_bytes(examples.PROPERTY_962121)
    args = [a.replace("{csv}", str(csv)) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
