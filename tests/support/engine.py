"""Args as the engine sends them to a component's Construct, decoded by the SDK's own code.

Every number is a double on the wire; an Output of the consuming program travels as an output
value (pulumi/pulumi sdk/nodejs/runtime/resource.ts keeps output values for remote components;
the engine marshals them for a provider that accepts outputs, as the Python provider server
says it does: sdk/python/lib/pulumi/provider/server.py), which `rpc.deserialize_properties`
turns back into an Output, as the provider server's `_construct_inputs` does.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
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
