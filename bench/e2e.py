"""End-to-end benchmark: the gateway with exactly-once on, next to a raw passthrough.

Both runs read the same pre-produced ``reports`` topic on a real Apache Kafka broker
(``KAFKA_BOOTSTRAP_SERVERS``, or a local broker started from the Maven jar cache) in
the same process run, so the ratio between them is the figure to watch:

1. passthrough: consume → produce the same bytes → ``send_offsets_to_transaction`` →
   commit, with the gateway's batch size and transactional producer configuration: what
   Kafka and the Python client cost alone;
2. gateway: ``GatewayService`` over the same records (decode, dedup, route, encode
   tickets/departments/events/changelog, one transaction per batch);
   then the fan-out passthrough: the passthrough again, but writing for each report as
   many records as the gateway wrote per report (its committed output, counted after
   its run), with the gateway's own record bytes (a uniform sample) to topics laid out
   like its outputs. What Kafka and the client cost for the gateway's output volume, with
   no work at all between consume and produce: the ceiling of any gateway that writes
   what this one writes, on this machine;
3. with ``--instances 1,2``: the gateway as that many ``bingxian run`` processes in one
   group over the same records (the way the service scales: partitions split between
   instances, one transactional producer each), timed from the moment every instance
   holds partitions;
4. live latency: reports produced at a fixed rate while the gateway runs as a
   ``bingxian run`` process at its default log level (INFO); latency is measured from the
   moment a report is produced to the moment its CREATED or REPORT_MERGED event is
   readable by a ``read_committed`` consumer.

    python -m bench.e2e --reports 200000 --rate 500 --seconds 40 --warmup 10 --restart --instances 1,2

``--batch-size`` changes the reports per transaction of the throughput runs (1–3);
``--seconds 0`` leaves out the live run.

The live run starts a new gateway on new topics; the latency is printed for the whole
run, its first seconds included, and for the reports sent after ``--warmup`` seconds.
``--restart`` then times a second live run through a new gateway over the same topics
(what an operator's restart or a crash recovery costs in latency).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import (
    Consumer,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from gateway.logs import configure_logging
from gateway.routing import load_catalogue
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.testing import (
    GatewayProcess,
    bench_cluster,
    committed_offsets,
    cpu_seconds_of,
    end_offsets,
    isolated_settings,
    iter_topic,
    local_broker_pid,
    produce_all,
    wait_caught_up,
    with_outputs,
)
from gateway.topics import TopicSpec, ensure_topics
from gateway.topology import topic_specs
from gateway.transaction import producer_config
from gateway.workload import build
from schemas import SingleObjectCodec

#: One record to write: topic, partition, key, value.
Out = tuple[str, int, bytes | None, bytes | None]


def passthrough(settings: Settings, fanout: Callable[[Message], Iterable[Out]] | None = None) -> float:
    """Seconds to copy ``reports`` exactly once, batch by batch.

    The gateway's batch size and its transactional producer configuration
    (``gateway.transaction.producer_config``): the baseline differs from the gateway
    only in the work between consume and produce. Each input record is copied to a new
    topic, or, with ``fanout``, replaced by the records it returns.
    """
    bootstrap, source = settings.kafka.bootstrap_servers, settings.topics.reports
    batch_size = settings.gateway.batch_size
    target = f"passthrough-{uuid.uuid4().hex[:8]}"
    partitions = len(end_offsets(bootstrap, source))
    if fanout is None:
        ensure_topics(bootstrap, [TopicSpec(target, partitions)])
    group = f"passthrough-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
        }
    )
    producer = Producer(producer_config(settings, group))
    producer.init_transactions(30)
    ends = end_offsets(bootstrap, source)
    total = sum(ends.values())
    consumer.subscribe([source])
    done = 0
    started = None
    while done < total:
        messages = consumer.consume(batch_size, 0.1)
        if not messages:
            continue
        started = started or time.perf_counter()
        producer.begin_transaction()
        offsets: dict[int, int] = {}
        for message in messages:
            if message.error():
                continue
            if fanout is None:
                producer.produce(
                    target, key=message.key(), value=message.value(), partition=message.partition()
                )
            else:
                for topic, partition, key, value in fanout(message):
                    producer.produce(topic, key=key, value=value, partition=partition)
            offsets[message.partition()] = message.offset() + 1
            done += 1
        producer.send_offsets_to_transaction(
            [TopicPartition(source, p, o) for p, o in offsets.items()], consumer.consumer_group_metadata()
        )
        producer.commit_transaction()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return elapsed


def gateway_output(bootstrap: str, topics: list[str], keep: int = 50_000) -> tuple[int, int, list[Out]]:
    """The committed records the gateway wrote to ``topics``: count, bytes and a uniform sample."""
    rng = random.Random(0)
    sample: list[Out] = []
    seen = size = 0
    for topic in topics:
        for r in iter_topic(bootstrap, topic, timeout_s=600):
            seen += 1
            size += len(r.value or b"") + len(r.key or b"")
            record = (topic, r.partition, r.key, r.value)
            if len(sample) < keep:
                sample.append(record)
            elif (slot := rng.randrange(seen)) < keep:
                sample[slot] = record  # reservoir sampling: every record equally likely
    return seen, size, sample


def _mirror(bootstrap: str, sample: list[Out]) -> list[Out]:
    """The sample retargeted to new topics laid out like the gateway's (same partitions).

    So a fan-out transaction spans as many partitions as the gateway's do.
    """
    prefix = f"fanout-{uuid.uuid4().hex[:8]}."
    ensure_topics(
        bootstrap,
        [TopicSpec(prefix + t, len(end_offsets(bootstrap, t))) for t in sorted({r[0] for r in sample})],
    )
    return [(prefix + t, p, k, v) for t, p, k, v in sample]


def _schedule(size: int, per_report: float) -> Callable[[], list[int]]:
    """For each next input, the positions of the sample records it writes: ``per_report`` on average."""
    inputs = written = 0

    def due() -> list[int]:
        nonlocal inputs, written
        inputs += 1
        count = int(inputs * per_report) - int((inputs - 1) * per_report)
        first, written = written, written + count
        return [(first + k) % size for k in range(count)]

    return due


def fanout_of(bootstrap: str, sample: list[Out], per_report: float) -> Callable[[Message], list[Out]]:
    """For each input record, the next gateway output records of the sample, ``per_report`` on average."""
    records = _mirror(bootstrap, sample)
    due = _schedule(len(records), per_report)
    return lambda _message: [records[i] for i in due()]


def encoding_fanout_of(
    bootstrap: str, settings: Settings, sample: list[Out], per_report: float
) -> Callable[[Message], list[Out]]:
    """``fanout_of`` plus the Avro work no gateway can skip: decode the report, encode its tickets and events.

    The sample's tickets and events are decoded before the run and encoded again for each
    copy; department copies and changelog records go as they are (the gateway reuses the
    ticket's bytes for departments, and the changelog's own encoding is left out), so this
    is a floor of what the gateway must do per report, with no dedup, routing or state.
    """
    codec = SingleObjectCodec()
    encoded = {settings.topics.tickets, settings.topics.ticket_events}
    decoded = {i: codec.decode_dict(r[3]) for i, r in enumerate(sample) if r[0] in encoded and r[3]}
    records = _mirror(bootstrap, sample)
    due = _schedule(len(records), per_report)

    def fanout(message: Message) -> list[Out]:
        codec.decode_dict(message.value())
        out = []
        for i in due():
            topic, partition, key, value = records[i]
            if i in decoded:
                name, record = decoded[i]
                value = codec.encode(record, name=name)
            out.append((topic, partition, key, value))
        return out

    return fanout


def cpu_per_report(
    settings: Settings, fanout: Callable[[Message], Iterable[Out]], broker: int | None, n: int
) -> tuple[float, float, float | None]:
    """Seconds of a fan-out passthrough, and the CPU per report (µs) of this process and of the broker."""
    own, theirs = time.process_time(), cpu_seconds_of(broker) if broker else None
    seconds = passthrough(settings, fanout)
    own = time.process_time() - own
    after = cpu_seconds_of(broker) if broker else None
    broker_us = (after - theirs) / n * 1e6 if after is not None and theirs is not None else None
    return seconds, own / n * 1e6, broker_us


def gateway_throughput(bootstrap: str, settings, total: int) -> float:
    """Seconds for the gateway to process the pre-filled reports topic exactly once."""
    service = GatewayService(settings)
    thread = threading.Thread(target=service.run, kwargs={"serve_http": False}, daemon=True)
    thread.start()
    while not (service.ready() and service.processors):  # group joined, partitions restored
        time.sleep(0.01)
    started = time.perf_counter()
    wait_caught_up(bootstrap, settings.gateway.group_id, settings.topics.reports, timeout_s=3600, every_s=0.2)
    elapsed = time.perf_counter() - started
    service.stop()
    thread.join(60)
    commits, waited = _observed(service.metrics.registry, "bingxian_transaction_commit_seconds")
    print(
        f"  {commits:.0f} transactions; commit_transaction() waited {waited:.1f}s in all, "
        f"{waited / elapsed:.0%} of the gateway's run"
    )
    return elapsed


def _observed(registry, histogram: str) -> tuple[float, float]:
    """(count, sum) of a histogram in a metrics registry."""
    count = registry.get_sample_value(f"{histogram}_count") or 0.0
    return count, registry.get_sample_value(f"{histogram}_sum") or 0.0


def scale_out(bootstrap: str, settings, instances: int, workdir: Path) -> tuple[float, int]:
    """``bingxian run`` in ``instances`` processes of one group over the pre-filled reports topic.

    Each process is a separate interpreter (the dedup work holds the GIL, so threads would
    not scale). The rate counts only the records committed once every instance holds
    partitions: the processes' start-up and the group's first join are left out, the
    restore of the partitions the later joiners take over is not. Returns (seconds,
    records) of that interval.
    """
    tag = f"x{instances}-{uuid.uuid4().hex[:6]}"
    deployment = with_outputs(settings, tag)
    ensure_topics(bootstrap, topic_specs(deployment, load_catalogue().all_departments()))
    group, source = deployment.gateway.group_id, deployment.topics.reports
    ends = end_offsets(bootstrap, source)
    total = sum(ends.values())
    processes = []
    for n in range(instances):
        instance_id = f"{deployment.gateway.instance_id}-{n}"
        gateway = deployment.gateway.model_copy(update={"instance_id": instance_id})
        instance = deployment.model_copy(update={"gateway": gateway})
        processes.append(GatewayProcess(instance, workdir, f"{tag}-{n}", log_level="WARNING").start())
    admin = AdminClient({"bootstrap.servers": bootstrap})
    started = None
    try:
        while True:
            try:
                committed = sum(max(o, 0) for o in committed_offsets(bootstrap, group, source).values())
            except KafkaException:
                committed = 0  # the group's coordinator is still loading on a young broker
            if started is None and _all_assigned(admin, group, instances):
                started = (time.perf_counter(), committed)
            if committed >= total:
                break
            if not all(p.running for p in processes):
                raise RuntimeError(f"a gateway process exited; see {workdir}")
            time.sleep(0.2)
        assert started is not None
        return time.perf_counter() - started[0], total - started[1]
    finally:
        for process in processes:
            process.stop()


def _all_assigned(admin: AdminClient, group: str, instances: int) -> bool:
    """Whether the group has ``instances`` members and each holds at least one partition."""
    try:
        description = admin.describe_consumer_groups([group])[group].result(10)
    except KafkaException:
        return False
    members = description.members
    return len(members) == instances and all(m.assignment.topic_partitions for m in members)


def live_latency(
    bootstrap: str,
    settings,
    reports: list[tuple[str, bytes, str]],
    rate: float,
    seconds: float,
    workdir: Path,
):
    """Produce at ``rate`` reports/s for ``seconds``; each report's produce → committed ticket event.

    Returns the (send time, latency ms) timeline, the number sent, and the gateway
    process's CPU seconds per second of the load (None without /proc).

    The gateway runs as ``bingxian run`` in its own process, as it is deployed: in a thread
    of this process it would share the interpreter lock with the producer and the watcher
    below, and its latency measured two to three times the service's (p50 ~150 against
    ~55 ms at 500 reports/s on the same machine, 2026-12-06).
    """
    codec = SingleObjectCodec()
    workdir.mkdir(parents=True, exist_ok=True)
    gateway = GatewayProcess(settings, workdir, f"live-{uuid.uuid4().hex[:6]}", log_level="INFO").start()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()
    watching = threading.Event()

    def watch() -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"latency-{uuid.uuid4().hex}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",  # the live run's own, empty topic
                "fetch.wait.max.ms": 10,
            }
        )
        consumer.subscribe([settings.topics.ticket_events], on_assign=lambda *_: watching.set())
        while not stop.is_set():
            # poll, then what is already fetched: consume(1000, t) alone would hold every event
            # until its timeout ran out, adding up to t to each measured latency.
            first = consumer.poll(0.05)
            if first is None:
                continue
            for message in [first, *consumer.consume(999, 0)]:
                if message.error() or not message.value():
                    continue
                event = codec.decode_dict(message.value())[1]
                if event["report_id"] and event["report_id"] not in seen:
                    seen[event["report_id"]] = time.perf_counter()
        consumer.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    # The load's producer is ready before the clock starts: created after readiness, it
    # still had to acquire its idempotent producer id and the topic's metadata while the
    # first second's reports were already stamped as sent, and its own start-up counted
    # as the gateway's latency (first second up to ~1 s; ~0.35 s with this, 2026-12-06).
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
    producer.list_topics(settings.topics.reports, timeout=30)
    try:
        # Timing starts once the gateway answers /readyz (its partitions assigned and restored)
        # and the watcher has its assignment: the figure is the running service's latency.
        wait_ready(gateway, timeout_s=120)
        while not watching.is_set():
            time.sleep(0.01)
        count = int(rate * seconds)
        cpu_begin = gateway.cpu_seconds()
        begin = time.perf_counter()
        for i, (key, value, report_id) in enumerate(reports[:count]):
            due = begin + i / rate
            while (delay := due - time.perf_counter()) > 0:
                time.sleep(min(delay, 0.01))
            producer.produce(settings.topics.reports, key=key.encode(), value=value)
            sent[report_id] = time.perf_counter()
            producer.poll(0)
        producer.flush(30)
        deadline = time.perf_counter() + 60
        while len(seen.keys() & sent.keys()) < len(sent) and time.perf_counter() < deadline:
            time.sleep(0.1)
        cpu_end, end = gateway.cpu_seconds(), time.perf_counter()
    finally:
        stop.set()
        gateway.stop()
    # (seconds into the run the report was sent, its latency in ms), in send order
    timeline = [(sent[r] - begin, (seen[r] - sent[r]) * 1000) for r in sent if r in seen]
    # How busy the gateway was: at a utilisation near one core, queueing sets the tail.
    busy = None if cpu_begin is None or cpu_end is None else (cpu_end - cpu_begin) / (end - begin)
    return timeline, len(sent), busy


def wait_ready(gateway: GatewayProcess, *, timeout_s: float) -> None:
    """Until the process's ``/readyz`` answers 200; its address is in its log (an ephemeral port)."""
    deadline = time.monotonic() + timeout_s
    url = None
    while time.monotonic() < deadline:
        if not gateway.running:
            raise RuntimeError(f"the gateway exited; see {gateway.log_path}")
        if url is None:
            for line in gateway.log_path.read_text(encoding="utf-8").splitlines():
                if '"health endpoints up"' in line:
                    url = json.loads(line)["url"]
        if url is not None:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.HTTPError, urllib.error.URLError):
                pass  # 503 while restoring, or not listening yet
        time.sleep(0.05)
    raise TimeoutError(f"the gateway was not ready within {timeout_s}s; see {gateway.log_path}")


