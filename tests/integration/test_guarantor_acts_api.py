"""The guarantor's acts and the charter's decision types over HTTP, on a real PostgreSQL; each
refusal names its rule (or field) and leaves the log as it was."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

import pytest

from domain.rules.charter import CharterRules
from tests.conftest import log_size
from tests.integration.helpers import citizen, to_vote
from tests.integration.test_evaluation_api import in_implementation
from tests.integration.test_proposals_api import Api, api, assert_refused  # noqa: F401

pytestmark = pytest.mark.integration

REASON = {"reason": "Le projet a changé : le public doit être consulté."}


def in_consultation(api: Api) -> str:  # noqa: F811
    r = api.client.post("/proposals", json=api.submit(), headers=api.token("c1", "citizen"))
    pid = r.json()["id"]
    api.app.open_consultation(UUID(pid), datetime.now(timezone.utc))
    return pid


def test_guarantor_requires_a_consultation_when_the_vote_has_not_opened(api: Api) -> None:  # noqa: F811
    pid = in_consultation(api)
    r = api.client.post(f"/proposals/{pid}/consultation-requirement",
                        json={**REASON, "duration_seconds": 7200},
                        headers=api.token("garant", "guarantor"))
    assert r.status_code == 201, r.text
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert (last["event"], last["actor_role"], last["details"]["seconds"]) == (
        "ConsultationRequired", "guarantor", 7200)
    assert "exige une consultation publique d'au moins 7200 s" in last["label"]


def test_refuses_the_requirement_when_the_caller_is_not_the_guarantor(api: Api) -> None:  # noqa: F811
    pid = in_consultation(api)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/consultation-requirement", json=REASON,
                        headers=api.token("clerk-1", "clerk"))
    assert_refused(api, r, 403, "role_required", size)
    assert r.json()["detail"]["explication"] == "Votre rôle ne permet pas cet acte."


def test_refuses_the_requirement_naming_the_rule_when_the_vote_is_open(api: Api) -> None:  # noqa: F811
    pid = to_vote(api.app, api.metropolis_id)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/consultation-requirement", json=REASON,
                        headers=api.token("garant", "guarantor"))
    assert_refused(api, r, 409, "guarantor.consultation_before_vote", size)
    assert r.json()["detail"]["explication"] == (
        "Le garant ne peut exiger une consultation qu'avant l'ouverture du vote.")


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "court"}, "reason"),
    ({**REASON, "duration_seconds": 0}, "duration_seconds"),
    ({**REASON, "jours": 3}, "jours"),
])
def test_names_the_field_when_the_requirement_is_malformed(
    api: Api, body: dict, field: str,  # noqa: F811
) -> None:
    pid = in_consultation(api)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/consultation-requirement", json=body,
                        headers=api.token("garant", "guarantor"))
    assert_refused(api, r, 422, None, size)
    assert r.json()["detail"]["errors"][0]["loc"][-1] == field


def test_guarantor_appoints_the_panel_and_only_its_members_score(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    r = api.client.post(f"/proposals/{pid}/evaluation-panel",
                        json={"members": ["panel-7", "panel-8"]},
                        headers=api.token("garant", "guarantor"))
    assert r.status_code == 201, r.text
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    mid = api.app.get_proposal(pid).metropolis_id  # the panel is named by pseudonyms
    assert (last["event"], last["details"]["members"]) == (
        "EvaluationPanelAppointed", [citizen(api.app, mid, "panel-7"),
                                     citizen(api.app, mid, "panel-8")])
    api.app.open_evaluation(pid, 1, datetime.now(timezone.utc))
    size = log_size(api.settings)
    refused = api.client.post(f"/proposals/{pid}/evaluations",
                              json={"indicators": {"usage": 3}},
                              headers=api.token("panel-1", "citizen"))  # of the former panel
    assert_refused(api, refused, 403, "evaluation.panel", size)
    ok = api.client.post(f"/proposals/{pid}/evaluations", json={"indicators": {"usage": 8}},
                         headers=api.token("panel-7", "citizen"))
    assert ok.status_code == 201, ok.text


def test_refuses_an_empty_panel_naming_the_field(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/evaluation-panel", json={"members": []},
                        headers=api.token("garant", "guarantor"))
    assert_refused(api, r, 422, None, size)
    assert r.json()["detail"]["errors"][0]["loc"] == ["body", "members"]


def test_refuses_a_decision_type_the_charter_does_not_declare(api: Api) -> None:  # noqa: F811
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit(decision_type="budget"),
                        headers=api.token("c1", "citizen"))
    assert_refused(api, r, 409, "decision_type.unknown", size)


def test_clerk_requalifies_the_decision_type_and_a_citizen_cannot(api: Api) -> None:  # noqa: F811
    mid = api.app.found_metropolis(
        "types-de-decision", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": "m1", "name": "M1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     decision_majorities={"budget": "absolute"}))
    pid, _ = api.app.submit_proposal(mid, "c1", "Titre", "Résumé")
    body = {"decision_type": "budget", "reason": "Elle engage le budget d'investissement."}
    size = log_size(api.settings)
    refused = api.client.post(f"/proposals/{pid}/decision-type", json=body,
                              headers=api.token("c1", "citizen"))
    assert_refused(api, refused, 403, "role_required", size)
    r = api.client.post(f"/proposals/{pid}/decision-type", json=body,
                        headers=api.token("greffe", "clerk"))
    assert r.status_code == 201, r.text
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert (last["event"], last["actor_role"], last["details"]["majority"]) == (
        "DecisionTypeDeclared", "clerk", "absolute")
    assert last["label"].startswith("Requalifiée par le greffe : type de décision budget")
    size = log_size(api.settings)
    unknown = api.client.post(f"/proposals/{pid}/decision-type",
                              json={**body, "decision_type": "urbanisme"},
                              headers=api.token("greffe", "clerk"))
    assert_refused(api, unknown, 409, "decision_type.unknown", size)


def test_answers_409_when_another_act_changed_the_proposal_at_the_same_moment(
    api: Api, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    pid = in_consultation(api)
    ledger = api.client.app.state.registre  # the API's own application
    stale = ledger.get_proposal(UUID(pid))  # the API read it...
    api.app.require_consultation(UUID(pid), "garant-2", REASON["reason"])  # ...then this won
    monkeypatch.setattr(ledger, "get_proposal", lambda _: stale)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/withdrawal", headers=api.token("c1", "citizen"))
    assert_refused(api, r, 409, "concurrent_change", size)
    assert r.json()["detail"]["explication"].startswith("Un autre acte a modifié ce dossier")
