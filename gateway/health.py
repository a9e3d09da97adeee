"""``/healthz``, ``/readyz`` and ``/metrics`` on a small threaded HTTP server.

The standard library's server is enough for three GET endpoints and keeps the
service free of an ASGI loop it does not otherwise need. Liveness means the main
loop turned recently; readiness means every assigned partition's state is restored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class HealthServer:
    """Serves health, readiness and metrics in a daemon thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        registry: CollectorRegistry,
        live: Callable[[], bool],
        ready: Callable[[], bool],
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    outer._answer(self, live(), "live", "stalled")
                elif self.path == "/readyz":
                    outer._answer(self, ready(), "ready", "restoring or not started")
                elif self.path == "/metrics":
                    body = generate_latest(registry)
                    self.send_response(200)
                    self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    outer._answer(self, False, "", "not found", missing=404)

            def log_message(self, format: str, *args: object) -> None:
                """Silence per-request access logs: probes hit these every few seconds."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, ok: bool, yes: str, no: str, missing: int = 503) -> None:
        body = (yes if ok else no).encode() + b"\n"
        handler.send_response(200 if ok else missing)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Heartbeat:
    """The main loop beats; liveness fails when it has not beaten for ``stall_after`` seconds."""

    def __init__(self, stall_after: float = 60.0) -> None:
        self._last = time.monotonic()
        self._stall_after = stall_after

    def beat(self) -> None:
        self._last = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self._last < self._stall_after
