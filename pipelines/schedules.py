"""The nightly rebuild and republication, at a fixed local time."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import rebuild_job

nightly_rebuild = dg.ScheduleDefinition(
    name="nightly_rebuild",
    job=rebuild_job,
    cron_schedule="30 2 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild core and marts and republish the analysts' copy every night.",
)
