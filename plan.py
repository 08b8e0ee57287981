"""Offline plan and change preview of a stack (docs/offline-plan.md): `python plan.py dev`."""

import sys

from offline.cli import main

if __name__ == "__main__":
    sys.exit(main())
