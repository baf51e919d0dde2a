"""What the dashboard folder says about itself (dashboard.json): read by `databank run`'s
"nothing new" check, which must not pay for importing the renderer (Jinja) to ask."""

from __future__ import annotations

import json
from pathlib import Path

# Bump when the pages change shape, so an unchanged build is still rendered anew after an upgrade.
# 2: teams are shown by their registered display name (mart.teams).
# 4: charts written as SVG directly; dashboard.json keeps each page's digest.
DASHBOARD_FORMAT = 4
MARKER = "dashboard.json"


def dashboard_build_id(target: Path) -> tuple[str | None, int | None]:
    """(build_id, format) of the dashboard on disk, or (None, None)."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
        return marker.get("build_id"), marker.get("format")
    except (OSError, ValueError):
        return None, None
