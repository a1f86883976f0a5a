"""A hostile corpus posted to every write route of the API (real PostgreSQL, the projection
runner following the log): the routes are discovered from the app, so a new route is covered.

For each write route: each text field gets NUL, lone surrogates, C0/C1 controls, ANSI
escapes, bidirectional overrides and an oversized text; each number NaN, ±Infinity, 1e999
and 10**30; each body is also sent oversized (declared and streamed), not UTF-8, nested too
deeply; each id in the path is another aggregate's id, an unknown one, or 2**63. The API
must answer 4xx with the documented error body, never 5xx, never echo the input, and append
nothing; the views must still have applied every stored event.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.convention_schemas import REGISTRY_MAX_BYTES
from api.schemas import ErrorResponse
from api.settings import Settings
from api.wiring import make_registre, make_views, projection_runner
from domain.application import Registre
from domain.governance.metropolis import Metropolis
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from tests.conftest import log_size
from tests.integration.helpers import api_client

pytestmark = pytest.mark.integration

SLUG = "hostile"
BIG = 2**63
HOSTILE_TEXTS = {
    "nul": "Texte avec un \x00 caractère nul",
    "lone surrogate": "Texte avec \ud800 une moitié de paire",
    "low surrogate": "Texte \udfff seul",
    "escape": "Texte \x1b[31mrouge\x1b[0m et \x1b]0;titre\x07",
    "c1 control": "Texte avec \x85 et \x9b31m",
    "carriage return": "Texte honnête\rTexte menteur",
    "bidi override": "Texte \u202egnal\u202c normal",
    "bidi isolate": "Texte \u2066isolé\u2069 ici",
    "oversized": "x" * 20_000,
}
HOSTILE_NUMBERS = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity",
                   "1e999": "1e999", "10**30": str(10**30), "2**63": str(BIG)}


@dataclass
class Target:
    client: TestClient
    app: Registre
    settings: Settings
    metropolis_id: uuid.UUID
    proposal_id: uuid.UUID
    draft_id: uuid.UUID
    petition_id: uuid.UUID
    cycle_id: uuid.UUID
    project_id: uuid.UUID
    convention_id: uuid.UUID

    def headers(self, route: Route) -> dict[str, str]:
        """A token the route's role check lets through, so the input itself is judged."""
        roles = route.operation.get("x-roles", [])
        role = "mayor" if "mayor" in roles else (roles[0] if roles else "citizen")
        sub = {"mayor": "maire-a", "councillor": "c1", "clerk": "greffe",
               "guarantor": "garant", "citizen": "c1"}[role]
        token = issue_token(self.settings.signing_secret(), sub, role, "A")
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def target(settings: Settings) -> Iterator[Target]:
    app = make_registre(settings)
    mid = app.found_metropolis(
        SLUG, "Métropole hostile", [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
         {"ref": "c1", "name": "Conseillère", "role": "councillor", "commune": "A"}],
        CharterRules(3600, 3600, 50, veto_window_seconds=3600,
                     bureau_seats={"maires_majoritaires": 1}))
    pid, _ = app.submit_proposal(mid, "c1", "Pistes cyclables", "Résumé", ["A"])
    app.open_consultation(pid, datetime.now(timezone.utc) - timedelta(minutes=1))
    draft_id, _ = app.start_draft(mid, "c1", "Un brouillon", "Résumé")
    petition_id, _ = app.draft_petition(mid, "c1", "interpellation", "Une pétition", "Texte")
    cycle_id, _ = app.open_budget_cycle(mid, "greffe", "Budget", {"metropolis": 1000})
    project_id, _ = app.submit_budget_project(
        cycle_id, "c1", SignerClaims(commune="A", birthdate=date(1990, 1, 1)), "metropolis",
        "Un projet", "Résumé", 100)
    convention_id, _ = app.open_convention(mid, "greffe", "convention", "Une convention",
                                           "Un mandat")
    with projection_runner(settings), api_client(settings) as client:
        yield Target(client, app, settings, mid, pid, draft_id, petition_id, cycle_id,
                     project_id, convention_id)
    app.close()


@dataclass
class Route:
    """A write route as the OpenAPI describes it."""

    path: str
    method: str
    operation: dict[str, Any]
    defs: dict[str, Any]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        content = self.operation.get("requestBody", {}).get("content", {})
        return content.get("application/json", {}).get("schema")

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.operation.get("parameters", []) if p["in"] == "path"]


def write_routes(client: TestClient) -> list[Route]:
    """Every write route, found in the app's OpenAPI."""
    spec = client.app.openapi()
    defs = spec.get("components", {}).get("schemas", {})
    return [Route(path, method.upper(), op, defs) for path, item in spec["paths"].items()
            for method, op in item.items() if method in ("post", "put", "patch", "delete")]


# -- a plausible body for each route, from its own JSON schema --------------------------


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [b for b in schema[key] if b.get("type") != "null"]
            return _resolve(branches[0], defs)
    return schema


