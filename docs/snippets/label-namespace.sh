kubectl label namespace <namespace> omnia-agents/redis-client=true
