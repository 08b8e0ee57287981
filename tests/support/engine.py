"""Args as the engine sends them to a component's Construct, decoded by the SDK's own code.

Every number is a double on the wire; an Output of the consuming program travels as an output
value (pulumi/pulumi sdk/nodejs/runtime/resource.ts keeps output values for remote components;
the engine marshals them for a provider that accepts outputs, as the Python provider server
says it does: sdk/python/lib/pulumi/provider/server.py), which `rpc.deserialize_properties`
turns back into an Output, as the provider server's `_construct_inputs` does.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import struct_pb2
from pulumi.errors import InputPropertiesError
from pulumi.runtime import rpc


def as_sent(value: Any) -> Any:
    """The engine's wire format: every number a double (output values left as they are)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    return value


def output_value(value: str | None, *, secret: bool, urns: list[str]) -> dict[str, Any]:
    """An Output as the engine sends it (pulumi/pulumi sdk/go/common/resource/plugin/rpc.go
    MarshalPropertyValue with KeepOutputValues): no `value` while it is unknown."""
    wire: dict[str, Any] = {
        rpc._special_sig_key: rpc._special_output_value_sig,
        "secret": secret,
        "dependencies": urns,
    }
    if value is not None:
        wire["value"] = value
    return wire


def wire(raw: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(as_sent(raw))
    return struct


def engine_inputs(raw: dict[str, Any]) -> dict[str, Any]:
    """What the provider's construct gets (call it where an event loop runs: in a program)."""
    decoded: dict[str, Any] = rpc.deserialize_properties(wire(raw), keep_unknowns=True)
    return decoded


def refused_args(error: BaseException) -> list[tuple[str, str]]:
    """A package refusal's `(arg path, reason)` pairs; it gives the engine no property path."""
    from settings.package_args import InvalidArgsError

    assert isinstance(error, InvalidArgsError), repr(error)
    assert error.errors is None
    return error.problems


_PATH_PART = re.compile(r'\.?(?:\[(\d+)\]|\["((?:\\"|[^"])*)"\]|([^.\[]+))')


def printed_by_pulumi_up(error: InputPropertiesError, args: dict[str, Any]) -> str:
    """What the engine prints for a Construct refused with invalid properties: the message, then
    each property error with the consumer's value at its path when the path resolves (pulumi/pulumi
    pkg/resource/deploy/source_eval.go `errorToMessage`; paths as resource.ParsePropertyPath reads
    them; the value as PropertyValue.String prints it, a secret's in clear, an empty path being
    every arg)."""
    message = error.message
    for detail in error.errors or []:
        path, reason = detail["property_path"], detail["reason"]
        node: Any = args
        for index, quoted, name in _PATH_PART.findall(path):
            key: Any = int(index) if index else (quoted.replace('\\"', '"') or name)
            in_map = isinstance(node, dict) and isinstance(key, str) and key in node
            in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
            if in_map or in_list:
                node = node[key]
            else:
                message += f"\n\t\t- property {path} has a problem: {reason}"
                break
        else:
            message += f"\n\t\t- property {path} with value '{{{node}}}' has a problem: {reason}"
    return message
