"""The pack's modules (`rules`, `pack`) import as the policy runtime imports them."""

from __future__ import annotations

import sys
from pathlib import Path

POLICY = Path(__file__).resolve().parents[1]
if str(POLICY) not in sys.path:
    sys.path.insert(0, str(POLICY))
