"""`registre demo --scenario interpellation` against a stand-in of the running stack that
follows the contracts the demo relies on (the petition routes and views, the signing route,
the workflow's stages, the guarantor's compliance view), in memory: the demo's own course —
its waits, its tokens' claims, its counting and its printing — checked without PostgreSQL or
Temporal. The e2e test (tests/e2e/test_petition_demo.py) runs it on the real stack."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
import pytest

import api.demo as demo
from api.auth import verify_token
from api.settings import Settings
from domain.rules.petition import PetitionKind, SignerClaims, refusal_to_sign

SECRET = "demo-test-signing-key-of-at-least-32-bytes"
RULES = PetitionKind(threshold_percent=1, sponsors=3, sponsor_seconds=60,
                     admissibility_seconds=5, signature_seconds=60,
                     obligation_seconds=20).as_dict()
COMMUNES = [{"code": "51454", "name": "Reims", "population": 18000},
            {"code": "51612", "name": "Tinqueux", "population": 2000}]


class StandInStack:
    """The stack as the demo sees it over HTTP; petitions advance as the workflow would."""

    def __init__(self, answer_late: bool = False) -> None:
        self.lock = threading.Lock()
        self.metropolis_id = str(uuid4())
        self.petitions: dict[str, dict[str, Any]] = {}
        self.position = 0
        self.refusals: dict[str, int] = {}

    def _next(self) -> int:
        self.position += 1
        return self.position

    def _claims(self, request: httpx.Request) -> Any:
        return verify_token(SECRET, request.headers["authorization"].split()[1])

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        if path == "/metropolises/demo-metrokawa":
            return httpx.Response(200, json={
                "id": self.metropolis_id, "name": "Métrokawa", "communes": COMMUNES,
                "charter": {"petition_kinds": {"interpellation": RULES}}})
        if path == "/petitions" and method == "POST":
            body = json.loads(request.content)
            pid = str(uuid4())
            self.petitions[pid] = {"stage": "drafted", "sponsors": 1, "signers": set(),
                                   "title": body["title"], "answered": False, "reads": 0,
                                   "crossed_at": None, "by_commune": {}}
            return httpx.Response(201, json={"id": pid, "position": self._next(),
                                             "workflow_id": f"petition-{pid}"})
        if path == "/petitions/obligations-due":
            return httpx.Response(200, json=[
                {"petition_id": pid, "obligation": "answer", "due_at": "2030-01-01T00:00:20Z"}
                for pid, p in self.petitions.items() if p["stage"] == "obligation"])
        if path == "/guarantor/compliance":  # the breach is flagged a little later
            for p in self.petitions.values():
                p["reads"] += p["stage"] == "obligation" and not p["answered"]
            return httpx.Response(200, json=[
                {"proposal_id": pid, "rule": "petition.obligation",
                 "message": "the council's answer was due and not given",
                 "positions": [p["crossed_at"], self.position], "charter_version": 1}
                for pid, p in self.petitions.items()
                if p["stage"] == "obligation" and not p["answered"] and p["reads"] > 3])
        match = re.fullmatch(r"/petitions/([0-9a-f-]+)(/.*)?", path)
        assert match, f"unexpected {method} {path}"
        p, rest = self.petitions[match[1]], match[2] or ""
        if rest == "/sponsors":
            p["sponsors"] += 1
            if p["sponsors"] == RULES["sponsors"]:
                p["stage"] = "admissibility"
            return httpx.Response(201, json={"position": self._next()})
        if rest == "/admissibility":
            assert self._claims(request).role == "clerk"
            p["stage"] = "collecting"
            return httpx.Response(201, json={"position": self._next()})
        if rest == "/signatures":
            claims = self._claims(request)
            refused = refusal_to_sign(PetitionKind.from_dict(RULES), SignerClaims(
                claims.territory, claims.elector, claims.birthdate),
                [c["code"] for c in COMMUNES], None, date.today())
            if refused:
                return httpx.Response(403, json={"detail": {"rule": refused[0]}})
            if claims.sub in p["signers"]:
                return httpx.Response(409, json={"detail": {"rule": "petition.one_signature"}})
            p["signers"].add(claims.sub)
            p["by_commune"][claims.territory] = p["by_commune"].get(claims.territory, 0) + 1
            position = self._next()
            if p["crossed_at"] is None and len(p["signers"]) >= self.threshold:
                p["crossed_at"], p["stage"] = position, "obligation"
            return httpx.Response(201, json={"position": position})
        if rest == "/count":
            n = len(p["signers"])
            return httpx.Response(200, json={
                "count": n, "threshold": self.threshold,
                "progress_percent": round(100 * n / self.threshold, 1),
                "by_commune": p["by_commune"], "crossed_at": p["crossed_at"], "late": 0,
                "position": self.position})
        if rest == "/answer":
            assert p["stage"] == "obligation"
            p["answered"] = True
            return httpx.Response(201, json={"position": self._next()})
        if rest == "/timeline":
            return httpx.Response(200, json=[{
                "position": 1, "at": "2026-12-02T08:00:00+00:00", "kind": "Drafted",
                "stage_fr": "recherche de parrains", "actor_fr": "citoyen·ne",
                "text": "Pétition rédigée"}])
        if rest == "":
            p["reads"] += 1
            if p["answered"] and p["reads"] > 2:
                p["stage"], p["outcome"] = "closed", "answered"
            return httpx.Response(200, json={"id": match[1], "stage": p["stage"],
                                             "stage_fr": p["stage"],
                                             "outcome": p.get("outcome")})
        raise AssertionError(f"unexpected {method} {path}")

    @property
    def threshold(self) -> int:
        return PetitionKind.from_dict(RULES).threshold(sum(c["population"] for c in COMMUNES))


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.time, "sleep", lambda s: None)


def test_the_demo_answers_petition_one_and_sees_petition_two_flagged(capsys) -> None:
    stack = StandInStack()
    code = demo.run_interpellation_demo(
        "http://stack", Settings(jwt_secret=SECRET), transport=httpx.MockTransport(stack.handle))
    out = capsys.readouterr().out
    assert code == 0, out
    first, second = stack.petitions.values()
    assert len(first["signers"]) >= stack.threshold and first["answered"]
    assert len(second["signers"]) >= stack.threshold and not second["answered"]
    assert ("5 refusée(s), règle petition.min_age : Vous n'avez pas l'âge requis pour signer "
            "cette pétition.") in out
    assert "5 refusée(s), règle petition.residence : Seuls les habitants" in out
    assert "Seuil atteint" in out and "Réponse du conseil enregistrée" in out
    assert "Pétition 1 close : le conseil a répondu." in out
    assert "[recherche de parrains] citoyen·ne : Pétition rédigée" in out
    assert "Anomalie relevée par le garant — pétition 2, règle petition.obligation" in out
    assert "Pétition 1 : 0 anomalie(s) ; pétition 2 : 1 anomalie(s)." in out


def test_the_demo_says_what_to_do_when_the_charter_offers_no_such_petition(capsys) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={})
        return httpx.Response(200, json={"id": "x", "name": "M", "communes": [],
                                         "charter": {"petition_kinds": {}}})

    code = demo.run_interpellation_demo("http://stack", Settings(jwt_secret=SECRET),
                                        transport=httpx.MockTransport(handler))
    assert code == 2
    assert "ne prévoit pas de pétition « interpellation »" in capsys.readouterr().out


def test_the_demo_names_the_stage_that_never_came_and_exits_1(capsys, monkeypatch) -> None:
    stack = StandInStack()
    clock = iter(range(0, 10**9, 50))  # each reading of the clock: 50 s later
    monkeypatch.setattr(demo.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(stack, "_handle", lambda request, real=stack._handle: (
        httpx.Response(201, json={"position": 1}) if request.url.path.endswith("/sponsors")
        else real(request)))  # the sponsors are never gathered: no review ever opens
    code = demo.run_interpellation_demo(
        "http://stack", Settings(jwt_secret=SECRET), transport=httpx.MockTransport(stack.handle))
    out = capsys.readouterr().out
    assert code == 1
    assert "did not reach" in out and "admissibility" in out
