"""What the charter declares beyond stage lengths: the veto's territories and the majority of
each decision type; on the in-memory recorder."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.application import Registre
from domain.errors import (
    AmendmentHasNoDecisionType,
    CommuneNotConcerned,
    CommuneWithoutVetoRight,
    InvalidCharter,
    ReasonRequired,
    UnknownDecisionType,
    WrongStage,
)
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from domain.rules.council import Tally, decide_proposal
from tests.unit.helpers import T0, ManualClock, in_memory_app

DAY = 86400
COMMUNES = [{"code": c, "name": f"Ville {c}", "population": 1000} for c in ("A", "B", "C")]
SEATS = [{"ref": f"maire-{c.lower()}", "name": f"Maire {c}", "role": "mayor", "commune": c}
         for c in ("A", "B", "C")] + [
    {"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "C"} for i in (1, 2, 3, 4)]


def charter(**rules: object) -> CharterRules:
    return CharterRules(**{"consultation_seconds": 30 * DAY, "vote_seconds": 14 * DAY,
                           "quorum_percent": 50, "veto_window_seconds": 15 * DAY, **rules})


def tally(yes: int, no: int, abstain: int) -> Tally:
    t = Tally()
    for i in range(yes):
        t.add(f"y{i}", "for")
    for i in range(no):
        t.add(f"n{i}", "against")
    for i in range(abstain):
        t.add(f"a{i}", "abstain")
    return t


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock) -> Registre:
    return in_memory_app(clock)


def decided(app: Registre, clock: ManualClock, mid: UUID, communes: tuple[str, ...] = (),
            votes: tuple[str, ...] = ("for",) * 7, decision_type: str = "ordinary") -> UUID:
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", communes,
                                 decision_type=decision_type)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for seat, choice in zip(SEATS, votes, strict=False):
        app.cast_vote(pid, seat["ref"], choice)
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    return pid


# -- veto territories --------------------------------------------------------------------


def test_mayor_of_a_territory_vetoes_when_the_charter_lists_the_commune(app, clock) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS, charter(veto_territories=["A"]))
    pid = decided(app, clock, mid, communes=("A", "B"))
    assert app.open_veto_window(pid, clock()) is not None
    app.file_veto(pid, "maire-a", "A", "Le marché de la commune ferme.")
    assert app.get_proposal(pid).veto == {"mayor_ref": "maire-a", "commune": "A",
                                          "reason": "Le marché de la commune ferme."}


def test_refuses_the_veto_of_a_concerned_commune_outside_the_charter_s_territories(
    app, clock,
) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS, charter(veto_territories=["A"]))
    pid = decided(app, clock, mid, communes=("A", "B"))
    app.open_veto_window(pid, clock())
    size = app.recorder.max_notification_id()
    with pytest.raises(CommuneWithoutVetoRight) as refused:
        app.file_veto(pid, "maire-b", "B", "La commune B s'y oppose.")
    assert refused.value.rule == "veto.territory"
    assert app.recorder.max_notification_id() == size


def test_a_commune_not_concerned_is_refused_first_even_within_the_territories(
    app, clock,
) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS, charter(veto_territories=["A", "C"]))
    pid = decided(app, clock, mid, communes=("A",))
    app.open_veto_window(pid, clock())
    with pytest.raises(CommuneNotConcerned):
        app.file_veto(pid, "maire-c", "C", "La commune C s'y oppose.")


def test_opens_no_window_when_no_concerned_commune_holds_a_veto(app, clock) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS, charter(veto_territories=["A"]))
    pid = decided(app, clock, mid, communes=("B", "C"))
    assert app.open_veto_window(pid, clock()) is None
    assert not any(isinstance(e, Proposal.VetoWindowOpened) for e in app.events.get(pid))


def test_every_member_commune_holds_the_veto_when_the_charter_lists_none() -> None:
    rules = charter()
    assert all(rules.grants_veto_to(c) for c in ("A", "B", "Z"))
    assert not charter(veto_window_seconds=0).grants_veto_to("A")


def test_refuses_a_charter_amendment_whose_territories_are_not_communes(app) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS, charter())
    size = app.recorder.max_notification_id()
    with pytest.raises(InvalidCharter):
        app.submit_proposal(mid, "auteur", "Titre", "Résumé",
                            charter_amendment=charter(veto_territories=["A", "Q"]))
    assert app.recorder.max_notification_id() == size


# -- decision types ----------------------------------------------------------------------


def test_a_budget_decision_needs_the_absolute_majority_the_charter_sets(app, clock) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS,
                               charter(decision_majorities={"budget": "absolute"}))
    # 3 for, 2 against, 2 abstain: a simple majority, not an absolute one (3 of 7).
    votes = ("for", "for", "for", "against", "against", "abstain", "abstain")
    budget = decided(app, clock, mid, votes=votes, decision_type="budget")
    ordinary = decided(app, clock, mid, votes=votes)
    budget_decision = [e for e in app.events.get(budget) if isinstance(e, Proposal.Decided)][0]
    assert (budget_decision.outcome, budget_decision.cause) == ("rejected",
                                                                "majority_not_reached")
    assert budget_decision.rules_cited == ["quorum", "majority.absolute", "decision.budget"]
    assert app.get_proposal(ordinary).outcome == "adopted"
    declared = [e for e in app.events.get(budget) if isinstance(e, Proposal.DecisionTypeDeclared)]
    assert [(e.decision_type, e.majority, e.rule) for e in declared] == [
        ("budget", "absolute", "decision.budget")]


def test_refuses_a_decision_type_the_pinned_charter_does_not_declare(app) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS,
                               charter(decision_majorities={"budget": "absolute"}))
    size = app.recorder.max_notification_id()
    with pytest.raises(UnknownDecisionType) as refused:
        app.submit_proposal(mid, "auteur", "Titre", "Résumé", decision_type="urbanisme")
    assert "ordinary, budget" in refused.value.message
    assert app.recorder.max_notification_id() == size


def test_refuses_a_decision_type_on_a_charter_amendment(app) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS,
                               charter(decision_majorities={"budget": "absolute"}))
    size = app.recorder.max_notification_id()
    with pytest.raises(AmendmentHasNoDecisionType):
        app.submit_proposal(mid, "auteur", "Titre", "Résumé", charter_amendment=charter(),
                            decision_type="budget")
    assert app.recorder.max_notification_id() == size


@pytest.mark.parametrize(("majority", "votes", "adopted"), [
    ("simple", (3, 2, 2), True),
    ("absolute", (3, 2, 2), False),
    ("absolute", (4, 2, 1), True),
    ("two_thirds_of_members", (4, 0, 3), False),
    ("two_thirds_of_members", (5, 2, 0), True),
])
def test_decide_proposal_applies_the_majority_of_the_declared_type(
    majority: str, votes: tuple[int, int, int], adopted: bool,
) -> None:
    rules = charter(decision_majorities={"marché": majority})
    outcome = decide_proposal(tally(*votes), 7, rules, False, "marché")
    assert outcome.adopted is adopted
    assert outcome.rules_cited[-2:] == (f"majority.{majority}", "decision.marché")


def test_decide_proposal_uses_the_ordinary_majority_when_the_type_is_ordinary() -> None:
    rules = charter(majority="absolute", decision_majorities={"budget": "simple"})
    outcome = decide_proposal(tally(3, 2, 2), 7, rules, False)
    assert (outcome.adopted, outcome.rules_cited) == (False, ("quorum", "majority.absolute"))


@pytest.mark.parametrize("declared", [{"budget": "unanimity"}, {"ordinary": "absolute"},
                                      {"charter_amendment": "simple"}, {" ": "simple"}])
def test_refuses_a_charter_whose_decision_types_are_malformed(declared: dict) -> None:
    with pytest.raises(InvalidCharter):
        charter(decision_majorities=declared)


def test_round_trips_territories_and_decision_types_through_the_stored_dict() -> None:
    rules = charter(veto_territories=["A"], decision_majorities={"budget": "absolute"})
    assert CharterRules.from_dict(rules.as_dict()) == rules
    assert rules.decision_types == ("ordinary", "budget")


def test_a_clerk_requalifies_an_ordinary_proposal_as_a_budget_decision(app, clock) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS,
                               charter(decision_majorities={"budget": "absolute"}))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    app.requalify_decision(pid, "greffe", "budget", "Elle engage 2 M€ d'investissement.")
    declared = [e for e in app.events.get(pid) if isinstance(e, Proposal.DecisionTypeDeclared)]
    assert [(e.decision_type, e.majority, e.declared_by, e.reason) for e in declared] == [
        ("budget", "absolute", "greffe", "Elle engage 2 M€ d'investissement.")]
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for seat, choice in zip(SEATS, ("for",) * 3 + ("against",) * 2 + ("abstain",) * 2,
                            strict=True):
        app.cast_vote(pid, seat["ref"], choice)
    clock.advance(days=14)
    assert app.decide(pid, opened.position, app.close_ballot(pid, clock())) == "rejected"
    with pytest.raises(WrongStage):  # fixed once the vote has opened
        app.requalify_decision(pid, "greffe", "ordinary", "Retour au droit commun.")


def test_refuses_a_requalification_without_its_reason_or_to_an_unknown_type(app) -> None:
    mid = app.found_metropolis("p", "P", COMMUNES, SEATS,
                               charter(decision_majorities={"budget": "absolute"}))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, T0)
    size = app.recorder.max_notification_id()
    with pytest.raises(ReasonRequired):
        app.requalify_decision(pid, "greffe", "budget", " ")
    with pytest.raises(UnknownDecisionType):
        app.requalify_decision(pid, "greffe", "urbanisme", "Un motif.")
    assert app.recorder.max_notification_id() == size
