"""Which Dagster runs read a set of pending deliveries, and nothing else.

Dagster reads a multi-partition key range as a box: the months of the range times the providers
of the range, each dimension in its own order (calendar months; providers in the order they were
added to the dynamic partitions). A range between two keys of the linear key order is NOT a slice
of that order: `2025-07|ritmeester … 2025-08|lindenhof` is empty when ritmeester comes after
lindenhof, and a run over it reads nothing and succeeds (issue 11). So a run here is always a box
every cell of which is pending: consecutive months × consecutive providers. A first load of a
regular grid is one box; a late provider or a correction adds a few. The caller checks each box
against Dagster's own expansion of the range before it launches the run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryBox:
    months: tuple[str, ...]  # consecutive calendar months, "YYYY-MM"
    providers: tuple[str, ...]  # consecutive in Dagster's provider order

    def cells(self) -> set[tuple[str, str]]:
        return {(p, m) for m in self.months for p in self.providers}

    def describe(self) -> str:
        months = self.months[0] if len(self.months) == 1 else f"{self.months[0]} to {self.months[-1]}"
        providers = ", ".join(self.providers)
        n = len(self.months) * len(self.providers)
        return f"{n} {'delivery' if n == 1 else 'deliveries'} ({providers}; {months})"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def delivery_boxes(pending: Iterable[tuple[str, str]], provider_order: Sequence[str]) -> list[DeliveryBox]:
    """Cover the pending (provider, month) cells exactly with few boxes: per month, maximal runs of
    providers adjacent in Dagster's order; a run continues the box of the previous calendar month
    with the same providers. Every cell lands in exactly one box."""
    position = {provider: index for index, provider in enumerate(provider_order)}
    by_month: dict[str, list[str]] = {}
    for provider, month in set(pending):
        if provider not in position:
            raise ValueError(f"provider {provider!r} is not a Dagster partition yet")
        by_month.setdefault(month, []).append(provider)

    boxes: list[DeliveryBox] = []
    open_boxes: dict[tuple[str, ...], int] = {}  # providers -> index of the box ending last month
    for month in sorted(by_month):
        still_open: dict[tuple[str, ...], int] = {}
        for run in _adjacent_runs(sorted(by_month[month], key=position.__getitem__), position):
            index = open_boxes.get(run)
            if index is not None and next_month(boxes[index].months[-1]) == month:
                boxes[index] = DeliveryBox((*boxes[index].months, month), run)
            else:
                index = len(boxes)
                boxes.append(DeliveryBox((month,), run))
            still_open[run] = index
        open_boxes = still_open
    return boxes


def _adjacent_runs(providers: list[str], position: dict[str, int]) -> list[tuple[str, ...]]:
    runs: list[list[str]] = []
    for provider in providers:
        if runs and position[provider] == position[runs[-1][-1]] + 1:
            runs[-1].append(provider)
        else:
            runs.append([provider])
    return [tuple(run) for run in runs]
