"""The password never shows in clear: inputs, outputs, the plan, logs; and the URL round-trips."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, unquote, urlsplit

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.connection import parse_url

from offline import cli, harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from tests.support.stacks import PASSWORD, planned_password, secret_value
from upstream.redis_url import redis_url


def _forms(password: str) -> list[str]:
    return [password, quote(password, safe="")]


def test_no_non_secret_input_or_output_holds_the_password(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    plan = run_plan(stack_file_for("prod"))
    password = planned_password(plan)
    assert len(password) >= 32
    clear = json.dumps([harness.render(r.inputs) for r in plan.resources])
    clear += json.dumps(harness.render(plan.outputs))
    for form in _forms(password):
        assert form not in clear
        assert form not in caplog.text
    # ...while the secret parts do hold it: the search above looked in the right place.
    revealed = json.dumps([harness.render(r.inputs, show_secrets=True) for r in plan.resources])
    assert password in revealed


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_plan_output_never_prints_it(fmt, capsys) -> None:
    password = planned_password(run_plan(stack_file_for("prod")))
    assert cli.main(["prod", "--format", fmt]) == 0
    out, err = capsys.readouterr()
    assert "[secret]" in out
    for form in _forms(password):
        assert form not in out + err


@given(st.text(min_size=1, max_size=64))
def test_any_password_survives_the_url(password: str) -> None:
    url = redis_url(password, "redis-master.redis.svc", 6379)
    split = urlsplit(url)
    assert (split.hostname, split.port) == ("redis-master.redis.svc", 6379)
    assert unquote(split.password or "") == password
    parsed = parse_url(url)  # redis-py, as the tests' and many agents' client reads it
    assert (parsed["host"], parsed["port"], parsed["password"]) == (
        "redis-master.redis.svc",
        6379,
        password,
    )


def test_harness_marks_secret_outputs_as_the_engine_does() -> None:
    """RandomPassword declares `result` an additional secret output: derived values stay secret
    even without the program's own Output.secret."""
    import pulumi_random

    from offline.harness import run_program

    def program() -> None:
        password = pulumi_random.RandomPassword("pw", length=40, special=False)
        pulumi.export("derived", password.result.apply(lambda p: f"x{p}"))

    plan = run_program(program, {}, project="omnia-agents", stack="t")
    derived = secret_value(plan.outputs["derived"])
    assert derived == "x" + harness.mock_password("t/pw", plan.one(PASSWORD, "pw").inputs)
