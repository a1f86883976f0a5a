"""Implementation milestones and the citizens' evaluation steps, on the in-memory recorder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import AlreadyScored, EvaluationNotOpen, InvalidCharter, InvalidScores, NotInImplementation
from domain.rules.charter import CharterRules
from tests.unit.helpers import ManualClock, found, in_memory_app

DAY = 86400


def adopted(evaluations: tuple[int, ...] = (180 * DAY, 365 * DAY)):
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, 3, evaluation_after_seconds=evaluations, evaluation_window_seconds=DAY)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for ref in ("m1", "m2"):
        app.cast_vote(pid, ref, "for")
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    app.appoint_evaluation_panel(pid, "garant", ["panel-1", "panel-2"])
    return app, clock, pid


def test_schedules_the_steps_after_adoption_when_implementation_opens() -> None:
    app, clock, pid = adopted()
    plan = app.open_implementation(pid, clock())
    assert plan == [clock() + timedelta(days=180), clock() + timedelta(days=365),
                    clock() + timedelta(days=366)]
    assert app.open_implementation(pid, clock() + timedelta(days=1)) == plan  # idempotent


def test_refuses_a_milestone_when_the_proposal_is_not_implemented() -> None:
    app, clock, pid = adopted()
    with pytest.raises(NotInImplementation):
        app.record_milestone(pid, "greffe", "Trop tôt")


def test_refuses_scores_when_no_step_is_open() -> None:
    app, clock, pid = adopted()
    app.open_implementation(pid, clock())
    with pytest.raises(EvaluationNotOpen):
        app.score_evaluation(pid, "panel-1", {"usage": 5})


@pytest.mark.parametrize("indicators", [{}, {"usage": 11}, {"usage": -1}])
def test_refuses_scores_when_they_are_not_from_0_to_10(indicators: dict) -> None:
    app, clock, pid = adopted()
    app.open_implementation(pid, clock())
    app.open_evaluation(pid, 1, clock())
    with pytest.raises(InvalidScores):
        app.score_evaluation(pid, "panel-1", indicators)


def test_accepts_one_score_set_per_panel_member_and_step() -> None:
    app, clock, pid = adopted()
    app.open_implementation(pid, clock())
    app.open_evaluation(pid, 1, clock())
    app.score_evaluation(pid, "panel-1", {"usage": 5})
    with pytest.raises(AlreadyScored):
        app.score_evaluation(pid, "panel-1", {"usage": 6})
    app.open_evaluation(pid, 2, clock())
    app.score_evaluation(pid, "panel-1", {"usage": 6})  # a new step, a new score


def test_opening_a_step_twice_records_it_once_when_retried() -> None:
    app, clock, pid = adopted()
    app.open_implementation(pid, clock())
    app.open_evaluation(pid, 1, clock())
    size = app.recorder.max_notification_id()
    app.open_evaluation(pid, 1, clock())
    assert app.recorder.max_notification_id() == size


def test_refuses_a_schedule_when_steps_go_backwards() -> None:
    with pytest.raises(InvalidCharter):
        CharterRules(1, 1, 50, evaluation_after_seconds=(365 * DAY, 180 * DAY))
