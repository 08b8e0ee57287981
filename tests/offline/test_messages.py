"""Messages that point at the fix (issue 16): each case as a user meets it."""

from __future__ import annotations

import pytest
import yaml

from offline import cli
from offline.inputs import ROOT
from settings.errors import ConfigError
from settings.loader import parse_config
from tests.support.shared import crd_path
from tests.support.stacks import stack_config


def test_another_stack_s_file_is_not_planned_under_this_name(capsys) -> None:
    assert cli.main(["dev", "--stack-file", "stacks/Pulumi.prod.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "stacks/Pulumi.prod.yaml is the stack file of prod, not of dev: run `plan.py prod`, or "
        "`plan.py --stack-file stacks/Pulumi.prod.yaml`"
    ]


def test_every_missing_namespace_is_named_in_one_run(tmp_path, capsys) -> None:
    description = tmp_path / "cluster.yaml"
    description.write_text("namespaces: [redis]\n", encoding="utf-8")
    assert cli.main(["prod", "--cluster", str(description)]) == 1
    lines = capsys.readouterr().err.splitlines()
    # The reads run concurrently: the order they fail in is not fixed (1 run in 5 on main).
    assert sorted(lines[:3]) == [
        f"stacks/Pulumi.prod.yaml: the cluster has no Namespace '{ns}'"
        for ns in ("agents", "finance", "public")
    ]


def test_no_not_judged_note_when_crd_file_judged_the_agents(write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["crdFile"] = str(crd_path("v0.9.0-beta.17"))
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 0
    assert cli.CRD_NOTE not in capsys.readouterr().err


def test_the_alpha_crd_s_hint_names_an_alpha_release(capsys) -> None:
    assert cli.main(["prod", "--crd", str(crd_path("v0.2.0-alpha.1"))]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (
        "this CRD has spec.session and no spec.extraPodAnnotations: set omnia-agents:omniaVersion "
        "to the release it comes from, 0.2.0-alpha.1 .. 0.2.0-alpha.12"
    )


def test_a_secret_ttl_s_hint_does_not_reveal_it() -> None:
    raw = {"session": {"type": "memory", "ttl": "12d"}, "agents": [{"name": "a"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s", secret_keys=frozenset({"session"}))
    text = "\n".join(caught.value.lines())
    assert "288h" not in text and "12d" not in text
    assert "s: omnia-agents:session.ttl: [secret] is not a Go duration" in text


def test_an_unquoted_date_rotation_is_planned_as_the_cli_passes_it(write_stack, capsys) -> None:
    text = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    path = write_stack(
        {}, raw=text.replace('passwordRotation: "2026-11"', "passwordRotation: 2026-11-01")
    )
    assert cli.main(["--stack-file", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    chart = next(i for i in yaml.safe_load(out) if i["type"] == "kubernetes:helm.sh/v4:Chart")
    rotation = chart["inputs"]["values"]["master"]["podAnnotations"][
        "omnia-agents/password-rotation"
    ]
    assert rotation == "2026-11-01 00:00:00 +0000 UTC"  # Go's Time.String(), as the CLI passes it
    assert "quote it in the stack file to keep the text as written" in err
