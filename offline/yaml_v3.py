"""A stack file read as the Pulumi CLI reads it: yaml.v3's decoding, then the CLI's round trip.

The CLI (pulumi/pulumi v3.259.0, the newest tag available here; the project pins the SDK at
3.272.0 and these files had no behavioural change since) reads `Pulumi.<stack>.yaml` in
`sdk/go/common/workspace/loaders.go` `LoadProjectStackBytes`: gopkg.in/yaml.v3 v3.0.1
(`sdk/go.mod`) decodes the file into `any`, the config keys get the project namespace, the
result is encoded as YAML again and decoded a second time into `ProjectStack`, whose values
become strings (`sdk/go/common/resource/config/object.go` `MarshalString`): plain strings as
they are, numbers and booleans as JSON text, objects and lists as JSON (Go `encoding/json`).

PyYAML parses (its C parser is libyaml, which yaml.v3 ports); everything after the parse is
yaml.v3's rules, cited per function (go-yaml/yaml v3.0.1 `decode.go`, `resolve.go`), in plain
loops: no input makes this recurse past `MAX_DEPTH` or decode more than `MAX_CONFIG_BYTES`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from upstream.pulumi_config import CONFIG_ENV, MAX_ARG_STRLEN, MAX_CONFIG_ENV, MAX_DEPTH

# Our own bounds (the CLI has none): more than any stack of this project holds, and what the
# offline plan reads in well under a second.
MAX_FILE_BYTES = 1 << 20
MAX_CONFIG_BYTES = 1 << 20


class YamlError(Exception):
    """What the CLI refuses: one problem at a key path (`config`-relative) or a line."""

    def __init__(self, message: str, path: tuple[str | int, ...] = (), line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


class YamlProblemsError(Exception):
    """Every problem found (duplicate keys are all reported, as yaml.v3 collects them)."""

    def __init__(self, problems: list[YamlError]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Nodes, as yaml.v3's parser builds them (decode.go `parser`).

SCALAR, MAPPING, SEQUENCE, ALIAS = range(4)
_LONG = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = "!!str", "!!null", "!!bool", "!!int", "!!float"
TIMESTAMP, BINARY, MERGE = "!!timestamp", "!!binary", "!!merge"


@dataclass(eq=False, slots=True)
class Node:
    kind: int
    tag: str  # short form (`!!int`); "" for an untagged collection or alias
    value: str  # a scalar's text, an alias's anchor name
    line: int
    quoted: bool = False  # any style but plain (decode.go `indicatedString` needs it)
    content: list[Node] = field(default_factory=list)
    alias: Node | None = None


def _short(tag: str | None) -> str:
    if not tag or tag == "!":  # decode.go `node`: the non-specific tag is no tag
        return ""
    return "!!" + tag[len(_LONG) :] if tag.startswith(_LONG) else tag


def _decode_text(data: bytes) -> str:
    """Bytes as yaml.v3's reader takes them (readerc.go): a UTF-16 byte-order mark selects
    UTF-16, anything else is UTF-8 (the CLI strips a UTF-8 BOM, loaders.go
    `readFileStripUTF8BOM`); then only printable characters."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        try:
            text = data[2:].decode(codec)
        except UnicodeDecodeError as err:
            raise YamlError(f"is not valid UTF-16 at byte {err.start + 2}") from None
    else:
        data = data.removeprefix(b"\xef\xbb\xbf")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise YamlError(
                f"line {line}: byte 0x{data[err.start]:02X} is not UTF-8: the Pulumi CLI reads "
                "stack files as UTF-8 (or UTF-16 with a byte-order mark); save the file as UTF-8",
                line=line,
            ) from None
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise YamlError(
            f"line {line}: control character U+{ord(bad.group()):04X}: YAML allows none "
            "(readerc.go: control characters are not allowed)",
            line=line,
        )
    return text


