"""docs/omnia-releases.md's table of how each release reads its Redis URL is the program's."""

from __future__ import annotations

from tests.support.markdown import DOCS, table
from upstream.go_redis_url import GO_REDIS, GoRedisURLError, go_redis_for, parse_url


def test_the_url_table_is_the_release_table_of_go_redis() -> None:
    rows = table(DOCS / "omnia-releases.md", "`omniaVersion` | go-redis")
    assert len(rows) == len(GO_REDIS)
    for (versions, version, go, jitter), row in zip(rows, GO_REDIS, strict=True):
        assert versions.startswith(row.first), versions
        assert go_redis_for(row.first).version == version == row.version
        assert go.split(" ")[0] == row.go.split(",")[0]
        try:
            parse_url("redis://h/?conn_max_lifetime_jitter=1m", row)
            read = "read"
        except GoRedisURLError:
            read = "refused"
        assert jitter == read
