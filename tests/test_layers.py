"""Layers that only point down (README, Layout): `schemas/` is the contract and imports no other
package of ours; `pseudonymise/` may use the contract but nothing above it (`warehouse/`,
`assets/`, `pipelines/`). Read from the source with `ast`, so an import inside a function, under
`TYPE_CHECKING` or through `importlib` counts as much as one at the top of the module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> our packages it must never import
FORBIDDEN = {
    "schemas": ("pseudonymise", "warehouse", "assets", "pipelines"),
    "pseudonymise": ("warehouse", "assets", "pipelines"),
}


def imported_modules(source: str, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, module) for every import in the source, wherever it stands. `package` is the
    dotted package the module lives in, to resolve relative imports."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join([*base, node.module] if node.module else base)
                names = [f"{module}.{alias.name}" if module else alias.name for alias in node.names]
                found.extend((node.lineno, name) for name in names)
            else:
                found.append((node.lineno, node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def upward_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Every import of a forbidden package by a module of `package`, as 'file:line imports x'."""
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules under {package}/: the check would pass on nothing"
    wrong: list[str] = []
    for path in modules:
        relative = path.relative_to(ROOT)
        for line, module in imported_modules(path.read_text(encoding="utf-8"), relative.parent.parts):
            if module.split(".")[0] in forbidden:
                wrong.append(f"{relative.as_posix()}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_nothing_above_them(package: str) -> None:
    wrong = upward_imports(package, FORBIDDEN[package])
    assert not wrong, f"{package}/ must not import {', '.join(FORBIDDEN[package])}:\n" + "\n".join(wrong)


def test_layers_finds_imports_at_module_level_in_functions_and_relative() -> None:
    source = (
        "import pseudonymise.intake\n"
        "from warehouse import ledger\n"
        "def late():\n"
        "    from assets.deliveries import x\n"
        "    import importlib\n"
        "    importlib.import_module('pipelines.cli')\n"
        "from ..pseudonymise.read import RawTable\n"
        "from . import delivery\n"
        "from .faults import Fault\n"
        "import pandas\n"
    )
    assert sorted(imported_modules(source, ("schemas",))) == [
        (1, "pseudonymise.intake"),
        (2, "warehouse"),
        (4, "assets.deliveries"),
        (5, "importlib"),
        (6, "pipelines.cli"),
        (7, "pseudonymise.read.RawTable"),
        (8, "schemas.delivery"),
        (9, "schemas.faults.Fault"),
        (10, "pandas"),
    ]
