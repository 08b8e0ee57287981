"""What the outside world does, as pure functions: no Pulumi resources, no config reading.

Omnia's release table and AgentRuntime objects, Go's durations, Kubernetes names and
quantities, the Bitnami Redis chart's values and the Redis URL, and the API server's judgement
of an object against a CRD. Each module cites the upstream source it encodes.
"""
