"""Dedup decision time and memory per open ticket (figures printed, never asserted).

All N open tickets sit in ONE block (same category family, same road, within ~150 m,
so they share the geo cells and the (district, road) key): the worst case for a
decision, every ticket is a candidate up to the cap. Each timed decision includes
normalising the new report. Single core: the process is pinned to one CPU.

    .venv/bin/python bench/dedup.py [--queries 1000]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
# This file is called dedup.py: keep its own folder off the path so the package is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dedup import Observation, TicketIndex, load_model  # noqa: E402

ROAD = "张杨路"
PROBLEMS = [
    ("0601", "路灯不亮", "门口路灯晚上不亮，黑漆漆的，行人走路很不安全"),
    ("0602", "井盖破损", "窨井盖松动，车开过去哐哐响"),
    ("0603", "下水道堵塞", "下水道反水，臭气熏天，已经好几天了"),
    ("0604", "道路破损", "人行道地砖松动翘起来了"),
]


def observation(rng: random.Random, i: int, t_ms: int) -> Observation:
    code, title, text = PROBLEMS[i % len(PROBLEMS)]
    number = rng.randrange(1, 3000)
    return Observation(
        report_id=f"R{i}",
        event_time_ms=t_ms,
        channel="12345",
        category_code="06" + code[2:],
        title=title,
        description=f"市民来电反映：浦东新区{ROAD}{number}号{text}，希望尽快处理。",
        address=f"浦东新区{ROAD}{number}号",
        district_code="310115",
        lat=31.2300 + rng.uniform(-0.0006, 0.0006),
        lon=121.5200 + rng.uniform(-0.0007, 0.0007),
        contact_hash=f"c{rng.randrange(10**6)}",
    )


def build(n: int, seed: int) -> TicketIndex:
    rng = random.Random(seed)
    index = TicketIndex(load_model())
    for i in range(n):
        index.open_ticket(f"T{i}", observation(rng, i, i * 1000))
    return index


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print("dedup decision time, all open tickets in one block (ms per report, normalisation included)")
    print(f"{'open tickets':>12} {'candidates':>10} {'p50':>7} {'p95':>7} {'p99':>7}  {'bytes/ticket':>12}")
    for n in (100, 1_000, 5_000):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        index = build(n, seed=n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        per_ticket = (after - before) / n
        rng = random.Random(7)
        times: list[float] = []
        considered: list[int] = []
        for q in range(args.queries):
            obs = observation(rng, 10**6 + q, n * 1000 + q)
            began = time.perf_counter()
            decision = index.decide(obs)
            times.append((time.perf_counter() - began) * 1000)
            considered.append(decision.candidates_considered)
        print(
            f"{n:>12} {statistics.median(considered):>10.0f} {percentile(times, 0.50):>7.2f} "
            f"{percentile(times, 0.95):>7.2f} {percentile(times, 0.99):>7.2f}  {per_ticket:>12.0f}"
        )
    print("bytes/ticket: tracemalloc growth while opening the tickets (index, rows, keys, texts) / tickets")


if __name__ == "__main__":
    main()
