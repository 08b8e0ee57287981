"""Every snippet the docs show is a checked-in file, and every such file is run or validated.

A fenced block in README.md or docs/ must follow a `<!-- snippet: PATH -->` line and hold PATH's
text exactly. Shell snippets run in a scratch copy of the project where they can run offline
(`plan.py`, `cp`), and are validated where they cannot (`pulumi`, `kubectl`: the keys, labels,
paths and names they use must be the program's own); stack files are planned; expected output is
compared with what the command really prints.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import cli
from offline.inputs import ROOT, StackFileError, read_cluster
from settings.models import StackConfig
from settings.project import PROJECT
from tests.support.shared import CRD_FILE, CRDS, need_policy_pack, shared_file
from upstream.agent_runtime import CRD_NAME
from upstream.redis_chart import AUTH_SECRET, AUTH_SECRET_KEY, CLIENT_LABEL, METRICS_CLIENT_LABEL

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SNIPPETS = ROOT / "docs" / "snippets"
_MARKER = re.compile(r"^\s*<!-- snippet: (\S+) -->\s*$")
_FENCE = re.compile(r"^(\s*)```")
BETA17_CRD = CRDS / "v0.9.0-beta.17" / CRD_FILE
# pulumi/pulumi sdk/go/common/workspace/plugins.go urlRegex: what `pulumi package add` takes as a
# git source (a local source starts with ./, ../ or /: pkg/resource/plugin IsLocalPluginPath).
_GIT_SOURCE = re.compile(r"^[^\./].*\.[a-z]+/[a-zA-Z0-9-_\./]*[a-zA-Z0-9/](@.*)?$")
# The Pulumi CLI commands the docs may show, and what each needs validated.
_PULUMI_PLAIN = {
    ("login", "--local"),
    ("preview",),
    ("up",),
    ("destroy",),
    ("destroy", "--exclude-protected"),
    ("state", "unprotect", "--all"),
}
# __main__.py's pulumi.export names, read from it.
_EXPORTS = set(re.findall(r'pulumi\.export\("(\w+)"', (ROOT / "__main__.py").read_text()))


class Block:
    def __init__(self, doc: Path, line: int, path: str | None, text: str) -> None:
        self.doc, self.line, self.path, self.text = doc, line, path, text

    def __repr__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def blocks() -> Iterator[Block]:
    """Each fenced block of the docs, with the snippet marker before it (or None)."""
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            fence = _FENCE.match(lines[i])
            if not fence:
                i += 1
                continue
            indent = fence.group(1)
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            body = [line.removeprefix(indent) for line in lines[i + 1 : end]]
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = _MARKER.match(before)
            yield Block(doc, i + 1, marker.group(1) if marker else None, "\n".join(body) + "\n")
            i = end + 1


BLOCKS = list(blocks())


def test_every_block_is_a_checked_in_file() -> None:
    unmarked = [b for b in BLOCKS if b.path is None]
    assert unmarked == []
    differing = [b for b in BLOCKS if b.path and (ROOT / b.path).read_text() != b.text]
    assert differing == []


def test_every_snippet_file_is_shown_somewhere() -> None:
    shown = {b.path for b in BLOCKS}
    files = {str(p.relative_to(ROOT)) for p in SNIPPETS.iterdir()}
    # Inputs of shown output (a stack file a message names) are linked, not shown.
    linked = {p for p in files if any(p.removeprefix("docs/") in d.read_text() for d in DOCS)}
    assert files - shown - linked == set()


# ---- running and validating ---------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of what the snippets name, as a user's checkout has it after `kubectl get crd`."""
    for folder in ("stacks", "examples", "docs", "package"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "crds").mkdir()
    shutil.copy(shared_file(BETA17_CRD, "the Omnia CRDs"), tmp_path / "crds" / "agentruntimes.yaml")
    shutil.copy(SNIPPETS / "cluster.yaml", tmp_path / "cluster.yaml")
    # An edited prod stack: the password rotated, so the change preview has something to show.
    edited = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text().replace('"2026-11"', '"2026-12"')
    (tmp_path / "edited").mkdir()
    (tmp_path / "edited" / "Pulumi.prod.yaml").write_text(edited)
    return tmp_path


