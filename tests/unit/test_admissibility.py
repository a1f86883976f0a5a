"""The clerk's admissibility review against the metropolis' competences."""

from __future__ import annotations

import pytest

from domain.errors import (
    NotACompetence,
    NotInadmissible,
    NotTheAuthor,
    ReasonRequired,
    WrongStage,
)
from tests.unit.helpers import ManualClock, found, in_memory_app

COMPETENCES = ("mobilités", "habitat")


def under_review():
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, admissibility_seconds=10 * 86400, competences=COMPETENCES)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    assert app.open_admissibility(pid, clock()) is not None
    return app, clock, pid


def test_opens_no_review_when_the_charter_asks_for_none() -> None:
    app = in_memory_app()
    pid, _ = app.submit_proposal(found(app), "auteur", "Titre", "Résumé")
    assert app.open_admissibility(pid, app.clock()) is None


def test_admissible_proposal_goes_on_to_consultation_when_within_a_competence() -> None:
    app, clock, pid = under_review()
    app.rule_admissibility(pid, "greffe", True, "mobilités")
    assert app.conclude_admissibility(pid, clock()) == "admissible"
    assert app.open_consultation(pid, clock()).stage == "consultation"


def test_refuses_admissibility_when_the_competence_is_not_the_metropolis_s() -> None:
    app, clock, pid = under_review()
    with pytest.raises(NotACompetence):
        app.rule_admissibility(pid, "greffe", True, "police municipale")


def test_refuses_an_inadmissibility_ruling_without_its_reason() -> None:
    app, clock, pid = under_review()
    with pytest.raises(ReasonRequired):
        app.rule_admissibility(pid, "greffe", False, reason="  ")


def test_inadmissible_proposal_stops_and_its_author_may_refer_it() -> None:
    app, clock, pid = under_review()
    app.rule_admissibility(pid, "greffe", False, reason="Relève de la compétence régionale.")
    assert app.conclude_admissibility(pid, clock()) == "inadmissible"
    with pytest.raises(WrongStage):
        app.open_consultation(pid, clock())
    with pytest.raises(NotTheAuthor):
        app.refer_to_guarantor(pid, "autre", "Je conteste.")
    app.refer_to_guarantor(pid, "auteur", "La mobilité est une compétence métropolitaine.")


def test_refuses_a_referral_when_the_proposal_was_not_ruled_inadmissible() -> None:
    app, clock, pid = under_review()
    with pytest.raises(NotInadmissible):
        app.refer_to_guarantor(pid, "auteur", "Je conteste.")


def test_silence_makes_it_admissible_when_the_review_deadline_passes() -> None:
    app, clock, pid = under_review()
    assert app.conclude_admissibility(pid, clock()) == "admissible"
    decided = list(app.events.get(pid))[-1]
    assert (decided.admissible, decided.cause) == (True, "deadline_reached")
    with pytest.raises(WrongStage):  # the review is over: no late ruling
        app.rule_admissibility(pid, "greffe", False, reason="Trop tard.")
