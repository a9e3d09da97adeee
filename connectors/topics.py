"""The topics a connector writes to or reads from, created if missing, with the gateway's layout.

``bingxian connect`` or ``bingxian import`` may well run before ``bingxian run`` ever
has, on a cluster without auto-creation (ours never auto-creates): creating the raw
topics, ``reports`` and ``deadletter`` here, with the same specs as the gateway
(``gateway.topology``), makes the start order irrelevant. "Already exists" is success.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gateway.topics import ensure_topics
from gateway.topology import topic_specs

if TYPE_CHECKING:  # gateway.settings imports connectors.settings; keep the import one-way at run time
    from gateway.settings import Settings


def ensure_connector_topics(settings: Settings, channels: Iterable[str]) -> list[str]:
    """Create the raw topics of ``channels``, ``reports`` and ``deadletter`` if missing; the names created."""
    t = settings.topics
    wanted = {t.raw[name] for name in channels} | {t.reports, t.deadletter}
    specs = [spec for spec in topic_specs(settings) if spec.name in wanted]
    return ensure_topics(settings.kafka.client_config(), specs)
