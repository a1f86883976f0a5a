"""The participatory budget's HTTP API on a real PostgreSQL: every act (opening a cycle,
projects, the clerks' review, appeals and the guarantor's decision, ballots through the
group-commit writer, milestones, cancellation), each refusal naming its rule in French and
leaving the log as it was, and the read routes' shape (on a stand-in for the budget views).

The stages the BudgetCycleWorkflow drives (the review's opening, voting's opening and close,
the tally) are run here through the domain, as its activities would, with the app's clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.messages_fr import RULE_FR
from api.settings import Settings
from api.wiring import create_api, make_registre
from domain.budget.ballot import BudgetBallot, ballot_id
from domain.budget.cycle import CycleStage
from domain.budget.project import BudgetProject
from domain.application import Registre
from domain.rules.charter import CharterRules
from tests.conftest import log_size

pytestmark = pytest.mark.integration

ADULT = date(1990, 5, 1)
CLERK = ("greffe-1", "clerk", None)


@dataclass
class Api:
    client: TestClient
    app: Registre
    settings: Settings
    metropolis_id: UUID
    slug: str

    def token(self, sub: str, role: str = "citizen", territory: str | None = "A", *,
              birthdate: date | None = ADULT) -> dict[str, str]:
        token = issue_token(self.settings.signing_secret(), sub, role, territory,
                            birthdate=birthdate)
        return {"Authorization": f"Bearer {token}"}

    def clerk(self) -> dict[str, str]:
        return self.token(*CLERK)

    def open(self, districts: dict[str, int] | None = None, **rules: Any) -> UUID:
        body: dict[str, Any] = {"title": "Budget participatif 2027",
                                "districts": districts or {"metropolis": 100_000, "A": 50_000}}
        if rules:
            body["rules"] = rules
        r = self.client.post(f"/metropolises/{self.slug}/budgets", headers=self.clerk(),
                             json=body)
        assert r.status_code == 201, r.text
        return UUID(r.json()["id"])

    def submit(self, cycle_id: UUID, cost: int = 10_000, district: str = "metropolis",
               sub: str = "autrice", title: str = "Un jardin partagé") -> UUID:
        r = self.client.post(f"/budgets/{cycle_id}/projects", headers=self.token(sub), json={
            "district": district, "title": title, "summary": "Des bacs et un composteur.",
            "cost": cost, "competence": "environnement"})
        assert r.status_code == 201, r.text
        return UUID(r.json()["id"])

    def reviewing(self, cycle_id: UUID) -> None:
        self.app.open_budget_review(cycle_id, self.app.clock())

    def voting(self, cycle_id: UUID) -> None:
        """Voting opened a second ago, on the projects ruled eligible or left unruled."""
        at = self.app.clock() - timedelta(seconds=1)
        if self.app.get_budget_cycle(cycle_id).stage == CycleStage.SUBMISSION:
            self.app.open_budget_review(cycle_id, at)
        self.app.open_budget_voting(cycle_id, at)

    def ballot(self, cycle_id: UUID, sub: str = "votant", territory: str = "A",
               **body: Any) -> Any:
        return self.client.post(f"/budgets/{cycle_id}/ballots",
                                headers=self.token(sub, territory=territory),
                                json={"district": "metropolis", **body})


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    app = make_registre(settings)
    slug = f"b-{uuid4().hex[:8]}"
    mid = app.found_metropolis(
        slug, "Métropole du budget",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     competences=("mobilités", "environnement")))
    # No `Prefer: wait-for-views`: the reads are tested on a stand-in below.
    with TestClient(create_api(settings)) as client:
        yield Api(client, app, settings, mid, slug)
    app.close()


def assert_refused(api: Api, response: Any, status: int, rule: str, size: int) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["rule"] == rule
    assert detail["explication"] == RULE_FR[rule]
    assert log_size(api.settings) == size, "a refused request appended to the log"


def pseudonym(api: Api, sub: str) -> str:
    return str(api.app.personal_data.pseudonym(api.metropolis_id, "registre-local", sub))


# -- opening, projects, review, appeals -----------------------------------------------------


def test_a_clerk_opens_a_cycle_with_its_rules_published_when_the_body_is_valid(
    api: Api,
) -> None:
    r = api.client.post(f"/metropolises/{api.slug}/budgets", headers=api.clerk(), json={
        "title": "Budget participatif 2027", "districts": {"metropolis": 100_000, "B": 20_000},
        "rules": {"ballot": "knapsack", "rule": "greedy", "voting_seconds": 600}})
    assert r.status_code == 201, r.text
    assert r.json()["position"] == log_size(api.settings)
    cycle = api.app.get_budget_cycle(UUID(r.json()["id"]))
    assert cycle.districts == {"metropolis": 100_000, "B": 20_000}
    assert (cycle.cycle_rules.ballot, cycle.cycle_rules.rule,
            cycle.cycle_rules.voting_seconds) == ("knapsack", "greedy", 600)
    assert cycle.source == "registre"


def test_refuses_to_open_a_cycle_when_the_role_is_citizen(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/metropolises/{api.slug}/budgets", headers=api.token("c"), json={
        "title": "Budget", "districts": {"metropolis": 1000}})
    assert_refused(api, r, 403, "role_required", size)


def test_refuses_to_open_a_cycle_when_a_district_is_not_a_member_commune(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/metropolises/{api.slug}/budgets", headers=api.clerk(), json={
        "title": "Budget participatif", "districts": {"Z": 1000}})
    assert_refused(api, r, 409, "budget.rules", size)


def test_refuses_to_open_a_cycle_when_the_rules_are_incoherent(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/metropolises/{api.slug}/budgets", headers=api.clerk(), json={
        "title": "Budget participatif", "districts": {"metropolis": 1000},
        "rules": {"min_approvals": 5, "max_approvals": 2}})
    assert_refused(api, r, 409, "budget.rules", size)


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "Budget participatif", "districts": {"metropolis": 0}}, "districts"),
    ({"title": "Budget participatif", "districts": {"metropolis": 10},
      "rules": {"quorum": 3}}, "rules"),
    ({"title": "Budget participatif", "districts": {"metropolis": 10},
      "rules": {"rule": "borda"}}, "rules"),
    ({"title": "Budget\x00 nul", "districts": {"metropolis": 10}}, "title"),
    ({"title": "Budget \ud800", "districts": {"metropolis": 10}}, None),
    ({"title": "Budget \x1b[31m", "districts": {"metropolis": 10}}, "title"),
    ({"title": "B" * 10_000, "districts": {"metropolis": 10}}, "title"),
])
def test_refuses_to_open_a_cycle_when_the_body_is_malformed_or_hostile(
    api: Api, body: dict[str, Any], field: str | None,
) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/metropolises/{api.slug}/budgets", content=json.dumps(body).encode(),
                        headers={**api.clerk(), "Content-Type": "application/json"})
    assert_refused(api, r, 422, "invalid_request", size)
    if field:
        assert field in {str(p) for e in r.json()["detail"]["errors"] for p in e["loc"]}


def test_refuses_a_request_when_its_json_is_malformed(api: Api) -> None:
    cycle_id = api.open()
    api.voting(cycle_id)
    size = log_size(api.settings)
    for raw in (b'{"district": "metropolis", "projects": [', b'{"district": NaN}',
                b'\xff\xfe'):
        r = api.client.post(f"/budgets/{cycle_id}/ballots", headers={
            **api.token("votant"), "Content-Type": "application/json"}, content=raw)
        assert_refused(api, r, 422, "invalid_request", size)


def test_refuses_a_body_when_it_exceeds_the_cap(api: Api) -> None:
    cycle_id = api.open()
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/projects", headers=api.token("a"), json={
        "district": "metropolis", "title": "Titre", "summary": "x" * 5_000_000, "cost": 1})
    assert_refused(api, r, 413, "body_too_large", size)


def test_a_resident_submits_a_project_whose_title_and_summary_are_sealed(api: Api) -> None:
    cycle_id = api.open()
    project_id = api.submit(cycle_id, title="Un jardin partagé rue Cérès")
    project = api.app.get_budget_project(project_id)
    assert (project.author_ref, project.cost, project.district) == (
        pseudonym(api, "autrice"), 10_000, "metropolis")
    assert "jardin" not in project.title_sealed
    assert api.app.personal_data.open(project.title_sealed) == "Un jardin partagé rue Cérès"
    assert api.app.get_budget_cycle(cycle_id).projects == [project_id]


@pytest.mark.parametrize(("district", "cost", "territory", "competence", "status", "rule"), [
    ("A", 1000, "B", "environnement", 403, "budget.district"),
    ("metropolis", 1000, "Z", "environnement", 403, "budget.residence"),
    ("metropolis", 200_000, "A", "environnement", 409, "budget.project.cost"),
    ("metropolis", 1000, "A", "culture", 409, "budget.project.competence"),
    ("B", 1000, "B", "environnement", 409, "budget.project.district"),
])
def test_refuses_a_project_when_it_breaks_a_rule(
    api: Api, district: str, cost: int, territory: str, competence: str, status: int,
    rule: str,
) -> None:
    cycle_id = api.open()
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/projects", headers=api.token(
        "autrice", territory=territory), json={"district": district, "title": "Un projet",
                                               "summary": "Résumé", "cost": cost,
                                               "competence": competence})
    assert_refused(api, r, status, rule, size)


def test_refuses_a_project_when_submission_is_over(api: Api) -> None:
    cycle_id = api.open()
    api.reviewing(cycle_id)
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/projects", headers=api.token("a"), json={
        "district": "metropolis", "title": "Trop tard", "summary": "Résumé", "cost": 10,
        "competence": "environnement"})
    assert_refused(api, r, 409, "budget.submission", size)


def test_an_ineligible_project_is_appealed_by_its_author_and_the_guarantor_upholds_it(
    api: Api,
) -> None:
    cycle_id = api.open()
    project_id = api.submit(cycle_id)
    api.reviewing(cycle_id)
    size = log_size(api.settings)
    unreasoned = api.client.post(f"/budget-projects/{project_id}/ruling",
                                 headers=api.clerk(), json={"eligible": False})
    assert_refused(api, unreasoned, 409, "reason_required", size)
    r = api.client.post(f"/budget-projects/{project_id}/ruling", headers=api.clerk(),
                        json={"eligible": False, "reason": "Terrain privé."})
    assert r.status_code == 201, r.text
    assert api.app.get_budget_project(project_id).eligible is False
    size = log_size(api.settings)
    other = api.client.post(f"/budget-projects/{project_id}/appeal",
                            headers=api.token("autre"), json={"text": "Je conteste."})
    assert_refused(api, other, 403, "not_the_author", size)
    appeal = "Le terrain appartient à la métropole."
    r = api.client.post(f"/budget-projects/{project_id}/appeal",
                        headers=api.token("autrice"), json={"text": appeal})
    assert r.status_code == 201, r.text
    [appealed] = [e for e in api.app.events.get(project_id)
                  if isinstance(e, BudgetProject.Appealed)]
    assert appeal not in appealed.text_sealed
    size = log_size(api.settings)
    clerk = api.client.post(f"/budget-projects/{project_id}/appeal-decision",
                            headers=api.clerk(), json={"upheld": True, "reason": "Vérifié."})
    assert_refused(api, clerk, 403, "role_required", size)
    r = api.client.post(f"/budget-projects/{project_id}/appeal-decision",
                        headers=api.token("garant", "guarantor", None),
                        json={"upheld": True, "reason": "Le cadastre le confirme."})
    assert r.status_code == 201, r.text
    assert api.app.get_budget_project(project_id).eligible is True


def test_refuses_a_ruling_when_the_review_is_not_open(api: Api) -> None:
    cycle_id = api.open()
    project_id = api.submit(cycle_id)
    size = log_size(api.settings)
    r = api.client.post(f"/budget-projects/{project_id}/ruling", headers=api.clerk(),
                        json={"eligible": True})
    assert_refused(api, r, 409, "wrong_stage", size)


def test_refuses_a_ruling_when_the_project_is_unknown(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/budget-projects/{uuid4()}/ruling", headers=api.clerk(),
                        json={"eligible": True})
    assert_refused(api, r, 404, "unknown_budget_project", size)


# -- ballots --------------------------------------------------------------------------------


def test_a_resident_casts_an_approval_ballot_recorded_under_their_pseudonym(api: Api) -> None:
    cycle_id = api.open()
    p1, p2 = api.submit(cycle_id), api.submit(cycle_id, sub="autre")
    api.voting(cycle_id)
    r = api.ballot(cycle_id, projects=[str(p1), str(p2)])
    assert r.status_code == 201, r.text
    assert r.json()["position"] == log_size(api.settings)
    ballot = api.app.repository.get(ballot_id(cycle_id, "metropolis", pseudonym(api, "votant")))
    assert sorted(ballot.choices) == sorted([[str(p1), 1], [str(p2), 1]])


def test_a_resident_votes_in_their_own_communes_district(api: Api) -> None:
    cycle_id = api.open()
    project = api.submit(cycle_id, district="A", cost=5_000)
    api.voting(cycle_id)
    r = api.ballot(cycle_id, district="A", projects=[str(project)])
    assert r.status_code == 201, r.text


def test_a_second_ballot_replaces_the_first_when_the_rules_allow_it(api: Api) -> None:
    cycle_id = api.open(replace_ballot=True)
    p1, p2 = api.submit(cycle_id), api.submit(cycle_id, sub="autre")
    api.voting(cycle_id)
    assert api.ballot(cycle_id, projects=[str(p1)]).status_code == 201
    r = api.ballot(cycle_id, projects=[str(p2)])
    assert r.status_code == 201, r.text
    bid = ballot_id(cycle_id, "metropolis", pseudonym(api, "votant"))
    events = list(api.app.events.get(bid))
    assert isinstance(events[-1], BudgetBallot.Replaced)
    assert api.app.repository.get(bid).choices == [[str(p2), 1]]


def test_refuses_a_second_ballot_when_the_rules_forbid_it(api: Api) -> None:
    cycle_id = api.open(replace_ballot=False)
    p1 = api.submit(cycle_id)
    api.voting(cycle_id)
    assert api.ballot(cycle_id, projects=[str(p1)]).status_code == 201
    size = log_size(api.settings)
    assert_refused(api, api.ballot(cycle_id, projects=[str(p1)]), 409, "budget.one_ballot",
                   size)


def test_a_cumulative_ballot_gives_its_points(api: Api) -> None:
    cycle_id = api.open(ballot="cumulative", points=5, max_points_per_project=4)
    p1, p2 = api.submit(cycle_id), api.submit(cycle_id, sub="autre")
    api.voting(cycle_id)
    r = api.ballot(cycle_id, choices=[{"project": str(p1), "points": 4},
                                      {"project": str(p2), "points": 1}])
    assert r.status_code == 201, r.text
    ballot = api.app.repository.get(ballot_id(cycle_id, "metropolis", pseudonym(api, "votant")))
    assert sorted(ballot.choices) == sorted([[str(p1), 4], [str(p2), 1]])


@pytest.mark.parametrize(("rules", "choose", "rule"), [
    ({"ballot": "knapsack"}, "both", "budget.ballot.over_budget"),
    ({"min_approvals": 2}, "one", "budget.ballot.approvals"),
    ({"max_approvals": 1}, "both", "budget.ballot.approvals"),
    ({}, "none", "budget.ballot.approvals"),
    ({}, "unknown", "budget.ballot.unknown_project"),
    ({}, "ineligible", "budget.ballot.unknown_project"),
    ({}, "twice", "budget.ballot.duplicate"),
    ({}, "points", "budget.ballot.points"),
    ({"ballot": "cumulative", "points": 3}, "too_many_points", "budget.ballot.points"),
])
def test_refuses_a_ballot_when_it_breaks_the_cycles_rules(
    api: Api, rules: dict[str, Any], choose: str, rule: str,
) -> None:
    cycle_id = api.open(districts={"metropolis": 100_000}, **rules)
    p1 = api.submit(cycle_id, cost=60_000)
    p2 = api.submit(cycle_id, cost=50_000, sub="autre")
    refused = api.submit(cycle_id, cost=1_000, sub="tierce")
    api.reviewing(cycle_id)
    api.app.rule_budget_project(refused, "greffe-1", False, "Hors compétence.")
    api.voting(cycle_id)
    body = {"both": {"projects": [str(p1), str(p2)]}, "one": {"projects": [str(p1)]},
            "none": {"projects": []}, "unknown": {"projects": [str(uuid4())]},
            "ineligible": {"projects": [str(refused)]},
            "twice": {"projects": [str(p1), str(p1)]},
            "points": {"choices": [{"project": str(p1), "points": 2}]},
            "too_many_points": {"choices": [{"project": str(p1), "points": 2},
                                            {"project": str(p2), "points": 2}]}}[choose]
    size = log_size(api.settings)
    assert_refused(api, api.ballot(cycle_id, **body), 409, rule, size)


@pytest.mark.parametrize(("district", "territory", "birthdate", "status", "rule"), [
    ("A", "B", ADULT, 403, "budget.district"),
    ("metropolis", "Z", ADULT, 403, "budget.residence"),
    ("metropolis", "A", date(2019, 1, 1), 403, "budget.min_age"),
    ("B", "B", ADULT, 409, "budget.district"),
])
def test_refuses_a_ballot_when_the_voter_may_not_vote_there(
    api: Api, district: str, territory: str, birthdate: date, status: int, rule: str,
) -> None:
    cycle_id = api.open()
    project = api.submit(cycle_id, district="A", cost=1_000)
    api.voting(cycle_id)
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/ballots", headers=api.token(
        "votant", territory=territory, birthdate=birthdate),
        json={"district": district, "projects": [str(project)]})
    assert_refused(api, r, status, rule, size)


def test_refuses_a_ballot_when_voting_is_closed(api: Api) -> None:
    cycle_id = api.open()
    project = api.submit(cycle_id)
    api.voting(cycle_id)
    api.app.close_budget_voting(cycle_id, api.app.clock())
    size = log_size(api.settings)
    assert_refused(api, api.ballot(cycle_id, projects=[str(project)]), 409, "budget.voting",
                   size)


def test_refuses_a_ballot_when_voting_has_not_opened(api: Api) -> None:
    cycle_id = api.open()
    project = api.submit(cycle_id)
    size = log_size(api.settings)
    assert_refused(api, api.ballot(cycle_id, projects=[str(project)]), 409, "budget.voting",
                   size)


def test_refuses_a_ballot_when_the_cycle_is_unknown(api: Api) -> None:
    size = log_size(api.settings)
    assert_refused(api, api.ballot(uuid4(), projects=[str(uuid4())]), 404,
                   "unknown_budget_cycle", size)


@pytest.mark.parametrize("body", [
    {"district": "metropolis"},
    {"district": "metropolis", "projects": [], "choices": []},
    {"district": "metropolis", "projects": ["pas-un-id"]},
    {"district": "metro\x00polis", "projects": []},
    {"district": "metropolis", "projects": [], "voter": "quelqu'un"},
    {"district": "metropolis", "choices": [{"project": str(uuid4()), "points": 10**9}]},
])
def test_refuses_a_ballot_when_its_body_is_malformed_or_hostile(
    api: Api, body: dict[str, Any],
) -> None:
    cycle_id = api.open()
    api.voting(cycle_id)
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/ballots", headers=api.token("votant"),
                        json=body)
    assert_refused(api, r, 422, "invalid_request", size)


def test_refuses_a_ballot_when_the_role_is_not_citizen(api: Api) -> None:
    cycle_id = api.open()
    project = api.submit(cycle_id)
    api.voting(cycle_id)
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/ballots", headers=api.clerk(),
                        json={"district": "metropolis", "projects": [str(project)]})
    assert_refused(api, r, 403, "role_required", size)


# -- results, milestones, cancellation ------------------------------------------------------


def _tallied(api: Api) -> tuple[UUID, UUID, UUID]:
    """A cycle tallied: a cheap project everyone voted for, a dear one nobody did."""
    cycle_id = api.open(districts={"metropolis": 20_000}, rule="greedy")
    chosen = api.submit(cycle_id, cost=15_000)
    unchosen = api.submit(cycle_id, cost=18_000, sub="autre")
    api.voting(cycle_id)
    for n in range(3):
        assert api.ballot(cycle_id, sub=f"votant-{n}", projects=[str(chosen)]).status_code == 201
    api.app.close_budget_voting(cycle_id, api.app.clock())
    api.app.tally_budget_cycle(cycle_id, api.app.clock())
    return cycle_id, chosen, unchosen


def test_a_clerk_records_a_milestone_of_a_selected_project(api: Api) -> None:
    cycle_id, chosen, unchosen = _tallied(api)
    assert api.app.get_budget_cycle(cycle_id).results["metropolis"]["ballots"] == 3
    r = api.client.post(f"/budget-projects/{chosen}/milestones", headers=api.clerk(),
                        json={"status": "started", "note": "Travaux commencés."})
    assert r.status_code == 201, r.text
    assert api.app.get_budget_project(chosen).milestones == ["started"]


def test_refuses_a_milestone_when_the_project_was_not_selected(api: Api) -> None:
    cycle_id, chosen, unchosen = _tallied(api)
    if str(unchosen) in api.app.get_budget_cycle(cycle_id).results["metropolis"]["selected"]:
        pytest.fail("the project nobody voted for was selected")
    size = log_size(api.settings)
    r = api.client.post(f"/budget-projects/{unchosen}/milestones", headers=api.clerk(),
                        json={"status": "started", "note": "?"})
    assert_refused(api, r, 409, "budget.not_selected", size)


def test_refuses_a_milestone_when_its_status_is_unknown(api: Api) -> None:
    cycle_id, chosen, _ = _tallied(api)
    size = log_size(api.settings)
    r = api.client.post(f"/budget-projects/{chosen}/milestones", headers=api.clerk(),
                        json={"status": "fini", "note": ""})
    assert_refused(api, r, 422, "invalid_request", size)


def test_a_clerk_cancels_a_cycle_with_reasons(api: Api) -> None:
    cycle_id = api.open()
    r = api.client.post(f"/budgets/{cycle_id}/cancellation", headers=api.clerk(),
                        json={"reason": "Le budget de la métropole est gelé."})
    assert r.status_code == 201, r.text
    assert r.json()["position"] == log_size(api.settings)
    cycle = api.app.get_budget_cycle(cycle_id)
    assert (cycle.stage, cycle.outcome) == (CycleStage.CLOSED, "cancelled")


def test_refuses_a_cancellation_when_the_results_are_published(api: Api) -> None:
    cycle_id, _, _ = _tallied(api)
    size = log_size(api.settings)
    r = api.client.post(f"/budgets/{cycle_id}/cancellation", headers=api.clerk(),
                        json={"reason": "Trop tard pour annuler."})
    assert_refused(api, r, 409, "wrong_stage", size)


# -- reads (on a stand-in for the budget views) ---------------------------------------------


class StandInViews:
    """The budget views' reading API, answering what it was given."""

    def __init__(self, cycle_id: UUID, metropolis_id: UUID) -> None:
        self.cycle_id, self.metropolis_id = cycle_id, metropolis_id
        self.asked: list[tuple[str, Any]] = []

    def wait(self, *args: Any, **kwargs: Any) -> None:
        return None

    def cycles(self, metropolis_id: UUID) -> list[dict[str, Any]]:
        self.asked.append(("cycles", metropolis_id))
        return [{"id": str(self.cycle_id), "title": "Budget \u202e2027"}]

    def cycle(self, cycle_id: UUID) -> dict[str, Any] | None:
        return {"id": str(cycle_id), "stage": "voting"} if cycle_id == self.cycle_id else None

    def projects(self, cycle_id: UUID, district: str | None = None,
                 eligible: bool | None = None) -> list[dict[str, Any]]:
        self.asked.append(("projects", (district, eligible)))
        return [{"id": "p1", "district": district}]

    def results(self, cycle_id: UUID) -> dict[str, Any] | None:
        return None

    def timeline(self, cycle_id: UUID) -> list[dict[str, Any]]:
        return [{"position": 1, "text": "Ouverture"}]


