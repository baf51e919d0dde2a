"""The home folder (interfaces.md): all state lives under DATABANK_HOME. The default for a
checkout is outside the repository (~/.local/share/databank), so keys and data never sit in it."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.config import (
    CONSORTIUM_FILE,
    QUALITY_FILE,
    ConsortiumConfig,
    config_file,
    install_default_config,
    load_config,
)
from warehouse.permissions import SHARED_FOLDER, restrict_tree, write_owner_only

if TYPE_CHECKING:
    from schemas.quality import QualityConfig

DEFAULT_HOME = Path.home() / ".local" / "share" / "databank"
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where dagster.yaml ships


@dataclass(frozen=True)
class DatabankHome:
    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "databank.duckdb"

    @property
    def publication(self) -> Path:
        return self.root / "publish" / "analyst.duckdb"

    @property
    def dashboard(self) -> Path:
        """The static HTML dashboard, rebuilt from the published copy after each publication."""
        return self.root / "publish" / "dashboard"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def key_file(self) -> Path:
        override = os.environ.get("DATABANK_KEY_FILE")
        return Path(override).expanduser().resolve() if override else self.root / "secrets" / "pseudonym.key"

    def report_dir(self, provider: str, month: str) -> Path:
        return self.reports / provider / month

    def config(self) -> ConsortiumConfig:
        return load_config(self.config_dir)

    def quality_config(self) -> QualityConfig:
        """Thresholds for every data-quality check the pipeline runs (config/quality.toml)."""
        from schemas.quality import DELIVERY_CHECKS, load_quality_config
        from warehouse.quality import WAREHOUSE_CHECK_IDS

        return load_quality_config(
            config_file(self.config_dir, QUALITY_FILE), set(DELIVERY_CHECKS) | set(WAREHOUSE_CHECK_IDS)
        )

    @property
    def databank_reports(self) -> Path:
        """Reports about the warehouse as a whole; `_` cannot start a provider code."""
        return self.reports / "_databank"

    def create_root(self) -> None:
        """A missing home folder is made 0750 (its parents as the caller's umask says), so the
        analysts' group can reach publish/ and nothing else (warehouse/permissions.py)."""
        if not self.root.exists():
            self.root.mkdir(parents=True)
            os.chmod(self.root, SHARED_FOLDER)

    def prepare(self) -> None:
        """A new home gets its folders, the shipped configuration and Dagster's instance file.
        An existing configuration folder is the consortium's and is left as it is: a file it
        lacks is read from the shipped defaults (schemas.config.config_file), and the commands
        say so, rather than a copy being slipped in that later upgrades would not reach.

        Every command that writes the home comes through here, so from here on the process
        writes owner-only (warehouse/permissions.py); the restricted parts of an existing home
        are tightened (0700/0600), and publish/ is opened to the group (0750). A home folder
        this creates is 0750; an existing one, the landing folder and the configuration keep the
        modes the consortium gave them (the drop-off of deliveries may need its own)."""
        self.create_root()
        write_owner_only()
        for folder in (self.landing, self.warehouse.parent, self.reports, self.dagster_home):
            folder.mkdir(exist_ok=True)
        self.publication.parent.mkdir(exist_ok=True)
        os.chmod(self.publication.parent, SHARED_FOLDER)
        if not (self.config_dir / CONSORTIUM_FILE).exists():
            install_default_config(self.config_dir)
        instance_file = self.dagster_home / "dagster.yaml"
        template = PROJECT_ROOT / "dagster.yaml"
        if template.is_file() and (
            not instance_file.exists() or instance_file.read_bytes() != template.read_bytes()
        ):
            shutil.copyfile(template, instance_file)
        for restricted in (self.warehouse.parent, self.reports, self.dagster_home):
            restrict_tree(restricted)


def resolve_home() -> DatabankHome:
    root = os.environ.get("DATABANK_HOME")
    return DatabankHome(Path(root).expanduser().resolve() if root else DEFAULT_HOME)
