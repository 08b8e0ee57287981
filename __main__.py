"""omnia-agents: Omnia agents with the session storage each stack calls for."""

import pulumi

from components.agent import Agent
from components.config import load_stack_config
from components.credentials import SessionCredentials
from components.redis import RELEASE, RedisStore

config = load_stack_config()  # bad config stops here, before any resource is registered

needs: dict[str, list[pulumi.Resource]] = {}
if config.redis and config.redis_namespaces:
    store = RedisStore(RELEASE, config.redis)
    for ns in config.redis_namespaces:
        creds = SessionCredentials(f"{ns}-credentials", ns, store.url)
        needs[ns] = [creds.secret, store.chart]
    pulumi.export("redis", {"host": store.host, "port": store.port})
    pulumi.export("redisUrl", store.url)

agents = [
    Agent(
        f"{a.namespace}.{a.name}",
        a,
        s,
        config.session_field,
        needs.get(a.namespace, []) if s.type == "redis" else [],
    )
    for a, s in config.agent_sessions()
]
pulumi.export("agents", [agent.summary for agent in agents])
