"""Operating-system facts the launcher relies on: where Java is, whether a pid or a port is alive."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from pathlib import Path

from gateway.localkafka.exceptions import JavaNotFoundError


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` if there is one (as Kafka's own scripts prefer), else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise JavaNotFoundError(
            "Java 17 or newer is needed to run Apache Kafka, and no `java` was found on PATH or in "
            "JAVA_HOME: install a JDK/JRE (e.g. apt-get install openjdk-17-jre-headless)"
        )
    return java


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie of ours)."""
    # Reap it first if it is our own exited child: a zombie still answers kill(pid, 0).
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but another user's
    return True


def accepts_connections(address: str) -> bool:
    """Whether ``host:port`` accepts a TCP connection now."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False
