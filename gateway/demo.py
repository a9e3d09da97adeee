"""``bingxian demo``: the whole pipeline on this machine, with simulated traffic, shown live.

It starts (or reuses) the local Kafka broker, writes a demo configuration whose topics
carry a per-run tag (so a second demo does not count the first one's records), starts
the connectors, the gateway and the HTTP ingest as child processes exactly as an
operator would, sends simulated traffic of the four channels into the raw topics, and
shows what happens by reading the output topics like any other consumer: reports per
channel, dead letters, tickets created, duplicates merged (with one explanation), tickets
per department. Then it leaves the stack running with the URLs and the ``subscribe``
command to try, until Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Consumer, Producer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from connectors.simulator import generate
from gateway.localkafka import LocalKafka
from gateway.logs import configure_logging, librdkafka_logger
from gateway.routing import load_catalogue
from gateway.settings import Settings
from gateway.testing import isolated_settings, write_config
from gateway.topics import ensure_topics
from gateway.topology import topic_specs
from schemas import SingleObjectCodec
from schemas.exceptions import SchemaError

STATE = Path(".bingxian")
CHANNEL_LABEL = {
    "HOTLINE_12345": "12345 citizen hotline",
    "URBAN_12319": "12319 urban construction",
    "PROPERTY_962121": "962121 property service",
    "GRID_REPORT": "grid workers (网格员)",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tally:
    """What the demo has seen on the output topics so far."""

    raw_sent: Counter[str] = field(default_factory=Counter)
    reports: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)
    tickets: set[str] = field(default_factory=set)
    placed: set[str] = field(default_factory=set)
    merged: int = 0
    review: int = 0
    filed: int = 0
    departments: Counter[str] = field(default_factory=Counter)
    example: str | None = None
    review_example: str | None = None


def _watch(settings: Settings, tally: Tally, stop: threading.Event) -> None:
    """Read reports, dead letters and ticket events (committed only) and count them."""
    codec = SingleObjectCodec()
    t = settings.topics
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"bingxian-demo-watch-{os.getpid()}",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([t.reports, t.deadletter, t.ticket_events])
    while not stop.is_set():
        for message in consumer.consume(2000, 0.2):
            if message.error() or not message.value():
                continue
            try:
                name, value = codec.decode_dict(message.value())
            except SchemaError:  # a foreign record is not the demo's business
                continue
            if name == "Report":
                tally.reports[value["channel"]] += 1
            elif name == "DeadLetter":
                tally.dead_letters[value["channel"] or "?"] += 1
            elif name == "TicketEvent":
                _count_event(tally, value)
    consumer.close()


def _count_event(tally: Tally, event: dict) -> None:
    kind = event["event_type"]
    if event["report_id"]:
        tally.placed.add(event["report_id"])
    if kind == "CREATED":
        tally.tickets.add(event["ticket_id"])
    elif kind == "FILED":
        tally.tickets.add(event["ticket_id"])
        tally.filed += 1
    elif kind == "REPORT_MERGED":
        tally.merged += 1
        if tally.example is None and event["evidence"]:
            tally.example = f"{event['report_id']} → {event['ticket_id']}\n{event['evidence']['explanation']}"
    elif kind == "REVIEW_REQUESTED":
        tally.review += 1
        if tally.review_example is None and event["evidence"]:
            evidence = event["evidence"]
            flagged = f"{event['ticket_id']} may repeat {evidence['candidate_ticket_id']}"
            tally.review_example = f"{flagged}\n{evidence['explanation']}"
    elif kind == "ROUTED":
        tally.departments.update(event["departments"])


def _view(tally: Tally, names: dict[str, str]) -> Group:
    channels = Table(title="reports per channel", expand=True)
    for column in ("channel", "raw sent", "reports", "dead letters"):
        channels.add_column(column, justify="right" if column != "channel" else "left")
    raw_names = {
        "HOTLINE_12345": "12345",
        "URBAN_12319": "12319",
        "PROPERTY_962121": "962121",
        "GRID_REPORT": "grid",
    }
    for channel, label in CHANNEL_LABEL.items():
        short = raw_names[channel]
        channels.add_row(
            label, str(tally.raw_sent[short]), str(tally.reports[channel]), str(tally.dead_letters[short])
        )
    outcome = Table(title="gateway", expand=True)
    outcome.add_column("")
    outcome.add_column("", justify="right")
    outcome.add_row("reports placed", str(len(tally.placed)))
    outcome.add_row("tickets (one per real issue)", str(len(tally.tickets)))
    outcome.add_row("duplicates merged (并单)", str(tally.merged))
    outcome.add_row("flagged for review", str(tally.review))
    outcome.add_row("filing only (事件报备)", str(tally.filed))
    departments = Table(title="tickets per department", expand=True)
    departments.add_column("department")
    departments.add_column("tickets", justify="right")
    for code, count in tally.departments.most_common(8):
        departments.add_row(f"{code} {names.get(code, '')}", str(count))
    parts: list = [channels, outcome, departments]
    if tally.example:
        parts.append(Panel(tally.example, title="one merge, explained"))
    if tally.review_example:
        parts.append(Panel(tally.review_example, title="one for a person to decide (bingxian review)"))
    return Group(*parts)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _child(args: list[str], config: Path, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    command = [sys.executable, "-m", "gateway", *args, "--config", str(config)]
    return subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL)


def run_demo(*, reports: int, seed: int, rate: float, exit_when_done: bool, console: Console) -> int:
    """Run the demo; returns the exit code."""
    configure_logging("WARNING")  # the screen is for the live view; the children log to files
    STATE.mkdir(exist_ok=True)
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        console.print("starting Apache Kafka (local, from the Maven jar cache) …")
        broker = LocalKafka(STATE / "kafka")
        bootstrap = broker.start()
    tag = datetime.now(UTC).strftime("demo%m%d%H%M%S")
    settings = isolated_settings(bootstrap, tag)
    http_port, ingest_port = _free_port(), _free_port()
    settings = settings.model_copy(
        update={"gateway": settings.gateway.model_copy(update={"http_port": http_port, "instance_id": tag})}
    )
    config = write_config(settings, STATE / "demo.yaml")
    catalogue = load_catalogue()
    ensure_topics(bootstrap, topic_specs(settings, catalogue.all_departments()))
    console.print(f"Kafka at {bootstrap}; topics tagged [bold]{tag}[/]; config {config}", soft_wrap=True)

    logs = STATE / "demo-logs"
    logs.mkdir(exist_ok=True)
    children = {
        "connectors": _child(["connect", "--all"], config, logs / "connectors.log"),
        "gateway": _child(["run"], config, logs / "gateway.log"),
        "http ingest": _child(["ingest-http", "--port", str(ingest_port)], config, logs / "ingest-http.log"),
    }
    tally = Tally()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(settings, tally, stop), daemon=True)
    watcher.start()
    simulation = generate(seed, reports)
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True},
        logger=librdkafka_logger(),
    )
    sent = accounted = 0
    interrupted = False
    try:
        with Live(_view(tally, catalogue.departments), console=console, refresh_per_second=4) as live:
            begin = time.monotonic()
            for record in simulation.records:
                due = begin + sent / rate
                while time.monotonic() < due:
                    live.update(_view(tally, catalogue.departments))
                    time.sleep(min(0.05, max(0.0, due - time.monotonic())))
                producer.produce(settings.topics.raw[record.channel], value=record.raw)
                producer.poll(0)
                tally.raw_sent[record.channel] += 1
                sent += 1
            producer.flush(30)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                accounted = sum(tally.reports.values()) + sum(tally.dead_letters.values())
                if accounted >= sent and len(tally.placed) >= sum(tally.reports.values()):
                    break
                live.update(_view(tally, catalogue.departments))
                time.sleep(0.25)
            live.update(_view(tally, catalogue.departments))
        accounted = sum(tally.reports.values()) + sum(tally.dead_letters.values())
        console.print(
            f"\n[bold]{sent}[/] native records → [bold]{sum(tally.reports.values())}[/] reports + "
            f"[bold]{sum(tally.dead_letters.values())}[/] dead letters ({accounted}/{sent} accounted for) → "
            f"[bold]{len(tally.tickets)}[/] tickets, {tally.merged} duplicates merged.",
            soft_wrap=True,  # one line, whatever the width: it is the line to read (and to grep)
        )
        department = next(iter(tally.departments.most_common(1)), ("shizheng", 0))[0]
        console.print(
            "\nThe stack is running:\n"
            f"  gateway health   http://127.0.0.1:{http_port}/healthz  /readyz  /metrics\n"
            f"  HTTP ingest      http://127.0.0.1:{ingest_port}/v1/ingest/{{channel}}  (OpenAPI at /docs)\n"
            f"  logs             {logs}/\n"
            "Try, in another terminal:\n"
            f"  .venv/bin/bingxian subscribe --config {config} --department {department} --from-beginning\n"
            f"  .venv/bin/bingxian deadletter list --config {config} --limit 5\n"
            f"  .venv/bin/bingxian review list --config {config}   (the dispatch centre's review queue)\n"
            "  (HTTP ingest: see docs/ingest.md; tokens are in the config file)",
            soft_wrap=True,
        )
        if not exit_when_done:
            console.print("Ctrl-C stops everything.")
            signal.signal(signal.SIGTERM, _interrupt)
            threading.Event().wait()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in children.items():
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                console.print(f"{name} did not stop in 30 s; killing it")
                child.kill()
        watcher.join(5)
        if broker is not None:
            broker.stop()
        console.print("stopped cleanly" + (" (interrupted)" if interrupted else ""))
    return 0 if accounted == sent else 1