def _commands(path: Path) -> Iterator[tuple[list[str], int]]:
    """Each command of a shell snippet (`a && b` is two), with the exit its `# exit N` says."""
    for raw in path.read_text().replace("\\\n", " ").splitlines():
        expected = int(m.group(1)) if (m := re.search(r"#.*\bexit (\d)\b", raw)) else 0
        words = shlex.split(raw, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            yield words[:cut], expected
            words = words[cut + 1 :]


def _config_key(key: str) -> bool:
    """A key `pulumi config set [--path]` can set that the program reads."""
    if key == "kubernetes:context":
        return True
    project, _, path = key.partition(":")
    model: Any = StackConfig
    named = False  # the next part is a name (a key of a mapping such as `stores`)
    for part in re.split(r"\.|\[\d+\]\.?", path):
        if not part:
            continue
        if named:
            named = False
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if project != PROJECT or part not in fields:
            return False
        from settings.errors import _model_of

        annotation = fields[part].annotation
        named = "dict[" in str(annotation) and _model_of(annotation) is not None
        model = _model_of(annotation) or dict
    return True


@functools.cache
def _prod_rendered() -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    """Prod's resources by URN (the chart's children too) and its rendered objects."""
    from tests.support.render import objects, rendered_plan

    plan = rendered_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    return {r.urn: r for r in plan.resources}, objects(plan)


def _prod_urn(urn: str, *, protected: bool | None = None) -> None:
    """A URN the runbooks name is one prod registers (protected, where they unprotect it)."""
    resources, _ = _prod_rendered()
    assert urn in resources, urn
    if protected is not None:
        assert resources[urn].protect is protected, urn


def _pulumi(args: list[str], cwd: Path) -> None:
    if tuple(args) in _PULUMI_PLAIN:
        return
    if args[:2] == ["state", "unprotect"] and args[2].startswith("urn:"):
        _prod_urn(args[2], protected=True)
        return
    if args[:2] == ["state", "delete"]:
        _prod_urn(args[2])
        return
    if args[:3] == ["refresh", "--yes", "--target"]:
        _prod_urn(args[3])
        return
    if args[:2] == ["stack", "init"]:
        # In a project; in this one the stack file must already be there (stackConfigDir).
        project = yaml.safe_load((cwd / "Pulumi.yaml").read_text())
        if "stackConfigDir" in project:
            assert (cwd / project["stackConfigDir"] / f"Pulumi.{args[2]}.yaml").is_file(), args
    elif args[:2] == ["config", "set"]:
        key = next(a for a in args[2:] if not a.startswith("--"))
        assert _config_key(key), key
    elif args[:2] == ["stack", "output"]:
        assert args[2] in _EXPORTS, args
    elif args[:2] == ["package", "add"]:
        source = args[2]
        if source.startswith(("./", "../", "/")):
            assert (cwd / source / "PulumiPlugin.yaml").is_file(), source
        else:
            assert _GIT_SOURCE.match(source), source
            assert source.split("@")[0].endswith("/package"), source  # the plugin's folder
    elif args[0] == "preview" and "--policy-pack" in args:
        checkout = "/path/to/omnia-agents"  # the reader's checkout of this repository

        def given(flag: str) -> Path:
            return Path(args[args.index(flag) + 1].replace(checkout, str(ROOT)))

        assert (given("--policy-pack") / "PulumiPolicy.yaml").is_file()
        assert set(json.loads(given("--policy-pack-config").read_text())) <= _policy_names()
    else:
        pytest.fail(f"no check for `pulumi {' '.join(args)}`: add one")


def _policy_names() -> set[str]:
    text = (ROOT / "policy" / "pack.py").read_text()
    return set(re.findall(r'"(omnia-[a-z-]+)"', text))


def _kubectl_in_redis(args: list[str]) -> None:
    """`kubectl -n <prod's Redis namespace> ...`: the objects named are ones the chart renders
    for prod (claims: `<claim template>-<statefulset>-<i>`)."""
    from upstream.redis_volumes import claims

    _, objs = _prod_rendered()
    namespace = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"][
        f"{PROJECT}:redis"
    ]["namespace"]
    assert args[:2] == ["-n", namespace], args
    args = args[2:]
    statefulsets = {name: obj for (kind, name), obj in objs.items() if kind == "StatefulSet"}
    every_claim = {c for obj in statefulsets.values() for c in claims(obj)}
    if args[:2] in (["get", "pvc"], ["patch", "pvc"]) and len(args) > 2:
        assert args[2] in every_claim, args
        if args[0] == "patch":
            patch = json.loads(args[args.index("-p") + 1])
            assert set(patch) == {"spec"} and "storage" in patch["spec"]["resources"]["requests"]
    elif args == ["get", "pvc"]:
        pass
    elif args[:2] == ["delete", "statefulset"]:
        assert args[2] in statefulsets and args[3:] in ([], ["--cascade=orphan"]), args
    elif args[:3] == ["delete", "pvc", "-l"]:
        label, _, value = args[3].partition("=")
        templates = [t for o in statefulsets.values() for t in o["spec"]["volumeClaimTemplates"]]
        assert any(t["metadata"]["labels"].get(label) == value for t in templates), args
    elif args[:3] == ["get", "pods", "-l"]:
        label, _, value = args[3].partition("=")
        master = objs[("Service", "redis-master")]["spec"]["selector"]
        assert master.get(label) == value, args  # what the master Service selects
    elif args[:2] == ["exec", "-i"]:
        assert args[2] == "<pod>" and args[3:5] == ["-c", "redis"], args
        containers = [c["name"] for o in statefulsets.values()
                      for c in o["spec"]["template"]["spec"]["containers"]]  # fmt: skip
        assert "redis" in containers
        assert args[5:9] == ["--", "bash", "-s", "--"] and args[10] == "6379", args
        if re.fullmatch(r"redis-master\.<namespace>\.svc", args[9]):
            rest = args[11:]
        else:  # another store of the docs' stack: its host, and its password from its Secret
            (store,) = [s for s in _doc_stores().values() if s.get("host") == args[9]]
            assert store["port"] == int(args[10]), args
            assert args[11] == (
                f"$(kubectl -n {store['namespace']} get secret {AUTH_SECRET} -o "
                f"jsonpath='{{.data.{AUTH_SECRET_KEY}}}' | base64 -d)"
            ), args
            rest = args[12:]
        assert rest[0] == "<" and (ROOT / rest[1]).is_file(), args
    else:
        pytest.fail(f"no check for `kubectl -n {namespace} {' '.join(args)}`: add one")


