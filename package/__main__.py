"""Hosts the omnia-agents components for other Pulumi languages (schema inferred by the SDK).

The CLI runs `venv/bin/python <this folder>`; the project comes from `requirements.txt` (`-e ..`).
"""

from pulumi.provider.experimental import component_provider_host

from components.package import COMPONENTS, PACKAGE, VERSION

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE, version=VERSION)
