"""Hosts the omnia-agents components for other Pulumi languages (schema inferred by the SDK)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout `pulumi package add` cloned
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components.package import COMPONENTS, PACKAGE, VERSION  # noqa: E402

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE, version=VERSION)
