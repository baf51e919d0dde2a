"""warehouse/permissions.py: trees are set to exactly the rule's modes, and a symbolic link in the
home never carries a change to a file elsewhere."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from warehouse.permissions import restrict_tree, share_with_group


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def make_tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    for path in (root / "top.txt", root / "a" / "mid.txt", root / "a" / "b" / "deep.txt"):
        path.write_text("x", encoding="utf-8")
        path.chmod(0o644)
    for folder in (root, root / "a", root / "a" / "b"):
        folder.chmod(0o775)


def test_restrict_tree_makes_folders_0700_and_files_0600(tmp_path: Path) -> None:
    make_tree(tmp_path / "r")
    restrict_tree(tmp_path / "r")
    for path in [tmp_path / "r", *(tmp_path / "r").rglob("*")]:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_share_with_group_makes_folders_0750_and_files_0640(tmp_path: Path) -> None:
    make_tree(tmp_path / "p")
    (tmp_path / "p" / "top.txt").chmod(0o600)
    share_with_group(tmp_path / "p")
    for path in [tmp_path / "p", *(tmp_path / "p").rglob("*")]:
        assert mode(path) == (0o750 if path.is_dir() else 0o640), path
    single = tmp_path / "single.duckdb"
    single.write_bytes(b"")
    single.chmod(0o600)
    share_with_group(single)
    assert mode(single) == 0o640


def test_links_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "theirs.txt").write_text("x", encoding="utf-8")
    (outside / "theirs.txt").chmod(0o644)
    outside.chmod(0o755)
    make_tree(tmp_path / "r")
    os.symlink(outside, tmp_path / "r" / "linked-folder")
    os.symlink(outside / "theirs.txt", tmp_path / "r" / "linked-file")
    restrict_tree(tmp_path / "r")
    assert mode(outside) == 0o755 and mode(outside / "theirs.txt") == 0o644
    assert mode(tmp_path / "r" / "a") == 0o700
