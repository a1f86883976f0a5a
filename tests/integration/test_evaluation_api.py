"""Milestones and citizens' evaluations over HTTP (real PostgreSQL); refusals append nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest

from tests.conftest import log_size
from tests.integration.helpers import citizen, found
from tests.integration.test_proposals_api import Api, api  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def in_implementation(api: Api) -> UUID:  # noqa: F811
    app, now = api.app, datetime.now(timezone.utc)
    mid = found(app, members=3, evaluation_after_seconds=(3600, 7200))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, now - timedelta(hours=2))
    opened = app.open_vote(pid, now - timedelta(minutes=1))
    for ref in ("m1", "m2"):
        app.cast_vote(pid, ref, "for")
    app.decide(pid, opened.position, app.close_ballot(pid, now))
    app.open_implementation(pid, now)
    app.appoint_evaluation_panel(pid, "garant", [citizen(app, mid, "panel-1"),
                                                 citizen(app, mid, "panel-2")])
    return pid


def test_clerk_records_a_milestone_when_the_proposal_is_implemented(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    r = api.client.post(f"/proposals/{pid}/milestones", json={"text": "Marché attribué"},
                        headers=api.token("greffe", "clerk"))
    assert r.status_code == 201, r.text
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert (last["event"], last["actor_role"]) == ("MilestoneRecorded", "clerk")
    assert api.client.get(f"/proposals/{pid}").json()["stage_fr"] == "mise en œuvre"


def test_refuses_a_milestone_when_the_caller_is_not_a_clerk(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/milestones", json={"text": "Marché attribué"},
                        headers=api.token("c1", "citizen"))
    assert r.status_code == 403 and r.json()["detail"]["rule"] == "role_required"
    assert log_size(api.settings) == size


def test_panel_member_scores_when_a_step_is_open(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    api.app.open_evaluation(pid, 1, datetime.now(timezone.utc))
    r = api.client.post(f"/proposals/{pid}/evaluations",
                        json={"indicators": {"usage": 7}, "comment": "Utile"},
                        headers=api.token("panel-1", "citizen"))
    assert r.status_code == 201, r.text
    assert "usage 7/10" in api.client.get(f"/proposals/{pid}/timeline").json()[-1]["label"]
    size = log_size(api.settings)
    again = api.client.post(f"/proposals/{pid}/evaluations", json={"indicators": {"usage": 2}},
                            headers=api.token("panel-1", "citizen"))
    assert again.status_code == 409 and again.json()["detail"]["rule"] == "already_scored"
    assert log_size(api.settings) == size


@pytest.mark.parametrize(("body", "status", "rule"), [
    ({"indicators": {"usage": 7}}, 409, "evaluation_not_open"),
    ({"indicators": {"usage": 12}}, 409, "invalid_scores"),
])
def test_refuses_scores_naming_the_rule_when_they_cannot_count(
    api: Api, body: dict, status: int, rule: str,  # noqa: F811
) -> None:
    pid = in_implementation(api)
    if rule != "evaluation_not_open":
        api.app.open_evaluation(pid, 1, datetime.now(timezone.utc))
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/evaluations", json=body,
                        headers=api.token("panel-1", "citizen"))
    assert r.status_code == status and r.json()["detail"]["rule"] == rule, r.text
    assert log_size(api.settings) == size


def test_names_the_field_when_no_indicator_is_scored(api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    r = api.client.post(f"/proposals/{pid}/evaluations", json={"indicators": {}},
                        headers=api.token("panel-1", "citizen"))
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["loc"] == ["body", "indicators"]
