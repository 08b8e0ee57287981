"""Reusable Pulumi components of omnia-agents; each takes validated config models."""
