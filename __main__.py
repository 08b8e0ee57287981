"""omnia-agents: Omnia agents with the session storage each stack calls for."""

import pulumi

from components.agent import agent_summary
from components.agent_namespace import AgentNamespace
from components.cluster import Cluster
from components.config import load_stack_config

# Bad config, or agents the CRD file would prune or reject, stop here: nothing registered.
config = load_stack_config()
if config.crd_file:
    from components.crd import require_conformance  # jsonschema and CEL only when asked for

    require_conformance(config)

for warning in config.warnings():  # where the cluster will not do what the stack file says
    pulumi.log.warn(warning)

# Its provider (mutable Secrets) and the CRD the cluster serves, read at preview.
cluster = Cluster("cluster", config)
store = None
if config.redis and config.redis_namespaces:
    from components.redis import RELEASE, RedisStore  # a memory-only stack never loads Redis

    store = RedisStore(RELEASE, config.redis, cluster)
    pulumi.export("redis", {"host": store.host, "port": store.port})
    pulumi.export("redisUrl", store.url)

create = config.agent_namespaces == "create"
for namespace, agents in config.agents_by_namespace().items():
    AgentNamespace(namespace, agents, config.release, store, cluster=cluster, create=create)
pulumi.export("agents", [agent_summary(a, s, config.release) for a, s in config.agent_sessions()])
