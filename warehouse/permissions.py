"""Who may read what under the home (PRIVACY.md §2), set by the code instead of left to the umask.

Under the usual umask 022 the warehouse, reports and Dagster's storage were readable by every
account on the machine (issue 12). The rule now:

- the restricted parts (warehouse/, reports/, dagster/, the key's folder, the landing folder
  when this code creates it, and every temporary or state file beside them) are their owner's
  only: folders 0700, files 0600;
- the published copy (publish/analyst.duckdb, publish/dashboard/, the data dictionary) is
  readable by the owner's group, the consortium's analysts: folders 0750, files 0640; never by
  others;
- the home folder itself, when this code creates it, is 0750, so the group can reach publish/.

Files written by DuckDB and Dagster cannot be given a mode one by one, so every process that
writes the home sets its umask to 077 first (`write_owner_only`: `DatabankHome.prepare`, and the
Dagster code location for runs the daemon starts), and the publishers open what they publish to
the group explicitly (`share_with_group`), before it is renamed into place. A home made by an
older version (0644 files) is tightened by the next command that prepares it (`restrict_tree`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
SHARED_FOLDER, SHARED_FILE = 0o750, 0o640


def write_owner_only() -> None:
    """From here on everything this process creates (our files, DuckDB's, Dagster's) is its
    owner's only, whatever umask it was started with."""
    os.umask(OWNER_ONLY_UMASK)


def _walk(folder: str, folder_mode: int, file_mode: int) -> None:
    """Below `folder`: every folder and file set to its mode when it differs. Symbolic links are
    never followed nor changed (a link in the home must not open or close a file elsewhere)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                continue
            is_folder = entry.is_dir(follow_symlinks=False)
            wanted = folder_mode if is_folder else file_mode
            if stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != wanted:
                os.chmod(entry.path, wanted)
            if is_folder:
                _walk(entry.path, folder_mode, file_mode)


def _apply_tree(root: Path, folder_mode: int, file_mode: int) -> None:
    if root.is_symlink() or not root.exists():
        return
    info = root.lstat()
    wanted = folder_mode if stat.S_ISDIR(info.st_mode) else file_mode
    if stat.S_ISDIR(info.st_mode):
        _walk(str(root), folder_mode, file_mode)
    if stat.S_IMODE(info.st_mode) != wanted:
        os.chmod(root, wanted)


def restrict_tree(root: Path) -> None:
    """Folders 0700 and files 0600 under (and including) `root`."""
    _apply_tree(root, PRIVATE_FOLDER, PRIVATE_FILE)


def share_with_group(path: Path) -> None:
    """A published file 0640, or a published folder 0750 with its files 0640."""
    _apply_tree(path, SHARED_FOLDER, SHARED_FILE)
