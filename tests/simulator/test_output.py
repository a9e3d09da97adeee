"""Files look like vendor exports: the connectors' own splitters cut them back into the raw records."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from connectors.registry import REGISTRY
from connectors.simulator import Simulation, department_changes, generate, write_files
from schemas import TicketStatus, TicketStatusChange


@pytest.fixture(scope="module")
def small() -> Simulation:
    """A small simulation with a fifth of its records malformed, so every file holds broken ones."""
    return generate(77, 1500, malformed=0.2)


@pytest.fixture(scope="module")
def files(small: Simulation, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The simulation written to a directory."""
    return write_files(small, tmp_path_factory.mktemp("sim"))


@pytest.mark.parametrize("channel", ["12345", "12319", "962121", "grid"])
def test_channel_file_splits_into_exactly_the_raw_records(
    small: Simulation, files: dict[str, Path], channel: str
) -> None:
    """``bingxian import``'s splitting of a file gives its raw records, malformed ones included, in order."""
    spec, data = REGISTRY[channel], files[channel].read_bytes()
    split = spec.split_lines(io.BytesIO(data)) if spec.split_lines else spec.split_batch(data)
    pieces = [p.raw for p in split]
    assert pieces == [r.raw for r in small.records if r.channel == channel]


def test_file_names_and_formats(files: dict[str, Path]) -> None:
    """12345.jsonl, 12319.xml (<cases>), 962121.csv (GBK header + rows, CRLF), grid.jsonl."""
    assert {p.name for p in files.values()} >= {"12345.jsonl", "12319.xml", "962121.csv", "grid.jsonl"}
    xml = files["12319"].read_bytes()
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<cases>\n')
    assert xml.endswith(b"</cases>\n")
    csv_bytes = files["962121"].read_bytes()
    assert csv_bytes.startswith("工单编号,报修时间,小区名称".encode("gbk"))
    assert csv_bytes.count(b"\r\n") == csv_bytes.count(b"\n")


def test_truth_and_closure_files(small: Simulation, files: dict[str, Path]) -> None:
    """truth.jsonl has one line per record, closures.jsonl one per closure, status_changes.jsonl parses."""
    truth = [json.loads(line) for line in files["truth"].read_text(encoding="utf-8").splitlines()]
    assert truth == [r.truth() for r in small.records]
    closures = files["closures"].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in closures] == [c.line() for c in small.closures]
    changes = files["status_changes"].read_text(encoding="utf-8").splitlines()
    assert [TicketStatusChange.model_validate_json(c) for c in changes] == small.status_changes


def test_department_changes_walk_the_lifecycle_to_closed(small: Simulation) -> None:
    """What ``produce`` posts: each closure as ACCEPTED → IN_PROGRESS → RESPONDED → CLOSED, in time order."""
    changes = list(department_changes(small))
    assert len(changes) == 4 * len(small.closures)
    assert changes == sorted(changes, key=lambda c: c.at)
    per_ticket: dict[str, list[TicketStatus]] = {}
    for change in changes:
        per_ticket.setdefault(change.ticket_id, []).append(change.status)
    expected = [TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESPONDED, TicketStatus.CLOSED]
    assert all(steps == expected for steps in per_ticket.values())
    first = {i.issue_id: i.first_reported_at for i in small.issues}
    opened = {c.ticket_id: first[c.issue_id] for c in small.closures}
    assert all(c.at > opened[c.ticket_id] for c in changes)
