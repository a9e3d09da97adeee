"""docs/subscribing.md works as written: its consumer, kcat command, status poster and lifecycle table.

The blocks are taken from the page itself (each follows a ``<!-- tested: NAME -->``
comment) and run against the session's real broker, in a folder holding nothing of
bingxian but a copy of its ``.avsc`` files, as a department would run them.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from confluent_kafka import Producer
from fastavro import parse_schema, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from gateway.lifecycle import TRANSITIONS, transition_error
from gateway.testing import read_topic
from gateway.topology import COMPACT
from schemas import catalog, examples, ids
from schemas.models import Ticket, TicketStatus
from schemas.serde import SingleObjectCodec

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "subscribing.md"
IDLE_S = "5"  # the doc's consumer stops after this many seconds without a ticket
MASKED = "138****5678"


def doc_block(name: str) -> str:
    """The fenced block that follows ``<!-- tested: name -->`` in the doc."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- tested: {re.escape(name)} -->\n```[^\n]*\n(.*?)\n```\n", text, re.DOTALL)
    assert match, f"{DOC.name} has no fenced block marked <!-- tested: {name} -->"
    return match.group(1)


def doc_table(name: str) -> list[list[str]]:
    """The cells of the Markdown table that follows ``<!-- tested: name -->``, header and rule left out."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- tested: {re.escape(name)} -->\n((?:\|.*\n)+)", text)
    assert match, f"{DOC.name} has no table marked <!-- tested: {name} -->"
    rows = [line.strip().strip("|").split("|") for line in match.group(1).splitlines()]
    return [[cell.strip() for cell in row] for row in rows[2:]]


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """A department's folder: the doc's programs and a copy of the .avsc files, nothing else of bingxian."""
    for folder in ("avro", "history"):
        shutil.copytree(ROOT / "schemas" / folder, tmp_path / "schemas" / folder)
    for name in ("consume_tickets.py", "post_status.py"):
        (tmp_path / name).write_text(doc_block(name) + "\n", encoding="utf-8")
    return tmp_path


def run(desk: Path, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the doc's programs from the department's folder."""
    env = {**os.environ, "PYTHONUTF8": "1"}
    return subprocess.run(
        [sys.executable, program, *args],
        cwd=desk,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def ticket(
    n: int, *, version: int = 1, status: TicketStatus = TicketStatus.DISPATCHED, caller: str | None = MASKED
) -> Ticket:
    """The example ticket under another id, at some version and status."""
    return examples.ticket().model_copy(
        update={
            "ticket_id": ids.ticket_id("310115", f"RPT-doc-{n}"),
            "version": version,
            "status": status,
            "caller_masked": caller,
        }
    )


def transaction(
    bootstrap: str, topic: str, records: Iterable[tuple[str, bytes]], *, commit: bool = True
) -> None:
    """Write records in one Kafka transaction as the gateway does; ``commit=False`` aborts it instead."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"doc-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for key, value in records:
        producer.produce(topic, key=key.encode(), value=value)
    producer.flush(30)  # aborted records must reach the log, or the abort would prove nothing
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


def encoded(*tickets: Ticket) -> list[tuple[str, bytes]]:
    """(key, value) of each ticket as the gateway writes it: single-object encoded."""
    codec = SingleObjectCodec()
    return [(t.ticket_id, codec.encode(t)) for t in tickets]


@pytest.fixture
def department_topic(kafka: str, topic_factory) -> tuple[str, list[Ticket], Ticket]:
    """A department topic laid out as the gateway makes it, with committed tickets and one aborted.

    Returns the topic, the committed ticket versions in write order, and the aborted ticket.
    """
    topic = topic_factory(3, COMPACT)
    first = [ticket(1), ticket(2), ticket(3, caller=None)]
    aborted = ticket(4)
    changed = ticket(2, version=2, status=TicketStatus.ACCEPTED)
    transaction(kafka, topic, encoded(*first))
    transaction(kafka, topic, encoded(aborted), commit=False)
    transaction(kafka, topic, encoded(changed))
    # The aborted ticket is in the log: only read_committed keeps it from a reader.
    keys = {r.key for r in read_topic(kafka, topic, committed_only=False)}
    assert aborted.ticket_id.encode() in keys
    return topic, [*first, changed], aborted


def printed(stdout: str) -> list[tuple[str, str, str, str]]:
    """(ticket id, version, status, caller) of each line the doc's consumer printed."""
    lines = [line.split("  ") for line in stdout.splitlines()]
    return [(f[0], f[1], f[2], f[4]) for f in lines]


def expected(tickets: Iterable[Ticket]) -> list[tuple[str, str, str, str]]:
    return [(t.ticket_id, f"v{t.version}", t.status.value, t.caller_masked or "-") for t in tickets]


def test_consumer_prints_exactly_the_committed_tickets(kafka, department_topic, desk):
    """The doc's Python consumer prints every committed ticket version once, none of the aborted one."""
    topic, committed, aborted = department_topic

    result = run(desk, "consume_tickets.py", kafka, topic, IDLE_S)

    assert result.returncode == 0, result.stderr
    lines = printed(result.stdout)
    assert Counter(lines) == Counter(expected(committed))
    assert aborted.ticket_id not in result.stdout
    versions = [version for ticket_id, version, _, _ in lines if ticket_id == committed[1].ticket_id]
    assert versions == ["v1", "v2"]  # one key, one partition: changes arrive in order


def test_consumer_resumes_after_its_last_ticket(kafka, department_topic, desk):
    """A second run of the doc's consumer (same group) prints only what arrived since the first."""
    topic, _, _ = department_topic
    assert run(desk, "consume_tickets.py", kafka, topic, IDLE_S).returncode == 0
    later = ticket(5)
    transaction(kafka, topic, encoded(later))

    result = run(desk, "consume_tickets.py", kafka, topic, IDLE_S)

    assert result.returncode == 0, result.stderr
    assert printed(result.stdout) == expected([later])


def newer_ticket_schema() -> dict:
    """The current Ticket schema plus one optional field: what the next release might write."""
    definition = copy.deepcopy(catalog.current()["Ticket"].definition)
    definition["fields"].append(
        {"name": "satisfaction", "type": ["null", "string"], "default": None, "doc": "Callback result."}
    )
    return definition


def crc64(definition: dict) -> bytes:
    """The schema's CRC-64-AVRO fingerprint, as a single-object header carries it."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parse_schema(definition)), "CRC-64-AVRO"))


def single_object(definition: dict, datum: dict) -> bytes:
    """Avro single-object encoding with any schema: C3 01, fingerprint, body."""
    body = io.BytesIO()
    schemaless_writer(body, parse_schema(definition), datum)
    return b"\xc3\x01" + crc64(definition) + body.getvalue()


def test_unknown_fingerprint_stops_until_newer_avsc_files_are_fetched(kafka, topic_factory, desk):
    """A newer schema's record stops the doc's consumer with its advice; with newer files it resumes there.

    During a rolling upgrade old and new gateways both write: after the upgrade the
    consumer reads the new record and, through schemas/history, the old one after it.
    """
    topic = topic_factory(1, COMPACT)  # one partition: the stop point is deterministic
    newer = newer_ticket_schema()
    before, upgraded, old_writer = ticket(1), ticket(2, version=2), ticket(3)
    transaction(kafka, topic, encoded(before))
    value = single_object(newer, {**upgraded.model_dump(), "satisfaction": "满意"})
    transaction(kafka, topic, [(upgraded.ticket_id, value)])
    transaction(kafka, topic, encoded(old_writer))

    stopped = run(desk, "consume_tickets.py", kafka, topic, IDLE_S)

    assert stopped.returncode != 0
    assert printed(stopped.stdout) == expected([before])
    assert f"unknown schema fingerprint {crc64(newer).hex()}" in stopped.stderr
    assert "fetch bingxian's newer .avsc files" in stopped.stderr

    # "Fetch the newer .avsc files": the release's avro/ and its snapshot in history/.
    release = json.dumps(newer, ensure_ascii=False)
    (desk / "schemas" / "avro" / "bingxian.Ticket.avsc").write_text(release, encoding="utf-8")
    history = desk / "schemas" / "history"
    snapshot = history / f"v{max(int(v.name[1:]) for v in history.iterdir()) + 1}"  # the next release's
    snapshot.mkdir()
    (snapshot / "bingxian.Ticket.avsc").write_text(release, encoding="utf-8")
    resumed = run(desk, "consume_tickets.py", kafka, topic, IDLE_S)

    assert resumed.returncode == 0, resumed.stderr
    assert printed(resumed.stdout) == expected([upgraded, old_writer])


def test_kcat_lists_committed_ticket_ids_and_sizes(kafka, department_topic):
    """The doc's kcat command prints key and size of each committed ticket version, none of the aborted."""
    if shutil.which("kcat") is None:
        pytest.skip("kcat is not installed (Debian: apt-get install kcat)")
    topic, committed, aborted = department_topic
    env = {**os.environ, "BROKERS": kafka, "TOPIC": topic}

    result = subprocess.run(
        ["bash", "-c", doc_block("kcat")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    want = Counter(f"{key} {len(value)}" for key, value in encoded(*committed))
    assert Counter(result.stdout.splitlines()) == want
    assert aborted.ticket_id not in result.stdout


def test_status_poster_writes_a_change_the_gateway_decodes(kafka, topic_factory, desk):
    """The doc's post_status.py writes a single-object TicketStatusChange keyed by ticket id."""
    topic = topic_factory(3)
    ticket_id = examples.ticket().ticket_id

    result = run(desk, "post_status.py", kafka, topic, ticket_id, "CLOSED", "已更换灯泡", "RESOLVED")

    assert result.returncode == 0, result.stderr
    records = read_topic(kafka, topic)
    assert len(records) == 1
    assert records[0].key == ticket_id.encode()
    name, change = SingleObjectCodec().decode_dict(records[0].value)
    assert name == "TicketStatusChange"
    assert result.stdout.split() == ["posted", change["change_id"]]
    assert (change["ticket_id"], change["status"], change["resolution"]) == (ticket_id, "CLOSED", "RESOLVED")
    assert (change["department"], change["note"]) == ("shizheng", "已更换灯泡")


def test_lifecycle_table_matches_the_gateway():
    """The doc's lifecycle table and its quoted refusal are gateway/lifecycle.py's own."""
    documented: dict[str, set[str]] = {}
    for status, allowed, _ in doc_table("lifecycle"):
        name = re.match(r"`(\w+)`", status)
        assert name, f"row {status!r} does not start with a `STATUS`"
        documented[name.group(1)] = set(re.findall(r"`(\w+)`", allowed))

    assert documented == {s.value: {n.value for n in nexts} for s, nexts in TRANSITIONS.items()}
    quoted = transition_error(TicketStatus.DISPATCHED, TicketStatus.CLOSED, has_resolution=True)
    assert f"`{quoted}`" in " ".join(DOC.read_text(encoding="utf-8").split())


@pytest.mark.parametrize("name", ["consume_tickets.py", "post_status.py"])
def test_programs_need_nothing_of_bingxian_but_the_avsc_files(name):
    """The doc's programs import only confluent-kafka, fastavro and the standard library."""
    imported = re.findall(r"^(?:from|import) (\w+)", doc_block(name), re.MULTILINE)

    assert set(imported) <= {"confluent_kafka", "fastavro", *sys.stdlib_module_names}
