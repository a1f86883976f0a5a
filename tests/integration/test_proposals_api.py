"""The HTTP API on a real PostgreSQL, with the projection runner following the log.

Every refused request must leave the log exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.settings import Settings
from api.wiring import create_api, make_registre, projection_runner
from domain.application import Registre
from tests.conftest import log_size
from tests.integration.helpers import api_client, citizen, found, to_vote

pytestmark = pytest.mark.integration


@dataclass
class Api:
    client: TestClient
    app: Registre
    settings: Settings
    metropolis_id: UUID

    def token(self, sub: str, role: str) -> dict[str, str]:
        token = issue_token(self.settings.signing_secret(), sub, role)
        return {"Authorization": f"Bearer {token}"}

    def submit(self, **overrides: object) -> dict:
        body = {"metropolis_id": str(self.metropolis_id), "title": "Budget participatif",
                "summary": "Objectif : associer les habitants."}
        body.update(overrides)
        return body


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    app = make_registre(settings)
    mid = found(app, members=3)
    with projection_runner(settings), api_client(settings) as client:
        yield Api(client, app, settings, mid)
    app.close()


def assert_refused(api: Api, response, status: int, rule: str | None, size: int) -> None:
    assert response.status_code == status, response.text
    if rule:
        assert response.json()["detail"]["rule"] == rule
    assert log_size(api.settings) == size, "a refused request appended to the log"


def test_citizen_submission_is_readable_at_once_when_accepted(api: Api) -> None:
    r = api.client.post("/proposals", json=api.submit(), headers=api.token("c1", "citizen"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["workflow_id"] == f"proposal-{pid}"
    got = api.client.get(f"/proposals/{pid}").json()
    assert (got["title"], got["stage"], got["stage_fr"], got["charter_version"]) == (
        "Budget participatif", "submitted", "déposée", 1)
    listed = api.client.get("/proposals", params={"metropolis_id": str(api.metropolis_id)})
    assert [p["id"] for p in listed.json()] == [pid]
    timeline = api.client.get(f"/proposals/{pid}/timeline").json()
    assert [(t["event"], t["actor_role"]) for t in timeline] == [("ProposalSubmitted", "citizen")]


def test_refuses_submission_without_token_when_anonymous(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit())
    assert_refused(api, r, 401, "authentication_required", size)


def test_refuses_submission_when_token_is_forged(api: Api) -> None:
    size = log_size(api.settings)
    forged = {"Authorization": "Bearer " + issue_token("not-our-key-" * 4, "c1", "citizen")}
    assert_refused(api, api.client.post("/proposals", json=api.submit(), headers=forged),
                   401, "invalid_token", size)


def test_refuses_submission_when_role_is_not_citizen(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit(), headers=api.token("m1", "councillor"))
    assert_refused(api, r, 403, "role_required", size)


@pytest.mark.parametrize(("override", "field"), [
    ({"title": "ab"}, "title"),
    ({"metropolis_id": "pas-un-uuid"}, "metropolis_id"),
    ({"summary": ""}, "summary"),
    ({"colour": "rouge"}, "colour"),
])
def test_names_the_field_when_submission_is_malformed(api: Api, override: dict,
                                                      field: str) -> None:
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit(**override),
                        headers=api.token("c1", "citizen"))
    assert_refused(api, r, 422, None, size)
    assert field in [e["loc"][-1] for e in r.json()["detail"]["errors"]]


def test_refuses_submission_when_metropolis_is_unknown(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit(metropolis_id=str(uuid4())),
                        headers=api.token("c1", "citizen"))
    assert_refused(api, r, 404, "unknown_metropolis", size)


def test_records_a_roll_call_vote_when_a_member_votes_on_an_open_ballot(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=api.token("m1", "councillor"))
    assert r.status_code == 201, r.text
    assert api.client.get(f"/proposals/{pid}").json()["tally"] == {
        "yes": 1, "no": 0, "abstain": 0}


def test_refuses_second_vote_when_member_already_voted(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                    headers=api.token("m1", "councillor"))
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "against"},
                        headers=api.token("m1", "councillor"))
    assert_refused(api, r, 409, "one_vote_per_member", size)


def test_refuses_vote_when_ballot_is_closed(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    api.app.close_ballot(pid, api.app.clock())
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=api.token("m1", "councillor"))
    assert_refused(api, r, 409, "vote_after_close", size)


def test_refuses_vote_when_ballot_is_not_open_yet(api: Api) -> None:
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=api.token("m1", "councillor"))
    assert_refused(api, r, 409, "vote_not_open", size)


def test_refuses_vote_when_token_lacks_the_councillor_role(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=api.token("m1", "citizen"))
    assert_refused(api, r, 403, "role_required", size)


def test_refuses_vote_when_councillor_holds_no_seat_in_this_council(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=api.token("elu-ailleurs", "councillor"))
    assert_refused(api, r, 403, "not_a_council_member", size)


def test_refuses_vote_when_proposal_is_unknown(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{uuid4()}/votes", json={"choice": "for"},
                        headers=api.token("m1", "councillor"))
    assert_refused(api, r, 404, "unknown_proposal", size)


def test_names_the_field_when_choice_is_not_a_vote(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/votes", json={"choice": "peut-être"},
                        headers=api.token("m1", "councillor"))
    assert_refused(api, r, 422, None, size)
    assert r.json()["detail"]["errors"][0]["loc"] == ["body", "choice"]


def test_answers_404_naming_the_rule_when_reading_an_unknown_proposal(api: Api) -> None:
    r = api.client.get(f"/proposals/{uuid4()}/timeline")
    assert r.status_code == 404
    assert r.json()["detail"]["rule"] == "unknown_proposal"


def test_health_reports_the_views_position_when_the_store_answers(api: Api) -> None:
    r = api.client.get("/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


def test_metropolis_lists_its_council_and_charter_when_read_by_slug(api: Api) -> None:
    slug = api.app.get_metropolis(api.metropolis_id).slug
    body = api.client.get(f"/metropolises/{slug}").json()
    assert [m["ref"] for m in body["council"]] == ["m1", "m2", "m3"]
    assert body["charter"]["quorum_percent"] == 50 and body["charter_version"] == 1


def in_consultation(api: Api) -> UUID:
    pid, _ = api.app.submit_proposal(api.metropolis_id, "auteur", "Titre", "Résumé")
    api.app.open_consultation(pid, api.app.clock())
    return pid


def test_counts_supports_and_lists_comments_when_citizens_take_part(api: Api) -> None:
    pid = in_consultation(api)
    for sub in ("c1", "c2"):
        r = api.client.post(f"/proposals/{pid}/supports", headers=api.token(sub, "citizen"))
        assert r.status_code == 201, r.text
    r = api.client.post(f"/proposals/{pid}/comments", json={"text": "Bonne idée, à étendre."},
                        headers=api.token("c3", "citizen"))
    assert r.status_code == 201, r.text
    body = api.client.get(f"/proposals/{pid}").json()
    assert (body["supports"], body["comments"]) == (2, 1)
    [comment] = api.client.get(f"/proposals/{pid}/comments").json()
    assert (comment["citizen_ref"], comment["text"]) == (
        citizen(api.app, api.metropolis_id, "c3"), "Bonne idée, à étendre.")  # a pseudonym


def test_refuses_a_second_support_when_the_citizen_already_supports(api: Api) -> None:
    pid = in_consultation(api)
    api.client.post(f"/proposals/{pid}/supports", headers=api.token("c1", "citizen"))
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/supports", headers=api.token("c1", "citizen"))
    assert r.status_code == 409 and r.json()["detail"]["rule"] == "one_support_per_citizen"
    assert log_size(api.settings) == size


def test_refuses_support_and_comment_when_the_consultation_is_not_open(api: Api) -> None:
    pid = to_vote(api.app, api.metropolis_id)
    size = log_size(api.settings)
    s = api.client.post(f"/proposals/{pid}/supports", headers=api.token("c1", "citizen"))
    c = api.client.post(f"/proposals/{pid}/comments", json={"text": "Trop tard ?"},
                        headers=api.token("c1", "citizen"))
    assert [s.status_code, c.status_code] == [409, 409]
    assert {s.json()["detail"]["rule"], c.json()["detail"]["rule"]} == {"consultation_not_open"}
    assert log_size(api.settings) == size


def test_accepts_a_charter_amendment_and_keeps_the_rules_it_leaves_out(api: Api) -> None:
    r = api.client.post("/proposals", json=api.submit(charter_amendment={"quorum_percent": 60}),
                        headers=api.token("c1", "citizen"))
    assert r.status_code == 201, r.text
    proposed = api.app.get_proposal(UUID(r.json()["id"])).amends_charter_with
    in_force = api.app.get_charter(api.metropolis_id).rules().as_dict()
    assert proposed == {**in_force, "quorum_percent": 60}


@pytest.mark.parametrize("changes", [{}, {"evaluation_after_seconds": [200, 100]}])
def test_refuses_a_charter_amendment_that_changes_nothing_or_breaks_the_charter(
    api: Api, changes: dict,
) -> None:
    size = log_size(api.settings)
    r = api.client.post("/proposals", json=api.submit(charter_amendment=changes),
                        headers=api.token("c1", "citizen"))
    assert_refused(api, r, 409, "invalid_charter", size)


def test_names_the_field_when_a_charter_amendment_is_malformed(api: Api) -> None:
    size = log_size(api.settings)
    rules = {"consultation_seconds": 3600, "vote_seconds": 3600, "quorum_percent": 150}
    r = api.client.post("/proposals", json=api.submit(charter_amendment=rules),
                        headers=api.token("c1", "citizen"))
    assert r.status_code == 422
    assert r.json()["detail"]["errors"][0]["loc"][-2:] == ["charter_amendment", "quorum_percent"]
    assert log_size(api.settings) == size


def test_records_bureau_mandates_over_http_when_a_clerk_fills_seats(settings: Settings) -> None:
    from datetime import timedelta

    from domain.rules.charter import CharterRules

    app = make_registre(settings)
    app.found_metropolis("bureau-http", "Métropole", [{"code": "A", "name": "A",
                                                       "population": 1}],
                         [{"ref": "maire-a", "name": "Maire", "role": "mayor", "commune": "A"}],
                         CharterRules(60, 60, 50, bureau_seats={"maires_majoritaires": 1}))
    until = (app.clock() + timedelta(days=2000)).isoformat()
    clerk = {"Authorization": "Bearer " + issue_token(settings.signing_secret(), "g", "clerk")}
    with TestClient(create_api(settings)) as client:
        r = client.post("/metropolises/bureau-http/bureau/seats", headers=clerk, json={
            "kind": "maires_majoritaires", "holder_ref": "maire-a", "mandate_until": until})
        assert r.status_code == 201, r.text
        size = log_size(settings)
        full = client.post("/metropolises/bureau-http/bureau/seats", headers=clerk, json={
            "kind": "maires_majoritaires", "holder_ref": "maire-b", "mandate_until": until})
        assert full.status_code == 409 and full.json()["detail"]["rule"] == "no_free_seat"
        assert log_size(settings) == size
        bureau = client.get("/metropolises/bureau-http/bureau").json()
        assert bureau["holders"]["maire-a"]["kind"] == "maires_majoritaires"
    app.close()
