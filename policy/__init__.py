"""The omnia-agents policy pack: the session rules for any stack that deploys AgentRuntimes.

`rules` holds them as pure functions; `pack` wraps them as pulumi-policy policies.
"""
