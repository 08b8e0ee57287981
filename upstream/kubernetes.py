"""What Kubernetes and its Pulumi provider take: names, quantities, type tokens (pure)."""

from __future__ import annotations

import re

# DNS-1123 label: namespaces and most object names (k8s.io/apimachinery validation.IsDNS1123Label).
DNS_LABEL_MAX = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Namespaces every cluster has.
CLUSTER_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# A namespaced object without `metadata.namespace` lands here.
DEFAULT_NAMESPACE = CLUSTER_NAMESPACES[0]

# Memory in binary units (what the stack files use) and CPU, as resource quantities.
_MEMORY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)?$")
_MEMORY_UNITS = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
_CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$")
MIB = 1024**2
GIB = 1024**3


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(value))


def memory_bytes(quantity: str) -> int:
    """A memory quantity in Ki, Mi, Gi or Ti (or plain bytes) as bytes; ValueError otherwise."""
    found = _MEMORY.match(quantity)
    if not found:
        raise ValueError(f"{quantity!r} is not a memory quantity in Ki, Mi, Gi or Ti (e.g. '1Gi')")
    return int(found.group(1)) * _MEMORY_UNITS[found.group(2)]


def is_cpu(quantity: str) -> bool:
    """A positive CPU quantity: millicores (`500m`) or cores with at most 3 decimals (`1.5`)."""
    return bool(_CPU.match(quantity)) and quantity not in ("0", "0m")


def type_token(api_version: str, kind: str) -> str:
    """pulumi-kubernetes names every kind `kubernetes:<group/version>:<kind>` (core: `core/v1`);
    a CustomResource's token is built from its own apiVersion and kind the same way."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


NAMESPACE = type_token("v1", "Namespace")
NAMESPACE_PATCH = type_token("v1", "NamespacePatch")
SECRET = type_token("v1", "Secret")
CRD = type_token("apiextensions.k8s.io/v1", "CustomResourceDefinition")
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
PROVIDER = "pulumi:providers:kubernetes"


# What the API server refuses of an object's size and annotations.
# k8s.io/apimachinery pkg/api/validation/objectmeta.go `ValidateAnnotations`: every key a
# qualified name (checked in lower case), and all keys and values together (len in bytes) at
# most TotalAnnotationSizeLimitB, 256 KiB.
ANNOTATIONS_MAX_BYTES = 256 * (1 << 10)
# etcd's default request limit, 1.5 MiB (etcd embed/config.go, as k8s.io/apiserver
# pkg/server/config.go says beside MaxRequestBodyBytes, 3 MiB for the request's JSON): a
# custom resource is stored as its JSON, so no object of ours may weigh more.
OBJECT_MAX_BYTES = 3 * (1 << 20) // 2
# k8s.io/apimachinery pkg/util/validation/validation.go: IsQualifiedName and IsDNS1123Subdomain.
QUALIFIED_NAME_MAX = 63
DNS_SUBDOMAIN_MAX = 253
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_dns_subdomain(value: str) -> bool:
    """Secret names among others (IsDNS1123Subdomain)."""
    return len(value) <= DNS_SUBDOMAIN_MAX and bool(_DNS_SUBDOMAIN.match(value))


def qualified_name_problem(key: str) -> str | None:
    """Why IsQualifiedName refuses an annotation key (`[prefix/]name`), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "the prefix before '/' is empty"
    if prefix and not is_dns_subdomain(prefix):
        return f"the prefix {prefix!r} is not a DNS-1123 subdomain (lowercase, at most 253)"
    if not name:
        return "the name is empty"
    if len(name) > QUALIFIED_NAME_MAX or not _QUALIFIED.match(name):
        return (
            f"the name {name!r} must be at most {QUALIFIED_NAME_MAX} letters, digits, '-', '_' "
            "or '.', starting and ending with a letter or digit"
        )
    return None


def annotations_size(annotations: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
