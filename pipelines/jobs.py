"""Jobs: the per-delivery ingest and the warehouse rebuild. Both write the warehouse, so both
carry the tag whose run-queue limit is 1 (dagster.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.dashboard import dashboard
from assets.deliveries import WAREHOUSE_WRITE_TAGS, pseudonymised_delivery, staged_delivery
from assets.marts import analyst_copy, warehouse_build, warehouse_quality
from assets.partitions import delivery_partitions

ingest_job = dg.define_asset_job(
    "ingest_deliveries",
    selection=dg.AssetSelection.assets(pseudonymised_delivery, staged_delivery),
    partitions_def=delivery_partitions,
    tags=WAREHOUSE_WRITE_TAGS,
    description="Read, pseudonymise, validate and stage the deliveries of the run's partitions.",
)

rebuild_job = dg.define_asset_job(
    "rebuild_and_publish",
    selection=dg.AssetSelection.assets(warehouse_build, warehouse_quality, analyst_copy, dashboard),
    tags=WAREHOUSE_WRITE_TAGS,
    description="Rebuild core and marts from staging, check them, republish the analysts' copy "
    "and its data dictionary, and rebuild the dashboard from it.",
)
