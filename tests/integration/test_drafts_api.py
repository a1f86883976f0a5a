"""Drafts over HTTP (real PostgreSQL): the author drafts, revises and submits; the proposal's
timeline tells it was drafted; others cannot touch it and a refusal records nothing."""

from __future__ import annotations

import pytest

from tests.conftest import log_size
from tests.integration.test_proposals_api import Api, api, assert_refused  # noqa: F401

pytestmark = pytest.mark.integration


def test_a_draft_revised_then_submitted_becomes_a_proposal_with_its_history(api: Api) -> None:  # noqa: F811
    author = api.token("autrice", "citizen")
    r = api.client.post("/drafts", json=api.submit(title="Brouillon"), headers=author)
    assert r.status_code == 201, r.text
    draft_id = r.json()["id"]
    assert api.client.patch(f"/drafts/{draft_id}", json={"title": "Jardins partagés"},
                            headers=author).status_code == 200
    draft = api.client.get(f"/drafts/{draft_id}", headers=author).json()
    assert (draft["title"], draft["stage"], draft["revisions"]) == (
        "Jardins partagés", "drafted", 1)
    assert api.client.get("/proposals").json() == []  # nothing public runs yet

    submitted = api.client.post(f"/drafts/{draft_id}/submission", headers=author)
    assert submitted.status_code == 201, submitted.text
    pid = submitted.json()["id"]
    assert submitted.json()["workflow_id"] == f"proposal-{pid}"
    assert api.client.get(f"/proposals/{pid}").json()["title"] == "Jardins partagés"
    timeline = api.client.get(f"/proposals/{pid}/timeline").json()
    assert [t["event"] for t in timeline] == ["ProposalSubmitted", "DraftSubmitted"]
    assert "(1 révision(s)) avant son dépôt" in timeline[1]["label"]
    assert api.client.get(f"/drafts/{draft_id}", headers=author).json()["proposal_id"] == pid


def test_refuses_anyone_but_the_author_and_records_nothing(api: Api) -> None:  # noqa: F811
    author, other = api.token("autrice", "citizen"), api.token("voisin", "citizen")
    draft_id = api.client.post("/drafts", json=api.submit(), headers=author).json()["id"]
    size = log_size(api.settings)
    assert_refused(api, api.client.patch(f"/drafts/{draft_id}", json={"title": "Le mien"},
                                         headers=other), 403, "not_the_author", size)
    assert_refused(api, api.client.post(f"/drafts/{draft_id}/submission", headers=other),
                   403, "not_the_author", size)
    assert_refused(api, api.client.get(f"/drafts/{draft_id}", headers=other), 403,
                   "not_the_author", size)


def test_refuses_to_revise_a_submitted_draft_naming_the_rule(api: Api) -> None:  # noqa: F811
    author = api.token("autrice", "citizen")
    draft_id = api.client.post("/drafts", json=api.submit(), headers=author).json()["id"]
    api.client.post(f"/drafts/{draft_id}/abandonment", headers=author).raise_for_status()
    size = log_size(api.settings)
    r = api.client.patch(f"/drafts/{draft_id}", json={"summary": "Trop tard."}, headers=author)
    assert_refused(api, r, 409, "draft_closed", size)
    assert r.json()["detail"]["explication"].startswith("Ce brouillon a déjà été déposé")


def test_names_the_field_when_a_revision_is_malformed(api: Api) -> None:  # noqa: F811
    author = api.token("autrice", "citizen")
    draft_id = api.client.post("/drafts", json=api.submit(), headers=author).json()["id"]
    size = log_size(api.settings)
    r = api.client.patch(f"/drafts/{draft_id}", json={"title": "x"}, headers=author)
    assert_refused(api, r, 422, None, size)
    assert r.json()["detail"]["errors"][0]["loc"] == ["body", "title"]


def test_a_drafted_charter_amendment_applies_its_changes_to_the_charter_in_force_at_submission(
    api: Api,  # noqa: F811
) -> None:
    from uuid import UUID

    from domain.rules.charter import CharterRules

    author = api.token("autrice", "citizen")
    draft_id = api.client.post("/drafts", json=api.submit(charter_amendment={
        "quorum_percent": 70}), headers=author).json()["id"]
    api.app.amend_charter(api.metropolis_id, CharterRules(  # meanwhile, v2 comes into force
        consultation_seconds=7200, vote_seconds=7200, quorum_percent=50))
    pid = api.client.post(f"/drafts/{draft_id}/submission", headers=author).json()["id"]
    proposed = api.app.get_proposal(UUID(pid)).amends_charter_with
    assert (proposed["consultation_seconds"], proposed["quorum_percent"]) == (7200, 70)
