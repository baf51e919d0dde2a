"""Small file helpers shared by the reports and the configuration loaders."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def write_text_files(directory: Path, contents: dict[str, str]) -> list[Path]:
    """Each file is written beside its target and renamed into place: a reader (or a crash)
    never meets half a report."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in contents.items():
        path = directory / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(content, encoding="utf-8")
        temporary.replace(path)
        paths.append(path)
    return paths


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text (for line numbers in messages) and the parsed table of a configuration file."""
    from schemas.config import ConfigError, toml_error

    if not path.is_file():
        raise ConfigError(path, None, "file is missing (a new home gets the defaults from `databank run`)")
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_error(path, error) from None
