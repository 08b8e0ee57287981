"""The guards that keep the sessions: decided from what the chart renders, held by the engine.

Each day-2 change goes through `plan.py --from` twice: with `--render` (the real Helm renders both
sides, the children are diffed by the provider's rules) and without (only the engine's data
guard, a protected RandomId keyed on the StatefulSet holding the sessions, can refuse: what a
plain `pulumi preview` refuses). Both must agree on every setting, and the guard's keepers must
change exactly when the render deletes, replaces or moves that StatefulSet.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from offline import cli, harness
from offline.change_preview import RUNBOOKS, changed_paths, compare
from offline.helm import add_children
from offline.inputs import ROOT
from offline.program import run_plan
from tests.support.render import need_charts, rendered_plan, with_redis, write_stack
from tests.support.shared import need_helm
from tests.support.stacks import GUARD, stack_config
from upstream.kubernetes_diff import force_new_paths, replace_keys
from upstream.redis_volumes import holds_sessions

STS = "kubernetes:apps/v1:StatefulSet"
PROD = stack_config("prod")
STANDALONE = with_redis(
    PROD,
    architecture="standalone",
    sentinel=False,
    replicas=None,
    failover__minReplicasToWrite=None,
)
REPLICATION = with_redis(PROD, sentinel=False, failover__minReplicasToWrite=None)
# (old, new, refused?) per setting: the data-losing ones and the ones that must stay allowed.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    "sentinel-off": (
        PROD,
        with_redis(PROD, sentinel=False, failover__minReplicasToWrite=None),
        True,
    ),
    "sentinel-on": (REPLICATION, PROD, True),
    "to-standalone": (PROD, STANDALONE, True),
    "replication-to-standalone": (REPLICATION, STANDALONE, False),
    "standalone-to-replication": (STANDALONE, REPLICATION, False),
    "volume-size": (PROD, with_redis(PROD, volumeSize="16Gi"), True),
    "volume-size-same-quantity": (PROD, with_redis(PROD, volumeSize="8192Mi"), True),
    "replication-volume-size": (REPLICATION, with_redis(REPLICATION, volumeSize="16Gi"), True),
    "namespace": (PROD, with_redis(PROD, namespace="sessions"), True),
    "namespace-unprotected": (
        with_redis(PROD, protect=False),
        with_redis(PROD, namespace="sessions", protect=False),
        True,
    ),
    "memory": (
        PROD,
        with_redis(
            PROD,
            resources={"memory": "2Gi", "cpu": "500m"},
            volumeSize="8Gi",
            maxmemory={"percentOfLimit": 40, "policy": "volatile-ttl"},
        ),
        False,
    ),
    "replicas-3-to-5": (PROD, with_redis(PROD, replicas=5), False),
    "replicas-5-to-3": (with_redis(PROD, replicas=5), PROD, False),
    "rotation": (PROD, with_redis(PROD, passwordRotation="2026-12"), False),
    "maxmemory": (
        PROD,
        with_redis(PROD, maxmemory={"percentOfLimit": 50, "policy": "noeviction"}),
        False,
    ),
    "failover-timings": (
        PROD,
        with_redis(
            PROD,
            failover={
                "downAfterMilliseconds": 3000,
                "failoverTimeout": 30000,
                "minReplicasToWrite": 1,
                "minReplicasMaxLag": 5,
            },
        ),
        False,
    ),
    "write-guard-off": (PROD, with_redis(PROD, failover__minReplicasToWrite=0), False),
    # What the claim templates are made of, first-class or through redis.values.
    "storage-class": (PROD, with_redis(PROD, storageClass="fast-ssd"), True),
    "values-default-storage-class": (
        PROD,
        with_redis(PROD, values={"global": {"defaultStorageClass": "fast-ssd"}}),
        True,
    ),
    "values-claim-annotations": (
        PROD,
        with_redis(PROD, values={"replica": {"persistence": {"annotations": {"a": "b"}}}}),
        True,
    ),
    "replication-values-claim-selector": (
        REPLICATION,
        with_redis(
            REPLICATION,
            values={"master": {"persistence": {"selector": {"matchLabels": {"a": "b"}}}}},
        ),
        True,
    ),
    # The claims carry only the selector labels: other labels update in place.
    "values-common-labels": (PROD, with_redis(PROD, values={"commonLabels": {"team": "x"}}), False),
    "values-node-selector": (
        PROD,
        with_redis(PROD, values={"replica": {"nodeSelector": {"pool": "redis"}}}),
        False,
    ),
    "values-pod-annotations": (
        PROD,
        with_redis(PROD, values={"replica": {"podAnnotations": {"a": "b"}}}),
        False,
    ),
    "metrics-on": (
        PROD,
        with_redis(PROD, metrics={"enabled": True, "serviceMonitor": True, "prometheusRule": True}),
        False,
    ),
    "ready-timeout": (PROD, with_redis(PROD, readyTimeout="45m"), False),
    "cpu-limit": (
        PROD,
        with_redis(PROD, resources={"memory": "1Gi", "cpu": "1", "cpuLimit": "2"}),
        False,
    ),
    "image-tag": (PROD, with_redis(PROD, images__redis__tag="8.2.1-debian-12-r1"), False),
    "chart-down": (PROD, with_redis(PROD, chartVersion="22.0.5"), False),
    "chart-up": (with_redis(PROD, chartVersion="22.0.5"), PROD, False),
    "unprotect": (PROD, with_redis(PROD, protect=False), False),
}


def _file(tmp: Path, raw: dict[str, Any], name: str) -> Path:
    return write_stack(tmp / f"Pulumi.{name}.yaml", raw)


def _preview(
    old: Path, new: Path, capsys, *render: str
) -> tuple[int, dict[tuple[str, str], Any], str]:
    code = cli.main(
        ["prod", "--stack-file", str(new), "--from", str(old), "--format", "json", *render]
    )
    out, err = capsys.readouterr()
    entries = json.loads(out) if out else []
    return code, {(e["type"], e["name"]): e for e in entries}, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_setting_previews_as_the_render_decides(case, tmp_path, capsys) -> None:
    old_raw, new_raw, refused = CASES[case]
    old, new = _file(tmp_path, old_raw, "old"), _file(tmp_path, new_raw, "prod")
    need_helm()
    code, entries, err = _preview(old, new, capsys, "--render", "--charts", str(need_charts()))
    stops = [line for line in err.splitlines() if line.startswith("refused: ")]
    holders = [e for (t, _), e in entries.items() if t == STS and "refused" in e]
    guard = entries[(GUARD, "redis-data-guard")]
    if refused:
        assert code == 1
        assert holders, "the StatefulSet holding the sessions is refused from the render"
        assert guard["op"] == "replace" and "refused" in guard  # ...and by the engine's guard
        for entry in [*holders, guard]:
            assert "sessions lost; by hand: docs/operating-redis.md#" in entry["refused"]
        assert len(stops) == len([e for e in entries.values() if "refused" in e])
    else:
        assert (code, stops, holders) == (0, [], [])
        assert guard["op"] == "same"
        # The StatefulSet that holds the sessions stays: at most updated in place (a read
        # replica set may go: the master keeps every session).
        holder = "node" if old_raw["redis"].get("sentinel") else "master"
        kept = entries[(STS, f"redis:{old_raw['redis']['namespace']}/redis-{holder}")]
        assert kept["op"] in ("same", "update"), kept
    # Without --render only the engine's guard can say it, as a plain `pulumi preview` does.
    code_mocks, mocked, _ = _preview(old, new, capsys)
    assert code_mocks == code
    assert ("refused" in mocked[(GUARD, "redis-data-guard")]) is refused


def test_memory_and_replicas_update_the_statefulset_in_place(tmp_path, capsys) -> None:
    need_helm()
    for case, paths in (
        ("memory", "spec.template.spec.containers[0].resources.limits.memory"),
        ("replicas-3-to-5", "spec.replicas"),
    ):
        old_raw, new_raw, _ = CASES[case]
        old, new = _file(tmp_path, old_raw, "old"), _file(tmp_path, new_raw, "prod")
        code, entries, _ = _preview(old, new, capsys, "--render", "--charts", str(need_charts()))
        node = entries[(STS, "redis:redis/redis-node")]
        assert (code, node["op"]) == (0, "update")
        assert paths in node["paths"]
        chart = entries[("kubernetes:helm.sh/v4:Chart", "redis")]
        assert "redis:redis/redis-node" in chart["children"]["update"]
        # A changed script or redis.conf replaces its ConfigMap (enableConfigMapMutable off),
        # deleted first (same name); the pods roll through the checksum annotations.
        (configmap,) = [
            e for (t, _), e in entries.items() if t.endswith(":ConfigMap") and e["op"] != "same"
        ]
        assert configmap["op"] == "replace"
        assert "(deleted before its replacement is created: same name)" in configmap["reason"]
        assert chart["reason"].startswith("chart re-rendered: ")


def test_the_refusals_name_what_is_lost(tmp_path, capsys) -> None:
    need_helm()
    charts = str(need_charts())
    said = {}
    for case in ("volume-size", "sentinel-off", "namespace"):
        old_raw, new_raw, _ = CASES[case]
        old, new = _file(tmp_path, old_raw, "old"), _file(tmp_path, new_raw, "prod")
        _, entries, _ = _preview(old, new, capsys, "--render", "--charts", charts)
        said[case] = entries[(STS, "redis:redis/redis-node")]["refused"]
    claims = "redis-data-redis-node-0, redis-data-redis-node-1, redis-data-redis-node-2"
    assert said["volume-size"] == (
        "replacing StatefulSet redis/redis-node deletes it first: every Redis pod stops at once; "
        f"its pods come back on the same claims ({claims}, 8Gi): the new claim template (16Gi) "
        f"never applies to them (sessions lost; by hand: {RUNBOOKS['volumeSize']})"
    )
    assert said["sentinel-off"] == (
        f"deleting StatefulSet redis/redis-node leaves the sessions on {claims}; "
        f"redis/redis-master starts on new, empty claims (sessions lost; by hand: "
        f"{RUNBOOKS['statefulSet']})"
    )
    assert said["namespace"] == (
        "StatefulSet redis/redis-node moves to namespace sessions: Redis starts there on new, "
        f"empty claims; the sessions stay on {claims} (sessions lost; by hand: "
        f"{RUNBOOKS['namespace']})"
    )


@cache
def _rendered(raw_json: str, tmp: str) -> harness.Plan:
    path = write_stack(Path(tmp) / f"Pulumi.{abs(hash(raw_json))}.yaml", json.loads(raw_json))
    return rendered_plan(path)


def _render_moves_the_data(old: harness.Plan, new: harness.Plan) -> bool:
    """From the render alone: is a StatefulSet holding sessions deleted, moved (its URN gone)
    or replaced (a change under one of the provider's force-new paths)?"""
    after = {r.urn: r for r in new.resources}
    for r in old.resources:
        if r.type != STS or not holds_sessions(r.inputs):
            continue
        if r.urn not in after:
            return True
        paths = changed_paths(r.inputs, after[r.urn].inputs)
        if replace_keys(paths, force_new_paths("apps/v1", "StatefulSet")):
            return True
    return False


def _keepers(plan: harness.Plan) -> dict[str, Any]:
    return dict(plan.one(GUARD, "redis-data-guard").inputs["keepers"])


def test_the_guard_changes_exactly_when_the_render_moves_the_data(tmp_path_factory) -> None:
    """The consistency the engine's refusal rests on, across every setting above."""
    tmp = str(tmp_path_factory.mktemp("consistency"))
    verdicts = {}
    for case, (old_raw, new_raw, refused) in sorted(CASES.items()):
        old = _rendered(json.dumps(old_raw, sort_keys=True), tmp)
        new = _rendered(json.dumps(new_raw, sort_keys=True), tmp)
        render_says = _render_moves_the_data(old, new)
        guard_says = _keepers(old) != _keepers(new)
        assert render_says == guard_says == refused, case
        verdicts[case] = render_says
    assert set(verdicts.values()) == {True, False}


def test_everything_of_redis_waits_for_the_guard(prod_plan) -> None:
    """`pulumi up` bails at the guard's step (step_generator.go: `if !DryRun` return the error)
    before anything that could touch Redis is even registered: all of it depends on it."""
    guard = prod_plan.one(GUARD, "redis-data-guard")
    by_urn = {r.urn: r for r in prod_plan.resources}

    def needs(urn: str, seen: set[str]) -> set[str]:
        r = by_urn.get(urn)
        if r is None or urn in seen:
            return seen
        seen.add(urn)
        for dep in r.dependencies:
            needs(dep, seen)
        return seen

    redis_parts = [
        r
        for r in prod_plan.resources
        if r.parent.endswith("RedisStore::redis") and r.urn != guard.urn
    ]
    assert {r.name for r in redis_parts} == {
        "redis-namespace",
        "redis-password",
        "redis-auth",
        "redis",
    }
    for r in redis_parts:
        assert guard.urn in needs(r.urn, set()), r.name
    assert guard.protect is True
    # It waits for the served CRD's verdict (the read), like everything the stack creates.
    (crd,) = [r.urn for r in prod_plan.reads if r.name == "cluster-crd"]
    assert guard.dependencies == [crd]


def test_renaming_the_release_is_refused(capsys) -> None:
    """The package's RedisSessionStore names the release after itself: a rename is a new
    release, new StatefulSet names, new claims. The old guard is deleted: refused."""
    from components.package import RedisSessionStore

    need_helm()

    def store(name: str) -> harness.Plan:
        def program() -> None:
            RedisSessionStore(name, PROD["redis"])

        plan = harness.run_program(program, {}, project="omnia-agents", stack="prod")
        return add_children(plan, need_charts())

    changes = compare(store("redis"), store("sessions"))
    refused = {(c["type"], c["name"], c["op"]) for c in changes if "refused" in c}
    assert (GUARD, "redis-data-guard", "delete") in refused
    assert (STS, "redis:redis/redis-node", "delete") in refused
    created = {c["name"] for c in changes if c["op"] == "create" and c["type"] == STS}
    assert created == {"sessions:redis/sessions-redis-node"}


def _repackaged(source: Path, target: Path, version: str, edit) -> Path:
    """The pinned chart as a later release might ship it: same files, `edit` applied."""
    out = target / f"redis-{version}.tgz"
    with tarfile.open(source) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None:
                data = edit(member.name, data.decode()).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return out


def test_a_chart_upgrade_that_changes_the_claim_template_is_refused(tmp_path, capsys) -> None:
    """A chart release that adds a label to the claim template (Bitnami has done this between
    majors) makes the provider replace the StatefulSet: refused from the render, called out
    as a major version; the engine guard cannot know (the warning says so)."""
    need_helm()
    charts = tmp_path / "charts"
    charts.mkdir()
    pinned = need_charts() / "23.1.1" / "redis-23.1.1.tgz"
    (charts / pinned.name).write_bytes(pinned.read_bytes())

    def edit(name: str, text: str) -> str:
        if name == "redis/Chart.yaml":
            return re.sub(r"^version: 23\.1\.1$", "version: 24.0.0", text, flags=re.M)
        if name == "redis/templates/sentinel/statefulset.yaml":
            anchor = "          app.kubernetes.io/component: node\n        {{- if .Values.replica"
            label = "          app.kubernetes.io/part-of: redis\n"
            assert text.count(anchor) == 1  # the claim template's labels
            return text.replace(anchor, anchor.replace("node\n", f"node\n{label}"))
        return text

    _repackaged(pinned, charts, "24.0.0", edit)
    old = _file(tmp_path, PROD, "old")
    new = _file(tmp_path, with_redis(PROD, chartVersion="24.0.0"), "prod")
    code, entries, err = _preview(old, new, capsys, "--render", "--charts", str(charts))
    assert code == 1
    node = entries[(STS, "redis:redis/redis-node")]
    assert node["op"] == "replace"
    assert "spec.volumeClaimTemplates[0].metadata.labels.app.kubernetes.io/part-of" in node["paths"]
    assert RUNBOOKS["other"] in node["refused"]
    assert entries[(GUARD, "redis-data-guard")]["op"] == "same"
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert any("24.0.0 is not a chart version omnia-agents has checked" in w for w in warnings)
    assert any("23.1.1 -> 24.0.0 changes the major version" in w for w in warnings)


def test_every_runbook_the_refusals_name_is_in_the_docs() -> None:
    text = (ROOT / "docs" / "operating-redis.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    for link in {*RUNBOOKS.values(), "docs/operating-redis.md#removing-redis"}:
        assert link.split("#")[1] in anchors, link


def test_a_missing_chart_exits_2_saying_where_and_how_to_fetch_it(tmp_path, capsys) -> None:
    empty = tmp_path / "charts"
    empty.mkdir()
    need_helm()
    code = cli.main(["prod", "--render", "--charts", str(empty)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"plan: chart redis 23.1.1: no redis-23.1.1.tgz under {empty} (--charts DIR); fetch it "
        f"with: helm pull oci://registry-1.docker.io/bitnamicharts/redis --version 23.1.1 "
        f"--destination {empty}"
    ]


def test_a_local_chart_file_is_rendered_as_is(tmp_path, write_stack, capsys) -> None:
    """`redis.chart: <path>.tgz` (relative to the project) is what the provider renders."""
    need_helm()
    pinned = need_charts() / "23.1.1" / "redis-23.1.1.tgz"
    raw = with_redis(PROD, chart=str(Path("..") / pinned.relative_to(ROOT.parent)))
    code = cli.main(["prod", "--stack-file", str(write_stack(raw)), "--render", "--format", "json"])
    items = json.loads(capsys.readouterr().out)
    assert code == 0
    assert any(i["type"] == STS and i["name"] == "redis:redis/redis-node" for i in items)
    raw["redis"]["chart"] = "charts/missing-1.0.0.tgz"
    code = cli.main(["prod", "--stack-file", str(write_stack(raw)), "--render"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "plan: redis.chart charts/missing-1.0.0.tgz: no such file (charts/missing-1.0.0.tgz)"
    ]


def test_plan_without_render_is_unchanged_by_the_render_code(capsys) -> None:
    """`plan.py prod` lists no chart children: the render happens only when asked."""
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    assert not [r for r in plan.resources if r.parent.endswith("Chart::redis")]
