"""The static HTML dashboard built from the published analysts' copy (see build.py). The renderer
(Jinja, the charts) is imported on first use: asking what the folder shows (marker.py) is part
of `databank run`'s "nothing new" check and should cost no more than reading a file."""

from __future__ import annotations

from typing import Any

from warehouse.dashboard.marker import DASHBOARD_FORMAT, dashboard_build_id

_FROM_BUILD = ("DashboardResult", "DashboardSettings", "build_dashboard")

__all__ = ["DASHBOARD_FORMAT", "DashboardResult", "DashboardSettings", "build_dashboard",
           "dashboard_build_id"]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the renderer's classes and function
    if name in _FROM_BUILD:
        from warehouse.dashboard import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
