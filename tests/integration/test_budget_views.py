"""The participatory budgets' views on a real PostgreSQL (projections/budgets.py), driven
through the domain (a Registre made by `make_registre`): cycles and their published rules,
projects with eligibility, appeals and votes (a replaced ballot moves its votes, a late one is
kept apart), voters per district, the results explained project by project, the French
timeline, erased text, a rebuild giving the runner's rows; and the compliance view's budget
checks on the same log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import psycopg
import pytest

from api.settings import Settings
from api.wiring import (
    make_budget_views,
    make_compliance_view,
    make_registre,
    projection_runner,
)
from domain.application import Registre
from domain.budget.ballot import BudgetBallot, ballot_id
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.budgets import BudgetProjection, BudgetViews
from projections.compliance import ComplianceProjection, ComplianceView
from projections.rebuild import rebuild
from domain.rules.compliance import budget_recount
from tests.integration.test_rebuild import _snapshot, _view

pytestmark = pytest.mark.integration

RESIDENT_A = SignerClaims(commune="A", birthdate=date(1990, 1, 1))
RESIDENT_B = SignerClaims(commune="B", birthdate=date(1990, 1, 1))
TITLES = ("Piste cyclable", "Jardin partagé", "Bancs publics", "Fontaine", "Skatepark")


def found(app: Registre) -> UUID:
    return app.found_metropolis(
        f"b-{uuid.uuid4().hex[:8]}", "Métropole du budget",
        [{"code": "A", "name": "Ville A", "population": 600},
         {"code": "B", "name": "Ville B", "population": 400}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50))


@dataclass
class Run:
    app: Registre
    mid: UUID
    cid: UUID
    pids: list[UUID]
    late: int


def budget_run(app: Registre, publish: bool = True) -> Run:
    """A greedy cycle: three metropolis projects (600, 500, 300 of 1000) and one of commune
    A (200 of 500); project 3 ruled ineligible, its appeal upheld; project 4 ineligible, its
    appeal dismissed. Votes: three for p0, two for p1 (one moved there by a replaced ballot),
    one for p2, one for p3 in A; one ballot stored after the close (past the command)."""
    mid = found(app)
    cid, _ = app.open_budget_cycle(mid, "greffe-1", "Budget participatif 2027",
                                   {"metropolis": 1000, "A": 500},
                                   overrides={"rule": "greedy"})
    specs = [("metropolis", 600), ("metropolis", 500), ("metropolis", 300), ("A", 200),
             ("metropolis", 100)]
    pids = [app.submit_budget_project(cid, f"auteur-{i}", RESIDENT_A, district, TITLES[i],
                                      f"Résumé {i}", cost)[0]
            for i, (district, cost) in enumerate(specs)]
    app.open_budget_review(cid, app.clock())
    app.rule_budget_project(pids[3], "greffe-1", False, "hors compétence")
    app.appeal_budget_project(pids[3], "auteur-3", "C'est bien de notre compétence")
    app.decide_budget_appeal(pids[3], "garant-1", True, "compétence voirie")
    app.rule_budget_project(pids[4], "greffe-1", False, "coût sous-estimé")
    app.appeal_budget_project(pids[4], "auteur-4", "Le devis est joint")
    app.decide_budget_appeal(pids[4], "garant-1", False, "devis insuffisant")
    app.open_budget_voting(cid, app.clock())
    p0, p1, p2, p3 = (str(p) for p in pids[:4])
    for voter, choices in (("v1", [p0]), ("v2", [p0, p1]), ("v3", [p0]), ("v4", [p2]),
                           ("v5", [p0])):
        app.cast_budget_ballot(cid, voter, RESIDENT_B, "metropolis", [(p, 1) for p in choices])
    app.cast_budget_ballot(cid, "v5", RESIDENT_B, "metropolis", [(p1, 1)])  # replaced
    app.cast_budget_ballot(cid, "v1", RESIDENT_A, "A", [(p3, 1)])
    app.close_budget_voting(cid, app.clock())
    ballot = app.repository.get(ballot_id(cid, "metropolis", "v4"))
    assert isinstance(ballot, BudgetBallot)
    ballot.replace([[p2, 1], [p1, 1]])  # after the close: never counted
    late = app.save(ballot)[-1].notification.id
    if publish:
        app.tally_budget_cycle(cid, app.clock())
        app.record_budget_milestone(pids[0], "greffe-1", "started", "Travaux commencés")
    return Run(app, mid, cid, pids, late)


def applied(settings: Settings, app: Registre) -> BudgetViews:
    with projection_runner(settings, BudgetProjection, BudgetViews) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=20)
    return make_budget_views(settings)


@pytest.fixture
def app(settings: Settings):
    app = make_registre(settings)
    yield app
    app.close()


def test_votes_follow_the_last_ballot_and_keep_late_ones_apart_when_ballots_were_replaced(
    settings: Settings, app: Registre,
) -> None:
    run = budget_run(app, publish=False)
    views = applied(settings, app)
    projects = {p["id"]: p for p in views.projects(run.cid)}
    p0, p1, p2, p3, p4 = (projects[p] for p in run.pids)
    # v5's replaced ballot moved its vote from p0 to p1
    assert [p0["votes"], p1["votes"], p2["votes"], p3["votes"], p4["votes"]] == [3, 2, 1, 1, 0]
    assert [p1["late"], p2["late"]] == [1, 1]  # v4's ballot after the close
    assert views.ballot_counts(run.cid) == {"A": 1, "metropolis": 5}
    counted, _ = app.budget_ballots(run.cid)  # the tally's own ballots agree
    assert {d: len(v) for d, v in counted.items()} == views.ballot_counts(run.cid)
    votes: dict[str, int] = {}
    for voters in counted.values():
        for choices in voters.values():
            for project, points in choices:
                votes[project] = votes.get(project, 0) + points
    assert {str(k): p["votes"] for k, p in projects.items() if p["votes"]} == votes
    cycle = views.cycle(run.cid)
    assert cycle is not None
    assert cycle["late_ballots"] == {"metropolis": 1, "A": 0}
    assert cycle["results"] is None and views.results(run.cid) is None


def test_projects_say_their_eligibility_and_appeal_when_reviewed(settings: Settings,
                                                                app: Registre) -> None:
    run = budget_run(app)
    views = applied(settings, app)
    projects = {p["id"]: p for p in views.projects(run.cid)}
    upheld, dismissed, silent = projects[run.pids[3]], projects[run.pids[4]], projects[run.pids[0]]
    assert (upheld["eligible"], upheld["appeal"], upheld["cause"]) == (True, "upheld",
                                                                      "clerk_ruling")
    assert (dismissed["eligible"], dismissed["appeal"], dismissed["reason"]) == (
        False, "dismissed", "coût sous-estimé")
    assert (silent["eligible"], silent["cause"], silent["appeal"]) == (True, "deadline", None)
    assert (silent["title"], silent["summary"], silent["cost"]) == (TITLES[0], "Résumé 0", 600)
    assert [p["id"] for p in views.projects(run.cid, eligible=False)] == [run.pids[4]]
    assert [p["id"] for p in views.projects(run.cid, district="A")] == [run.pids[3]]
    assert silent["milestones"][0]["status"] == "started"
    assert silent["milestones"][0]["note"] == "Travaux commencés"


def test_results_are_the_published_ones_explained_for_every_project_when_tallied(
    settings: Settings, app: Registre,
) -> None:
    run = budget_run(app)
    views = applied(settings, app)
    published = app.get_budget_cycle(run.cid).results
    results = views.results(run.cid)
    assert results is not None
    for district, outcome in published.items():
        shown = dict(results[district])
        explanation = shown.pop("explanation")
        assert shown == outcome
        assert {x["id"] for x in explanation} == set(
            app.get_budget_cycle(run.cid).ballots[district])
        for x in explanation:
            assert x["selected"] == (x["id"] in outcome["selected"])
            assert (x["reason"] == "") == x["selected"]
            assert x["round"] == (outcome["selected"].index(x["id"]) if x["selected"]
                                  else None)
    explained = {x["id"]: x for x in results["metropolis"]["explanation"]}
    rejected = [x for x in explained.values() if not x["selected"]]
    assert rejected, "the scenario leaves a project out"
    assert all(x["reason"].startswith("il ne tenait plus dans le budget restant")
               for x in rejected)
    assert explained[str(run.pids[0])]["title"] == TITLES[0]
    selected = {p["id"] for p in views.projects(run.cid) if p["selected"]}
    assert {str(p) for p in selected} == {p for r in published.values() for p in r["selected"]}
    assert views.cycle(run.cid)["results"] == results


def test_cycles_show_their_published_rules_and_stage_when_listed(settings: Settings,
                                                                 app: Registre) -> None:
    run = budget_run(app)
    app.close_budget_cycle(run.cid, app.clock())
    other, _ = app.open_budget_cycle(run.mid, "greffe-1", "Budget 2028", {"B": 300})
    views = applied(settings, app)
    cycles = views.cycles(run.mid)
    assert [c["id"] for c in cycles] == [other, run.cid]
    done = cycles[1]
    cycle = app.get_budget_cycle(run.cid)
    assert (done["stage"], done["outcome"], done["source"]) == ("closed", "completed",
                                                                "registre")
    assert done["rules"] == cycle.rules and done["districts"] == cycle.districts
    assert done["voting_closes_at"] == cycle.voting_closes_at
    assert done["title"] == "Budget participatif 2027"
    assert cycles[0]["stage"] == "submission" and cycles[0]["review_closes_at"] is None
    detail = views.cycle(run.cid)
    assert detail["projects"] == {"metropolis": 4, "A": 1}
    assert views.cycle(uuid.uuid4()) is None and views.cycles(uuid.uuid4()) == []


def test_timeline_tells_the_cycle_in_french_without_an_entry_per_ballot(
    settings: Settings, app: Registre,
) -> None:
    run = budget_run(app)
    timeline = applied(settings, app).timeline(run.cid)
    kinds = [t["kind"] for t in timeline]
    assert not any(k.startswith("BudgetBallot.") for k in kinds)
    assert kinds[0] == "BudgetCycle.Opened" and "BudgetCycle.ProjectAdded" not in kinds
    assert kinds.count("BudgetProject.Submitted") == 5
    labels = [t["label"] for t in timeline]
    assert labels[0].startswith("Règles du budget publiées")
    assert labels[1] == f"Projet déposé : « {TITLES[0]} » (toute la métropole, coût 600)"
    assert any(label.startswith("Dépôt des projets clos") for label in labels)
    assert any(label.startswith("Vote ouvert jusqu'au") for label in labels)
    assert any(label.startswith("Résultats publiés") for label in labels)
    assert f"Recours accueilli par le garant pour le projet « {TITLES[3]} » : compétence " \
           "voirie" in labels
    assert labels[-1].startswith(f"Mise en œuvre du projet « {TITLES[0]} » : commencé")
    assert [t["position"] for t in timeline] == sorted(t["position"] for t in timeline)


def test_shows_contenu_efface_when_an_authors_key_was_erased(settings: Settings,
                                                              app: Registre) -> None:
    run = budget_run(app)
    assert app.personal_data.erase(run.mid, "auteur-0")
    views = applied(settings, app)
    erased = next(p for p in views.projects(run.cid) if p["id"] == run.pids[0])
    assert (erased["title"], erased["summary"]) == ("contenu effacé", "contenu effacé")
    assert views.timeline(run.cid)[1]["label"].startswith("Projet déposé : « contenu effacé »")


def test_rebuild_gives_the_runners_rows_when_rebuilt_in_batches(settings: Settings,
                                                               app: Registre) -> None:
    budget_run(app)
    applied(settings, app)
    view = _view(settings, BudgetProjection, BudgetViews)
    by_runner = _snapshot(settings, view, app.name)
    assert by_runner["budget_ballot_view"] and by_runner["budget_timeline_view"]
    for batch in (3, 1000):
        rebuild(app, BudgetProjection, view, batch_size=batch)
        assert _snapshot(settings, view, app.name) == by_runner, batch


def flags(settings: Settings, app: Registre) -> list[dict]:
    checked = app.recorder.select_notifications(start=1, limit=100_000,
                                                topics=list(ComplianceProjection.topics))
    with projection_runner(settings, ComplianceProjection, ComplianceView) as runner:
        runner.wait(checked[-1].id, timeout=20)  # the last event it follows
    return make_compliance_view(settings).flags()


def test_compliance_flags_the_late_ballot_only_when_the_results_match_the_recount(
    settings: Settings, app: Registre,
) -> None:
    run = budget_run(app)
    found = flags(settings, app)
    assert [(f["rule"], f["positions"][-1]) for f in found] == [("budget.late_ballot",
                                                                 run.late)]
    with psycopg.connect(settings.postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM registre_dead_letters").fetchone()[0] == 0


def test_compliance_flags_results_that_differ_from_the_recount_when_forged(
    settings: Settings, app: Registre,
) -> None:
    honest = budget_run(app)
    forged = budget_run(app, publish=False)
    cycle = app.get_budget_cycle(forged.cid)
    counted, close = app.budget_ballots(forged.cid)
    recount = budget_recount(str(forged.cid), cycle.rules, cycle.districts, cycle.ballots,
                             counted)
    assert len(recount["metropolis"]["selected"]) > 1
    cycle.publish_results(close_position=close, results=dict(recount, metropolis=dict(
        recount["metropolis"], selected=recount["metropolis"]["selected"][::-1])),
        at=app.clock())
    app.save(cycle)  # written past the command, which publishes the recount
    found = [f for f in flags(settings, app) if f["rule"] == "budget.results_mismatch"]
    assert [f["proposal_id"] for f in found] == [forged.cid]
    assert found[0]["message"].startswith("résultats publiés différents du recomptage")
    assert honest.cid != forged.cid