@functools.cache
def _doc_stores() -> dict[str, dict[str, Any]]:
    """The stores of docs/snippets/Pulumi.stores.yaml, as the program exports them."""
    from offline.program import run_plan

    plan = run_plan(SNIPPETS / "Pulumi.stores.yaml", "stores")
    stores: dict[str, dict[str, Any]] = plan.outputs["stores"]
    return stores


def _kubectl(args: list[str]) -> None:
    if args[:1] == ["-n"]:
        _kubectl_in_redis(args)
    elif args[:2] == ["get", "storageclass"]:
        assert args[2] == "<class>" and args[3:] == ["-o", "jsonpath={.allowVolumeExpansion}"]
    elif args[:2] == ["get", "crd"]:
        assert args[2] == CRD_NAME and args[-2:] == ["-o", "yaml"], args
    elif args[:2] == ["label", "namespace"]:
        label, _, value = args[3].partition("=")
        if label.endswith("-") and not value:  # the label removed again
            label, value = label[:-1], "true"
        labels = {s["label"] for s in _doc_stores().values() if "label" in s}
        assert label in {CLIENT_LABEL, METRICS_CLIENT_LABEL, *labels} and value == "true", args
    elif args[:2] == ["delete", "namespace"]:
        assert re.fullmatch(r"<[a-z.]+>", args[2]), args  # the user names it
    else:
        pytest.fail(f"no check for `kubectl {' '.join(args)}`: add one")


