"""What each Omnia release does with session settings: the one place that knows.

Read from the operator's and runtime's source (`../shared/omnia-releases.md`, which names the
tags and commits) and from each tag's CRD (`../shared/omnia-crds`). A schema-valid AgentRuntime
is not a working one: beta.1-beta.16 accept `storeRef` and ignore it, and no released operator
gives `ttl` to the history store. Every version decision in the program reads `release_for`;
nothing else compares versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

import semver

from upstream.go_duration import parse_go_duration

SessionField = Literal["session", "context"]
SESSION_FIELDS: tuple[SessionField, ...] = get_args(SessionField)  # spec keys, oldest first


class SessionType(StrEnum):
    """Where an agent keeps its sessions (`postgres`, in older CRDs, never worked)."""

    MEMORY = "memory"
    """In the agent's pod: lost with it."""
    REDIS = "redis"
    """In Redis, through the `redis-credentials` Secret of the agent's namespace."""


# How a redis agent's URL reaches the runtime container.
#   operator: the operator maps `storeRef` to the runtime's env itself;
#   extra_env: only if the AgentRuntime sets the env in `spec.runtime.extraEnv`.
UrlWiring = Literal["operator", "extra_env"]

# PromptKit's fixed history periods (runtime v1.4.16: statestore/types.go, statestore/memory.go),
# which every released operator leaves in place whatever `ttl` says.
_PROMPTKIT_HISTORY: Mapping[str, str] = {SessionType.REDIS: "24h", SessionType.MEMORY: "1h"}


@dataclass(frozen=True)
class Release:
    """One row of omnia-releases.md: releases `first`..`last` behave alike."""

    first: str  # oldest release of the row
    last: str | None  # newest known release of the row; None: unreleased (HEAD)
    block: SessionField  # the spec key holding the session settings
    facade: str  # the spec key of the facade(s), required by the CRD
    url_wiring: UrlWiring
    runtime_url_env: str  # the env var the runtime reads the Redis URL from
    # How long the runtime's store keeps history, per session type; None: `ttl` itself.
    history: Mapping[str, str] | None
    extra_env: bool  # spec.runtime.extraEnv exists
    pod_annotations: bool  # spec.extraPodAnnotations exists
    # The facade's own Redis client keeps the URL's TLS and user name; the alphas' builds it
    # from Addr, Password and DB alone (internal/session/redis.go ParseRedisURL).
    facade_keeps_tls_and_user: bool


# Oldest first. A version between two rows behaves like the row before it.
RELEASES: tuple[Release, ...] = (
    Release(
        first="0.2.0-alpha.1",
        last="0.2.0-alpha.12",
        block="session",
        facade="facade",
        url_wiring="operator",  # storeRef -> OMNIA_SESSION_URL (runtime), key `url`
        runtime_url_env="OMNIA_SESSION_URL",
        history=_PROMPTKIT_HISTORY,
        extra_env=False,
        pod_annotations=False,
        facade_keeps_tls_and_user=False,
    ),
    Release(
        first="0.9.0-beta.1",
        last="0.9.0-beta.16",
        block="session",
        facade="facade",
        # aef25b64 removed the storeRef mapping; cmd/runtime/main.go still reads the env and
        # exits on redis.ParseURL("") when nobody sets it.
        url_wiring="extra_env",
        runtime_url_env="OMNIA_SESSION_URL",
        history=_PROMPTKIT_HISTORY,
        extra_env=True,
        pod_annotations=True,
        facade_keeps_tls_and_user=True,
    ),
    Release(
        first="0.9.0-beta.17",
        last="0.9.0-beta.17",
        block="context",
        facade="facades",
        url_wiring="operator",  # restored in 139720ad: storeRef -> OMNIA_CONTEXT_URL
        runtime_url_env="OMNIA_CONTEXT_URL",
        history=_PROMPTKIT_HISTORY,
        extra_env=True,
        pod_annotations=True,
        facade_keeps_tls_and_user=True,
    ),
    Release(
        first="HEAD",
        last=None,
        block="context",
        facade="facades",
        url_wiring="operator",
        runtime_url_env="OMNIA_CONTEXT_URL",
        history=None,  # fefff828 passes `ttl` to the state store
        extra_env=True,
        pod_annotations=True,
        facade_keeps_tls_and_user=True,
    ),
)
NEWEST_KNOWN = next(r.last for r in reversed(RELEASES) if r.last is not None)
OLDEST_KNOWN = RELEASES[0].first
# What an unset omniaVersion means for memory-only stacks: `spec.session`, as every release
# before `context` reads it, and nothing that only some of them have.
UNSET = Release(
    first="(unset)",
    last="(unset)",
    block="session",
    facade="facade",
    url_wiring="operator",  # never used: redis needs omniaVersion
    runtime_url_env="OMNIA_SESSION_URL",
    history=_PROMPTKIT_HISTORY,
    extra_env=False,
    pod_annotations=False,
    facade_keeps_tls_and_user=True,  # never used: redis needs omniaVersion
)
# Env names the program or the operator sets from the credentials Secret: a user's own entry
# would race with (or shadow) them.
URL_ENV_NAMES = tuple(sorted({r.runtime_url_env for r in RELEASES}))


def parse_version(version: str) -> semver.Version:
    """Omnia tags releases `v0.9.0-beta.17`; SemVer orders the pre-releases numerically."""
    return semver.Version.parse(version.removeprefix("v"))


def release_for(version: str | None) -> Release:
    """The row a version behaves like; ValueError for one older than any known release."""
    if version is None:
        return UNSET
    parsed = parse_version(version)
    if parsed > parse_version(NEWEST_KNOWN):
        return RELEASES[-1]
    found = [r for r in RELEASES[:-1] if parse_version(r.first) <= parsed]
    if not found:
        raise ValueError(
            f"{version!r} is older than the oldest Omnia release known ({OLDEST_KNOWN})"
        )
    return found[-1]


def newer_than_known(version: str | None) -> str | None:
    """Why a version past the table deserves a warning (a typo such as `beta.71`, or a release
    this program predates): what it is planned as, and the newest release known."""
    if version is None or parse_version(version) <= parse_version(NEWEST_KNOWN):
        return None
    head = RELEASES[-1]
    kept = "ttl kept by the history store" if head.history is None else "PromptKit's history"
    return (
        f"{version} is newer than the newest Omnia release this "
        f"program knows ({NEWEST_KNOWN}): planned as the unreleased HEAD (spec.{head.block}, "
        f"spec.{head.facade}, the Redis URL from storeRef, {kept}); if the cluster runs "
        f"{NEWEST_KNOWN} or older, set that"
    )


def first_with(block: SessionField) -> Release:
    """The oldest row reading sessions from `block` (for hints on a CRD of the other kind)."""
    return next(r for r in RELEASES if r.block == block)


def last_with(block: SessionField) -> Release:
    """The newest released row reading sessions from `block`."""
    return [r for r in RELEASES if r.block == block and r.last is not None][-1]


def history_kept(release: Release, kind: str, ttl: str) -> str | None:
    """The shorter period the release's store keeps history for, when `ttl` outlives it.

    The facade then resumes a session whose history is gone. None: the store honours `ttl`.
    """
    period = release.history.get(kind) if release.history else None
    if period is None or parse_go_duration(ttl) <= parse_go_duration(period):
        return None
    return period
