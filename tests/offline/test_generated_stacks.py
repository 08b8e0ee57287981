"""Generated stack files, hostile YAML included: `plan.py` exits 0 or 2, never a traceback.

Hypothesis builds stack files from the config grammar (the real dev and prod configs with
values swapped for others of any type) and wraps them in hostile YAML: tags, anchors and
aliases, merges, unicode, long scalars, deep nesting, other encodings. Each run must finish
inside its own bound (a hang is what this guards against, so the bound is a kill, not a
timing), print nothing on stdout when it refuses, and never let an exception out.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline import cli
from tests.support.stacks import stack_config

RUN_BOUND_SECONDS = 20  # one plan.py run; a hang fails the test instead of the suite

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["yes", "on", "No", "~", "2026-11-01", "0755", "0x1F", "1e3", ".nan", "-.inf", "24h",
         "7d", "redis", "memory", "0.9.0-beta.16", "oci://u:pw@h/x", "kube-system", "\u2028",
         "1:20", "<<", "*", "&", "!!binary", "é", "\U0001f600"]
    ),
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_RAW = {name: stack_config(name) for name in ("dev", "prod")}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def _configs(draw: st.DrawFn) -> dict[str, Any]:
    """A real stack's config with up to three values (any depth) replaced by anything."""
    config = _RAW[draw(st.sampled_from(sorted(_RAW)))]
    for _ in range(draw(st.integers(0, 3))):
        paths = [p for p in _paths(config) if p]
        config = _replace(config, draw(st.sampled_from(paths)), draw(_VALUES))
    return config


_HOSTILE = st.sampled_from(
    [
        "",
        "x: &a [1, 2]\ny: *a\n",
        "base: &b {type: redis}\nmerged: {<<: *b}\n",
        "t: !!timestamp 2026-11-01\n",
        "s: !!set {a, b}\n",
        "b: !!binary aGk=\n",
        "l: &l [" + ", ".join(["x"] * 50) + "]\nm: &m [" + ", ".join(["*l"] * 50) + "]\n",
        "d: " + "[" * 80 + "]" * 80 + "\n",
        "dup: 1\ndup: 2\n",
        'u: "\\u0000"\n',
        "k: " + "v" * 5000 + "\n",
        "%TAG !e! tag:example.com,2000:\n---\nx: !e!foo 1\n",
        "? [complex, key]\n: v\n",
        "--- |\n  text\n",
    ]
)


@st.composite
def _files(draw: st.DrawFn) -> bytes:
    config = {f"omnia-agents:{k}": v for k, v in draw(_configs()).items()}
    text = yaml.safe_dump({"config": config}, allow_unicode=draw(st.booleans()))
    hostile = draw(_HOSTILE)
    where = draw(st.sampled_from(["before", "after", "instead", "none"]))
    if where == "before":
        text = hostile + text
    elif where == "after":
        text = text + hostile
    elif where == "instead":
        text = hostile
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@contextlib.contextmanager
def _bounded(seconds: int) -> Iterator[None]:
    def hang(*_: Any) -> None:
        raise TimeoutError(f"plan.py did not finish within {seconds}s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


@settings(
    max_examples=int(os.environ.get("GENERATED_STACKS", "60")),
    deadline=None,  # bounded by _bounded instead: the machine is shared
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize="GENERATED_STACKS" not in os.environ,
)
@given(data=_files())
def test_any_stack_file_exits_0_or_2_and_never_raises(workdir: Path, data: bytes) -> None:
    path = workdir / "Pulumi.generated.yaml"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with (
        _bounded(RUN_BOUND_SECONDS),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = cli.main(["--stack-file", str(path)])
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert "pw@" not in err.getvalue()  # a credential is never printed
    if code == 2:
        assert out.getvalue() == ""
        said = [s for s in err.getvalue().splitlines() if not s.startswith("warning: ")]
        assert said and all(line.startswith(f"{path}: ") for line in said)
