"""``bingxian subscribe`` against a real broker, run as a department runs it (a child process).

Tickets are written to the department topic as the gateway writes them: single-object
encoded, in Kafka transactions, one of them aborted. The command is stopped by its own
``--idle-exit``, never by a sleep here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from confluent_kafka import Producer

from gateway.subscribe import table_row
from gateway.testing import isolated_settings, write_config
from gateway.topics import TopicSpec, ensure_topics
from gateway.topology import COMPACT
from schemas import examples, ids
from schemas.models import Ticket, TicketStatus
from schemas.privacy import mask_phone
from schemas.serde import SingleObjectCodec

IDLE_EXIT = "5"
RAW_PHONE = "13812345678"
MASKED = mask_phone(RAW_PHONE)  # 138****5678
TICKET_ID = re.compile(r"TK-\d{6}-[0-9a-f]{16}")


@dataclass(frozen=True)
class Department:
    """A department's topic and a configuration file naming it."""

    code: str
    topic: str
    config: Path


@pytest.fixture
def department(kafka: str, kafka_admin, tmp_path: Path) -> Iterator[Department]:
    """A fresh department topic laid out as the gateway creates it (compacted, 3 partitions)."""
    settings = isolated_settings(kafka)
    # subscribe's consumer group is named after the code: a fresh code is a fresh group.
    code = f"shizheng-{uuid.uuid4().hex[:8]}"
    topic = settings.topics.department(code)
    ensure_topics(kafka_admin, [TopicSpec(topic, settings.topics.partitions, config=COMPACT)])
    yield Department(code, topic, write_config(settings, tmp_path / "department.yaml"))
    for future in kafka_admin.delete_topics([topic], operation_timeout=10).values():
        future.exception()


