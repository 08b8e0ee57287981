"""How a bad stack is reported: one line per problem, naming the file and the key path.

Both errors are `pulumi.RunError`s, so `pulumi preview` prints them without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, get_args, get_origin

import pulumi
from pydantic import BaseModel

from settings.fields import MASK, HintedError, mask_credentials
from settings.models import StackConfig
from settings.project import PROJECT
from upstream.pulumi_config import OLD_BOOLS


class Problem(NamedTuple):
    """One thing wrong, at a key path such as `omnia-agents:agents[1].name`."""

    key: str
    message: str


class ConfigError(pulumi.RunError):
    """Bad stack config; RunError so `pulumi preview` prints it without a traceback."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self, source: str | None = None) -> list[str]:
        where = source or self.source
        # A credential anywhere (`oci://user:pw@...`) is masked, whatever built the message.
        return [mask_credentials(f"{where}: {p.key}: {p.message}") for p in self.problems]


class CrdMismatch(pulumi.RunError):
    """AgentRuntimes the cluster's CRD would prune or reject; RunError: no traceback."""

    def __init__(self, crd_file: str, lines: list[str]) -> None:
        self.lines = lines
        super().__init__(f"AgentRuntimes do not conform to {crd_file}:\n" + "\n".join(lines))


def key_path(loc: Sequence[int | str]) -> str:
    """A pydantic location as the key path `pulumi config set --path` takes."""
    path = f"{PROJECT}:{_shown(loc[0])}" if loc else PROJECT
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{_shown(part)}"
    return path


def _shown(part: int | str) -> str:
    """A key as a message can print it on one line: quoted when it holds control characters."""
    text = str(part)
    return text if text.isprintable() else repr(text)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_of(arg)
        if found:
            return found
    return None


def _known_keys(loc: Sequence[int | str]) -> list[str]:
    model: type[BaseModel] | None = StackConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return []
        model = _model_of(fields[part].annotation)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def problem(error: Any, secret_keys: frozenset[str] = frozenset()) -> Problem:
    """One pydantic error as a stack-file line: the key path and a message a user can act on."""
    loc = tuple(error["loc"])
    kind = error["type"]
    secret = bool(loc) and loc[0] in secret_keys  # set with --secret: never echo the value
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        message = "unknown key" + (f" (known: {', '.join(known)})" if known else "")
    elif kind == "missing":
        message = "is required"
    elif kind == "value_error":
        cause = error["ctx"]["error"]
        message = cause.public if secret and isinstance(cause, HintedError) else str(cause)
    elif (
        kind == "bool_type"
        and isinstance(error["input"], str)
        and error["input"] in OLD_BOOLS
        and not secret
    ):
        # yaml.v3 reads YAML 1.2: `yes`, `on`, `y` are strings (upstream.pulumi_config).
        message = (
            f"{error['input']!r} is a string to the Pulumi CLI (YAML 1.2: only true and false "
            "are booleans): write true or false"
        )
    else:
        message = f"{error['msg']} (got {error['input']!r})"
    if secret:
        message = message.replace(repr(error["input"]), MASK)
    return Problem(key_path(loc), message)


def scrub(problems: list[Problem], raw: Any, secret_keys: frozenset[str]) -> list[Problem]:
    """Problems under a secret key with every string of its value masked: cross-key checks
    quote values too (a duplicate agent's name)."""
    scrubbed = []
    for found in problems:
        top = found.key.removeprefix(f"{PROJECT}:").split(".")[0].split("[")[0]
        if top not in secret_keys:
            scrubbed.append(found)
            continue
        message = found.message
        for text in sorted(_strings(raw.get(top)), key=len, reverse=True):
            message = message.replace(text, MASK)
        scrubbed.append(found._replace(message=message))
    return scrubbed


def _strings(value: Any) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            text = str(item)
            if len(text) >= 2 and text != MASK:
                found.add(text)
    return found
