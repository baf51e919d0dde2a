"""The landing folder: where stewards drop deliveries and the only place raw identifiers live.
Scanning it and fingerprinting deliveries never reads a cell, only names, sizes and bytes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MONTH_FOLDER = re.compile(r"^[12]\d{3}-(0[1-9]|1[0-2])$")
DELIVERY_FILE_NAMES = ("trajecten.csv", "metingen.csv", "export.xlsx")


@dataclass(frozen=True)
class LandingDelivery:
    """One month folder of one provider folder, named as the steward named them."""

    provider: str
    month: str
    folder: Path


@dataclass(frozen=True)
class DeliveryFingerprint:
    """The bytes' identity: equal bytes give an equal id, so a re-delivery of the same files is
    recognised and changes nothing."""

    delivery_id: str
    files: tuple[tuple[str, str, int], ...]  # (name, sha256, size)

    def files_json(self) -> str:
        return json.dumps([{"name": n, "sha256": h, "size": s} for n, h, s in self.files])


def scan_landing(landing: Path) -> list[LandingDelivery]:
    """Every `<provider>/<month>` folder, sorted; symlinked folders are not followed."""
    found: list[LandingDelivery] = []
    if not landing.is_dir():
        return found
    for provider_dir in sorted(landing.iterdir()):
        if not provider_dir.is_dir() or provider_dir.is_symlink() or provider_dir.name.startswith("."):
            continue
        for month_dir in sorted(provider_dir.iterdir()):
            if month_dir.is_dir() and not month_dir.is_symlink() and not month_dir.name.startswith("."):
                found.append(LandingDelivery(provider_dir.name, month_dir.name, month_dir))
    return found


def delivery_files_in(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and p.name.lower() in DELIVERY_FILE_NAMES
    )


def fingerprint_delivery(provider: str, month: str, folder: Path) -> DeliveryFingerprint:
    files = []
    for path in delivery_files_in(folder):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        files.append((path.name.lower(), digest.hexdigest(), path.stat().st_size))
    identity = hashlib.sha256(
        json.dumps([provider, month, files], separators=(",", ":")).encode()
    ).hexdigest()[:24]
    return DeliveryFingerprint(delivery_id=identity, files=tuple(files))


def is_month_folder(name: str) -> bool:
    return bool(MONTH_FOLDER.match(name))
