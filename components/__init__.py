"""The Pulumi components of omnia-agents (ComponentResources), and the `deploy()` they share.

Each takes validated settings models (`settings.models`), never `pulumi.Config`, and builds its
objects from the pure functions in `upstream`.
"""
