"""The landing folder (delivery-format.md §1): the same bytes are the same delivery, any change
is a new one, and scanning lists `<provider>/<YYYY-MM>` folders without following links."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pseudonymise.landing import (
    LandingDelivery,
    delivery_files_in,
    fingerprint_delivery,
    scan_landing,
)
from schemas.delivery import is_month_folder


def make_delivery(folder: Path, trajecten: bytes = b"traject_id;team\nT1;A\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trajecten.csv").write_bytes(trajecten)
    (folder / "metingen.csv").write_bytes(b"traject_id;score\nT1;64\n")
    return folder


def test_fingerprint_delivery_equal_for_the_same_bytes(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "a")
    copy = tmp_path / "b"
    shutil.copytree(folder, copy)
    first = fingerprint_delivery("de-boog", "2025-03", folder)
    assert fingerprint_delivery("de-boog", "2025-03", folder) == first
    assert fingerprint_delivery("de-boog", "2025-03", copy) == first
    names = [name for name, _, _ in first.files]
    assert names == ["metingen.csv", "trajecten.csv"]
    assert all(len(digest) == 64 for _, digest, _ in first.files)


def test_fingerprint_delivery_differs_after_a_one_byte_change(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "d")
    before = fingerprint_delivery("de-boog", "2025-03", folder)
    data = bytearray((folder / "trajecten.csv").read_bytes())
    data[-2] = ord("B")  # "A" -> "B": same size, one byte different
    (folder / "trajecten.csv").write_bytes(bytes(data))
    after = fingerprint_delivery("de-boog", "2025-03", folder)
    assert after.delivery_id != before.delivery_id
    assert dict((n, s) for n, _, s in after.files) == dict((n, s) for n, _, s in before.files)
    assert dict((n, h) for n, h, _ in after.files)["trajecten.csv"] != (
        dict((n, h) for n, h, _ in before.files)["trajecten.csv"]
    )
    assert dict((n, h) for n, h, _ in after.files)["metingen.csv"] == (
        dict((n, h) for n, h, _ in before.files)["metingen.csv"]
    )


def test_fingerprint_delivery_depends_on_provider_and_month(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "d")
    base = fingerprint_delivery("de-boog", "2025-03", folder).delivery_id
    assert fingerprint_delivery("de-boog", "2025-04", folder).delivery_id != base
    assert fingerprint_delivery("horizon-jeugd", "2025-03", folder).delivery_id != base


def test_fingerprint_delivery_ignores_files_outside_the_format(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "d")
    before = fingerprint_delivery("de-boog", "2025-03", folder)
    (folder / "toelichting.txt").write_text("anything", encoding="utf-8")
    (folder / ".~lock.trajecten.csv#").write_text("lock", encoding="utf-8")
    assert fingerprint_delivery("de-boog", "2025-03", folder) == before


def test_fingerprint_delivery_files_json_names_hashes_and_sizes(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "d")
    fingerprint = fingerprint_delivery("de-boog", "2025-03", folder)
    text = fingerprint.files_json()
    assert '"name": "trajecten.csv"' in text
    assert str((folder / "trajecten.csv").stat().st_size) in text
    assert "T1" not in text  # no cell content


def test_delivery_files_in_skips_symlinks(tmp_path: Path) -> None:
    folder = make_delivery(tmp_path / "d")
    elsewhere = tmp_path / "elsewhere.xlsx"
    elsewhere.write_bytes(b"PK")
    os.symlink(elsewhere, folder / "export.xlsx")
    assert [p.name for p in delivery_files_in(folder)] == ["metingen.csv", "trajecten.csv"]


def test_scan_landing_lists_provider_month_folders_sorted(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for provider, month in [
        ("horizon-jeugd", "2025-02"), ("de-boog", "2025-03"), ("horizon-jeugd", "2025-01"),
        ("de-boog", "2025-01"), ("de-boog", "2024-12"),
    ]:
        (landing / provider / month).mkdir(parents=True)
    (landing / "de-boog" / "notes.txt").write_text("x", encoding="utf-8")
    (landing / "README.txt").write_text("x", encoding="utf-8")
    found = scan_landing(landing)
    assert [(d.provider, d.month) for d in found] == [
        ("de-boog", "2024-12"), ("de-boog", "2025-01"), ("de-boog", "2025-03"),
        ("horizon-jeugd", "2025-01"), ("horizon-jeugd", "2025-02"),
    ]
    assert found[0] == LandingDelivery("de-boog", "2024-12", landing / "de-boog" / "2024-12")


def test_scan_landing_keeps_invalid_month_names_for_the_validator(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "de-boog" / "maart").mkdir(parents=True)
    assert [(d.provider, d.month) for d in scan_landing(landing)] == [("de-boog", "maart")]


def test_scan_landing_lists_symlinked_folders_as_links_without_entering_them(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "de-boog" / "2025-01").mkdir(parents=True)
    outside = tmp_path / "outside"
    (outside / "2025-01").mkdir(parents=True)
    os.symlink(outside, landing / "linked-provider", target_is_directory=True)
    os.symlink(outside / "2025-01", landing / "de-boog" / "2025-02", target_is_directory=True)
    found = scan_landing(landing)
    assert [(d.provider, d.month) for d in found if not d.is_link] == [("de-boog", "2025-01")]
    # Listed so that they can be refused with a report; the linked provider is not entered.
    assert sorted((d.provider, d.month) for d in found if d.is_link) == [
        ("de-boog", "2025-02"), ("linked-provider", "(link)")
    ]


def test_scan_landing_skips_dot_folders(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "de-boog" / "2025-01").mkdir(parents=True)
    (landing / "de-boog" / ".2025-02").mkdir()
    (landing / "de-boog" / ".staging").mkdir()
    (landing / ".trash" / "2025-01").mkdir(parents=True)
    found = scan_landing(landing)
    assert [(d.provider, d.month) for d in found] == [("de-boog", "2025-01")]


def test_scan_landing_missing_folder_is_empty(tmp_path: Path) -> None:
    assert scan_landing(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2025-01", True), ("2025-12", True), ("2025-13", False), ("2025-00", False),
     ("2025-1", False), ("202501", False), ("2025-01 ", False), ("maart", False)],
)
def test_is_month_folder(name: str, expected: bool) -> None:
    assert is_month_folder(name) is expected
