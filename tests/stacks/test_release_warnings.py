"""What the targeted release will really do, said as warnings (exit code unchanged)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from offline import cli
from offline.inputs import ROOT
from tests.support.stacks import session_era, stack_config


def _warnings(err: str) -> list[str]:
    """The warnings plan.py printed (other stderr lines: its offline notes)."""
    prefix = "warning: "
    return [line.removeprefix(prefix) for line in err.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_real_stacks_warn_about_nothing(stack, capsys) -> None:
    assert cli.main([stack]) == 0
    assert _warnings(capsys.readouterr().err) == []


def test_ttl_longer_than_the_history_kept_warns_once_per_stack(write_stack, capsys) -> None:
    raw = stack_config("prod")  # 0.9.0-beta.17: PromptKit keeps 24h (redis), 1h (memory)
    raw["agents"][1]["session"] = {"ttl": "48h"}  # agents/triage
    raw["agents"][2]["session"] = {"ttl": "72h"}  # finance/billing
    raw["agents"][3]["session"] = {"type": "memory", "ttl": "90m"}  # public/faq
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert _warnings(capsys.readouterr().err) == [
        "omnia 0.9.0-beta.17 keeps session history 24h (redis), shorter than ttl: "
        "agents/triage (48h), finance/billing (72h)",
        "omnia 0.9.0-beta.17 keeps session history 1h (memory), shorter than ttl: public/faq (90m)",
    ]


@pytest.mark.parametrize("ttl", ["24h", "1440m", "2h", "30m"])
def test_ttl_within_the_history_kept_warns_nothing(ttl, write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["session"]["ttl"] = ttl
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert _warnings(capsys.readouterr().err) == []


def test_newer_than_known_releases_apply_ttl_to_history(write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["omniaVersion"] = "0.9.0-beta.18"  # treated like HEAD, which passes ttl to the store
    raw["session"]["ttl"] = "168h"
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    # No ttl warning (HEAD honours ttl), but one line, once, that says so (issue 16).
    assert _warnings(capsys.readouterr().err) == [
        "omnia-agents:omniaVersion 0.9.0-beta.18 is newer than the newest Omnia release this "
        "program knows (0.9.0-beta.17): planned as the unreleased HEAD (spec.context, "
        "spec.facades, the Redis URL from storeRef, ttl kept by the history store); if the "
        "cluster runs 0.9.0-beta.17 or older, set that"
    ]


@pytest.mark.parametrize("version", ["1.0.0", "0.9.0-beta.71", "v0.10.2"])
def test_every_version_past_the_table_warns_once(version, write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["omniaVersion"] = version
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    warnings = _warnings(capsys.readouterr().err)
    assert [w.split(" is newer")[0] for w in warnings] == [f"omnia-agents:omniaVersion {version}"]


def test_unset_version_memory_stack_warns_with_its_assumption(write_stack, capsys) -> None:
    raw = session_era(stack_config("dev"))
    del raw["omniaVersion"]
    raw["session"]["ttl"] = "2h"
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert _warnings(capsys.readouterr().err) == [
        "omnia (omniaVersion unset: a release before 0.9.0-beta.17) keeps session history 1h "
        "(memory), shorter than ttl: agents/support (2h)"
    ]


def test_alpha_cannot_roll_pods_on_rotation(write_stack, capsys) -> None:
    raw = session_era(stack_config("prod"), "0.2.0-alpha.1")
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert _warnings(capsys.readouterr().err) == [
        "omnia 0.2.0-alpha.1 has no spec.extraPodAnnotations: redis agents' pods do not restart "
        "when the Redis password rotates; restart them by hand after a rotation"
    ]


def test_warning_reaches_stderr_of_a_real_process(write_stack) -> None:
    raw = stack_config("prod")
    raw["session"]["ttl"] = "25h"
    done = subprocess.run(
        [sys.executable, str(ROOT / "plan.py"), "--stack-file", str(write_stack(raw))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "warning: omnia 0.9.0-beta.17 keeps session history 24h (redis), shorter than ttl: "
        "agents/support (25h), finance/billing (25h)",
        cli.CRD_NOTE,
    ]


def test_sentinel_only_settings_without_sentinel_say_so(write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["redis"]["sentinel"] = False
    raw["redis"]["failover"] = {"downAfterMilliseconds": 5000, "minReplicasToWrite": 1}
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert _warnings(capsys.readouterr().err) == [
        "omnia-agents:redis: failover.downAfterMilliseconds, images.kubectl, images.sentinel set, "
        "but sentinel is off: only a Sentinel deployment uses them"
    ]