def test_the_reads_serve_the_budget_views_when_the_cycle_is_known(api: Api) -> None:
    cycle_id = uuid4()
    views = StandInViews(cycle_id, api.metropolis_id)
    api.client.app.state.budget_views = views
    r = api.client.get(f"/metropolises/{api.slug}/budgets")
    assert r.status_code == 200, r.text
    assert views.asked[0] == ("cycles", api.metropolis_id)
    assert "\u202e" not in r.text  # stored text neutralised for display
    assert api.client.get(f"/budgets/{cycle_id}").json()["stage"] == "voting"
    r = api.client.get(f"/budgets/{cycle_id}/projects",
                       params={"district": "A", "eligible": "true"})
    assert r.status_code == 200 and views.asked[-1] == ("projects", ("A", True))
    assert api.client.get(f"/budgets/{cycle_id}/timeline").json()[0]["text"] == "Ouverture"
    r = api.client.get(f"/budgets/{cycle_id}/results")
    assert (r.status_code, r.json()["detail"]["rule"]) == (404, "budget.no_results")


def test_the_reads_answer_404_when_the_cycle_is_unknown(api: Api) -> None:
    api.client.app.state.budget_views = StandInViews(uuid4(), api.metropolis_id)
    for path in ("", "/projects", "/results", "/timeline"):
        r = api.client.get(f"/budgets/{uuid4()}{path}")
        assert (r.status_code, r.json()["detail"]["rule"]) == (404, "unknown_budget_cycle")
