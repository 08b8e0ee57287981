"""omnia-agents: Omnia agents with the session storage each stack calls for."""

import pulumi

from components.agent import Agent, runtime_manifest
from components.config import load_stack_config
from components.crd import require_conformance
from components.credentials import SessionCredentials
from components.redis import RELEASE, RedisStore

# Bad config, or agents the cluster's CRD would prune or reject, stop here: nothing registered.
config = load_stack_config()
sessions = config.agent_sessions()
require_conformance(config, [runtime_manifest(a, s, config.session_field) for a, s in sessions])

in_namespace: dict[str, list[pulumi.Resource]] = {}  # what anything in a namespace waits for
for_redis: dict[str, list[pulumi.Resource]] = {}  # what a redis-session agent also waits for
if config.redis and config.redis_namespaces:
    store = RedisStore(RELEASE, config.redis)
    in_namespace[config.redis.namespace] = [store.namespace]  # we create that one
    for ns in config.redis_namespaces:
        creds = SessionCredentials(f"{ns}-credentials", ns, store.url, in_namespace.get(ns, []))
        for_redis[ns] = [creds.secret, store.chart]
    pulumi.export("redis", {"host": store.host, "port": store.port})
    pulumi.export("redisUrl", store.url)

agents = [
    Agent(
        f"{a.namespace}.{a.name}",
        a,
        s,
        config.session_field,
        in_namespace.get(a.namespace, []) + (for_redis[a.namespace] if s.type == "redis" else []),
    )
    for a, s in sessions
]
pulumi.export("agents", [agent.summary for agent in agents])
