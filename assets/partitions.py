"""A delivery is one provider and one reporting month: the partition of every per-delivery
asset. Providers are discovered from the landing folder, months are calendar months."""

from __future__ import annotations

import dagster as dg

from schemas.delivery import FIRST_MONTH

MONTH_FORMAT = "%Y-%m"

provider_partitions = dg.DynamicPartitionsDefinition(name="provider")
# end_offset=2: the current UTC month and the next are partitions. Dagster's calendar is UTC, while
# whether a month lies in the future is judged on the consortium's day (schemas.check
# folder_faults, before Dagster is asked): on 1 December 00:30 in Amsterdam, December must
# already be a partition although it is still November in UTC. A future month never gets here.
month_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, fmt=MONTH_FORMAT, end_offset=2
)
delivery_partitions = dg.MultiPartitionsDefinition(
    {"provider": provider_partitions, "month": month_partitions}
)


def delivery_partition_key(provider: str, month: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"provider": provider, "month": month})


def provider_and_month(partition_key: str) -> tuple[str, str]:
    key = delivery_partitions.get_partition_key_from_str(partition_key)
    dimensions = key.keys_by_dimension
    return dimensions["provider"], dimensions["month"]
