"""Dependencies point inward (DESIGN.md): the domain imports no framework; nothing imports api."""

from __future__ import annotations

import ast
import re
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


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_domain_imports_only_the_standard_library_and_eventsourcing_when_parsed(
        path: Path) -> None:
    """An allow-list: a new dependency (cryptography, rich…) belongs in an adapter."""
    siblings = {p.stem for p in path.parent.glob("*.py")}  # the kernel copied side by side
    outside = imported_top_modules(path) - STDLIB - {"eventsourcing", "domain"} - siblings
    assert not outside, f"{path.name} imports {outside}"


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


STDLIB = set(__import__("sys").stdlib_module_names) | {"__future__"}


@pytest.mark.parametrize("path", python_files("domain/ledger") + python_files("domain/rules")
                         + [ROOT / "domain" / "errors.py"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_kernel_and_rules_import_only_the_standard_library_when_parsed(path: Path) -> None:
    """The verification kernel and the shared rules can be copied out and run by a guarantor
    with Python alone: they import the standard library, each other and `domain.errors`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.ImportFrom):  # relative: resolve against the file's package
            package = path.parent.relative_to(ROOT).parts
            base = ".".join(package[:len(package) - node.level + 1])
            modules = [f"{base}.{node.module}" if node.module else
                       f"{base}.{alias.name}" for alias in node.names]
        for module in modules:
            top = module.split(".")[0]
            siblings = {p.stem for p in path.parent.glob("*.py")}  # copied side by side
            allowed = (top in STDLIB or module == "domain.errors" or module in siblings
                       or module.startswith(("domain.ledger", "domain.rules")))
            assert allowed, f"{path.name} imports {module}"


SQL = re.compile(r"\bselect\b.+\bfrom\s+\w|\binsert\s+into\b|\bupdate\s+\w+\s+set\b|"
                 r"\bdelete\s+from\b|\b(create|alter|drop)\s+(table|index)\b|\btruncate\s+\w|"
                 r"\bcopy\s+\w+\s*(\(.*\))?\s*(from|to)\s+(stdin|stdout)",
                 re.IGNORECASE | re.DOTALL)


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_domain_runs_no_sql_when_parsed(path: Path) -> None:
    """SQL belongs to adapters (projections/, wired in api/wiring.py), never to the domain."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not SQL.search(node.value), (
                f"{path.name}:{node.lineno} holds SQL")


def test_the_sql_detector_sees_a_query_when_one_is_present(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('Q = "select notification_id from events"\nU = "UPDATE t SET a = 1"\n')
    tree = ast.parse(sample.read_text())
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)
             and isinstance(n.value, str) and SQL.search(n.value)]
    assert len(found) == 2
