"""Why the exporter's port is closed to every namespace but Prometheus's, on real processes.

redis_exporter also serves `/scrape?target=<address>`: it connects to any address it is given
with its own credentials (v1.76.0 exporter/http.go scrapeHandler copies the exporter's options,
password included). Whoever reaches the port gets the Redis password, sent to a host of their
choosing. The chart's NetworkPolicy opens the port to every pod unless told otherwise
(`networkPolicy.metrics.allowExternal: true`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

from settings.models import RedisConfig
from tests.support.exporter import Exporter, close
from tests.support.redis_procs import Server
from tests.support.shared import need
from upstream.redis_chart import METRICS_CLIENT_LABEL, chart_values

PASSWORD = "s3cret-Redis-password"


def test_the_exporter_sends_its_password_to_any_target_it_is_asked_to_scrape(
    tmp_path: Path,
) -> None:
    need("redis-server")
    server = Server(tmp_path, f"requirepass {PASSWORD}\n")
    server.password = PASSWORD
    server.first_start()
    exporter = Exporter(server, PASSWORD)
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as trap:
        trap.settimeout(5)

        def listen() -> None:
            conn, _ = trap.accept()
            with conn:
                conn.settimeout(3)
                while PASSWORD.encode() not in received:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    received.extend(chunk)

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        try:
            exporter.start()
            url = (
                f"http://127.0.0.1:{exporter.port}/scrape?target=127.0.0.1:{trap.getsockname()[1]}"
            )
            # The trap never answers; what it received is the point.
            with contextlib.suppress(urllib.error.URLError, OSError):
                urllib.request.urlopen(url, timeout=3).read()
            thread.join(timeout=5)
        finally:
            close(exporter, server)
    assert PASSWORD.encode() in bytes(received)


def test_with_metrics_only_labelled_namespaces_reach_the_exporter() -> None:
    """An empty `from` admits every pod (NetworkPolicy semantics): the program always names
    the namespaces that may scrape."""
    values = chart_values(
        RedisConfig.model_validate({"chartVersion": "23.1.1", "metrics": {"enabled": True}})
    )
    assert values["networkPolicy"]["metrics"] == {
        "allowExternal": False,
        "ingressNSMatchLabels": {METRICS_CLIENT_LABEL: "true"},
    }