def subscribe(department: Department, *options: str) -> subprocess.CompletedProcess[str]:
    """``bingxian subscribe`` for the department, in a child process with a pipe for stdout."""
    # No terminal width and no BINGXIAN_* overrides leak in from the shell running the tests.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINGXIAN_") and k != "COLUMNS"}
    command = [sys.executable, "-m", "gateway", "subscribe", "--department", department.code]
    command += ["--config", str(department.config), "--idle-exit", IDLE_EXIT, *options]
    return subprocess.run(
        command,
        env={**env, "PYTHONUTF8": "1"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def ticket(
    n: int,
    *,
    version: int = 1,
    status: TicketStatus = TicketStatus.DISPATCHED,
    caller: str | None = MASKED,
) -> Ticket:
    """The example ticket under another id, at some version and status, with a caller's masked number."""
    return examples.ticket().model_copy(
        update={
            "ticket_id": ids.ticket_id("310115", f"RPT-subscribe-{n}"),
            "version": version,
            "status": status,
            "caller_masked": caller,
        }
    )


def write(
    bootstrap: str, topic: str, tickets: Iterable[Ticket], *, commit: bool = True, at: datetime | None = None
) -> None:
    """Write tickets in one Kafka transaction as the gateway does (``commit=False`` aborts it).

    ``at`` sets the records' timestamps, which is what ``--since`` goes by.
    """
    codec = SingleObjectCodec()
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"subscribe-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    timestamp = {"timestamp": int(at.timestamp() * 1000)} if at else {}
    for t in tickets:
        producer.produce(topic, key=t.ticket_id.encode(), value=codec.encode(t), **timestamp)
    producer.flush(30)  # aborted records must reach the log, or aborting would prove nothing
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


def json_tickets(stdout: str) -> Counter[tuple[str, int, str]]:
    """(ticket id, version, status) of every JSON line printed."""
    found = [json.loads(line) for line in stdout.splitlines()]
    return Counter((t["ticket_id"], t["version"], t["status"]) for t in found)


def versions(tickets: Iterable[Ticket]) -> Counter[tuple[str, int, str]]:
    """(ticket id, version, status) of the tickets written."""
    return Counter((t.ticket_id, t.version, t.status.value) for t in tickets)


@pytest.fixture
def history(kafka: str, department: Department) -> tuple[list[Ticket], Ticket]:
    """Three tickets (one confidential), an aborted one, then a change: committed versions and the aborted."""
    first = [ticket(1), ticket(2), ticket(3, caller=None)]
    aborted = ticket(4)
    accepted = ticket(2, version=2, status=TicketStatus.ACCEPTED)
    write(kafka, department.topic, first)
    write(kafka, department.topic, [aborted], commit=False)
    write(kafka, department.topic, [accepted])
    return [*first, accepted], aborted


def test_table_shows_every_committed_version(department, history):
    """The table has a header and each committed ticket version, nothing of the aborted transaction."""
    committed, aborted = history

    result = subscribe(department)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == [
        "updated", "ticket", "status", "category", "address", "reports", "deadline", "caller",
    ]  # fmt: skip
    assert Counter(TICKET_ID.findall(result.stdout)) == Counter(t.ticket_id for t in committed)
    assert aborted.ticket_id not in result.stdout


def test_table_is_one_line_per_ticket(department, history):
    """Piped to a file, each ticket version is exactly one line: id, status and caller on it."""
    committed, _ = history

    result = subscribe(department)

    rows = result.stdout.splitlines()[1:]
    found = Counter((row.split()[2], row.split()[3], row.split()[-1]) for row in rows)
    assert found == Counter((t.ticket_id, t.status.value, t.caller_masked or "-") for t in committed)


def test_a_merged_ticket_points_to_the_ticket_its_work_went_to():
    """A ticket a person merged into another shows CLOSED→<that ticket> and 0 reports; others as they are."""
    ticket = examples.ticket().model_dump()
    assert table_row(ticket)[2] == ticket["status"]
    target = ids.ticket_id("310115", "RPT-target")
    ticket.update(status=TicketStatus.CLOSED.value, merged_into=target, report_ids=[], report_count=0)
    row = table_row(ticket)
    assert (row[2], row[5]) == (f"CLOSED→{target}", "0")


def test_json_is_one_object_per_line(department, history):
    """``--format json`` prints every committed version as one JSON object per line, with all fields."""
    committed, aborted = history

    result = subscribe(department, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert json_tickets(result.stdout) == versions(committed)
    first = json.loads(result.stdout.splitlines()[0])
    assert set(first) == set(Ticket.model_fields)
    assert datetime.fromisoformat(first["deadline"]).utcoffset() is not None
    assert aborted.ticket_id not in result.stdout


def test_group_resumes_and_from_beginning_rereads(kafka, department):
    """A fresh group starts at the oldest ticket, a rerun shows only what is new, --from-beginning all."""
    old = [ticket(1), ticket(2)]
    write(kafka, department.topic, old)

    fresh = subscribe(department, "--format", "json")
    write(kafka, department.topic, [ticket(3)])
    rerun = subscribe(department, "--format", "json")
    again = subscribe(department, "--format", "json", "--from-beginning")
    idle = subscribe(department, "--format", "json")

    assert json_tickets(fresh.stdout) == versions(old)
    assert json_tickets(rerun.stdout) == versions([ticket(3)])
    assert json_tickets(again.stdout) == versions([*old, ticket(3)])
    assert idle.stdout == ""
    assert {fresh.returncode, rerun.returncode, again.returncode, idle.returncode} == {0}


def test_since_starts_at_the_first_version_written_then(kafka, department):
    """``--since`` skips versions written before that time, whatever the group had read."""
    morning = datetime.fromisoformat("2026-11-01T08:00+08:00")
    later = datetime.fromisoformat("2026-11-01T10:00+08:00")
    write(kafka, department.topic, [ticket(1), ticket(2)], at=morning)
    newer = [ticket(3), ticket(2, version=2, status=TicketStatus.ACCEPTED)]
    write(kafka, department.topic, newer, at=later)

    since = subscribe(department, "--format", "json", "--since", "2026-11-01T09:00+08:00")
    future = subscribe(department, "--format", "json", "--since", "2030-01-01T00:00+08:00")

    assert since.returncode == 0, since.stderr
    assert json_tickets(since.stdout) == versions(newer)
    assert future.returncode == 0, future.stderr
    assert future.stdout == ""


def test_masked_caller_is_shown_and_the_raw_number_never(kafka, department):
    """The caller appears as 138****5678 (null when confidential) in both formats; the number never."""
    write(kafka, department.topic, [ticket(1), ticket(2, caller=None)])

    table = subscribe(department)
    lines = subscribe(department, "--format", "json", "--from-beginning")

    assert table.returncode == 0, table.stderr
    assert "138****5678" in table.stdout
    callers = {t["ticket_id"]: t["caller_masked"] for t in map(json.loads, lines.stdout.splitlines())}
    assert callers == {ticket(1).ticket_id: "138****5678", ticket(2).ticket_id: None}
    for result in (table, lines):
        assert RAW_PHONE not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "'yesterday' is neither an offset nor an ISO time like 2026-11-01T08:00+08:00"),
        ("2026-11-01T08:00", "'2026-11-01T08:00' needs a time zone, e.g. 2026-11-01T08:00+08:00"),
        ("1200", "ISO time"),
    ],
)
def test_bad_since_is_refused_with_exit_code_2(department, since, message):
    """A --since that is not an ISO time with a zone is an error with the reason, exit code 2."""
    result = subscribe(department, "--since", since)

    assert result.returncode == 2
    assert "error:" in result.stderr
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_unknown_department_is_an_error(kafka, tmp_path):
    """A department code without a topic (a typo) is reported, not waited on in silence."""
    settings = isolated_settings(kafka)
    config = write_config(settings, tmp_path / "department.yaml")
    missing = Department("no-such-department", settings.topics.department("no-such-department"), config)

    result = subscribe(missing)

    assert result.returncode != 0
    assert missing.topic in " ".join(result.stderr.split())
