"""The Apache Kafka jars, resolved once by Maven into a per-user cache.

Why Maven: Maven Central is reachable where a container registry is not, and the
broker is nothing but jars. ``deploy/local-kafka/pom.xml`` names them; Maven copies
them to ``${BINGXIAN_CACHE:-~/.cache/bingxian}/kafka-<version>/lib``. A ``COMPLETE``
file listing the jars is written last, so an interrupted download is never mistaken
for a cache, and a complete cache is used without calling Maven (or the network).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.localkafka.exceptions import MavenError
from gateway.logs import get_logger

log = get_logger(__name__)

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "local-kafka"
POM = DEPLOY_DIR / "pom.xml"
CACHE_ENV = "BINGXIAN_CACHE"
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def default_version() -> str:
    """The Kafka version pinned in the POM, so that the version lives in one place."""
    if not POM.is_file():
        raise MavenError(f"{POM} is missing: the local broker needs a bingxian source checkout")
    node = ET.parse(POM).find("m:properties/m:kafka.version", _POM_NS)
    if node is None or not (node.text or "").strip():
        raise MavenError(f"{POM} has no <kafka.version> property")
    return (node.text or "").strip()


def cache_root() -> Path:
    """Where jars are cached: outside the repository, shared by every checkout of the user."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "bingxian").expanduser()


@dataclass(frozen=True)
class KafkaJars:
    """The cached jars of one Kafka version."""

    version: str
    root: Path

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def marker(self) -> Path:
        return self.root / "COMPLETE"

    @property
    def classpath(self) -> str:
        """A JVM classpath wildcard; the JVM expands it, so no jar list is built here."""
        return str(self.lib / "*")

    def is_complete(self) -> bool:
        """True when the marker exists and every jar it lists is still there."""
        if not self.marker.is_file():
            return False
        names = self.marker.read_text(encoding="utf-8").split()
        return bool(names) and all((self.lib / name).is_file() for name in names)


def fetch(version: str | None = None, cache: Path | None = None) -> KafkaJars:
    """Return the jars of ``version`` (default: the POM's), downloading them only if not cached."""
    version = version or default_version()
    jars = KafkaJars(version, (cache or cache_root()) / f"kafka-{version}")
    if jars.is_complete():
        return jars
    jars.root.mkdir(parents=True, exist_ok=True)
    # Two processes (two test sessions, `make test` beside `kafka up`) may fetch at once.
    with _exclusive(jars.root / ".lock"):
        if not jars.is_complete():
            _download(jars)
    return jars


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(jars: KafkaJars) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MavenError(
            f"Apache Kafka {jars.version} is not in the cache {jars.root}, and Maven (mvn) is needed "
            "once to download it: install Maven (e.g. apt-get install maven), or copy a complete "
            f"cache from another machine (set {CACHE_ENV} to use another cache directory)"
        )
    staging = jars.root / f"lib.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-Dkafka.version={jars.version}",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    log.info("kafka_jars_downloading", version=jars.version, cache=str(jars.root))
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr).strip().splitlines()
        raise MavenError(
            f"Maven could not download Apache Kafka {jars.version} (exit {result.returncode}):\n"
            + "\n".join(output[-25:])
        )
    shutil.rmtree(jars.lib, ignore_errors=True)
    staging.rename(jars.lib)
    names = sorted(p.name for p in jars.lib.glob("*.jar"))
    # Written last and renamed into place: its presence means the cache is whole.
    partial_marker = jars.marker.with_suffix(".partial")
    partial_marker.write_text("\n".join(names) + "\n", encoding="utf-8")
    partial_marker.rename(jars.marker)
    seconds = round(time.monotonic() - started, 1)
    log.info("kafka_jars_downloaded", version=jars.version, jars=len(names), seconds=seconds)