def print_latency(timeline: list[tuple[float, float]], warmup: float, busy: float | None) -> None:
    """p50/p99/max of the whole live run and of the reports sent after ``warmup`` seconds.

    ``busy``: the gateway process's CPU seconds per second of the run (1.0 is one core).
    """
    if busy is not None:
        print(f"  gateway process: {busy:.0%} of one core while the load ran")
    whole = [ms for _, ms in timeline]
    steady = [ms for at, ms in timeline if at >= warmup]
    for label, latencies in (("whole run", whole), (f"after {warmup:.0f}s", steady)):
        if len(latencies) >= 2:
            q = statistics.quantiles(sorted(latencies), n=100)
            print(
                f"  {label:>10}: {len(latencies):6} reports, latency p50 {q[49]:.0f} ms, "
                f"p99 {q[98]:.0f} ms, max {max(latencies):.0f} ms"
            )


def print_cpu(own_us: float, broker_us: float | None) -> None:
    """CPU per report, and the most reports/s two cores allow for that work, in any number of processes."""
    if broker_us is None:
        print(f"  CPU per report: this process {own_us:.0f} µs (the broker's is unknown: not a local one)")
        return
    most = (os.cpu_count() or 1) * 1e6 / (own_us + broker_us)
    print(
        f"  CPU per report: this process {own_us:.0f} µs (Python and librdkafka threads), "
        f"broker {broker_us:.0f} µs → {os.cpu_count()} cores allow at most {most:,.0f} reports/s"
    )


