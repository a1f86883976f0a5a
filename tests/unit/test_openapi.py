"""The OpenAPI documents every refusal once (`ErrorResponse`) and declares it on each route."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import build_app
from api.settings import Settings

WRITE_STATUSES = {"401", "403", "404", "409", "413", "422"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = build_app(settings=Settings(jwt_secret="x" * 48), registre=None, views=None,
                    merkle_log=None, compliance=None, ledger_key=None,
                    witness_vkey=lambda: None)  # type: ignore[arg-type]  # only the routes
    return app.openapi()


def _operations(spec: dict[str, Any], write: bool) -> list[tuple[str, str, dict[str, Any]]]:
    methods = ("post", "put", "patch", "delete") if write else ("get",)
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in methods]


def test_every_write_route_documents_the_error_body_when_walked(spec: dict[str, Any]) -> None:
    writes = _operations(spec, write=True)
    assert len(writes) >= 20
    for path, method, op in writes:
        documented = {
            code for code, answer in op["responses"].items()
            if answer.get("content", {}).get("application/json", {}).get("schema", {}).get(
                "$ref") == "#/components/schemas/ErrorResponse"}
        assert WRITE_STATUSES <= documented, f"{method.upper()} {path}: {sorted(documented)}"


def test_every_write_route_names_its_roles_and_the_read_your_writes_preference_when_walked(
    spec: dict[str, Any],
) -> None:
    for path, method, op in _operations(spec, write=True):
        assert op.get("x-roles"), f"{method.upper()} {path} declares no role"
        headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        assert "prefer" in headers, f"{method.upper()} {path}"


def test_read_routes_document_their_422_as_the_error_body_when_walked(
    spec: dict[str, Any],
) -> None:
    for path, method, op in _operations(spec, write=False):
        if "422" in op["responses"]:
            schema = op["responses"]["422"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, path


def test_error_body_is_documented_once_with_rule_message_and_explication_when_generated(
    spec: dict[str, Any],
) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # replaced, not beside
    detail = schemas["ErrorDetail"]
    assert {"rule", "message", "explication"} <= set(detail["required"])
    assert schemas["ErrorResponse"]["properties"]["detail"] == {
        "$ref": "#/components/schemas/ErrorDetail"}
