"""`plan.py`: run the real `__main__.py` under Pulumi mocks and print what it would register.

Needs no cluster, no Pulumi CLI and no network. The tests use the same harness (`run_plan`), so
what they assert is what `python plan.py STACK` shows. With `--from OLD_STACK_FILE` it prints
the change preview instead: what `pulumi up` would do to go from the old stack file to this one.
With `--render`, every Helm Chart is rendered by the real Helm (offline/helm.py) and its
children are listed and diffed like any other resource. With `--policy` it runs the policy pack
(policy/) on the plan as `pulumi preview --policy-pack policy` does (offline/analyzer.py) and
prints its "Policies:" section instead of the plan.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from offline.harness import Cluster, NotInClusterError, Plan, missing_text
from offline.inputs import (
    OFFLINE_STACK,
    StackFileError,
    crd_cluster,
    display_path,
    project_settings,
    read_cluster,
    stack_file_for,
    stack_name_of,
)
from offline.program import run_plan
from offline.report import render_changes, render_plan
from settings.errors import ConfigError, CrdMismatch
from settings.fields import mask_credentials
from settings.project import PROJECT
from upstream.agent_runtime import INSTALL_HINT, NAMESPACE_HINT
from upstream.kubernetes import CRD
from upstream.prometheus_operator import CRDS as MONITORING_CRDS
from upstream.prometheus_operator import INSTALL_HINT as MONITORING_HINT

CRD_FILE_KEY = f"{PROJECT}:crdFile"  # agents judged by the program against this file
CRD_NOTE = (
    "plan: no --crd or cluster crd given: the AgentRuntime CRD read is answered as present "
    "and agents are not judged against it"
)


def missing_lines(where: str, err: NotInClusterError) -> list[str]:
    """The engine fails a preview on a read of a missing object; say what to do about it, for
    every object missing, so one round fixes them all."""
    lines = [f"{where}: {missing_text(t, n)}" for t, n in err.missing]
    kinds = [t for t, _ in err.missing]
    if any(t == CRD and n not in MONITORING_CRDS for t, n in err.missing):
        lines.append(INSTALL_HINT)
    if any(t == CRD and n in MONITORING_CRDS for t, n in err.missing):
        lines.append(MONITORING_HINT)
    if any(t != CRD for t in kinds):
        lines.append(NAMESPACE_HINT)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", help="stack name: reads stacks/Pulumi.<STACK>.yaml")
    parser.add_argument("--stack-file", type=Path, help="plan this stack file instead")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--show-secrets", action="store_true", help="print secret values")
    parser.add_argument(
        "--crd", type=Path, help="the cluster serves this AgentRuntime CRD (agents judged: exit 1)"
    )
    parser.add_argument(
        "--cluster", type=Path, help="cluster description: namespaces that exist, its CRD"
    )
    parser.add_argument(
        "--from",
        dest="old",
        type=Path,
        metavar="OLD_STACK_FILE",
        help="print the change preview from this stack file instead (refused steps: exit 1)",
    )
    parser.add_argument(
        "--all", action="store_true", help="with --from: list unchanged resources too (YAML)"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="render each Helm chart with helm and list (or diff) the objects it registers",
    )
    parser.add_argument(
        "--charts",
        type=Path,
        metavar="DIR",
        help="with --render: where the packaged charts are (<chart>-<version>.tgz, any depth; "
        "default: charts/, filled by `helm pull`)",
    )
    parser.add_argument(
        "--policy",
        action="store_true",
        help="run the policy pack (policy/) on the plan as `pulumi preview --policy-pack "
        "policy` does and print its violations instead of the plan (a mandatory one: exit 1)",
    )
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        metavar="FILE",
        help="with --policy: the pack's config, as the CLI's flag (default: policy/config.json)",
    )
    args = parser.parse_args(argv)
    if args.stack is None and args.stack_file is None:
        parser.error("give a STACK or --stack-file PATH")
    if args.charts is not None and not args.render:
        parser.error("--charts needs --render")
    if args.policy_pack_config is not None and not args.policy:
        parser.error("--policy-pack-config needs --policy")
    if args.policy:
        # It prints the pack's verdict, not the plan: what shapes the plan's output is moot.
        for given, flag in (
            (args.old, "--from"),
            (args.all, "--all"),
            (args.show_secrets, "--show-secrets"),
            (args.format != "yaml", "--format"),
        ):
            if given:
                parser.error(f"--policy prints the pack's violations: {flag} does not apply")
    path = args.stack_file or stack_file_for(args.stack)
    named = stack_name_of(path)
    # Another stack's own file (in stackConfigDir): the stack name decides URNs, the stand-in
    # password and the production policies, so planning it under this name is a mistake.
    theirs = path.resolve().parent == project_settings()[1].resolve()
    if args.stack and args.stack_file and theirs and named not in (args.stack, OFFLINE_STACK):
        return _fail(
            [
                f"{display_path(path)} is the stack file of {named}, not of {args.stack}: "
                f"run `plan.py {named}`, or `plan.py --stack-file {display_path(path)}`"
            ],
            2,
        )
    cluster = None
    try:
        if args.cluster:
            cluster = read_cluster(args.cluster)
    except StackFileError as err:
        return _fail([f"{display_path(args.cluster)}: {line}" for line in err.lines], 2)
    if args.crd:
        from upstream.crd_judge import CrdFileError

        try:
            cluster = crd_cluster(args.crd, cluster)
        except CrdFileError as err:
            return _fail([str(err)], 2)
    stack = args.stack or named
    policy = None
    if args.policy:  # the pack and its config first, as the CLI loads them before the program
        from offline import analyzer

        config_path = args.policy_pack_config or analyzer.DEFAULT_CONFIG
        try:
            policy = (analyzer.read_pack(), analyzer.load_config(config_path), config_path)
        except analyzer.PolicyError as err:
            return _fail(err.lines, 2)
    old = None
    if args.old:
        old, code = _planned(args.old, stack, cluster)
        if old is None:
            return code
    plan, code = _planned(path, stack, cluster, warn=True)
    if plan is None:
        return code
    if args.render:
        from offline.helm import DEFAULT_CHARTS, HelmError, add_children

        try:
            for planned in (old, plan):
                if planned is not None:
                    add_children(planned, args.charts or DEFAULT_CHARTS)
        except HelmError as err:
            return _fail(err.lines, 2)
    if (cluster is None or cluster.crds is None) and CRD_FILE_KEY not in plan.config:
        print(CRD_NOTE, file=sys.stderr)  # after the plan: only a plan that ran skipped it
    if old is not None:
        from offline import day2
        from offline.change_preview import compare

        changes = day2.review(old, plan, compare(old, plan))  # day-2 refusals and their fixes
        print(render_changes(changes, args.format, show_same=args.all), end="")
        for change in changes:
            for note in change.get("warnings", []):
                print(f"warning: {note}", file=sys.stderr)
        stops = day2.stop_lines(changes)
        return _fail(stops, 1) if stops else 0
    if policy is not None:
        return _policy(plan, *policy, rendered=args.render)
    print(render_plan(plan.items(args.show_secrets), args.format), end="")
    return 0


MANDATORY_LINE = (
    "plan: one or more mandatory policy violations were found: `pulumi preview --policy-pack` "
    "fails on them"
)
CHILDREN_NOTE = (
    "plan: without --render the objects the Helm chart renders are not sent to the pack; "
    "pulumi preview analyzes each of them, and the production Redis rules judge them "
    "(add --render)"
)


def _policy(plan: Plan, pack: Any, config: Any, config_path: Path, *, rendered: bool) -> int:
    """The pack's "Policies:" section on stdout; exit 1 on a mandatory violation, 2 when the pack
    cannot be run."""
    from offline import analyzer
    from upstream.kubernetes import HELM_CHART_V4

    try:
        report = analyzer.evaluate(plan, project_settings()[0], pack, config, config_path)
    except analyzer.PolicyError as err:
        return _fail(err.lines, 2)
    print(analyzer.render_policies(report), end="")
    for name in report.unused:
        print(
            f"warning: {display_path(config_path)}: {name}: the pack has no such policy "
            "(the CLI ignores it)",
            file=sys.stderr,
        )
    if plan.find(HELM_CHART_V4) and not rendered:
        print(CHILDREN_NOTE, file=sys.stderr)
    return _fail([MANDATORY_LINE], 1) if report.mandatory else 0


def _planned(
    path: Path, stack: str, cluster: Cluster | None, *, warn: bool = False
) -> tuple[Plan | None, int]:
    """The plan, or None and the exit code after printing why (naming the stack file).

    `warn`: print the program's warnings (pulumi.log.warn reaches the mocks' logger) on
    stderr, as `pulumi preview` would; only for the stack being planned, not an old one.
    """
    where = display_path(path)
    warnings = logging.StreamHandler(sys.stderr)
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(logging.Formatter("warning: %(message)s"))
    # Only the program's own: the mocks log its warnings on the root logger; asyncio's noise
    # about a run that failed part-way is not the user's business.
    warnings.addFilter(lambda record: record.name == "root" and record.levelno == logging.WARNING)
    if warn:
        logging.getLogger().addHandler(warnings)
    try:
        return run_plan(path, stack, cluster=cluster), 0
    except StackFileError as err:
        return None, _fail([f"{where}: {line}" for line in err.lines], 2)
    except ConfigError as err:
        return None, _fail(err.lines(where), 2)
    except CrdMismatch as err:  # omnia-agents:crdFile, or the CRD the cluster serves
        return None, _fail(err.lines, 1)
    except NotInClusterError as err:
        return None, _fail(missing_lines(where, err), 1)
    finally:
        logging.getLogger().removeHandler(warnings)


def _fail(lines: list[str], code: int) -> int:
    for line in lines:
        print(mask_credentials(line), file=sys.stderr)  # whatever built the line
    return code
