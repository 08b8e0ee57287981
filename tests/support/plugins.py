"""A Pulumi plugin (provider or policy pack) run as the CLI runs it, for the tests to talk to."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc


@contextmanager
def served(args: list[str], cwd: Path) -> Iterator[grpc.Channel]:
    """`python <args>` in `cwd`, as the Pulumi CLI starts the plugin: it prints its port, then
    serves gRPC; killed after."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else port
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        try:
            yield channel
        finally:
            channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
