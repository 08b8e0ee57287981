"""The Bitnami Redis chart versions this project has checked, and the fixes between them (pure).

"Checked": the packaged chart and its values.yaml are in ../shared/bitnami-redis/<version>, the
test suite renders every stack on it (keys, objects, redis.conf, Sentinel, the StatefulSet that
holds the sessions) and the engine's data guard (upstream/redis_volumes.py) is known to key on
what that version renders. Fixes: the chart's CHANGELOG, as ../shared/bitnami-redis/README.md
lists them.
"""

from __future__ import annotations

from typing import NamedTuple

import semver

CHECKED = ("22.0.5", "23.1.1")


class Fix(NamedTuple):
    version: str  # the first version with the fix
    what: str


FIXES = (
    Fix("22.0.6", "Sentinel with one replica (22.0.6/22.0.7)"),
    Fix("23.0.4", "Sentinel failover on a graceful shutdown of the master"),
)


def _parse(version: str) -> semver.Version | None:
    try:
        return semver.Version.parse(version)
    except ValueError:
        return None


def unchecked_warning(version: str) -> str | None:
    """Why a version the project has not rendered and checked deserves a warning."""
    if version in CHECKED:
        return None
    return (
        f"{version} is not a chart version omnia-agents has "
        f"checked ({', '.join(CHECKED)}): the data guard cannot tell whether it deletes or "
        "replaces the StatefulSet that holds the sessions; review `plan.py --render --from` "
        "on it before `pulumi up` (docs/offline-plan.md)"
    )


def change_notes(old: str, new: str) -> list[str]:
    """What a chart version change brings that a reviewer must see: a new major version, or a
    downgrade below a fix the docs name."""
    before, after = _parse(old), _parse(new)
    if before is None or after is None or before == after:
        return []
    notes = []
    if before.major != after.major:
        notes.append(
            f"chart {old} -> {new} changes the major version: Bitnami's major versions break "
            "values and templates (read the chart's upgrade notes)"
        )
    for fix in FIXES:
        at = semver.Version.parse(fix.version)
        if before >= at > after:
            notes.append(f"chart {old} -> {new} loses the {fix.version} fix: {fix.what}")
    return notes
