"""omnia-agents policy pack: the session rules for every stack that deploys AgentRuntimes.

`pulumi preview --policy-pack policy/` from any project. The rules live in the project's own
modules (`components/`), imported from the folder above this one: keep the pack inside its
checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from pack import policy_pack  # noqa: E402

policy_pack()
