"""Which ``reports`` partition a key lands in, computed without producing.

The connectors key reports by district code and the gateway forwards status changes
by the district code in the ticket id, both with librdkafka's default partitioner
(``consistent_random``: CRC-32 of the key modulo the partition count; our keys are
never empty). A replay from the raw topics maps records in memory and must group
them into the same partitions the live path would, so it needs the same function.
A test on the real broker checks it against the producer's own choice.
"""

from __future__ import annotations

import zlib


def partition_for(key: bytes, partitions: int) -> int:
    """The partition librdkafka's default partitioner picks for a non-empty ``key``."""
    if not key:
        raise ValueError("an empty key is partitioned at random; reports and status changes always have one")
    return zlib.crc32(key) % partitions
