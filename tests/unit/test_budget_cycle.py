"""The participatory budget's commands on the in-memory store: a cycle opened with its rules,
projects submitted and reviewed, appeals, ballots of each kind and their refusals (each naming
its rule, nothing recorded), replacement, the tally at the close position, milestones and
closing."""

from __future__ import annotations

from datetime import date

import pytest

from domain.budget.cycle import CycleStage
from domain.errors import (
    BallotAlreadyCast,
    InvalidBallot,
    InvalidBudgetCycle,
    NoAppealPending,
    NotEligibleToTakePart,
    NotSelected,
    ProjectNotAdmissible,
    ReasonRequired,
    SubmissionNotOpen,
    VotingNotOpen,
    WrongStage,
)
from domain.rules.budget_cycle import BudgetRules, ballot_refusal, last_ballots
from domain.rules.petition import SignerClaims
from tests.unit.helpers import ManualClock, in_memory_app
from domain.rules.charter import CharterRules

RESIDENT_A = SignerClaims(commune="A", birthdate=date(1990, 1, 1))
RESIDENT_B = SignerClaims(commune="B", birthdate=date(1990, 1, 1))
CHILD_A = SignerClaims(commune="A", birthdate=date(2020, 1, 1))
DAY = 86400


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock):
    return in_memory_app(clock)


def log_size(app) -> int:
    return app.recorder.max_notification_id() or 0


def metropolis(app, **budget: object):
    rules = CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY,
                         quorum_percent=50, competences=("mobilité", "environnement"),
                         budget=dict(budget))
    return app.found_metropolis(
        "test", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}], rules)


def cycle_with_projects(app, clock, costs=(300, 500, 200), districts=None, **rules):
    mid = metropolis(app)
    cid, _ = app.open_budget_cycle(mid, "clerk-1", "Budget 2027",
                                   districts or {"metropolis": 1000}, overrides=rules or None)
    pids = [app.submit_budget_project(cid, f"author-{i}", RESIDENT_A, "metropolis",
                                      f"Projet {i}", "Résumé", cost, "mobilité")[0]
            for i, cost in enumerate(costs)]
    return mid, cid, pids


def voting(app, clock, **kw):
    mid, cid, pids = cycle_with_projects(app, clock, **kw)
    clock.advance(days=30)
    app.open_budget_review(cid, clock())
    clock.advance(days=30)
    app.open_budget_voting(cid, clock())
    return mid, cid, pids


def test_a_cycle_runs_from_its_rules_to_its_results_when_every_stage_passes(app, clock) -> None:
    mid, cid, pids = voting(app, clock, rule="greedy")
    p0, p1, p2 = (str(p) for p in pids)
    # 3 voters want p1 (500), 2 want p0 (300), 1 wants p2 (200): greedy takes p1 then p0,
    # then p2 (1000 in all)
    for i, choice in enumerate([[p1], [p1, p0], [p1, p0], [p2]]):
        app.cast_budget_ballot(cid, f"v{i}", RESIDENT_A, "metropolis",
                               [(p, 1) for p in choice])
    clock.advance(days=21)
    close = app.close_budget_voting(cid, clock())
    results = app.tally_budget_cycle(cid, clock())
    assert results["metropolis"]["selected"] == [p1, p0, p2]
    assert results["metropolis"]["cost"] == 1000
    assert results["metropolis"]["ballots"] == 4
    cycle = app.get_budget_cycle(cid)
    assert cycle.stage == CycleStage.RESULTS and cycle.close_position == close
    assert app.tally_budget_cycle(cid, clock()) == results  # idempotent
    app.record_budget_milestone(pids[1], "clerk-1", "started", "Travaux commencés")
    assert app.close_budget_cycle(cid, clock()) == "completed"


def test_the_rules_are_the_charters_with_the_clerks_overrides_when_a_cycle_opens(app) -> None:
    mid = metropolis(app, ballot="knapsack", rule="mes")
    cid, _ = app.open_budget_cycle(mid, "clerk-1", "Budget", {"metropolis": 1000, "A": 100},
                                   overrides={"voting_seconds": 7 * DAY})
    rules = app.get_budget_cycle(cid).cycle_rules
    assert (rules.ballot, rules.rule, rules.voting_seconds) == ("knapsack", "mes", 7 * DAY)


def test_opening_is_refused_when_the_rules_or_districts_are_invalid(app) -> None:
    mid = metropolis(app)
    before = log_size(app)
    for districts, overrides in [({"Z": 100}, None), ({"metropolis": 0}, None),
                                 ({"metropolis": 100}, {"rule": "borda"}),
                                 ({"metropolis": 100}, {"ballots": "approval"})]:
        with pytest.raises(InvalidBudgetCycle):
            app.open_budget_cycle(mid, "clerk-1", "Budget", districts, overrides=overrides)
    assert log_size(app) == before


