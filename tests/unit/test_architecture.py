"""Dependencies point inward (DESIGN.md): the domain imports no framework; nothing imports api."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = {"temporalio", "fastapi", "psycopg", "psycopg_pool", "pydantic",
                       "pydantic_settings", "uvicorn", "starlette", "httpx"}


def imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: p.name)
def test_domain_module_imports_no_framework_when_parsed(path: Path) -> None:
    imports = imported_top_modules(path)
    assert not imports & FORBIDDEN_IN_DOMAIN, f"{path.name} imports {imports & FORBIDDEN_IN_DOMAIN}"
    assert not imports & {"api", "workflows", "projections"}


@pytest.mark.parametrize(
    "path", python_files("workflows") + python_files("projections") + python_files("domain"),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_nothing_imports_api_when_outside_api(path: Path) -> None:
    assert "api" not in imported_top_modules(path)


def test_projections_do_not_import_workflows_when_parsed() -> None:
    for path in python_files("projections"):
        assert "workflows" not in imported_top_modules(path), path.name


def test_the_detector_sees_an_import_when_one_is_present(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fastapi import APIRouter\nimport psycopg.sql\n")
    assert imported_top_modules(sample) == {"fastapi", "psycopg"}
