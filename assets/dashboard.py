"""The static HTML dashboard under publish/dashboard/, rebuilt from the analysts' copy after each
publication (warehouse/dashboard). Metadata holds counts of pages only, never a figure."""

import dagster as dg

from assets.resources import HomeResource
from warehouse.dashboard import (
    DASHBOARD_FORMAT,
    DashboardSettings,
    build_dashboard,
    dashboard_build_id,
)
from warehouse.home import DatabankHome
from warehouse.publish import published_build_id

ANALYST_COPY = dg.AssetKey(["publish", "analyst_copy"])
DASHBOARD = dg.AssetKey(["publish", "dashboard"])


def dashboard_settings(databank: DatabankHome) -> DashboardSettings:
    """The consortium's names, k and the names decision, as the pages need them."""
    config = databank.config()
    return DashboardSettings(
        k=config.k,
        providers=config.providers,
        interventions=config.interventions,
        show_organisation_names=config.show_organisation_names,
        higher_is_worse={(i.instrument, i.schaal): i.higher_is_worse for i in config.registry.instruments},
    )


@dg.asset(
    key=DASHBOARD,
    deps=[ANALYST_COPY],
    group_name="marts",
    kinds={"html"},
    description="publish/dashboard/: static pages for the consortium and each organisation, "
    "opened from disk; built from the analysts' copy only.",
)
def dashboard(home: HomeResource) -> dg.MaterializeResult:
    databank = home.home
    build_id = published_build_id(databank.publication)
    if build_id is not None and dashboard_build_id(databank.dashboard) == (build_id, DASHBOARD_FORMAT):
        # The same build as the pages already show (a nightly with nothing new); a changed
        # configuration means a new build, so names and k cannot be stale here.
        return dg.MaterializeResult(metadata={"unchanged": True})
    result = build_dashboard(databank.publication, databank.dashboard, dashboard_settings(databank))
    return dg.MaterializeResult(metadata={
        "unchanged": False, "pages": result.pages, "organisation_pages": result.organisation_pages,
        "charts": result.charts, "pages_drawn": result.pages_drawn, "path": str(databank.dashboard),
    })
