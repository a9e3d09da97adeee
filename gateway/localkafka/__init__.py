"""A real Apache Kafka broker for development and tests, from Maven Central jars, without Docker.

``LocalKafka(state_dir).start()`` fetches the jars once (``jars``), writes a single-node
KRaft configuration (``config``), formats storage, starts the JVM and waits until the
broker answers a metadata request. ``bingxian kafka up|status|down`` and the test
fixture ``kafka`` (tests/conftest.py) are its two users.
"""

from gateway.localkafka.broker import BrokerStatus, LocalKafka
from gateway.localkafka.exceptions import (
    BrokerStartError,
    JavaNotFoundError,
    LocalKafkaError,
    MavenError,
    PortInUseError,
)
from gateway.localkafka.jars import KafkaJars, cache_root, default_version, fetch

__all__ = [
    "BrokerStartError",
    "BrokerStatus",
    "JavaNotFoundError",
    "KafkaJars",
    "LocalKafka",
    "LocalKafkaError",
    "MavenError",
    "PortInUseError",
    "cache_root",
    "default_version",
    "fetch",
]
