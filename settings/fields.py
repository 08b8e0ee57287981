"""Field types of the stack settings: each value judged as the system that reads it judges it.

Kept apart from the models so a type's rule and its message are written once and read the same
wherever the type is used (stack files, package args, the policy pack).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import semver
from pulumi import Output
from pydantic import AfterValidator, BeforeValidator, PlainValidator, StrictStr
from pydantic_core import PydanticCustomError

from upstream.go_duration import (
    MAX_DURATION,
    DurationError,
    DurationOverflowError,
    parse_go_duration,
)
from upstream.kubernetes import (
    DNS_LABEL_MAX,
    DNS_SUBDOMAIN_MAX,
    MIB,
    is_cpu,
    is_dns_label,
    is_dns_subdomain,
    memory_bytes,
)
from upstream.omnia_releases import SessionType, parse_version, release_for
from upstream.pulumi_config import SECRET_SHOWN
from upstream.redis_chart import MaxmemoryPolicy
from upstream.stores import STORE_NAME_MAX

_GO_UNITS = "ns, us, ms, s, m, h"
_HOURS_PER = {"d": 24, "w": 168, "y": 8760}
_FOREIGN_UNIT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([dwy])$")
MIN_REDIS_MEMORY = 64 * MIB
# `user:password@` in a URL (RFC 3986 userinfo), up to the authority's last `@`.
# The scheme is bounded so a long value without one costs linear time.
_CREDENTIAL = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/?#@\s:]*):[^/?#\s]*@")
MASK = SECRET_SHOWN


class HintedError(ValueError):
    """A refusal whose hint is derived from the value: `public` is the same refusal without
    it, for values set as secrets."""

    def __init__(self, message: str, public: str) -> None:
        super().__init__(message)
        self.public = public


def mask_credentials(text: str) -> str:
    """`oci://admin:pw@host` -> `oci://admin:[secret]@host`, anywhere in a message."""
    if "://" not in text:
        return text
    return _CREDENTIAL.sub(lambda m: f"{m.group('head')}:{MASK}@", text)


def has_credentials(text: str) -> bool:
    return "://" in text and bool(_CREDENTIAL.search(text))


class AgentNamespaces(StrEnum):
    """Who makes the namespaces the agents live in."""

    REQUIRE = "require"
    """They must exist: read at preview, a missing one fails it."""
    CREATE = "create"
    """The program creates them (and deletes them on destroy)."""


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {DNS_LABEL_MAX} characters)"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if not is_dns_subdomain(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
            f"at most {DNS_SUBDOMAIN_MAX} characters), as Kubernetes names a StorageClass"
        )
    return value


def _go_duration(value: str) -> str:
    """Refuse what Go refuses, and point `7d`-style TTLs at the hours the operator needs."""
    try:
        nanoseconds = parse_go_duration(value)
    except DurationOverflowError:
        side = "below Go's minimum" if value.startswith("-") else "above Go's maximum"
        raise ValueError(f"{value!r} is {side} duration ({MAX_DURATION})") from None
    except DurationError:
        foreign = _FOREIGN_UNIT.match(value)
        if foreign:
            hours = float(foreign.group(1)) * _HOURS_PER[foreign.group(2)]
            hint = f"{int(hours)}h" if hours.is_integer() else f"{hours}h"
            raise HintedError(
                f"{value!r} is not a Go duration (use {hint!r})",
                f"{MASK} is not a Go duration (units {_GO_UNITS}; no d, w or y)",
            ) from None
        raise ValueError(
            f"{value!r} is not a Go duration (units {_GO_UNITS}; e.g. 30m, 24h, 1h30m)"
        ) from None
    if nanoseconds <= 0:
        raise ValueError(f"{value!r} must be a positive duration")
    return value


def _chart_source(value: str) -> str:
    if value.startswith("oci://") or value.endswith(".tgz"):
        return value
    raise ValueError(
        f"{value!r} is neither an OCI reference (oci://registry/path/redis) nor a local .tgz"
    )


def _rotation(value: str) -> str:
    """A label such as `2026-11`: what `pulumi config get` and a diff show must be what rotates."""
    if not value.strip() or value != value.strip() or not value.isprintable():
        raise ValueError(
            f"{value!r} is blank, multi-line or padded: a rotation value must be a visible "
            "label such as '2026-11' (any new value rotates the password)"
        )
    return value


def _session_type(value: Any) -> Any:
    if value == "postgres":
        raise ValueError(
            "'postgres' is not supported: operators before 0.9.0-beta.17 silently fall back "
            "to memory sessions for it and later ones removed it; use memory or redis"
        )
    return value


def _exact_version(value: str) -> str:
    try:
        semver.Version.parse(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an exact version (x.y.z, e.g. '22.0.7'); pin one"
        ) from None
    return value


def _omnia_version(value: str) -> str:
    try:
        parse_version(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an Omnia release version (e.g. '0.9.0-beta.17')"
        ) from None
    release_for(value)  # ValueError: older than any release the table knows
    return value


def _memory(value: str) -> str:
    if memory_bytes(value) < MIN_REDIS_MEMORY:
        raise ValueError(
            f"{value!r} is below {MIN_REDIS_MEMORY // MIB}Mi, too little for a Redis server"
        )
    return value


def _cpu(value: str) -> str:
    if not is_cpu(value):
        raise ValueError(f"{value!r} is not a CPU quantity (e.g. '500m' or '1')")
    return value


def _maxmemory_policy(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("allkeys-"):
        allowed = ", ".join(MaxmemoryPolicy)
        raise ValueError(
            f"{value!r} can evict Omnia's index set promptkit:conversations:index, which has "
            f"no TTL; use {allowed}"
        )
    return value


def _store_name(value: str) -> str:
    if len(_dns_label(value)) > STORE_NAME_MAX:
        raise ValueError(
            f"{value!r} is longer than {STORE_NAME_MAX} characters: a store's Helm release "
            f"(redis-<store>) and namespace label (redis-client-<store>) must fit their limits"
        )
    return value


def _store_url(value: Any) -> str | Output[str]:
    """A string, or (from the package's SessionAgents) an Output of another resource, which
    is judged once known; a stack file's other values are refused as pydantic refuses them."""
    if isinstance(value, str | Output):
        return value
    raise PydanticCustomError("string_type", "Input should be a valid string")


DnsLabel = Annotated[StrictStr, AfterValidator(_dns_label)]
DnsSubdomain = Annotated[StrictStr, AfterValidator(_dns_subdomain)]
StoreName = Annotated[StrictStr, AfterValidator(_store_name)]
StoreUrl = Annotated[str | Output[str], PlainValidator(_store_url)]
GoDuration = Annotated[StrictStr, AfterValidator(_go_duration)]
ExactVersion = Annotated[StrictStr, AfterValidator(_exact_version)]
OmniaVersion = Annotated[StrictStr, AfterValidator(_omnia_version)]
ChartSource = Annotated[StrictStr, AfterValidator(_chart_source)]
RotationLabel = Annotated[StrictStr, AfterValidator(_rotation)]
Memory = Annotated[StrictStr, AfterValidator(_memory)]
Cpu = Annotated[StrictStr, AfterValidator(_cpu)]
SessionTypeField = Annotated[SessionType, BeforeValidator(_session_type)]
MaxmemoryPolicyField = Annotated[MaxmemoryPolicy, BeforeValidator(_maxmemory_policy)]
