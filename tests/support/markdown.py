"""The docs as the tests read them: the folder, and a page's tables."""

from __future__ import annotations

from pathlib import Path

from offline.inputs import ROOT

DOCS = ROOT / "docs"


def table(path: Path, header: str) -> list[list[str]]:
    """The rows of the markdown table whose header row starts with `header`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows
