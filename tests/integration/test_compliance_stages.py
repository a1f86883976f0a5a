"""The compliance view on the stages added to the lifecycle: the admissibility review, the
consultation the guarantor required, and the evaluation steps. Silent when each ran by the
pinned charter; naming the rule and the proving positions when the store says otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest

from domain.application import Registre
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from tests.integration.test_compliance import DAY, HOUR, T0, app, flags  # noqa: F401

pytestmark = pytest.mark.integration


def found(app: Registre, **rules: object) -> UUID:  # noqa: F811
    charter = {"consultation_seconds": HOUR, "vote_seconds": HOUR, "quorum_percent": 50,
               **rules}
    return app.found_metropolis(
        "etapes", "Métropole", [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(**charter))


def adopted(app: Registre, mid: UUID) -> tuple[UUID, datetime]:  # noqa: F811
    """A proposal run by the rules up to its adoption (its ballot is open now, for the votes);
    returns it and the adoption time."""
    start = datetime.now(timezone.utc) - timedelta(seconds=1.5 * HOUR)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, start)
    opened = app.open_vote(pid, start + timedelta(seconds=HOUR))
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    app.decide(pid, opened.position, app.close_ballot(pid, start + timedelta(seconds=2 * HOUR)))
    return pid, start + timedelta(seconds=2 * HOUR)


def test_view_is_empty_when_review_required_consultation_and_evaluations_ran_by_the_rules(
    settings, app,  # noqa: F811
) -> None:
    mid = found(app, admissibility_seconds=HOUR, deliberation_seconds=HOUR,
                evaluation_after_seconds=(HOUR, 2 * HOUR), evaluation_window_seconds=HOUR)
    t0 = datetime.now(timezone.utc) - timedelta(seconds=4.5 * HOUR)  # the ballot is open now
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_admissibility(pid, t0)
    app.conclude_admissibility(pid, t0 + timedelta(seconds=HOUR))
    app.open_consultation(pid, t0 + timedelta(seconds=HOUR))
    app.open_deliberation(pid, t0 + timedelta(seconds=2 * HOUR))
    app.require_consultation(pid, "garant", "Le projet a changé pendant la délibération.")
    app.close_deliberation(pid, t0 + timedelta(seconds=3 * HOUR))
    app.open_required_consultation(pid, t0 + timedelta(seconds=3 * HOUR))
    opened = app.open_vote(pid, t0 + timedelta(seconds=4 * HOUR))
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    app.decide(pid, opened.position, app.close_ballot(pid, t0 + timedelta(seconds=5 * HOUR)))
    adoption = t0 + timedelta(seconds=5 * HOUR)
    app.open_implementation(pid, adoption)
    app.open_evaluation(pid, 1, adoption + timedelta(seconds=HOUR))
    app.open_evaluation(pid, 2, adoption + timedelta(seconds=2 * HOUR))
    app.close_process(pid, adoption + timedelta(seconds=3 * HOUR))
    assert flags(settings, app) == []


def test_flags_a_vote_opened_despite_the_consultation_the_guarantor_required(
    settings, app,  # noqa: F811
) -> None:
    pid, _ = app.submit_proposal(found(app), "auteur", "Titre", "Résumé")
    app.open_consultation(pid, T0)
    required = app.require_consultation(pid, "garant", "Information du public insuffisante.")
    proposal = app.get_proposal(pid)  # bypasses the rule the domain applies
    proposal._open_vote(proposal.id, T0 + timedelta(seconds=HOUR),
                        T0 + timedelta(seconds=2 * HOUR), "deadline_reached", 1, "stage.vote")
    vote = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["proposal_id"], flag["rule"], flag["positions"]) == (
        pid, "guarantor.consultation", [required, vote])


def test_flags_a_required_consultation_shorter_than_the_guarantor_asked(
    settings, app,  # noqa: F811
) -> None:
    pid, _ = app.submit_proposal(found(app), "auteur", "Titre", "Résumé")
    app.require_consultation(pid, "garant", "Un sujet qui demande du temps.", 3 * HOUR)
    opened = app.open_consultation(pid, T0)
    assert opened.closes_at == T0 + timedelta(seconds=3 * HOUR)
    vote = app.open_vote(pid, T0 + timedelta(seconds=HOUR))  # the charter's hour only
    [flag] = flags(settings, app)
    assert flag["rule"] == "stage.consultation"
    assert "3600 s au lieu de 10800 s" in flag["message"]
    assert flag["positions"] == [opened.position, vote.position]


def test_flags_an_admissibility_review_given_less_time_than_the_charter(
    settings, app,  # noqa: F811
) -> None:
    pid, _ = app.submit_proposal(found(app, admissibility_seconds=DAY), "a", "Titre", "R")
    proposal = app.get_proposal(pid)
    proposal.open_admissibility(T0, T0 + timedelta(seconds=HOUR))
    review = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("stage.admissibility", [review])
    assert "3600 s au lieu de 86400 s" in flag["message"]


def test_flags_a_consultation_opened_without_the_admissibility_review(
    settings, app,  # noqa: F811
) -> None:
    pid, submitted = app.submit_proposal(found(app, admissibility_seconds=DAY), "a", "Titre",
                                         "R")
    proposal = app.get_proposal(pid)  # the review skipped, bypassing the command's check
    proposal.open_consultation(T0, T0 + timedelta(seconds=HOUR))
    consultation = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("stage.admissibility", [submitted, consultation])


def test_flags_an_evaluation_opened_before_its_date(settings, app) -> None:  # noqa: F811
    mid = found(app, evaluation_after_seconds=(DAY,), evaluation_window_seconds=HOUR)
    pid, adoption = adopted(app, mid)
    app.open_implementation(pid, adoption)
    plan = app._position_of_last(app.get_proposal(pid), Proposal.ImplementationOpened)
    app.open_evaluation(pid, 1, adoption + timedelta(seconds=HOUR))  # 1 hour instead of a day
    early = app.recorder.max_notification_id()
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("evaluation.schedule", [plan, early])


def test_flags_a_process_closed_before_its_last_evaluation_ran(settings, app) -> None:  # noqa: F811
    mid = found(app, evaluation_after_seconds=(HOUR,), evaluation_window_seconds=DAY)
    pid, adoption = adopted(app, mid)
    app.open_implementation(pid, adoption)
    app.open_evaluation(pid, 1, adoption + timedelta(seconds=HOUR))
    step = app.recorder.max_notification_id()
    app.close_process(pid, adoption + timedelta(seconds=2 * HOUR))  # 1 hour of a day
    closed = app.recorder.max_notification_id()
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("stage.evaluation", [step, closed])
    assert "3600 s après l'ouverture" in flag["message"]


def test_flags_a_consultation_cut_short_before_the_deliberation(settings, app) -> None:  # noqa: F811
    pid, _ = app.submit_proposal(found(app, deliberation_seconds=DAY), "a", "Titre", "R")
    consultation = app.open_consultation(pid, T0)
    deliberation = app.open_deliberation(pid, T0 + timedelta(seconds=600))  # 10 min of 60
    app.close_deliberation(pid, T0 + timedelta(seconds=600 + DAY))
    app.open_vote(pid, T0 + timedelta(seconds=600 + DAY))  # the whole lasted over an hour
    [flag] = flags(settings, app)
    assert flag["rule"] == "stage.consultation" and "600 s au lieu de 3600 s" in flag["message"]
    assert flag["positions"] == [consultation.position, deliberation.position]


def test_flags_an_amendment_adopted_without_quorum_when_written_to_the_store(
    settings, app,  # noqa: F811
) -> None:
    pid, _ = app.submit_proposal(found(app, deliberation_seconds=DAY), "a", "Titre", "R")
    app.open_consultation(pid, T0)
    app.open_deliberation(pid, T0 + timedelta(seconds=HOUR))
    proposal = app.get_proposal(pid)  # a forged decision: 1 of 3 members took part
    proposal._table(1, "c1", "Un amendement", proposal.id)
    proposal.record_amendment_decision(
        number=1, outcome="adopted", cause="majority_carried", yes=1, no=0, abstain=0,
        members=3, cutoff_position=0, rules_cited=["amendment.majority"])
    decided = app.save(proposal)[-1].notification.id
    [flag] = flags(settings, app)
    assert (flag["rule"], flag["positions"]) == ("quorum", [decided])
    assert "amendement n° 1 adopté par 1 votants sur 3 membres" in flag["message"]