def test_a_project_is_refused_when_it_breaks_a_submission_rule(app, clock) -> None:
    mid, cid, _ = cycle_with_projects(app, clock, districts={"metropolis": 1000, "A": 100})
    before = log_size(app)
    cases = [
        (dict(district="B"), ProjectNotAdmissible, "budget.project.district"),
        (dict(cost=2000), ProjectNotAdmissible, "budget.project.cost"),
        (dict(district="A", cost=101), ProjectNotAdmissible, "budget.project.cost"),
        (dict(competence="défense"), ProjectNotAdmissible, "budget.project.competence"),
        (dict(claims=RESIDENT_B, district="A"), NotEligibleToTakePart, "budget.district"),
        (dict(claims=CHILD_A), NotEligibleToTakePart, "budget.min_age"),
    ]
    for changes, error, rule in cases:
        args = dict(claims=RESIDENT_A, district="metropolis", cost=100, competence="mobilité")
        args.update(changes)
        with pytest.raises(error) as refused:
            app.submit_budget_project(cid, "author-x", args["claims"], args["district"],
                                      "Titre", "Résumé", args["cost"], args["competence"])
        assert refused.value.rule == rule
    assert log_size(app) == before


def test_submission_is_refused_when_its_period_has_ended(app, clock) -> None:
    mid, cid, _ = cycle_with_projects(app, clock)
    clock.advance(days=30)
    with pytest.raises(SubmissionNotOpen):
        app.submit_budget_project(cid, "late", RESIDENT_A, "metropolis", "T", "R", 10,
                                  "mobilité")


def test_a_projects_title_is_sealed_when_a_citizen_submits_it(app, clock) -> None:
    mid, cid, pids = cycle_with_projects(app, clock)
    project = app.get_budget_project(pids[0])
    assert "Projet 0" not in project.title_sealed
    assert app.personal_data.open(project.title_sealed) == "Projet 0"


def test_unruled_projects_are_eligible_and_ineligible_ones_absent_when_voting_opens(
        app, clock) -> None:
    mid, cid, pids = cycle_with_projects(app, clock)
    clock.advance(days=30)
    app.open_budget_review(cid, clock())
    with pytest.raises(ReasonRequired):
        app.rule_budget_project(pids[0], "clerk-1", False)
    app.rule_budget_project(pids[0], "clerk-1", False, "hors compétence")
    app.rule_budget_project(pids[1], "clerk-1", True)
    clock.advance(days=30)
    app.open_budget_voting(cid, clock())
    on_ballot = app.get_budget_cycle(cid).ballots["metropolis"]
    assert set(on_ballot) == {str(pids[1]), str(pids[2])}
    assert app.get_budget_project(pids[2]).eligible is True


def test_an_upheld_appeal_puts_the_project_on_the_ballot_when_decided_before_voting(
        app, clock) -> None:
    mid, cid, pids = cycle_with_projects(app, clock)
    clock.advance(days=30)
    app.open_budget_review(cid, clock())
    with pytest.raises(NoAppealPending):
        app.appeal_budget_project(pids[0], "author-0", "Je conteste")
    app.rule_budget_project(pids[0], "clerk-1", False, "trop cher")
    app.appeal_budget_project(pids[0], "author-0", "Je conteste")
    app.decide_budget_appeal(pids[0], "garant-1", True, "le coût est dans le budget")
    clock.advance(days=30)
    app.open_budget_voting(cid, clock())
    assert str(pids[0]) in app.get_budget_cycle(cid).ballots["metropolis"]


def test_a_ballot_is_refused_naming_its_rule_when_invalid(app, clock) -> None:
    mid, cid, pids = voting(app, clock, ballot="knapsack", max_approvals=2,
                            districts={"metropolis": 1000, "A": 100})
    p0, p1, p2 = (str(p) for p in pids)
    before = log_size(app)
    cases = [
        ([(p0, 1), (p1, 1), (p2, 1)], "metropolis", RESIDENT_A, "budget.ballot.approvals"),
        ([], "metropolis", RESIDENT_A, "budget.ballot.approvals"),
        ([("nope", 1)], "metropolis", RESIDENT_A, "budget.ballot.unknown_project"),
        ([(p0, 1), (p0, 1)], "metropolis", RESIDENT_A, "budget.ballot.duplicate"),
        ([(p0, 2)], "metropolis", RESIDENT_A, "budget.ballot.points"),
        ([(p0, 1)], "A", RESIDENT_A, "budget.ballot.unknown_project"),  # not on A's ballot
        ([(p0, 1)], "A", RESIDENT_B, "budget.district"),
        ([(p0, 1)], "metropolis", CHILD_A, "budget.min_age"),
    ]
    for choices, district, claims, rule in cases:
        with pytest.raises((InvalidBallot, NotEligibleToTakePart)) as refused:
            app.cast_budget_ballot(cid, "v", claims, district, choices)
        assert refused.value.rule == rule, choices
    assert log_size(app) == before


