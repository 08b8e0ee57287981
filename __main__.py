"""omnia-agents: Omnia agents with the session storage each stack calls for."""

import pulumi

from components.deployment import deploy
from settings.conformance import require_conformance
from settings.loader import load_stack_config

# Bad config, or agents the CRD file would prune or reject, stop here: nothing registered.
config = load_stack_config()
require_conformance(config)

deployment = deploy(config)
if deployment.store is not None:
    pulumi.export("redis", {"host": deployment.store.host, "port": deployment.store.port})
    pulumi.export("redisUrl", deployment.store.url)
if deployment.store_summary is not None:  # a stack naming omnia-agents:stores: each store
    pulumi.export("stores", deployment.store_summary)
    pulumi.export("storeUrls", deployment.store_urls)
pulumi.export("agents", deployment.agents)
