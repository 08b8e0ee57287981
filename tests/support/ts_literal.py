"""Read a TypeScript object literal (as the examples write them) into Python values.

The examples keep their args in one literal of plain data: unquoted keys, double-quoted strings,
numbers, booleans, arrays, objects, `//` comments and trailing commas. That subset is turned
into JSON here; anything else fails to parse, and the test with it. A value that is a bare
identifier (a `const` of the program: an Output) becomes `{"$ts": "<name>"}`, for the test to
resolve.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:")
_COMMENT = re.compile(r"(?m)^\s*//.*$")  # whole-line comments only: strings hold `oci://`
_TRAILING = re.compile(r",(\s*[}\]])")
_IDENTIFIER_VALUE = re.compile(r"(:\s*)(?!true\b|false\b|null\b)([A-Za-z_$][\w$]*)(\s*[,}\]])")
REF = "$ts"  # the key of an identifier's placeholder


def object_literal(source: str, prefix: str) -> Any:
    """The literal after `prefix` (up to its closing brace), as Python data."""
    start = source.index(prefix) + len(prefix)
    depth, end = 0, start
    while True:
        depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(source[end], 0)
        end += 1
        if depth == 0:
            break
    text = _COMMENT.sub("", source[start:end])
    text = _KEY.sub(r'\1"\2":', text)
    text = _IDENTIFIER_VALUE.sub(rf'\1{{"{REF}": "\2"}}\3', text)
    return json.loads(_TRAILING.sub(r"\1", text))


def template(source: str, name: str) -> list[str]:
    """`const <name> = pulumi.interpolate`...`;` as its literal parts around each `${...}`,
    and the expressions: [text, expression, text, ...]."""
    found = re.search(rf"const {re.escape(name)} = pulumi\.interpolate`([^`]*)`;", source)
    if found is None:
        raise ValueError(f"no `const {name} = pulumi.interpolate`...``")
    return re.split(r"\$\{([^}]*)\}", found.group(1))
