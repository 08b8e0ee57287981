"""TTLs are judged by Go's own ParseDuration table (../shared/go-duration-vectors.json)."""

from __future__ import annotations

import contextlib
import functools
import json
from typing import Any

import pytest

from settings.errors import ConfigError
from settings.loader import parse_config
from tests.support.shared import DURATION_VECTORS, shared_file
from upstream.go_duration import DurationError, parse_go_duration


@functools.cache  # read once: the tests only read it
def _vectors() -> dict[str, Any]:
    path = shared_file(DURATION_VECTORS, "Go's time.ParseDuration test table")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_vector_table_is_the_full_go_table() -> None:
    data = _vectors()
    assert len(data["valid"]) == 42 and len(data["invalid"]) == 18


def test_every_duration_go_accepts_parses_to_its_nanoseconds() -> None:
    wrong = {}
    for case in _vectors()["valid"]:
        got = parse_go_duration(case["in"])
        if got != case["ns"]:
            wrong[case["in"]] = (got, case["ns"])
    assert wrong == {}


def test_every_duration_go_rejects_is_rejected() -> None:
    accepted = []
    for text in _vectors()["invalid"]:
        with contextlib.suppress(DurationError):
            accepted.append((text, parse_go_duration(text)))
    assert accepted == []


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30m", 1_800_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("1.5h", 5_400_000_000_000),
        ("168h", 604_800_000_000_000),
        ("12\u00b5s", 12_000),
    ],
)
def test_ttls_users_write(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("ttl", "message"),
    [
        ("7d", "'7d' is not a Go duration (use '168h')"),
        ("2w", "'2w' is not a Go duration (use '336h')"),
        ("1.5d", "'1.5d' is not a Go duration (use '36h')"),
        ("1y", "'1y' is not a Go duration (use '8760h')"),
        ("0", "'0' must be a positive duration"),
        ("-1h", "'-1h' must be a positive duration"),
        ("10", "'10' is not a Go duration (units ns, us, ms, s, m, h; e.g. 30m, 24h, 1h30m)"),
        # Well-formed but past int64 nanoseconds (issue 16: it said "not a Go duration").
        ("3000000h", "'3000000h' is above Go's maximum duration (2562047h47m16.854775807s)"),
        ("9999999h", "'9999999h' is above Go's maximum duration (2562047h47m16.854775807s)"),
        (
            "2562047h47m16.854775808s",
            "'2562047h47m16.854775808s' is above Go's maximum duration (2562047h47m16.854775807s)",
        ),
    ],
)
def test_session_ttl_refusals_name_the_fix(ttl: str, message: str) -> None:
    raw = {"session": {"type": "memory", "ttl": ttl}, "agents": [{"name": "a"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "stacks/Pulumi.t.yaml")
    assert caught.value.lines() == [f"stacks/Pulumi.t.yaml: omnia-agents:session.ttl: {message}"]


def test_overflow_is_told_apart_from_bad_syntax() -> None:
    """Go's own vectors: the well-formed ones past int64 are overflows (`above Go's maximum`),
    the rest syntax errors; Go's maximum itself parses to 2**63 - 1."""
    from upstream.go_duration import MAX_DURATION, DurationOverflowError

    assert parse_go_duration(MAX_DURATION) == 2**63 - 1
    overflows = []
    for text in _vectors()["invalid"]:
        with pytest.raises(DurationError) as caught:
            parse_go_duration(text)
        if isinstance(caught.value, DurationOverflowError):
            overflows.append(text)
    assert overflows == [
        "9223372036854775810ns",
        "9223372036854775808ns",
        "-9223372036854775809ns",
        "9223372036854776us",
        "3000000h",
        "9223372036854775.808us",
        "9223372036854ms775us808ns",
    ]
