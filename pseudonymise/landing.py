"""The landing folder: where stewards drop deliveries and the only place raw identifiers live.
Scanning it and fingerprinting deliveries never reads a cell, only names, sizes and bytes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DELIVERY_FILE_NAMES = ("trajecten.csv", "metingen.csv", "export.xlsx")
# A file changed this recently may still be being written: it is left for a later look.
STABLE_SECONDS = 10.0


@dataclass(frozen=True)
class LandingDelivery:
    """One month folder of one provider folder, named as the steward named them."""

    provider: str
    month: str
    folder: Path
    is_link: bool = False  # a symlinked provider or month folder: refused, never followed


@dataclass(frozen=True)
class DeliveryFingerprint:
    """The bytes' identity: equal bytes give an equal id, so a re-delivery of the same files is
    recognised and changes nothing."""

    delivery_id: str
    files: tuple[tuple[str, str, int], ...]  # (name, sha256, size)

    def files_json(self) -> str:
        return json.dumps([{"name": n, "sha256": h, "size": s} for n, h, s in self.files])


def scan_landing(landing: Path) -> list[LandingDelivery]:
    """Every `<provider>/<month>` folder, sorted. A symlinked folder is listed as such so it can
    be refused with a report, and is never entered."""
    found: list[LandingDelivery] = []
    if not landing.is_dir():
        return found
    for provider_dir in sorted(landing.iterdir()):
        if provider_dir.name.startswith("."):
            continue
        if provider_dir.is_symlink():
            found.append(LandingDelivery(provider_dir.name, "(link)", provider_dir, is_link=True))
            continue
        if not provider_dir.is_dir():
            continue
        for month_dir in sorted(provider_dir.iterdir()):
            if month_dir.name.startswith("."):
                continue
            if month_dir.is_symlink():
                found.append(LandingDelivery(provider_dir.name, month_dir.name, month_dir, is_link=True))
            elif month_dir.is_dir():
                found.append(LandingDelivery(provider_dir.name, month_dir.name, month_dir))
    return found


def delivery_files_in(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and p.name.lower() in DELIVERY_FILE_NAMES
    )


def remove_processed_delivery(provider: str, month: str, folder: Path, delivery_id: str) -> bool:
    """Delete a processed delivery's files, unless newer bytes were dropped meanwhile (those are
    a new delivery, still to be processed). An emptied month folder goes too."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    if fingerprint_delivery(provider, month, folder).delivery_id != delivery_id:
        return False
    for path in delivery_files_in(folder):
        path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()
    return True


def is_stable(folder: Path, now: float, files: list[Path] | None = None) -> bool:
    files = delivery_files_in(folder) if files is None else files
    return all(p.stat().st_mtime <= now - STABLE_SECONDS for p in files)


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