_CONTROL = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _events(text: str) -> Iterator[Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parser = loader(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def compose(text: str) -> Node | None:
    """The first document's node tree (yaml.go `unmarshal` parses one document), without
    recursion; deeper than MAX_DEPTH is refused."""
    anchors: dict[str, Node] = {}
    stack: list[Node] = []
    root: Node | None = None
    try:
        for event in _events(text):
            line = event.start_mark.line + 1
            node: Node | None = None
            if isinstance(event, yaml.ScalarEvent):
                quoted = bool(event.style)  # '' is plain
                tag = _short(event.tag)
                if not tag:  # decode.go `node`/`scalar`: quoted is !!str, plain is resolved
                    tag = STR if quoted else (MERGE if event.value == "<<" else "")
                node = Node(SCALAR, tag, event.value, line, quoted)
            elif isinstance(event, yaml.AliasEvent):
                name = event.anchor or ""
                target = anchors.get(name)
                if target is None:
                    raise YamlError(f"line {line}: unknown anchor '{name}'", line=line)
                node = Node(ALIAS, "", name, line, alias=target)
            elif isinstance(event, yaml.CollectionStartEvent):
                kind = MAPPING if isinstance(event, yaml.MappingStartEvent) else SEQUENCE
                node = Node(kind, _short(event.tag), "", line)
                if len(stack) >= MAX_DEPTH:
                    raise YamlError(
                        f"line {line}: nested deeper than {MAX_DEPTH} levels: omnia-agents "
                        f"reads at most {MAX_DEPTH} (no AgentRuntime field is nested so deep)",
                        line=line,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if not stack:
                    root = done
                continue
            elif isinstance(event, yaml.DocumentEndEvent):
                break  # the rest of the stream is never read
            else:
                continue
            if getattr(event, "anchor", None) and node.kind != ALIAS:
                anchors[event.anchor] = node  # a later anchor of the same name wins
            if stack:
                stack[-1].content.append(node)
            else:
                root = node
            if node.kind in (MAPPING, SEQUENCE):
                stack.append(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        where = f"line {line}, column {mark.column + 1}: " if mark else ""
        raise YamlError(
            f"{where}{err.problem or err.context}: not valid YAML (the Pulumi CLI refuses the "
            "file)",
            line=line,
        ) from None
    except yaml.YAMLError as err:
        raise YamlError(f"not valid YAML ({err})") from None
    return root


# ---------------------------------------------------------------------------------------------
# Scalars, resolved as yaml.v3 resolves them (resolve.go `resolve`, `parseTimestamp`).

_RESOLVE_MAP: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(("true", "True", "TRUE"), (BOOL, True)),
    **dict.fromkeys(("false", "False", "FALSE"), (BOOL, False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (NULL, None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (FLOAT, -math.inf)),
    "<<": (MERGE, "<<"),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Go strconv.ParseFloat on a value starting with '.': decimal digits and an exponent.
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|0|[1-9][0-9]*)")
_INT64 = 1 << 63


@dataclass(frozen=True, slots=True)
class GoTime:
    """A decoded timestamp: config/object.go `unmarshalObject` passes it as `Time.String()`."""

    text: str  # Go's Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`
    rfc3339: str  # what the encoder writes for the second pass (RFC3339Nano)


class _UnrepresentableError(Exception):
    """A scalar the CLI refuses, with yaml.v3's reason."""


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), then ParseUint: base prefixes, a 0-prefix is octal."""
    if not _GO_INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-").lower()
    if body.startswith(("0x", "0b", "0o")):
        value = int(body[2:], {"x": 16, "b": 2, "o": 8}[body[1]])
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if -_INT64 <= value < _INT64:
        return value
    if sign > 0 and text[0] != "+" and value < 2 * _INT64:  # ParseUint: no sign
        return value
    return None


def _go_float(text: str) -> float | None:
    """ParseFloat: out of range (±Inf with ErrRange) fails, so the scalar stays a string."""
    value = float(text)
    return None if math.isinf(value) else value


_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?:(?P<t>[Tt])| +)(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})"
    r"(?:[.,](?P<f>[0-9]+))?(?P<z>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01, proleptic Gregorian (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _local_zone(unix: int) -> tuple[int, str] | None:
    """The machine's zone at that instant, as Go's time.Local answers (same TZ sources)."""
    try:
        local = time.localtime(unix)
    except (OverflowError, OSError, ValueError):
        return None
    return local.tm_gmtoff, local.tm_zone


def parse_timestamp(text: str) -> GoTime | None:
    """resolve.go `parseTimestamp`: Go's time.Parse with four layouts (RFC3339Nano with short
    fields, with `t`, space-separated without a zone, date only); Go validates every field."""
    found = _TIME.fullmatch(text)
    if not found:
        return None
    g = found.groupdict()
    year, month, day = int(g["y"]), int(g["mo"]), int(g["d"])
    if g["h"] is not None and g["t"] and g["z"] is None:
        return None  # the T layouts need a zone; only the space layout has none
    if g["z"] is not None and not g["t"]:
        return None  # the space layout takes no zone
    hour, minute, second = (int(g[k]) if g[k] else 0 for k in ("h", "mi", "s"))
    days = _DAYS[month - 1] + (month == 2 and _leap(year)) if 1 <= month <= 12 else 0
    if not (1 <= month <= 12 and 1 <= day <= days and hour < 24 and minute < 60 and second < 60):
        return None
    nanos = int((g["f"] or "")[:9].ljust(9, "0"))
    offset, name = 0, "UTC"
    zone = g["z"]
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 24 or minutes > 60:
            return None
        offset = (hours * 60 + minutes) * 60 * (-1 if zone[0] == "-" else 1)
        unix = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
        local = _local_zone(unix - offset)
        # Go's time.Parse: the local zone when it has this offset then, else a nameless
        # fixed zone, which Time.String() prints as the offset again.
        name = local[1] if local and local[0] == offset else ""
    sign = "-" if offset < 0 else "+"
    hhmm = f"{sign}{abs(offset) // 3600:02d}{abs(offset) % 3600 // 60:02d}"
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    wall = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}{fraction}"
    rfc_zone = "Z" if offset == 0 and name == "UTC" else f"{hhmm[:3]}:{hhmm[3:]}"
    rfc = wall.replace(" ", "T", 1) + rfc_zone
    return GoTime(f"{wall} {hhmm} {name or hhmm}", rfc)


def resolve(tag: str, text: str) -> tuple[str, Any]:
    """resolve.go `resolve`: the tag and Go value of a plain or explicitly tagged scalar."""
    if tag not in ("", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP):
        return tag, text  # !!binary, !!set, custom tags: the text as it is
    rtag, out = _resolve_plain(tag, text)
    if tag in ("", rtag, STR):
        return rtag, out
    if tag == FLOAT and rtag == INT:
        return FLOAT, float(out)
    raise _UnrepresentableError(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolve_plain(tag: str, text: str) -> tuple[str, Any]:
    hint = text[:1]
    if tag == STR:
        return STR, text
    if text in _RESOLVE_MAP:
        return _RESOLVE_MAP[text]
    if hint == ".":
        if _DOT_FLOAT.fullmatch(text) and (value := _go_float(text)) is not None:
            return FLOAT, value
    elif hint and ((hint.isdigit() and hint.isascii()) or hint in "+-"):
        if tag in ("", TIMESTAMP) and (stamp := parse_timestamp(text)) is not None:
            return TIMESTAMP, stamp
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return INT, number
        if _YAML_FLOAT.fullmatch(plain) and (value := _go_float(plain)) is not None:
            return FLOAT, value
    return STR, text


# ---------------------------------------------------------------------------------------------
# Decoding into `any` (decode.go `decoder`), with yaml.v3's alias budget.


class AnyMap:
    """A mapping with a key that is not a string (yaml.v3 `map[interface{}]interface{}`):
    keys are told apart by Go type and value (1, 1.0, true and "1" are four keys)."""

    __slots__ = ("items", "lines")

    def __init__(self) -> None:
        self.items: dict[tuple[str, Any], tuple[Any, Any]] = {}
        self.lines: dict[tuple[str, Any], int] = {}

    def set(self, key: Any, value: Any, line: int = 0) -> None:
        identity = go_key(key)
        self.items[identity] = (key, value)
        self.lines.setdefault(identity, line)


def go_key(key: Any) -> tuple[str, Any]:
    if isinstance(key, bool):
        return ("bool", key)
    if isinstance(key, float) and math.isnan(key):
        return ("nan", id(key))  # every NaN key is its own (Go map semantics)
    return (type(key).__name__, key)


class _Budget:
    """decode.go `unmarshal`'s counters and the alias rule, plus our size and depth bounds."""

    def __init__(self) -> None:
        self.decodes = 0
        self.aliased = 0
        self.alias_depth = 0
        self.size = 0

    def count(self, node: Node, depth: int) -> None:
        self.decodes += 1
        if self.alias_depth:
            self.aliased += 1
        # decode.go: allowedAliasRatio 0.99 up to 400,000 decodes, 0.10 from 4,000,000 on.
        if self.aliased > 100 and self.decodes > 1000:
            ratio = _allowed_alias_ratio(self.decodes)
            if self.aliased / self.decodes > ratio:
                raise YamlError(
                    f"line {node.line}: document contains excessive aliasing (yaml.v3 allows "
                    f"at most {ratio:.0%} of a document's values to come from aliases)",
                    line=node.line,
                )
        if depth > MAX_DEPTH:
            raise YamlError(
                f"line {node.line}: nested deeper than {MAX_DEPTH} levels once aliases are "
                f"expanded: omnia-agents reads at most {MAX_DEPTH}",
                line=node.line,
            )
        self.size += len(node.value) + 2
        if self.size > MAX_CONFIG_BYTES:
            raise YamlError(
                f"line {node.line}: the document expands to more than "
                f"{MAX_CONFIG_BYTES >> 20} MiB: omnia-agents reads at most that much config "
                f"(and Linux starts no program whose config exceeds {MAX_ARG_STRLEN >> 10} KiB)",
                line=node.line,
            )


def _allowed_alias_ratio(decodes: int) -> float:
    if decodes <= 400_000:
        return 0.99
    if decodes >= 4_000_000:
        return 0.10
    return 0.99 - 0.89 * ((decodes - 400_000) / 3_600_000)


class Decoder:
    """decode.go's decoder into `any`: maps with only string keys become dicts, others
    `AnyMap`; duplicate keys are collected (a TypeError in yaml.v3), the rest raise."""

    def __init__(self) -> None:
        self.budget = _Budget()
        self.duplicates: list[YamlError] = []
        self.expanding: set[int] = set()

    def decode(self, node: Node, path: tuple[str | int, ...] = (), depth: int = 0) -> Any:
        self.budget.count(node, depth)
        if node.kind == ALIAS:
            assert node.alias is not None
            if id(node) in self.expanding:
                raise YamlError(
                    f"line {node.line}: anchor '{node.value}' value contains itself",
                    path,
                    node.line,
                )
            self.expanding.add(id(node))
            self.budget.alias_depth += 1
            try:
                return self.decode(node.alias, path, depth)
            finally:
                self.budget.alias_depth -= 1
                self.expanding.discard(id(node))
        if node.kind == SCALAR:
            return self._scalar(node, path)
        if node.kind == SEQUENCE:
            return [self.decode(c, (*path, i), depth + 1) for i, c in enumerate(node.content)]
        return self._mapping(node, path, depth)

    def _scalar(self, node: Node, path: tuple[str | int, ...]) -> Any:
        if node.quoted and node.tag in ("", STR):
            return node.value  # decode.go `indicatedString`
        try:
            tag, value = resolve(node.tag, node.value)
        except _UnrepresentableError as err:
            raise YamlError(f"line {node.line}: {err}", path, node.line) from None
        if tag == BINARY:
            return _binary(node, path)
        return value

    def _mapping(self, node: Node, path: tuple[str | int, ...], depth: int) -> Any:
        strings = all(_short_tag(key) in (STR, MERGE) for key in node.content[::2])
        out: dict[str, Any] | AnyMap = {} if strings else AnyMap()
        if not self._fill(node, out, path, depth, None):
            return None  # yaml.v3 leaves a mapping with duplicate keys undecoded
        return out

    def _fill(
        self,
        node: Node,
        out: dict[str, Any] | AnyMap,
        path: tuple[str | int, ...],
        depth: int,
        merged: set[tuple[str, Any]] | None,
    ) -> bool:
        """decode.go `mapping` into `out`; `merged`: keys already set by a merge's parent (and
        earlier merge sources), which win."""
        pairs = list(zip(node.content[::2], node.content[1::2], strict=True))
        # Keys compared by kind and raw text, before anything is decoded.
        seen: dict[tuple[int, str], Node] = {}
        clash = False
        for key, _ in pairs:
            first = seen.setdefault((key.kind, key.value), key)
            if first is not key:
                clash = True
                self.duplicates.append(
                    YamlError(
                        f"line {key.line}: key {key.value!r} already defined at line "
                        f"{first.line}: the Pulumi CLI refuses duplicate keys",
                        (*path, key.value),
                        key.line,
                    )
                )
        if clash:
            return False
        merge: Node | None = None
        for key, value in pairs:
            if _is_merge(key):
                merge = value
                continue
            name = self._key(key, out, path, depth)
            if name is _SKIP:
                continue
            if merged is not None:
                if go_key(name) in merged:
                    continue
                merged.add(go_key(name))
            where = (*path, name if isinstance(name, str) else str(key.value))
            decoded = self.decode(value, where, depth + 1)
            if isinstance(out, dict):
                out[name] = decoded
            else:
                out.set(name, decoded, key.line)
        if merge is not None:
            self._merge(node, merge, out, path, depth, merged)
        return True

    def _key(
        self, key: Node, out: dict[str, Any] | AnyMap, path: tuple[str | int, ...], depth: int
    ) -> Any:
        name = self.decode(key, path, depth + 1)
        if isinstance(name, list | dict | AnyMap) or (name is None and key.kind != SCALAR):
            raise YamlError(
                f"line {key.line}: a key that is a collection: the Pulumi CLI refuses it "
                "(yaml.v3: invalid map key)",
                path,
                key.line,
            )
        if isinstance(out, dict) and not isinstance(name, str):
            # Merged into a string-keyed map, a key is its text (decode.go `scalar` into a
            # string); a null one is dropped.
            target = key
            while target.kind == ALIAS and target.alias is not None:
                target = target.alias
            return _SKIP if name is None else target.value
        return name

    def _merge(
        self,
        parent: Node,
        merge: Node,
        out: dict[str, Any] | AnyMap,
        path: tuple[str | int, ...],
        depth: int,
        merged: set[tuple[str, Any]] | None,
    ) -> None:
        """decode.go `merge`: keys of the mapping itself win, then earlier sources."""
        if merged is None:
            merged = set()
            for key in parent.content[::2]:
                name = self.decode(key, path, depth + 1)  # yaml.v3 decodes them again
                if not isinstance(name, list | dict | AnyMap):
                    merged.add(go_key(name))
        sources = merge.content if merge.kind == SEQUENCE else [merge]
        for source in sources:
            target = source.alias if source.kind == ALIAS else source
            if target is None or target.kind != MAPPING:
                raise YamlError(
                    f"line {merge.line}: map merge requires map or sequence of maps as the value",
                    path,
                    merge.line,
                )
            self.budget.count(source, depth)
            if source.kind == ALIAS:
                self.budget.alias_depth += 1
                self.budget.count(target, depth)
            try:
                self._fill(target, out, path, depth, merged)
            finally:
                if source.kind == ALIAS:
                    self.budget.alias_depth -= 1


_SKIP = object()


def _short_tag(node: Node) -> str:
    """decode.go `Node.ShortTag`: aliases have their target's."""
    while node.kind == ALIAS and node.alias is not None:
        node = node.alias
    if node.quoted and node.tag in ("", STR):
        return STR
    if node.tag:
        return node.tag
    if node.kind == MAPPING:
        return "!!map"
    if node.kind == SEQUENCE:
        return "!!seq"
    try:
        return resolve("", node.value)[0]
    except _UnrepresentableError:
        return ""


def _is_merge(node: Node) -> bool:
    plain = node.kind == SCALAR and not node.quoted
    return plain and node.value == "<<" and node.tag in ("", MERGE)


def _binary(node: Node, path: tuple[str | int, ...]) -> str:
    import base64
    import binascii

    try:
        data = base64.b64decode("".join(node.value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise YamlError(
            f"line {node.line}: !!binary value contains invalid base64 data", path, node.line
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # The CLI keeps the bytes; gRPC strings and Go's JSON carry only UTF-8 (the JSON
        # encoder replaces the rest with U+FFFD): the program would not get these bytes.
        raise YamlError(
            f"line {node.line}: !!binary data that is not UTF-8 text cannot reach the program "
            "intact",
            path,
            node.line,
        ) from None


# ---------------------------------------------------------------------------------------------
# Go's number formatting: the encoder's second pass and encoding/json.


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and the decimal point's position (`0.d1d2... x 10^dp`)."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len(digits) + exponent
    return text, point


def go_format_g(value: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), as yaml.v3's encoder writes a float (encode.go)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    sign = "-" if math.copysign(1, value) < 0 else ""
    if value == 0:
        return f"{sign}0"
    digits, point = _digits(value)
    exp = point - 1
    # ftoa.go: %e when the exponent is < -4 or >= the precision, 6 for the shortest form.
    if exp < -4 or exp >= 6:
        return f"{sign}{_e_form(digits, exp, two_digits=True)}"
    return f"{sign}{_f_form(digits, point)}"


def _e_form(digits: str, exp: int, *, two_digits: bool) -> str:
    mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
    width = 2 if two_digits else 1
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{width}d}"


def _f_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return f"{digits[:point]}.{digits[point:]}"


def go_json_float(value: float) -> str:
    """encoding/json's float64: fixed notation, exponent from 1e21 and below 1e-6."""
    sign = "-" if math.copysign(1, value) < 0 else ""
    if value == 0:
        return f"{sign}0"
    digits, point = _digits(value)
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        # 'e' with the exponent's leading zero dropped (encode.go floatEncoder: e-09 -> e-9)
        text = _e_form(digits, point - 1, two_digits=True)
        text = re.sub(r"e-0(\d)$", r"e-\1", text)
        return f"{sign}{text}"
    return f"{sign}{_f_form(digits, point)}"


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def go_json_string(text: str) -> str:
    """encoding/json's string: HTML-safe (<, >, & escaped) and U+2028/U+2029 escaped."""
    out = []
    for char in text:
        if char in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[char])
        elif char < " " or char in "<>&\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------------------------------------
# The stack file, as LoadProjectStackBytes hands its config to the program.


@dataclass
class StackConfig:
    """What the program receives (`PULUMI_CONFIG`): every key namespaced, every value a
    string; and the CLI's own warnings."""

    config: dict[str, str]
    warnings: list[str]


def key_text(path: tuple[str | int, ...]) -> str:
    """`omnia-agents:agents[1].spec.x`, as `pulumi config set --path` spells a path."""

    def shown(part: str | int) -> str:
        return str(part) if str(part).isprintable() else repr(str(part))

    text = shown(path[0]) if path else "config"
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{shown(part)}"
    return text


def read_stack(data: bytes, project: str) -> StackConfig:
    """The config of a stack file as the CLI passes it on; raises YamlProblemsError for what the CLI
    (or these bounds) refuse, each naming the key or the line."""
    try:
        document = _document(data)
    except YamlProblemsError as err:
        raise YamlProblemsError([_in_config(e, project) for e in err.problems]) from None
    return _config(document, project)


def too_big(size: int) -> str:
    return (
        f"is {size / (1 << 20):.1f} MiB: omnia-agents reads stack files up to "
        f"{MAX_FILE_BYTES >> 20} MiB (Linux starts no program whose config exceeds "
        f"{MAX_ARG_STRLEN >> 10} KiB)"
    )


def load(data: bytes) -> Any:
    """Any YAML document, decoded as yaml.v3 decodes into `any` (bounded like a stack file)."""
    return _document(data)


def _document(data: bytes) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblemsError([YamlError(too_big(len(data)))])
    try:
        root = compose(_decode_text(data))
        decoder = Decoder()
        decoder.budget.decodes += 1  # the document node (decode.go `document`)
        document = decoder.decode(root) if root is not None else None
    except YamlError as err:
        raise YamlProblemsError([err]) from None
    if decoder.duplicates:
        raise YamlProblemsError(decoder.duplicates)
    return document


def _in_config(err: YamlError, project: str) -> YamlError:
    """A decoding path (`config`, key, ...) as the program's key: `<project>:key...`."""
    path = err.path
    if len(path) >= 2 and path[0] == "config" and isinstance(path[1], str):
        full = _namespaced(path[1], project) or path[1]
        err.path = (full, *path[2:])
    return err


def _config(document: Any, project: str) -> StackConfig:
    if document is None:
        return StackConfig({}, [])
    if isinstance(document, AnyMap):
        key = next(k for k, _ in document.items.values() if not isinstance(k, str))
        message = f"key {_v_format(key)!r} is not a string: {_ROOT_KEYS}"
        raise YamlProblemsError([YamlError(message)])
    if not isinstance(document, dict):
        raise YamlProblemsError([YamlError("expected a mapping with a `config:` mapping")])
    problems = []
    for name in ("secretsprovider", "encryptedkey", "encryptionsalt"):
        if isinstance(document.get(name), list | dict | AnyMap):
            problems.append(YamlError(f"{name}: expected a string (ProjectStack field)"))
    if document.get("environment") is not None:
        problems.append(
            YamlError(
                "environment: Pulumi ESC environments add config the offline plan cannot "
                "open; plan a copy of the stack file without them"
            )
        )
    raw = document.get("config")
    if raw is None:
        raw = {}
    if isinstance(raw, AnyMap):
        keys = [k for k, _ in raw.items.values() if not isinstance(k, str)]
        problems.append(
            YamlError(
                f"config: key {_v_format(keys[0])!r} is not a string: the Pulumi CLI parses "
                "every config key as <namespace>:<name>"
            )
        )
        raw = {}
    elif not isinstance(raw, dict):
        problems.append(YamlError("expected a mapping with a `config:` mapping"))
        raw = {}
    config: dict[str, str] = {}
    origin: dict[str, str] = {}
    empty: list[str] = []
    for key, value in raw.items():
        full = _namespaced(key, project)
        if full is None:
            problems.append(
                YamlError(
                    f"{key}: not a configuration key (the Pulumi CLI takes <namespace>:<name>)"
                )
            )
            continue
        if full in origin:
            problems.append(
                YamlError(
                    f"set twice (as {origin[full]} and {key}): the Pulumi CLI keeps one of them "
                    "at random; keep one",
                    (full,),
                )
            )
            continue
        origin[full] = key
        try:
            text = _marshal_string(value, (full,))
        except YamlError as err:
            problems.append(err)
            continue
        if value is None:
            empty.append(full)
        config[full] = text
    if problems:
        raise YamlProblemsError(problems)
    warnings = [
        f'{key}: no value: the Pulumi CLI passes it as an empty string (set it to "" to say '
        "so, or remove it)"
        for key in empty
    ]
    # Bytes, as Linux counts them: Go's JSON is UTF-8 (a lone surrogate becomes U+FFFD, 3 too).
    size = sum(
        _utf8_len(go_json_string(k)) + _utf8_len(go_json_string(v)) + 2 for k, v in config.items()
    )
    if size > MAX_CONFIG_ENV:
        warnings.append(
            f"the config is {size / 1024:.0f} KiB as the program receives it ({CONFIG_ENV}): "
            f"Linux refuses to start a program with an environment variable over "
            f"{MAX_ARG_STRLEN >> 10} KiB, so `pulumi up` fails there (argument list too long)"
        )
    return StackConfig(config, warnings)


_ROOT_KEYS = "the Pulumi CLI reads a stack file only with string keys at the top"


def _namespaced(key: str, project: str) -> str | None:
    """loaders.go `stackConfigNamespacedWithProject`, then config/key.go `ParseKey`."""
    if ":" not in key:
        return f"{project}:{key}"
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"  # the old `<ns>:config:<name>` form
    return None


def _marshal_string(value: Any, path: tuple[str | int, ...]) -> str:
    """object.go `MarshalString` after the second pass: strings raw, the rest as Go's JSON."""
    value = _second_pass(value, path)
    if value is None:
        return ""  # decode.go `prepare` leaves a null Value empty
    if isinstance(value, str):
        return value
    return _go_json(value)


def _secure(value: Any) -> bool:
    """object.go `isSecureValue`: exactly one key, `secure`, holding a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _second_pass(value: Any, path: tuple[str | int, ...]) -> Any:
    """The value after the CLI's encode and decode (loaders.go), as unmarshalObject leaves it:
    whole floats below 1e6 are ints again, times their String(), other keys their %v."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            shown = go_format_g(value)
            raise YamlError(
                f"{shown} is not a number JSON can carry: the Pulumi CLI refuses the stack "
                f"file (json: unsupported value), and Kubernetes objects are JSON; use a "
                f"number or a string",
                path,
            )
        return resolve("", go_format_g(value))[1]
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, list):
        return [_second_pass(v, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, AnyMap):
        value = _string_keys(value, path)
    assert isinstance(value, dict)
    if _secure(value):
        raise YamlError("encrypted values cannot be read offline", path)
    return {k: _second_pass(v, (*path, k)) for k, v in value.items()}


def _string_keys(value: AnyMap, path: tuple[str | int, ...]) -> dict[str, Any]:
    """A general map after the second pass: its keys re-encoded (two that encode alike are a
    duplicate there), decoded again, then printed with %v (object.go `unmarshalObject`)."""
    encoded: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for key, item in value.items.values():
        text = _encoded_key(key)
        if text in encoded:
            raise YamlError(
                f"keys {_v_format(encoded[text])!r} and {_v_format(key)!r} are both {text!r} "
                "once the Pulumi CLI writes the file again: it refuses them as duplicates",
                path,
            )
        encoded[text] = key
        again = _second_pass(resolve("", text)[1], path) if not isinstance(key, str) else key
        name = again if isinstance(again, str) else _v_format(again)
        if name in out:
            raise YamlError(
                f"keys {_v_format(key)!r} and another both read as {name!r}: the Pulumi CLI "
                "keeps one of them at random",
                path,
            )
        out[name] = item
    return out


def _encoded_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return go_format_g(key)
    assert isinstance(key, GoTime)
    return key.rfc3339


def _v_format(value: Any) -> str:
    """Go's %v of a decoded key."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return go_format_g(value)
    if isinstance(value, GoTime):
        return value.text
    return str(value)


def _go_json(value: Any) -> str:
    """encoding/json: keys sorted, compact."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_json_float(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    assert isinstance(value, dict)
    items = (f"{go_json_string(k)}:{_go_json(value[k])}" for k in sorted(value))
    return "{" + ",".join(items) + "}"
