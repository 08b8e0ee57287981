"""Whom a Kubernetes NetworkPolicy admits to a pod's port (pure).

The semantics are the API's own, from the field docs of kubernetes/api `networking/v1/types.go`
(@ 1ff85247c7d7fc007c52180bfb500a59ec81e5a7):
- `spec.podSelector`: the pods of the policy's own namespace it applies to; empty selects all.
  Several policies selecting a pod combine additively.
- `spec.policyTypes`: when absent, "all policies (whether or not they contain an ingress
  section) are assumed to affect ingress".
- an ingress rule's `ports`: "empty or missing ... matches all ports"; a port is a number or a
  named container port, `protocol` defaults to TCP, `endPort` closes a numeric range.
- its `from`: "empty or missing ... matches all sources"; a peer's `namespaceSelector` present
  but empty selects every namespace (all their pods without a `podSelector`), a `podSelector`
  alone selects pods of the policy's own namespace, an `ipBlock` a CIDR.
Label selectors as apimachinery `pkg/apis/meta/v1` LabelSelector: matchLabels and
matchExpressions (In, NotIn, Exists, DoesNotExist) all hold; an empty selector selects all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INGRESS = "Ingress"
DEFAULT_PROTOCOL = "TCP"


@dataclass(frozen=True)
class ContainerPort:
    number: int
    name: str = ""
    protocol: str = DEFAULT_PROTOCOL

    def __str__(self) -> str:
        return str(self.number)


def container_ports(container: Mapping[str, Any]) -> list[ContainerPort]:
    return [
        ContainerPort(
            int(p["containerPort"]),
            str(p.get("name") or ""),
            str(p.get("protocol") or DEFAULT_PROTOCOL),
        )
        for p in container.get("ports") or []
        if isinstance(p, Mapping) and isinstance(p.get("containerPort"), int | float)
    ]


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """Whether a label selector selects an object with these labels."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def isolates_ingress(spec: Mapping[str, Any]) -> bool:
    types = spec.get("policyTypes")
    return not types or INGRESS in types


def port_matches(rule_port: Mapping[str, Any], port: ContainerPort) -> bool:
    if str(rule_port.get("protocol") or DEFAULT_PROTOCOL) != port.protocol:
        return False
    wanted = rule_port.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return bool(port.name) and wanted == port.name
    end = rule_port.get("endPort")
    if end is not None:
        return bool(wanted <= port.number <= end)
    return bool(wanted == port.number)


def ports_admitted(rule: Mapping[str, Any], ports: Sequence[ContainerPort]) -> list[ContainerPort]:
    """The pod's ports an ingress rule opens."""
    listed = rule.get("ports") or []
    if not listed:
        return list(ports)
    return [p for p in ports if any(port_matches(r, p) for r in listed)]


def _every_namespace(peer: Mapping[str, Any]) -> bool:
    namespaces = peer.get("namespaceSelector")
    pods = peer.get("podSelector")
    return namespaces is not None and not _narrows(namespaces) and not _narrows(pods)


def _narrows(selector: Mapping[str, Any] | None) -> bool:
    return bool(selector) and bool(
        (selector or {}).get("matchLabels") or (selector or {}).get("matchExpressions")
    )


def _every_address(peer: Mapping[str, Any]) -> bool:
    block = peer.get("ipBlock")
    if not isinstance(block, Mapping):
        return False
    try:
        return ipaddress.ip_network(str(block.get("cidr")), strict=False).prefixlen == 0
    except ValueError:
        return False


def open_to_all(rule: Mapping[str, Any]) -> str | None:
    """Why an ingress rule admits every source, or None when its `from` narrows it."""
    sources = rule.get("from")
    if not sources:
        return "every source (no `from`)"
    for peer in sources:
        if not isinstance(peer, Mapping):
            continue
        if _every_namespace(peer):
            return "every pod of every namespace (an empty namespaceSelector)"
        if _every_address(peer):
            return f"every address (ipBlock {peer['ipBlock']['cidr']})"
    return None