def _plausible(schema: dict[str, Any], defs: dict[str, Any], target: Target) -> Any:
    schema = _resolve(schema, defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        if "properties" in schema:
            return {name: _plausible(sub, defs, target)
                    for name, sub in schema["properties"].items()}
        extra = schema.get("additionalProperties")
        return {"indicateur": _plausible(extra, defs, target)} if isinstance(extra, dict) else {}
    if kind == "array":
        return [_plausible(schema.get("items", {"type": "string"}), defs, target)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return str(target.metropolis_id)
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "Un texte tout à fait recevable pour ce champ."


def _leaves(schema: dict[str, Any], defs: dict[str, Any],
            path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every (path, JSON type) a body holds; a list's first item, a dict's keys and values."""
    schema = _resolve(schema, defs)
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        for name, sub in schema["properties"].items():
            yield from _leaves(sub, defs, (*path, name))
    elif kind == "object":
        yield (*path, "<key>"), "string"
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from _leaves(extra, defs, (*path, "<value>"))
    elif kind == "array":
        yield from _leaves(schema.get("items", {}), defs, (*path, 0))
    elif "enum" not in schema and kind in ("string", "integer", "number"):
        yield path, kind


MARK = "\uf8ffHOSTILE\uf8ff"  # stands for the raw JSON token spliced in after dumping


def _with(body: Any, path: tuple[str | int, ...]) -> Any:
    """`body` with the leaf at `path` replaced by MARK (a dict's key: the key becomes MARK)."""
    body = copy.deepcopy(body)
    node = body
    for step in path[:-1]:
        node = next(iter(node.values())) if step == "<value>" else node[step]
    last = path[-1]
    if last == "<key>":
        value = next(iter(node.values()))
        node.clear()
        node[MARK] = value
    elif last == "<value>":
        node[next(iter(node))] = MARK
    else:
        node[last] = MARK
    return body


def hostile_bodies(route: Route, target: Target) -> Iterator[tuple[str, bytes]]:
    """(what, raw JSON bytes): each leaf of the route's body replaced by each hostile value."""
    schema, defs = route.body_schema, route.defs
    if schema is None:
        return
    base = _plausible(schema, defs, target)
    for path, kind in _leaves(schema, defs):
        marked = json.dumps(_with(base, path), ensure_ascii=True)
        mark = json.dumps(MARK, ensure_ascii=True)
        values = {k: json.dumps(v) for k, v in HOSTILE_TEXTS.items()}
        if kind in ("integer", "number"):
            values = HOSTILE_NUMBERS
        for name, raw in values.items():
            yield f"{'.'.join(map(str, path))} = {name}", marked.replace(mark, raw).encode()
    yield "NaN at the top", b'{"x": NaN}'
    yield "not UTF-8", b'{"text": "\xff\xfe\xc3\x28"}'
    yield "nested too deeply", b"[" * 20_000 + b"]" * 20_000
    yield "not JSON", b"{'title': 'simple quotes'}"
    yield "a number of 5000 digits", b'{"x": ' + b"9" * 5000 + b"}"


def path_variants(route: Route, target: Target) -> Iterator[tuple[str, str]]:
    """(what, path): each path id replaced by another aggregate's, an unknown one, 2**63."""
    wrong = {
        "proposal_id": [str(target.metropolis_id), str(target.draft_id), str(uuid.uuid4()),
                        str(Metropolis.create_id("ailleurs")), "pas-un-uuid"],
        "draft_id": [str(target.proposal_id), str(target.metropolis_id), str(uuid.uuid4())],
        "petition_id": [str(target.proposal_id), str(target.metropolis_id),
                        str(target.draft_id), str(uuid.uuid4()), "pas-un-uuid"],
        "cycle_id": [str(target.project_id), str(target.petition_id), str(uuid.uuid4()),
                     "pas-un-uuid"],
        "project_id": [str(target.cycle_id), str(target.proposal_id), str(uuid.uuid4()),
                       "pas-un-uuid"],
        "convention_id": [str(target.cycle_id), str(target.proposal_id), str(uuid.uuid4()),
                          "pas-un-uuid"],
        "slug": ["inconnue", "A%00B", "%ED%A0%80", "x" * 300],
        "number": [str(BIG), "-1", "NaN"],
        "size": [str(BIG), "0"],
    }
    right = {"proposal_id": str(target.proposal_id), "draft_id": str(target.draft_id),
             "petition_id": str(target.petition_id), "cycle_id": str(target.cycle_id),
             "project_id": str(target.project_id), "convention_id": str(target.convention_id),
             "slug": SLUG, "number": "1", "size": "1"}
    names = route.path_params
    for name in names:
        for value in wrong[name]:
            path = route.path
            for other in names:
                path = path.replace("{" + other + "}", value if other == name else right[other])
            yield f"{name} = {value[:40]}", path


def _right_path(route: Route, target: Target) -> str:
    path = route.path
    for name, value in {"proposal_id": target.proposal_id, "draft_id": target.draft_id,
                        "petition_id": target.petition_id, "cycle_id": target.cycle_id,
                        "project_id": target.project_id,
                        "convention_id": target.convention_id, "slug": SLUG, "number": 1,
                        "size": 1}.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def assert_refused_cleanly(response: Any, what: str) -> None:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text}"
    ErrorResponse.model_validate(response.json())  # the documented error body
    assert "HOSTILE" not in response.text and "rouge" not in response.text, (
        f"{what}: the refusal echoes the input")


def test_hostile_corpus_is_refused_without_5xx_or_any_event_when_posted_to_every_write_route(
    target: Target,
) -> None:
    routes = write_routes(target.client)
    assert len(routes) >= 20  # every write route found
    size = log_size(target.settings)
    sent = 0
    for route in routes:
        method = route.method
        headers = {**target.headers(route), "Content-Type": "application/json"}
        for what, body in hostile_bodies(route, target):
            r = target.client.request(method, _right_path(route, target), content=body,
                                      headers=headers)
            assert_refused_cleanly(r, f"{method} {route.path} {what}")
            sent += 1
        plausible = b"{}"
        if route.body_schema is not None:
            plausible = json.dumps(_plausible(route.body_schema, route.defs, target)).encode()
        for what, path in path_variants(route, target):
            r = target.client.request(method, path, content=plausible, headers=headers)
            assert_refused_cleanly(r, f"{method} {route.path} {what}")
            sent += 1
    assert sent > 500
    assert log_size(target.settings) == size, "a hostile request appended to the log"
    # The views still follow the log: an honest act after the corpus is applied, so every
    # event before it was too (the runner applies them in order).
    position = target.app.issue_notice(target.proposal_id, "garant", "avis",
                                       "Un avis honnête après le corpus hostile.")
    make_views(target.settings).wait(target.app.name, position, timeout=20)
    labels = [t["label"] for t in target.client.get(
        f"/proposals/{target.proposal_id}/timeline").json()]
    assert any("Un avis honnête" in label for label in labels)


def test_body_is_refused_with_413_before_authentication_when_larger_than_the_limit(
    target: Target,
) -> None:
    size = log_size(target.settings)
    huge = json.dumps({"text": "x" * 100_000}).encode()
    # A registry extract's route takes a larger body (its pseudonyms), capped all the same.
    registry = json.dumps({"text": "x" * (REGISTRY_MAX_BYTES + 1)}).encode()
    for route in write_routes(target.client):
        body = registry if route.path.endswith("/invitations") else huge
        r = target.client.request(route.method, _right_path(route, target), content=body,
                                  headers={"Content-Type": "application/json"})  # no token
        assert r.status_code == 413, f"{route.path}: {r.status_code}"
        assert r.json()["detail"]["rule"] == "body_too_large"
    assert log_size(target.settings) == size


def test_streamed_body_is_refused_with_413_when_its_chunks_exceed_the_limit(
    target: Target,
) -> None:
    size = log_size(target.settings)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"text": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    pid = target.proposal_id
    r = target.client.post(f"/proposals/{pid}/comments", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"]["rule"] == "body_too_large"
    assert log_size(target.settings) == size


@pytest.mark.parametrize("path", [
    "/proposals?offset={big}", "/proposals/{pid}/comments?offset={big}",
    "/ledger/records?after={big}", "/ledger/leaves?start={big}",
    "/ledger/checkpoints?after={big}", "/ledger/proofs/inclusion?notification_id={big}",
    "/ledger/proofs/consistency?old=1&new={big}", "/communes/A%00/vetoes",
])
def test_query_is_refused_with_422_when_a_number_or_code_is_out_of_range(
    target: Target, path: str,
) -> None:
    r = target.client.get(path.format(big=BIG, pid=target.proposal_id))
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["rule"] == "invalid_request"


def test_valid_comment_is_recorded_when_the_corpus_was_refused(target: Target) -> None:
    """The control: the same route with honest text does append (the stage allowed it)."""
    size = log_size(target.settings)
    r = target.client.post(f"/proposals/{target.proposal_id}/comments",
                           json={"text": "Un commentaire honnête,\navec deux lignes."},
                           headers={"Authorization": "Bearer " + issue_token(
                               target.settings.signing_secret(), "c2", "citizen")})
    assert r.status_code == 201, r.text
    assert log_size(target.settings) == size + 1


def test_timeline_neutralises_escapes_and_bidi_when_odd_text_was_stored_before(
    target: Target,
) -> None:
    """Text stored before the edge refused it (written here through the domain) is shown
    without its escape sequences, overrides or control characters."""
    position = target.app.issue_notice(target.proposal_id, "garant", "avis",
                                       "Avis \x1b[2J\x1b[31mrouge\x1b[0m \u202eesnoper\u202c\r!")
    make_views(target.settings).wait(target.app.name, position, timeout=20)
    [entry] = [t for t in target.client.get(f"/proposals/{target.proposal_id}/timeline").json()
               if t["position"] == position]
    assert "Avis rouge esnoper" in entry["label"]
    shown = entry["label"] + json.dumps(entry["details"], ensure_ascii=False)
    assert not any(c in shown for c in "\x1b\u202e\u202c\r")
