"""Withdrawal and the mayors' veto over HTTP (real PostgreSQL); refusals leave the log as is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.settings import Settings
from api.wiring import create_api, make_registre, make_views, projection_runner
from domain.application import Registre
from domain.rules.charter import CharterRules
from tests.conftest import log_size
from tests.integration.helpers import api_client, citizen

pytestmark = pytest.mark.integration

REASON = {"reason": "Le projet supprime le marché couvert de la commune."}


class Pact:
    def __init__(self, client: TestClient, app: Registre, settings: Settings) -> None:
        self.client, self.app, self.settings = client, app, settings
        self.metropolis_id = app.found_metropolis(
            f"pacte-{uuid.uuid4().hex[:6]}", "Métropole du pacte",
            [{"code": c, "name": c, "population": 1} for c in ("A", "B")],
            [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
             {"ref": "maire-b", "name": "Maire B", "role": "mayor", "commune": "B"},
             {"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}],
            CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                         veto_window_seconds=3600))

    def headers(self, sub: str, role: str, territory: str | None = None) -> dict[str, str]:
        token = issue_token(self.settings.signing_secret(), sub, role, territory)
        return {"Authorization": f"Bearer {token}"}

    def in_veto_window(self) -> uuid.UUID:
        app, now = self.app, datetime.now(timezone.utc)
        pid, _ = app.submit_proposal(self.metropolis_id, citizen(app, self.metropolis_id, "auteur"),
                                     "Titre", "Résumé", ["A"])
        app.open_consultation(pid, now - timedelta(hours=2))
        opened = app.open_vote(pid, now - timedelta(minutes=1))
        for ref in ("maire-b", "c1"):
            app.cast_vote(pid, ref, "for")
        cutoff = app.close_ballot(pid, now)
        app.decide(pid, opened.position, cutoff)
        app.open_veto_window(pid, now)
        return pid


@pytest.fixture
def pact(settings: Settings) -> Iterator[Pact]:
    app = make_registre(settings)
    with projection_runner(settings), api_client(settings) as client:
        yield Pact(client, app, settings)
    app.close()


def test_mayor_of_a_concerned_commune_files_a_veto_when_the_window_is_open(pact: Pact) -> None:
    pid = pact.in_veto_window()
    r = pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                         headers=pact.headers("maire-a", "mayor", "A"))
    assert r.status_code == 201, r.text
    timeline = pact.client.get(f"/proposals/{pid}/timeline").json()
    assert [t["event"] for t in timeline][-2:] == ["VetoWindowOpened", "VetoFiled"]
    assert timeline[-1]["actor_role"] == "mayor" and "marché couvert" in timeline[-1]["label"]
    assert pact.client.get(f"/proposals/{pid}").json()["stage_fr"] == "délai de veto"
    pact.app.close_veto_window(pid, datetime.now(timezone.utc) + timedelta(hours=1))  # no votes
    # The fixture's runner applies the close; wait for it through the views' tracking.
    make_views(pact.settings).wait(pact.app.name, pact.app.recorder.max_notification_id(),
                                   timeout=10)
    [record] = pact.client.get("/communes/A/vetoes").json()
    assert (record["proposal_id"], record["mayor_ref"], record["outcome"], record["cause"]) == (
        str(pid), "maire-a", "rejected", "veto_sustained")
    assert pact.client.get("/communes/B/vetoes").json() == []


@pytest.mark.parametrize(("sub", "role", "territory", "status", "rule"), [
    ("maire-b", "mayor", "B", 403, "commune_not_concerned"),
    ("maire-b", "mayor", "A", 403, "not_mayor_of_commune"),
    ("maire-a", "mayor", None, 403, "territory_required"),
    ("c1", "councillor", "A", 403, "role_required"),  # the charter's role is mayor
    ("maire-a", "councillor", "A", 403, "role_required"),  # a mayor's seat, a councillor's token
    ("citoyen", "citizen", "A", 403, "role_required"),
])
def test_refuses_veto_naming_the_rule_when_the_caller_has_no_veto_right(
    pact: Pact, sub: str, role: str, territory: str | None, status: int, rule: str,
) -> None:
    pid = pact.in_veto_window()
    size = log_size(pact.settings)
    r = pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                         headers=pact.headers(sub, role, territory))
    assert r.status_code == status and r.json()["detail"]["rule"] == rule, r.text
    assert log_size(pact.settings) == size


def test_refuses_veto_when_no_window_is_open(pact: Pact) -> None:
    pid, _ = pact.app.submit_proposal(pact.metropolis_id, "auteur", "Titre", "Résumé", ["A"])
    size = log_size(pact.settings)
    r = pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                         headers=pact.headers("maire-a", "mayor", "A"))
    assert r.status_code == 409 and r.json()["detail"]["rule"] == "veto_outside_window"
    assert log_size(pact.settings) == size


def test_names_the_field_when_the_veto_has_no_reason(pact: Pact) -> None:
    pid = pact.in_veto_window()
    r = pact.client.post(f"/proposals/{pid}/vetoes", json={"reason": "non"},
                         headers=pact.headers("maire-a", "mayor", "A"))
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["loc"] == ["body", "reason"]


def test_author_withdraws_when_the_vote_has_not_opened(pact: Pact) -> None:
    r = pact.client.post("/proposals", headers=pact.headers("auteur", "citizen"), json={
        "metropolis_id": str(pact.metropolis_id), "title": "Titre", "summary": "Résumé",
        "communes": ["A"]})
    pid = r.json()["id"]
    submitted = pact.client.get(f"/proposals/{pid}/timeline").json()[0]
    assert "communes concernées : A" in submitted["label"]
    w = pact.client.post(f"/proposals/{pid}/withdrawal", headers=pact.headers("auteur", "citizen"))
    assert w.status_code == 201, w.text
    body = pact.client.get(f"/proposals/{pid}").json()
    assert (body["stage"], body["stage_fr"]) == ("withdrawn", "retirée")


def test_refuses_withdrawal_when_not_the_author(pact: Pact) -> None:
    pid, _ = pact.app.submit_proposal(pact.metropolis_id, "auteur", "Titre", "Résumé")
    size = log_size(pact.settings)
    r = pact.client.post(f"/proposals/{pid}/withdrawal", headers=pact.headers("autre", "citizen"))
    assert r.status_code == 403 and r.json()["detail"]["rule"] == "not_the_author"
    assert log_size(pact.settings) == size


def test_refuses_withdrawal_when_the_vote_has_opened(pact: Pact) -> None:
    pid = pact.in_veto_window()
    size = log_size(pact.settings)
    r = pact.client.post(f"/proposals/{pid}/withdrawal", headers=pact.headers("auteur", "citizen"))
    assert r.status_code == 409 and r.json()["detail"]["rule"] == "withdrawal_too_late"
    assert log_size(pact.settings) == size


def test_refuses_submission_when_a_concerned_commune_is_unknown(pact: Pact) -> None:
    size = log_size(pact.settings)
    r = pact.client.post("/proposals", headers=pact.headers("auteur", "citizen"), json={
        "metropolis_id": str(pact.metropolis_id), "title": "Titre", "summary": "Résumé",
        "communes": ["Z"]})
    assert r.status_code == 404 and r.json()["detail"]["rule"] == "unknown_commune"
    assert log_size(pact.settings) == size


def test_clerk_rules_inadmissible_and_the_author_refers_it_when_contesting(pact: Pact) -> None:
    app = pact.app
    mid = app.found_metropolis(
        f"recevabilite-{uuid.uuid4().hex[:6]}", "Métropole", [{"code": "A", "name": "A",
                                                               "population": 1}],
        [{"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=60, vote_seconds=60, quorum_percent=50,
                     admissibility_seconds=3600, competences=("mobilités",)))
    pid, _ = app.submit_proposal(mid, citizen(app, mid, "auteur"), "Titre", "Résumé")
    app.open_admissibility(pid, datetime.now(timezone.utc))
    size = log_size(pact.settings)
    wrong = pact.client.post(f"/proposals/{pid}/admissibility", json={
        "admissible": True, "competence": "police"}, headers=pact.headers("greffe", "clerk"))
    assert wrong.status_code == 409 and wrong.json()["detail"]["rule"] == "not_a_competence"
    assert log_size(pact.settings) == size
    r = pact.client.post(f"/proposals/{pid}/admissibility", json={
        "admissible": False, "reason": "Relève de la région."},
        headers=pact.headers("greffe", "clerk"))
    assert r.status_code == 201, r.text
    assert pact.client.get(f"/proposals/{pid}").json()["stage_fr"] == "irrecevable"
    referral = pact.client.post(f"/proposals/{pid}/referral",
                                json={"text": "La mobilité relève de la métropole."},
                                headers=pact.headers("auteur", "citizen"))
    assert referral.status_code == 201
    labels = [t["label"] for t in pact.client.get(f"/proposals/{pid}/timeline").json()]
    assert labels[-2].startswith("Proposition irrecevable : Relève de la région.")
    assert labels[-1].startswith("Le garant est saisi")


def test_amendments_over_http_name_the_rule_when_refused(pact: Pact) -> None:
    app, now = pact.app, datetime.now(timezone.utc)
    mid = app.found_metropolis(
        f"deliberation-{uuid.uuid4().hex[:6]}", "Métropole", [{"code": "A", "name": "A",
                                                               "population": 1}],
        [{"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=60, vote_seconds=60, quorum_percent=50,
                     deliberation_seconds=3600))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, now - timedelta(minutes=5))
    size = log_size(pact.settings)
    early = pact.client.post(f"/proposals/{pid}/amendments", json={"text": "Trop tôt ici"},
                             headers=pact.headers("c1", "councillor"))
    assert early.status_code == 409 and early.json()["detail"]["rule"] == "deliberation_not_open"
    app.open_deliberation(pid, now)
    citizen = pact.client.post(f"/proposals/{pid}/amendments", json={"text": "Je propose"},
                               headers=pact.headers("x", "citizen"))
    assert citizen.status_code == 403
    assert log_size(pact.settings) == size + 1  # only the deliberation's opening
    r = pact.client.post(f"/proposals/{pid}/amendments", json={"text": "Ajouter un bilan"},
                         headers=pact.headers("c1", "councillor"))
    assert r.status_code == 201 and r.json()["number"] == 1
    v = pact.client.post(f"/proposals/{pid}/amendments/1/votes", json={"choice": "for"},
                         headers=pact.headers("c1", "councillor"))
    assert v.status_code == 201, v.text
    unknown = pact.client.post(f"/proposals/{pid}/amendments/9/votes", json={"choice": "for"},
                               headers=pact.headers("c1", "councillor"))
    assert unknown.status_code == 404 and unknown.json()["detail"]["rule"] == "unknown_amendment"
    labels = [t["label"] for t in pact.client.get(f"/proposals/{pid}/timeline").json()]
    assert any(label.startswith("Amendement n° 1 déposé par c1") for label in labels)
    assert "Vote nominatif de c1 sur l'amendement n° 1 : pour" in labels


def test_the_override_ballot_s_close_leaves_the_proposal_in_its_veto_window(pact: Pact) -> None:
    pid = pact.in_veto_window()
    pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                     headers=pact.headers("maire-a", "mayor", "A")).raise_for_status()
    proposal = pact.app.get_proposal(pid)
    proposal.close_override_ballot(datetime.now(timezone.utc))
    pact.app.save(proposal)
    make_views(pact.settings).wait(pact.app.name, pact.app.recorder.max_notification_id(),
                                   timeout=10)
    last = pact.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert (last["event"], last["stage"]) == ("BallotClosed", "veto_window")
    assert last["label"].startswith("Scrutin de levée du veto clos")
    assert pact.client.get(f"/proposals/{pid}").json()["stage"] == "veto_window"


def test_a_commune_s_veto_record_is_told_apart_by_metropolis(pact: Pact) -> None:
    pid = pact.in_veto_window()
    pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                     headers=pact.headers("maire-a", "mayor", "A")).raise_for_status()
    other = Pact(pact.client, pact.app, pact.settings)  # another metropolis with a commune A
    here = pact.client.get("/communes/A/vetoes",
                           params={"metropolis_id": str(pact.metropolis_id)}).json()
    there = pact.client.get("/communes/A/vetoes",
                            params={"metropolis_id": str(other.metropolis_id)}).json()
    assert [r["proposal_id"] for r in here] == [str(pid)] and there == []


def test_the_timeline_says_in_french_who_acted_at_which_stage(pact: Pact) -> None:
    pid = pact.in_veto_window()
    pact.client.post(f"/proposals/{pid}/vetoes", json=REASON,
                     headers=pact.headers("maire-a", "mayor", "A")).raise_for_status()
    pact.app.cast_vote(pid, "c1", "for")
    make_views(pact.settings).wait(pact.app.name, pact.app.recorder.max_notification_id(),
                                   timeout=10)
    timeline = pact.client.get(f"/proposals/{pid}/timeline").json()
    vetoed, override = timeline[-2:]
    assert (vetoed["stage_fr"], vetoed["actor_fr"]) == ("délai de veto", "maire")
    assert override["label"] == "Vote nominatif de c1 sur la levée du veto : pour"
    council_votes = [t["label"] for t in timeline if t["event"] == "VoteCast"][:2]
    assert council_votes == ["Vote nominatif de maire-b : pour", "Vote nominatif de c1 : pour"]
