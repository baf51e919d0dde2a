"""Where configuration files are read from (interfaces.md, additions 1.2 item 3): a folder that
lacks any file but consortium.toml uses the shipped defaults for it, and fingerprints exactly as
if the default were in the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schemas.anonymity import load_anonymity_config, load_privacy_config
from schemas.config import (
    CONFIG_FILES,
    CONSORTIUM_FILE,
    INSTRUMENTS_FILE,
    PRIVACY_FILE,
    QUALITY_FILE,
    SHIPPED_DEFAULTS,
    ConfigError,
    config_file,
    config_fingerprint,
    defaults_note,
    defaults_used,
    install_default_config,
    load_config,
)
from schemas.quality import load_delivery_quality_config


def only_consortium(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(SHIPPED_DEFAULTS / CONSORTIUM_FILE, folder / CONSORTIUM_FILE)
    return folder


def test_config_file_falls_back_to_the_shipped_default_for_all_but_consortium_toml(tmp_path: Path) -> None:
    folder = only_consortium(tmp_path / "config")
    assert config_file(folder, CONSORTIUM_FILE) == folder / CONSORTIUM_FILE
    for name in (INSTRUMENTS_FILE, QUALITY_FILE, PRIVACY_FILE):
        assert config_file(folder, name) == SHIPPED_DEFAULTS / name
    assert defaults_used(folder) == (INSTRUMENTS_FILE, QUALITY_FILE, PRIVACY_FILE)
    assert defaults_used(folder, (QUALITY_FILE,)) == (QUALITY_FILE,)
    note = defaults_note(folder)
    assert note is not None and "instruments.csv, quality.toml, privacy.toml" in note and str(folder) in note
    # The loaders all follow the one rule.
    assert load_config(folder).registry == load_config(SHIPPED_DEFAULTS).registry
    assert load_delivery_quality_config(folder) == load_delivery_quality_config(SHIPPED_DEFAULTS)
    assert load_anonymity_config(folder) == load_privacy_config(SHIPPED_DEFAULTS / PRIVACY_FILE)


def test_a_folder_with_every_file_uses_its_own_and_says_nothing(tmp_path: Path) -> None:
    install_default_config(tmp_path)
    assert all(config_file(tmp_path, name) == tmp_path / name for name in CONFIG_FILES)
    assert defaults_used(tmp_path) == () and defaults_note(tmp_path) is None


def test_consortium_toml_has_no_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert error.value.path == tmp_path / CONSORTIUM_FILE


def test_a_missing_file_fingerprints_as_the_shipped_default_would(tmp_path: Path) -> None:
    """Copying the default in, or deleting an unedited copy, re-judges nothing; editing does."""
    partial = only_consortium(tmp_path / "partial")
    complete = tmp_path / "complete"
    shutil.copytree(partial, complete)
    install_default_config(complete)
    assert config_fingerprint(partial) == config_fingerprint(complete)
    quality = complete / QUALITY_FILE
    quality.write_text(quality.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert config_fingerprint(partial) != config_fingerprint(complete)


def test_a_misspelt_consortium_section_is_refused_naming_its_line(tmp_path: Path) -> None:
    """`[suppresion] k = 20` used to be ignored without a word: k stayed 10, the consortium
    believed it was 20."""
    from schemas.config import ConfigError, _load_consortium

    path = tmp_path / "consortium.toml"
    base = '[providers]\np1 = "Een"\n\n[interventions]\nI1 = "X"\n\n'
    path.write_text(base + "[suppresion]\nk = 20\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        _load_consortium(path)
    assert error.value.line == 7 and "unknown section [suppresion]" in error.value.problem
    path.write_text(base + "[suppression]\nk = 20\n", encoding="utf-8")
    assert _load_consortium(path)["k"] == 20


@pytest.mark.parametrize(("section", "setting", "expected"), [
    ("validation", "reject_shar = 0.5", "[validation] has no setting 'reject_shar'"),
    ("suppression", "kk = 20", "[suppression] has no setting 'kk'"),
    ("validation", None, "[validation] must be a table"),
])
def test_a_misspelt_setting_is_refused_naming_its_line(
    tmp_path: Path, section: str, setting: str | None, expected: str
) -> None:
    """`reject_shar = 0.5` was ignored without a word: the share stayed 10 %."""
    from schemas.config import ConfigError, _load_consortium

    path = tmp_path / "consortium.toml"
    base = '[providers]\np1 = "Een"\n\n[interventions]\nI1 = "X"\n\n'
    # a top-level `validation = 3` (not a table) must come before the first table
    text = base + f"[{section}]\n{setting}\n" if setting else f"{section} = 3\n" + base
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        _load_consortium(path)
    assert error.value.line == (8 if setting else 1) and expected in error.value.problem