def with_partitions(settings: Settings, partitions: int) -> Settings:
    """``settings`` with every topic created with ``partitions`` partitions."""
    topics = settings.topics.model_copy(update={"partitions": partitions})
    return settings.model_copy(update={"topics": topics})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="of the live run; 0 leaves it out")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="after the live run, restart the gateway on the same topics and time the next reports",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of the live run left out of the steady-state figure (reported next to the whole run)",
    )
    parser.add_argument(
        "--instances",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[],
        help="also time the gateway as this many `bingxian run` processes of one group (e.g. 1,2)",
    )
    parser.add_argument(
        "--partitions", type=int, default=3, help="partitions of every topic (the service's default is 6)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="most reports per transaction in the throughput runs (default: gateway.batch_size)",
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    with bench_cluster() as bootstrap:
        cpu = platform.processor() or platform.machine()
        print(
            f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        t0 = time.perf_counter()
        reports = [
            (i.key, i.value, i.report_id)
            for i in build(Settings(), reports=args.reports, seed=args.seed, malformed=0.0).report_items
        ]
        print(f"workload: {len(reports)} reports, mapped and encoded in {time.perf_counter() - t0:.1f}s")
        settings = with_partitions(isolated_settings(bootstrap), args.partitions)
        if args.batch_size is not None:
            gateway = settings.gateway.model_copy(update={"batch_size": args.batch_size})
            settings = settings.model_copy(update={"gateway": gateway})
        print(f"throughput runs: {settings.gateway.batch_size} reports per transaction at most")
        ensure_topics(bootstrap, topic_specs(settings, load_catalogue().all_departments()))
        produce_all(bootstrap, settings.topics.reports, ((k, v) for k, v, _ in reports))

        pass_s = passthrough(settings)
        gate_s = gateway_throughput(bootstrap, settings, len(reports))
        n = len(reports)
        t = settings.topics
        outputs = [s.name for s in topic_specs(settings, load_catalogue().all_departments())]
        outputs = [name for name in outputs if name not in {t.reports, t.ticket_status, *t.raw.values()}]
        written, size, sample = gateway_output(bootstrap, outputs)
        broker = local_broker_pid(bootstrap)
        fan_s, fan_cpu, fan_broker = cpu_per_report(
            settings, fanout_of(bootstrap, sample, written / n), broker, n
        )
        floor_s, floor_cpu, floor_broker = cpu_per_report(
            settings, encoding_fanout_of(bootstrap, settings, sample, written / n), broker, n
        )
        print(f"passthrough (EOS consume→produce): {n / pass_s:10,.0f} records/s  ({pass_s:.1f}s)")
        print(f"gateway     (EOS, dedup, routing): {n / gate_s:10,.0f} reports/s  ({gate_s:.1f}s)")
        print(f"ratio gateway/passthrough: {pass_s / gate_s:.2f}")
        print(
            f"  the gateway wrote {written:,} records, {written / n:.2f} per report, "
            f"{size / written:,.0f} bytes each on average, to {len({r[0] for r in sample})} topics"
        )
        print(
            f"fan-out passthrough (as many records and bytes per report as the gateway writes): "
            f"{n / fan_s:10,.0f} reports/s  ({fan_s:.1f}s); ratio gateway/fan-out {fan_s / gate_s:.2f}"
        )
        print_cpu(fan_cpu, fan_broker)
        print(
            f"floor (fan-out + decode each report, encode its tickets and events): "
            f"{n / floor_s:10,.0f} reports/s  ({floor_s:.1f}s)"
        )
        print_cpu(floor_cpu, floor_broker)
        workdir = Path(".bingxian") / f"bench-e2e-{uuid.uuid4().hex[:6]}"
        for instances in args.instances:
            workdir.mkdir(parents=True, exist_ok=True)
            seconds, records = scale_out(bootstrap, settings, instances, workdir)
            print(
                f"gateway × {instances} process{'es' if instances > 1 else ''}: "
                f"{records / seconds:10,.0f} reports/s  ({records} reports, {seconds:.1f}s once all joined)"
            )

        if args.seconds <= 0:
            print(f"finished {datetime.now(UTC).isoformat(timespec='seconds')} (no live run: --seconds 0)")
            return
        live = with_partitions(isolated_settings(bootstrap), args.partitions)
        ensure_topics(bootstrap, topic_specs(live, load_catalogue().all_departments()))
        timeline, sent, busy = live_latency(bootstrap, live, reports, args.rate, args.seconds, workdir)
        print(f"live at {args.rate:.0f} reports/s for {args.seconds:.0f}s: {len(timeline)}/{sent} seen")
        print_latency(timeline, args.warmup, busy)
        if args.restart:
            # A new gateway over the same topics, group and instance id: it fences the first
            # one's producer, restores its partitions from the changelog and resumes.
            timeline, sent, busy = live_latency(
                bootstrap, live, reports[sent:], args.rate, args.seconds, workdir
            )
            print(f"restarted gateway, same topics and instance id: {len(timeline)}/{sent} seen")
            print_latency(timeline, args.warmup, busy)
        print(f"finished {datetime.now(UTC).isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
