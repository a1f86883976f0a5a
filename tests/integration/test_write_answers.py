"""Writes answer at once with their log position; a client that needs to read its own write
asks for it (`Prefer: wait-for-views`), and the answer says whether the views caught up.
Aggregates are loaded by their expected type: another aggregate's id is a 404."""

from __future__ import annotations

import pytest

from api.auth import issue_token
from tests.conftest import log_size
from tests.integration.test_proposals_api import Api, api  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

NO_PREFERENCE = {"Prefer": "return=minimal"}  # replaces the test client's default preference


def _submitted(api: Api, headers: dict[str, str]):  # noqa: F811
    return api.client.post("/proposals", json=api.submit(),
                           headers={**api.token("c1", "citizen"), **headers})


def test_write_answers_with_its_position_without_waiting_when_no_preference_is_given(
    api: Api,  # noqa: F811
) -> None:
    r = _submitted(api, NO_PREFERENCE)
    assert r.status_code == 201, r.text
    assert r.json()["position"] == api.app.recorder.max_notification_id()
    assert "Views-Caught-Up" not in r.headers and "Preference-Applied" not in r.headers


def test_write_answers_once_the_views_applied_it_when_the_client_prefers_it(
    api: Api,  # noqa: F811
) -> None:
    r = _submitted(api, {"Prefer": "wait-for-views"})
    assert r.status_code == 201, r.text
    assert (r.headers["Preference-Applied"], r.headers["Views-Caught-Up"]) == (
        "wait-for-views", "true")
    got = api.client.get(f"/proposals/{r.json()['id']}").json()
    assert got["position"] == r.json()["position"]


def test_write_waits_for_the_views_when_asked_by_the_query_parameter(
    api: Api,  # noqa: F811
) -> None:
    r = api.client.post("/proposals", params={"wait_for_views": "true"}, json=api.submit(),
                        headers={**api.token("c1", "citizen"), **NO_PREFERENCE})
    assert r.status_code == 201 and r.headers["Views-Caught-Up"] == "true"


@pytest.mark.parametrize(("route", "body", "role"), [
    ("notices", {"kind": "avis", "text": "Un avis du garant sur cette métropole."},
     "guarantor"),
    ("comments", {"text": "Un commentaire"}, "citizen"),
    ("supports", None, "citizen"),
    ("votes", {"choice": "for"}, "councillor"),
    ("milestones", {"text": "Un jalon"}, "clerk"),
    ("withdrawal", None, "citizen"),
])
def test_proposal_act_is_refused_with_404_when_the_id_is_a_metropolis(
    api: Api, route: str, body: dict | None, role: str,  # noqa: F811
) -> None:
    size = log_size(api.settings)
    token = issue_token(api.settings.signing_secret(), "m1", role)
    r = api.client.post(f"/proposals/{api.metropolis_id}/{route}", json=body,
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404, r.text
    assert r.json()["detail"]["rule"] == "unknown_proposal"
    assert log_size(api.settings) == size


def test_draft_act_is_refused_with_404_when_the_id_is_a_proposal(api: Api) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    size = log_size(api.settings)
    r = api.client.post(f"/drafts/{pid}/submission", headers=api.token("c1", "citizen"))
    assert r.status_code == 404 and r.json()["detail"]["rule"] == "unknown_draft"
    assert log_size(api.settings) == size