def run_shell(path: Path, cwd: Path) -> None:
    # Syntax first; `<name>` placeholders are the reader's to fill, not redirects.
    text = re.sub(r"<([a-z.]+)>", r"\1", path.read_text())
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    here = cwd
    for words, expected in _commands(path):
        if ">" in words:  # a redirect: the scratch copy already has what it writes
            words = words[: words.index(">")]
        head, args = words[0], words[1:]
        if head == "venv/bin/python" and args[0] == "plan.py":
            if "--policy" in args:
                need_policy_pack()  # policy/venv: `make install`; with CI set, missing fails
            done = _plan(args[1:], here)
            assert done.returncode == expected, (words, done.stderr)
        elif head == "make":
            assert re.search(rf"^{args[0]}:", (ROOT / "Makefile").read_text(), re.M), args
        elif head == "cp":
            shutil.copy(here / args[0], here / args[1])
        elif head == "cd":
            here = here / args[0]
            assert here.is_dir(), args
        elif head == "npm" and args == ["install"]:
            assert (here / "package.json").is_file()
        elif head == "export":
            assert args[0].split("=")[0] == "PULUMI_CONFIG_PASSPHRASE", args
        elif head == "pulumi":
            _pulumi(args, here)
        elif head == "kubectl":
            _kubectl(args)
        elif head == "helm" and args[0] == "pull":
            _helm_pull(args[1:], here)
        else:
            pytest.fail(f"no check for `{' '.join(words)}` in {path.name}: add one")


def _helm_pull(args: list[str], cwd: Path) -> None:
    """`helm pull <the default chart> --version V --destination D`: offline, the scratch copy
    gets the same bytes from ../shared (the chart as `helm pull` gives it)."""
    from tests.support.render import need_charts
    from upstream.redis_chart import DEFAULT_CHART

    assert args[0] == DEFAULT_CHART, args
    version = args[args.index("--version") + 1]
    destination = cwd / args[args.index("--destination") + 1]
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(need_charts() / version / f"redis-{version}.tgz", destination)


def _plan(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`plan.py ARGS` in `cwd`, in this process (tests/offline runs it as a real process)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return subprocess.CompletedProcess(["plan.py", *args], code, out.getvalue(), err.getvalue())


SHELL = sorted(p for p in SNIPPETS.glob("*.sh"))


@pytest.mark.parametrize("snippet", SHELL, ids=lambda p: p.name)
def test_shell_snippets_run_or_validate(snippet: Path, scratch: Path) -> None:
    run_shell(snippet, scratch)


STACKS = sorted(
    [*SNIPPETS.glob("Pulumi.*.yaml"), *(ROOT / "examples" / "stacks").glob("Pulumi.*.yaml")]
)
# A stack a page shows refused: the output snippet it goes with says how.
REFUSED = {"Pulumi.bad-ttl.yaml": 2, "Pulumi.owned-value.yaml": 2}


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: p.name)
def test_stack_snippets_plan(stack: Path) -> None:
    done = _plan(["--stack-file", str(stack)])
    assert done.returncode == REFUSED.get(stack.name, 0), done.stderr
    assert "Traceback" not in done.stderr


def test_cluster_descriptions_are_read() -> None:
    for path in SNIPPETS.glob("*.yaml"):
        if path.name.startswith("Pulumi."):
            continue
        try:
            read_cluster(path)
        except StackFileError as err:
            # Relative CRD paths are the user's; the scratch run reads them (plan-cluster.sh).
            assert "crd: cannot read" in str(err), (path, err)


def _beta(release: str) -> str:
    return str(shared_file(CRDS / release / CRD_FILE, "the Omnia CRDs"))


