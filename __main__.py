"""omnia-agents: Omnia agents with the session storage each stack calls for."""

import pulumi

from components.agent import Agent, planned_manifests
from components.config import load_stack_config
from components.crd import require_conformance
from components.credentials import SessionCredentials
from components.redis import RELEASE, RedisStore

# Bad config, or agents the cluster's CRD would prune or reject, stop here: nothing registered.
config = load_stack_config()
require_conformance(config, planned_manifests(config))

in_namespace: dict[str, list[pulumi.Resource]] = {}  # what anything in a namespace waits for
for_redis: dict[str, list[pulumi.Resource]] = {}  # what a redis-session agent also waits for
url = None
if config.redis and config.redis_namespaces:
    store = RedisStore(RELEASE, config.redis)
    url = store.url
    in_namespace[config.redis.namespace] = [store.namespace]  # we create that one
    for ns in config.redis_namespaces:
        creds = SessionCredentials(
            f"{ns}-credentials", ns, url, in_namespace.get(ns, []), config.redis.protect
        )
        for_redis[ns] = [creds.secret, creds.label, store.chart]
    pulumi.export("redis", {"host": store.host, "port": store.port})
    pulumi.export("redisUrl", url)

agents = []
for a, s in config.agent_sessions():
    redis = s.type == "redis"
    needs = in_namespace.get(a.namespace, []) + (for_redis[a.namespace] if redis else [])
    stamp = url if redis and config.stamps_pods else None
    name = f"{a.namespace}.{a.name}"
    agents.append(Agent(name, a, s, config.session_field, needs, stamp))
pulumi.export("agents", [agent.summary for agent in agents])
