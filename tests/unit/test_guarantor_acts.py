"""The guarantor's acts with effect on a process: requiring a public consultation before the
vote, and appointing the citizens' evaluation panel; on the in-memory recorder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import (
    ConsultationAlreadyRequired,
    ConsultationRequiredTooLate,
    ConsultationStillRequired,
    InvalidPanel,
    NotInImplementation,
    NotOnEvaluationPanel,
    ProposalWithdrawn,
    ReasonRequired,
)
from domain.deliberation.proposal import Proposal
from tests.unit.helpers import ManualClock, found, in_memory_app

DAY = 86400
REASON = "Le projet a profondément changé depuis la consultation."


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock):
    return in_memory_app(clock)


def consulted(app, clock, **rules):
    """A proposal whose charter consultation (30 days) has been held, deliberation closed."""
    mid = found(app, 3, deliberation_seconds=7 * DAY, **rules)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    app.open_deliberation(pid, clock())
    return pid


def test_vote_waits_for_the_consultation_the_guarantor_required_during_deliberation(
    app, clock,
) -> None:
    pid = consulted(app, clock)
    app.require_consultation(pid, "garant", REASON)
    clock.advance(days=7)
    app.close_deliberation(pid, clock())
    size = app.recorder.max_notification_id()
    with pytest.raises(ConsultationStillRequired) as refused:
        app.open_vote(pid, clock())
    assert refused.value.rule == "guarantor.consultation"
    assert app.recorder.max_notification_id() == size

    opened = app.open_required_consultation(pid, clock())
    assert opened is not None and opened.closes_at == clock() + timedelta(days=30)
    assert app.open_required_consultation(pid, clock()) == opened  # a retry finds it
    last = list(app.events.get(pid))[-1]
    assert isinstance(last, Proposal.ConsultationOpened) and last.rule == "guarantor.consultation"
    app.support(pid, "citoyen-1")  # citizens take part again
    clock.advance(days=30)
    assert app.open_required_consultation(pid, clock()) is None
    assert app.open_vote(pid, clock()).stage == "vote"


def test_the_guarantor_sets_a_consultation_longer_than_the_charter_s(app, clock) -> None:
    pid = consulted(app, clock)
    app.require_consultation(pid, "garant", REASON, seconds=60 * DAY)
    clock.advance(days=7)
    app.close_deliberation(pid, clock())
    opened = app.open_required_consultation(pid, clock())
    assert opened.closes_at == clock() + timedelta(days=60)


def test_a_requirement_never_shortens_the_charter_s_consultation(app, clock) -> None:
    mid = found(app, 3)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.require_consultation(pid, "garant", REASON, seconds=DAY)
    opened = app.open_consultation(pid, clock())
    assert opened.closes_at == clock() + timedelta(days=30)
    clock.advance(days=30)
    assert app.open_required_consultation(pid, clock()) is None  # met by this one
    assert app.open_vote(pid, clock()).stage == "vote"


def test_a_requirement_before_the_consultation_lengthens_it_and_is_met_by_it(app, clock) -> None:
    mid = found(app, 3)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.require_consultation(pid, "garant", REASON, seconds=45 * DAY)
    opened = app.open_consultation(pid, clock())
    assert opened.closes_at == clock() + timedelta(days=45)
    last = list(app.events.get(pid))[-1]
    assert last.rule == "guarantor.consultation"


@pytest.mark.parametrize("stage", ["vote", "decided"])
def test_refuses_a_requirement_once_the_vote_has_opened(app, clock, stage: str) -> None:
    mid = found(app, 3)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    if stage == "decided":
        clock.advance(days=14)
        app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    size = app.recorder.max_notification_id()
    with pytest.raises(ConsultationRequiredTooLate):
        app.require_consultation(pid, "garant", REASON)
    assert app.recorder.max_notification_id() == size


def test_refuses_a_second_requirement_while_one_is_pending(app, clock) -> None:
    pid = consulted(app, clock)
    app.require_consultation(pid, "garant", REASON)
    with pytest.raises(ConsultationAlreadyRequired):
        app.require_consultation(pid, "garant", REASON)


def test_refuses_a_requirement_without_its_reason(app, clock) -> None:
    pid = consulted(app, clock)
    with pytest.raises(ReasonRequired):
        app.require_consultation(pid, "garant", "   ")


# -- the evaluation panel ----------------------------------------------------------------


def evaluated(app, clock, outcome_votes=("for", "for", "for")):
    mid = found(app, 3, evaluation_after_seconds=(180 * DAY,))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for ref, choice in zip(("m1", "m2", "m3"), outcome_votes, strict=True):
        app.cast_vote(pid, ref, choice)
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    return pid


def test_only_the_appointed_panel_scores_an_evaluation_step(app, clock) -> None:
    pid = evaluated(app, clock)
    app.open_implementation(pid, clock())
    app.appoint_evaluation_panel(pid, "garant", ["p1", "p2", "p1"])
    app.open_evaluation(pid, 1, clock())
    app.score_evaluation(pid, "p1", {"usage": 7})
    size = app.recorder.max_notification_id()
    with pytest.raises(NotOnEvaluationPanel) as refused:
        app.score_evaluation(pid, "voisin", {"usage": 1})
    assert refused.value.rule == "evaluation.panel"
    assert app.recorder.max_notification_id() == size
    appointed = [e for e in app.events.get(pid) if isinstance(e, Proposal.EvaluationPanelAppointed)]
    assert [(e.members, e.method) for e in appointed] == [(["p1", "p2"], "designation")]


def test_a_new_appointment_replaces_the_panel_for_the_steps_to_come(app, clock) -> None:
    pid = evaluated(app, clock)
    app.open_implementation(pid, clock())
    app.appoint_evaluation_panel(pid, "garant", ["p1"])
    app.appoint_evaluation_panel(pid, "garant", ["p2"])
    app.open_evaluation(pid, 1, clock())
    with pytest.raises(NotOnEvaluationPanel):
        app.score_evaluation(pid, "p1", {"usage": 7})
    app.score_evaluation(pid, "p2", {"usage": 7})


def test_refuses_to_score_when_no_panel_was_appointed(app, clock) -> None:
    pid = evaluated(app, clock)
    app.open_implementation(pid, clock())
    app.open_evaluation(pid, 1, clock())
    with pytest.raises(NotOnEvaluationPanel):
        app.score_evaluation(pid, "p1", {"usage": 7})


def test_refuses_a_panel_for_a_rejected_proposal(app, clock) -> None:
    pid = evaluated(app, clock, ("against", "against", "for"))
    with pytest.raises(NotInImplementation):
        app.appoint_evaluation_panel(pid, "garant", ["p1"])


def test_refuses_an_empty_panel(app, clock) -> None:
    pid = evaluated(app, clock)
    with pytest.raises(InvalidPanel):
        app.appoint_evaluation_panel(pid, "garant", ["", "  "])


def test_author_withdraws_during_the_deliberation_or_a_required_consultation(app, clock) -> None:
    pid = consulted(app, clock)
    app.withdraw(pid, "auteur")  # in deliberation: still before the vote
    assert app.get_proposal(pid).stage == "withdrawn"
    with pytest.raises(ProposalWithdrawn):  # the workflow's next step finds it withdrawn
        app.close_deliberation(pid, clock())

    other, _ = app.submit_proposal(app.get_proposal(pid).metropolis_id, "auteur", "Autre",
                                   "Résumé")
    app.open_consultation(other, clock())
    clock.advance(days=30)
    app.open_deliberation(other, clock())
    app.require_consultation(other, "garant", REASON)
    clock.advance(days=7)
    app.close_deliberation(other, clock())
    app.open_required_consultation(other, clock())
    app.withdraw(other, "auteur")
    assert app.get_proposal(other).stage == "withdrawn"


def test_refuses_a_requirement_on_a_withdrawn_proposal_naming_the_withdrawal(app, clock) -> None:
    mid = found(app, 3)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.withdraw(pid, "auteur")
    with pytest.raises(ProposalWithdrawn):
        app.require_consultation(pid, "garant", REASON)