# Expected output: the command that prints it, its exit code; stderr must be the file exactly,
# except where the stream is named: `plan.py --policy` prints the pack's report on stdout.
OUTPUTS: dict[str, tuple[list[str], int] | tuple[list[str], int, str]] = {
    "bad-ttl.out": (["--stack-file", "docs/snippets/Pulumi.bad-ttl.yaml"], 2),
    "no-operator.out": (["prod", "--cluster", "docs/snippets/no-operator.yaml"], 1),
    "owned-value.out": (["--stack-file", "docs/snippets/Pulumi.owned-value.yaml"], 2),
    "no-prometheus-operator.out": (
        [
            "--stack-file",
            "docs/snippets/Pulumi.monitoring.yaml",
            "--cluster",
            "docs/snippets/no-prometheus-operator.yaml",
        ],
        1,
    ),
    "long-ttl.out": (
        ["--stack-file", "docs/snippets/Pulumi.long-ttl.yaml", "--crd", "v0.9.0-beta.17"],
        0,
    ),
    "crd-mismatch.out": (
        ["--stack-file", "examples/stacks/Pulumi.first-beta16.yaml", "--crd", "v0.9.0-beta.17"],
        1,
    ),
    "policy-violation.out": (
        ["--stack-file", "docs/snippets/Pulumi.prod-scratch.yaml", "--policy"],
        1,
        "stdout",
    ),
}


def test_every_output_snippet_has_its_command() -> None:
    assert {p.name for p in SNIPPETS.glob("*.out")} == set(OUTPUTS)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_snippets_are_what_the_command_prints(name: str) -> None:
    args, code, *named = OUTPUTS[name]
    args = [_beta(a) if a.startswith("v0.") else a for a in args]
    if "--policy" in args:
        need_policy_pack()
    done = _plan(args)
    assert done.returncode == code
    if named == ["stdout"]:
        assert done.stdout == (SNIPPETS / name).read_text()
        return
    assert done.stderr == (SNIPPETS / name).read_text()
    if code:
        assert done.stdout == ""


def test_example_stacks_conform_to_the_crd_of_their_release() -> None:
    for stack in (ROOT / "examples" / "stacks").glob("Pulumi.*.yaml"):
        version = yaml.safe_load(stack.read_text())["config"]["omnia-agents:omniaVersion"]
        done = _plan(["--stack-file", str(stack), "--crd", _beta(f"v{version}")])
        assert done.returncode == 0, (stack.name, done.stderr)


def test_the_layout_tree_names_what_is_there() -> None:
    """Every path the tree names exists, and every top-level entry the repository tracks is in
    it: a moved or new folder shows up here before a reader is sent the wrong way."""
    tree = (SNIPPETS / "layout.txt").read_text().splitlines()
    named: list[str] = []
    folder = ""
    for line in tree:
        if not line.strip() or line.startswith(" " * 10):  # a continued description
            continue
        indent = len(line) - len(line.lstrip())
        entry = line.split()[0]
        if indent == 0:
            folder = entry if entry.endswith("/") else ""
            path = entry
        else:
            path = folder + entry
        named.append(path)
        if "/" in entry.rstrip("/") and " " not in entry:  # `settings/ upstream/ ...` lists
            continue
    listed = {p.rstrip("/") for line in tree for p in line.split() if p.endswith("/")}
    missing = [p for p in named if not (ROOT / p).exists() and p.rstrip("/") not in listed]
    assert missing == []
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {t.split("/")[0] + ("/" if "/" in t else "") for t in tracked}
    top -= {".ci/", ".gitignore", "Makefile", "pyproject.toml", "requirements.txt",
            "requirements-dev.txt", "README.md"}  # fmt: skip
    assert top <= set(named)
    modules = {
        str(m.relative_to(ROOT))
        for package in ("settings", "upstream", "components", "offline")
        for m in (ROOT / package).glob("*.py")
        if m.name != "__init__.py"
    }
    assert sorted(modules - set(named)) == []
