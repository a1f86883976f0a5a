"""The participatory budget's compliance checks (domain/rules/compliance.py), pure: each rule
flags when the log breaks it and stays silent when the log respects it, with the proving
positions; the same flags from the domain events (the view) as from the leaves (an export).
Logs are written by the budget commands on the in-memory store, a breach past the commands."""

from __future__ import annotations

from domain.budget.ballot import ballot_id
from domain.rules.compliance import RULE_FR, budget_recount
from tests.unit.helpers import ManualClock, in_memory_app
from tests.unit.test_budget_cycle import RESIDENT_A, cycle_with_projects
from tests.unit.test_compliance_rules import _both_ways

BUDGET_RULES = ("budget.late_ballot", "budget.invalid_ballot", "budget.appeal_undecided",
                "budget.results_mismatch")


def reviewed(appeal_decided: bool = True):
    """A greedy cycle (300, 500, 200 of 1000): project 2 ruled ineligible and appealed (the
    appeal decided, or left pending), voting open."""
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid, pids = cycle_with_projects(app, clock, rule="greedy")
    clock.advance(days=30)
    app.open_budget_review(cid, clock())
    app.rule_budget_project(pids[2], "clerk-1", False, "hors compétence")
    appealed = app.appeal_budget_project(pids[2], "author-2", "C'est de notre compétence")
    if appeal_decided:
        app.decide_budget_appeal(pids[2], "garant-1", False, "hors compétence")
    clock.advance(days=30)
    app.open_budget_voting(cid, clock())
    return app, clock, cid, [str(p) for p in pids], appealed


def voted(app, clock, cid, pids) -> int:
    p0, p1 = pids[0], pids[1]
    for voter, choice in (("v1", [p1]), ("v2", [p0, p1]), ("v3", [p0])):
        app.cast_budget_ballot(cid, voter, RESIDENT_A, "metropolis", [(p, 1) for p in choice])
    app.cast_budget_ballot(cid, "v3", RESIDENT_A, "metropolis", [(p1, 1)])  # replaced
    clock.advance(days=21)
    return app.close_budget_voting(cid, clock())


def found(app) -> list[tuple[str, str, tuple[int, ...]]]:
    from_events, from_leaves = _both_ways(app)
    assert from_events == from_leaves
    return [(f.proposal_id, f.rule, f.positions) for f in from_leaves]


def test_every_budget_rule_has_its_french_text_when_flagged() -> None:
    assert all(RULE_FR[rule] for rule in BUDGET_RULES)


def test_no_flag_when_a_cycle_ran_by_its_rules() -> None:
    app, clock, cid, pids, _ = reviewed()
    voted(app, clock, cid, pids)
    app.tally_budget_cycle(cid, clock())
    app.close_budget_cycle(cid, clock())
    assert found(app) == []


def test_flags_a_late_ballot_when_stored_after_the_close() -> None:
    app, clock, cid, pids, _ = reviewed()
    close = voted(app, clock, cid, pids)
    ballot = app.repository.get(ballot_id(cid, "metropolis", "v1"))
    ballot.replace([[pids[0], 1]])  # past the command, which refuses it
    late = app.save(ballot)[-1].notification.id
    app.tally_budget_cycle(cid, clock())
    assert found(app) == [(str(cid), "budget.late_ballot", (close, late))]


def test_flags_an_invalid_ballot_when_stored_past_the_commands() -> None:
    app, clock, cid, pids, _ = reviewed()
    from domain.budget.ballot import BudgetBallot

    voting_opened = app.get_budget_cycle(cid)
    opened = app._position_of_event(voting_opened, type(voting_opened).VotingOpened)
    forged = BudgetBallot(cycle_id=cid, district="metropolis", voter_ref="v9",
                          choices=[[pids[2], 1]])  # ineligible: not on the ballot
    at = app.save(forged)[-1].notification.id
    assert found(app) == [(str(cid), "budget.invalid_ballot", (opened, at))]


def test_flags_an_undecided_appeal_when_voting_opened_before_its_decision() -> None:
    app, clock, cid, pids, appealed = reviewed(appeal_decided=False)
    flags = found(app)
    assert [(rule, positions[0]) for _, rule, positions in flags] == [
        ("budget.appeal_undecided", appealed)]
    assert flags[0][0] == str(cid)


def test_flags_results_that_differ_from_the_recount_when_the_published_selection_was_forged(
) -> None:
    app, clock, cid, pids, _ = reviewed()
    close = voted(app, clock, cid, pids)
    cycle = app.get_budget_cycle(cid)
    counted, _ = app.budget_ballots(cid)
    honest = budget_recount(str(cid), cycle.rules, cycle.districts, cycle.ballots, counted)
    forged = dict(honest["metropolis"], selected=honest["metropolis"]["selected"][:-1])
    cycle.publish_results(close_position=close, results={"metropolis": forged}, at=clock())
    published = app.save(cycle)[-1].notification.id
    assert found(app) == [(str(cid), "budget.results_mismatch", (close, published))]


def test_flags_results_computed_up_to_another_position_than_the_close() -> None:
    app, clock, cid, pids, _ = reviewed()
    close = voted(app, clock, cid, pids)
    cycle = app.get_budget_cycle(cid)
    counted, _ = app.budget_ballots(cid)
    honest = budget_recount(str(cid), cycle.rules, cycle.districts, cycle.ballots, counted)
    cycle.publish_results(close_position=close - 1, results=honest, at=clock())
    published = app.save(cycle)[-1].notification.id
    assert found(app) == [(str(cid), "budget.results_mismatch", (close, published))]
