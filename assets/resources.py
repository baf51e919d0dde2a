"""Resources: where the home is and how the key is obtained. Tests give a temporary home and a
real test key; nothing here reads the key until a step needs it."""


from pathlib import Path

import dagster as dg

from pseudonymise.keys import KeyRing, load_key_ring
from warehouse.home import DatabankHome


class HomeResource(dg.ConfigurableResource):
    """The databank home folder (interfaces.md): landing, warehouse, publication, reports."""

    root: str

    @property
    def home(self) -> DatabankHome:
        return DatabankHome(Path(self.root))


class KeyResource(dg.ConfigurableResource):
    """The pseudonymisation key, read from its file at the moment it is needed, never stored in
    config or metadata (only the path is configuration)."""

    key_file: str

    def load(self) -> KeyRing:
        return load_key_ring(Path(self.key_file))
