kubectl label namespace <namespace> omnia-agents/redis-metrics=true
