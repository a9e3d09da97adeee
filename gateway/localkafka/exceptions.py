"""What can go wrong when running a local broker, as messages a user can act on.

    LocalKafkaError            root; its message is printed by ``bingxian kafka`` as is
    ├── JavaNotFoundError      no ``java`` on PATH or in JAVA_HOME
    ├── MavenError             the one-time jar download cannot run or failed
    ├── PortInUseError         a listener port is taken by another process
    └── BrokerStartError       the broker exited or did not answer in time (with its log tail)
"""

from __future__ import annotations


class LocalKafkaError(Exception):
    """A local broker could not be fetched, started or stopped."""


class JavaNotFoundError(LocalKafkaError):
    """Java 17+ is needed to run Apache Kafka and none was found."""


class MavenError(LocalKafkaError):
    """Maven is needed (once) to download the Kafka jars, and is missing or failed."""


class PortInUseError(LocalKafkaError):
    """The broker cannot listen on a port because something else does."""


class BrokerStartError(LocalKafkaError):
    """The broker process exited, or did not answer a metadata request in time."""
