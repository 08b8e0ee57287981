"""Hosts the omnia-agents components for other Pulumi languages (schema inferred by the SDK).

The CLI runs `venv/bin/python <this folder>`; the project comes from `requirements.txt` (`-e ..`).
"""

from components.package import host

if __name__ == "__main__":
    host()  # the SDK's component_provider_host, judging raw args first
