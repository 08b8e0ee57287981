"""The URL Omnia's runtime reads (go-redis `ParseURL`, ../shared/go-redis-url) and its host."""

from __future__ import annotations

from urllib.parse import quote

from upstream.redis_volumes import fullname


def master_host(release: str, namespace: str) -> str:
    """The write Service: `<fullname>-master` in standalone, replication and Sentinel modes
    (the chart names its objects `<release>-redis` unless the release name holds `redis`)."""
    return f"{fullname(release)}-master.{namespace}.svc"


def redis_url(password: str, host: str, port: int) -> str:
    """Percent-encode the password: `# ? / % [ ]` break go-redis's and redis-py's URL parsers."""
    return f"redis://:{quote(password, safe='')}@{host}:{port}"