def test_a_knapsack_ballot_over_the_budget_is_refused() -> None:
    rules = BudgetRules(ballot="knapsack")
    assert ballot_refusal(rules, 1000, {"a": 600, "b": 500}, [("a", 1), ("b", 1)])[0] == (
        "budget.ballot.over_budget")
    assert ballot_refusal(rules, 1000, {"a": 600, "b": 400}, [("a", 1), ("b", 1)]) is None


def test_a_cumulative_ballot_is_checked_against_its_points() -> None:
    rules = BudgetRules(ballot="cumulative", points=5, max_points_per_project=3)
    costs = {"a": 1, "b": 1}
    assert ballot_refusal(rules, 10, costs, [("a", 3), ("b", 2)]) is None
    assert ballot_refusal(rules, 10, costs, [("a", 3), ("b", 3)])[0] == "budget.ballot.points"
    assert ballot_refusal(rules, 10, costs, [("a", 4)])[0] == "budget.ballot.points"


def test_the_last_ballot_counts_when_the_rules_allow_replacing_it(app, clock) -> None:
    mid, cid, pids = voting(app, clock, rule="greedy")
    p0, p1 = str(pids[0]), str(pids[1])
    app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(p0, 1)])
    app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(p1, 1)])
    ballots, _ = app.budget_ballots(cid, upto=log_size(app))
    assert ballots == {"metropolis": {"v": [[p1, 1]]}}


def test_a_second_ballot_is_refused_when_the_rules_forbid_replacing(app, clock) -> None:
    mid, cid, pids = voting(app, clock, replace_ballot=False)
    app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(str(pids[0]), 1)])
    before = log_size(app)
    with pytest.raises(BallotAlreadyCast):
        app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(str(pids[1]), 1)])
    assert log_size(app) == before


def test_the_fast_path_builds_a_first_ballot_and_the_fallback_refuses_a_second(
        app, clock) -> None:
    mid, cid, pids = voting(app, clock, replace_ballot=False)
    act = app.ballot_act(cid, "v", RESIDENT_A, "metropolis", [(str(pids[0]), 1)])
    app.save(*act.prepare())
    again = app.ballot_act(cid, "v", RESIDENT_A, "metropolis", [(str(pids[1]), 1)])
    with pytest.raises(BallotAlreadyCast):
        again.fallback()


def test_a_ballot_is_refused_when_voting_has_closed(app, clock) -> None:
    mid, cid, pids = voting(app, clock)
    clock.advance(days=21)
    with pytest.raises(VotingNotOpen):
        app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(str(pids[0]), 1)])


def test_a_ballot_stored_after_the_close_is_not_counted(app, clock) -> None:
    mid, cid, pids = voting(app, clock, rule="greedy")
    act = app.ballot_act(cid, "late", RESIDENT_A, "metropolis", [(str(pids[0]), 1)])
    prepared = act.prepare()  # prepared while open, stored after the close
    clock.advance(days=21)
    app.close_budget_voting(cid, clock())
    app.save(*prepared)
    assert app.budget_ballots(cid)[0] == {}


def test_milestones_are_refused_when_the_project_was_not_selected(app, clock) -> None:
    mid, cid, pids = voting(app, clock, rule="greedy", costs=(600, 500))
    app.cast_budget_ballot(cid, "v", RESIDENT_A, "metropolis", [(str(pids[0]), 1)])
    clock.advance(days=21)
    app.close_budget_voting(cid, clock())
    app.tally_budget_cycle(cid, clock())
    with pytest.raises(NotSelected):
        app.record_budget_milestone(pids[1], "clerk-1", "started", "")


def test_a_cycle_is_cancelled_only_with_reasons_and_before_its_results(app, clock) -> None:
    mid, cid, pids = voting(app, clock)
    with pytest.raises(ReasonRequired):
        app.close_budget_cycle(cid, clock(), "cancelled")
    with pytest.raises(WrongStage):
        app.close_budget_cycle(cid, clock(), "completed")
    assert app.close_budget_cycle(cid, clock(), "cancelled", "annulé par le conseil") == (
        "cancelled")


def test_only_the_last_ballot_of_each_voter_of_the_cycle_counts() -> None:
    events = [("c", "metropolis", "v1", [["a", 1]]), ("other", "metropolis", "v1", [["b", 1]]),
              ("c", "metropolis", "v1", [["b", 1]]), ("c", "A", "v1", [["x", 1]])]
    assert last_ballots("c", events) == {"metropolis": {"v1": [["b", 1]]}, "A": {"v1": [["x", 1]]}}
