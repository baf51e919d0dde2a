"""The static HTML dashboard built from the published analysts' copy (see build.py)."""

from warehouse.dashboard.build import (
    DASHBOARD_FORMAT,
    DashboardResult,
    DashboardSettings,
    build_dashboard,
    dashboard_build_id,
)

__all__ = ["DASHBOARD_FORMAT", "DashboardResult", "DashboardSettings", "build_dashboard",
           "dashboard_build_id"]
