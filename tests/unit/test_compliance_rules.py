"""The compliance checks as pure functions (domain/rules/compliance.py): each rule flags when
the log breaks it and stays silent when the log respects it, with the proving positions; two
breaches of one rule at one position both appear; the checks give the same flags from the
domain events (the view) as from the leaves (an export), old topics included."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from domain.ledger.leaf import LogRecord
from domain.rules.compliance import (
    CHECKED_TOPICS,
    ComplianceChecker,
    Flag,
    LoggedEvent,
    check_log,
)
from tests.unit.helpers import ManualClock, found, in_memory_app
from tests.unit.test_moved_topics import LOG

HOUR, DAY = 3600, 86400
T = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
CHARTER = "6f0e2c1a-0000-4000-8000-000000000001"
PROPOSAL = "6f0e2c1a-0000-4000-8000-000000000002"
BALLOT = "6f0e2c1a-0000-4000-8000-000000000003"


def at(seconds: float) -> str:
    return (T + timedelta(seconds=seconds)).isoformat()


class Log:
    """A log written event by event (positions 1, 2, …), checked as it grows."""

    def __init__(self, **rules: Any) -> None:
        self.checker = ComplianceChecker()
        self.flags: list[Flag] = []
        self.position = 0
        self.versions = {CHARTER: 0, PROPOSAL: 0}
        self.charter(consultation_seconds=HOUR, vote_seconds=HOUR, quorum_percent=50, **rules)

    def add(self, name: str, originator: str = PROPOSAL, recorded: float = 0,
            **fields: Any) -> int:
        self.position += 1
        self.versions[originator] = self.versions.get(originator, 0) + 1
        kind = "governance.charter:Charter" if originator == CHARTER else (
            "deliberation.proposal:Proposal")
        fields.setdefault("timestamp", at(recorded))
        event = LoggedEvent(f"domain.{kind}.{name}", self.position, originator,
                            self.versions[originator], fields)
        self.flags += self.checker.apply(event)
        return self.position

    def charter(self, **rules: Any) -> int:
        name = "Amended" if self.versions[CHARTER] else "Adopted"
        return self.add(name, CHARTER, rules=rules)

    def submit(self, version: int = 1) -> int:
        return self.add("Submitted", charter_id=CHARTER, charter_version=version)

    def stage(self, name: str, opened: float, closes: float, version: int = 1) -> int:
        return self.add(name, opened_at=at(opened), closes_at=at(closes),
                        charter_version=version)

    def vote(self, opened: float, closes: float) -> int:
        return self.add("VoteOpened", ballot_id=BALLOT, opened_at=at(opened),
                        closes_at=at(closes), charter_version=1)

    def close_ballot(self, closed: float) -> int:
        return self.add("BallotClosed", ballot_id=BALLOT, closed_at=at(closed))

    def decide(self, took_part: int, members: int, outcome: str = "adopted") -> int:
        return self.add("Decided", outcome=outcome, yes=took_part, no=0, abstain=0,
                        members=members, charter_version=1)

    def close_window(self, recorded: float, cause: str = "no_veto", yes: int = 0,
                     members: int = 4) -> int:
        return self.add("VetoWindowClosed", recorded=recorded, cause=cause, yes=yes, no=0,
                        abstain=0, members=members, charter_version=1)

    def found(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(f.rule, f.positions) for f in self.flags]


def adopted(log: Log, consultation: float = HOUR) -> float:
    """Submitted, consulted, voted and adopted by the rules; returns the adoption time."""
    log.submit()
    log.stage("ConsultationOpened", 0, consultation)
    log.vote(consultation, consultation + HOUR)
    log.close_ballot(consultation + HOUR)
    log.decide(3, 4)
    return consultation + HOUR


def test_no_flag_when_every_stage_ran_by_the_pinned_charter() -> None:
    log = Log(admissibility_seconds=DAY, deliberation_seconds=DAY, veto_window_seconds=DAY,
              evaluation_after_seconds=[DAY, 2 * DAY], evaluation_window_seconds=HOUR)
    log.submit()
    log.stage("AdmissibilityOpened", 0, DAY)
    log.add("AdmissibilityDecided", recorded=DAY, cause="deadline_reached", charter_version=1)
    log.stage("ConsultationOpened", DAY, DAY + HOUR)
    log.stage("DeliberationOpened", DAY + HOUR, 2 * DAY + HOUR)
    log.add("DeliberationClosed", closed_at=at(2 * DAY + HOUR))
    log.vote(2 * DAY + HOUR, 2 * DAY + 2 * HOUR)
    log.close_ballot(2 * DAY + 2 * HOUR)
    log.decide(3, 4)
    adoption = 2 * DAY + 2 * HOUR
    log.stage("VetoWindowOpened", adoption, adoption + DAY)
    log.close_window(adoption + DAY)
    log.add("ImplementationOpened", opened_at=at(adoption),
            evaluations_at=[at(adoption + DAY), at(adoption + 2 * DAY)],
            closes_at=at(adoption + 2 * DAY + HOUR), charter_version=1)
    log.add("EvaluationOpened", step=1, opened_at=at(adoption + DAY))
    log.add("EvaluationOpened", step=2, opened_at=at(adoption + 2 * DAY))
    log.add("Closed", closed_at=at(adoption + 2 * DAY + HOUR))
    assert log.flags == []


def test_flags_the_consultation_when_the_vote_opened_before_its_minimum() -> None:
    log = Log()
    log.submit()
    consultation = log.stage("ConsultationOpened", 0, HOUR)
    vote = log.vote(600, 600 + HOUR)
    [flag] = log.flags
    assert (flag.proposal_id, flag.rule, flag.positions) == (
        PROPOSAL, "stage.consultation", (consultation, vote))
    assert flag.message == ("consultation publique plus courte que le minimum de la charte : "
                            "600 s au lieu de 3600 s")
    assert flag.charter_version == 1


def test_flags_the_consultation_when_shorter_than_the_guarantor_required() -> None:
    log = Log()
    log.submit()
    log.add("ConsultationRequired", seconds=3 * HOUR, charter_version=1)
    consultation = log.stage("ConsultationOpened", 0, 3 * HOUR)
    vote = log.vote(HOUR, 2 * HOUR)
    assert log.found() == [("stage.consultation", (consultation, vote))]
    assert "3600 s au lieu de 10800 s" in log.flags[0].message


def test_flags_the_consultation_when_cut_short_by_the_deliberation() -> None:
    log = Log(deliberation_seconds=DAY)
    log.submit()
    consultation = log.stage("ConsultationOpened", 0, HOUR)
    deliberation = log.stage("DeliberationOpened", 600, 600 + DAY)
    log.add("DeliberationClosed", closed_at=at(600 + DAY))
    log.vote(600 + DAY, 600 + DAY + HOUR)  # checked once: the vote does not flag it again
    assert log.found() == [("stage.consultation", (consultation, deliberation))]


def test_flags_the_ballot_when_it_closed_before_its_minimum() -> None:
    log = Log()
    log.submit()
    log.stage("ConsultationOpened", 0, HOUR)
    vote = log.vote(HOUR, 2 * HOUR)
    closed = log.close_ballot(HOUR + 60)
    assert log.found() == [("stage.vote", (vote, closed))]
    assert log.flags[0].message.endswith(": 60 s au lieu de 3600 s")


def test_flags_the_deliberation_when_it_closed_before_its_minimum() -> None:
    log = Log(deliberation_seconds=DAY)
    log.submit()
    log.stage("ConsultationOpened", 0, HOUR)
    opened = log.stage("DeliberationOpened", HOUR, HOUR + DAY)
    closed = log.add("DeliberationClosed", closed_at=at(2 * HOUR))
    assert log.found() == [("stage.deliberation", (opened, closed))]


def test_flags_an_adoption_without_quorum_when_too_few_took_part() -> None:
    log = Log()
    log.submit()
    log.stage("ConsultationOpened", 0, HOUR)
    log.vote(HOUR, 2 * HOUR)
    log.close_ballot(2 * HOUR)
    decided = log.decide(1, 4)
    assert log.found() == [("quorum", (decided,))]
    assert log.flags[0].message == ("proposition adoptée sans quorum : 1 votants sur 4 "
                                    "membres, quorum de 50 %")


def test_no_quorum_flag_when_a_proposal_without_quorum_was_rejected() -> None:
    log = Log()
    log.submit()
    log.decide(1, 4, outcome="rejected")
    assert log.flags == []


def test_flags_the_quorum_when_an_amendment_was_adopted_by_too_few() -> None:
    log = Log(deliberation_seconds=DAY)
    log.submit()
    decided = log.add("AmendmentDecided", number=1, outcome="adopted", yes=1, no=0,
                      abstain=0, members=3, charter_version=1)
    log.add("AmendmentDecided", number=2, outcome="adopted", yes=2, no=0, abstain=0,
            members=3, charter_version=1)
    assert log.found() == [("quorum", (decided,))]
    assert "amendement n° 1 adopté par 1 votants sur 3 membres" in log.flags[0].message


def test_flags_the_quorum_when_an_override_was_carried_by_too_few() -> None:
    log = Log(veto_window_seconds=DAY)
    adoption = adopted(log)
    log.stage("VetoWindowOpened", adoption, adoption + DAY)
    closed = log.close_window(adoption + DAY, cause="override_carried", yes=1)
    assert log.found() == [("quorum", (closed,))]
    assert "veto levé par 1 votants sur 4 membres" in log.flags[0].message


def test_flags_a_veto_when_no_window_was_open() -> None:
    log = Log()
    adopted(log)
    vetoed = log.add("VetoFiled", charter_version=1)
    assert log.found() == [("veto.window", (vetoed,))]


def test_flags_a_veto_when_filed_after_its_window_closed() -> None:
    log = Log(veto_window_seconds=DAY)
    adoption = adopted(log)
    window = log.stage("VetoWindowOpened", adoption, adoption + DAY)
    log.add("VetoFiled", recorded=adoption + HOUR, charter_version=1)  # within: silent
    late = log.add("VetoFiled", recorded=adoption + DAY, charter_version=1)
    assert log.found() == [("veto.window", (window, late))]


def test_flags_the_window_cut_short_when_closed_before_its_term_without_an_override() -> None:
    log = Log(veto_window_seconds=DAY)
    adoption = adopted(log)
    window = log.stage("VetoWindowOpened", adoption, adoption + DAY)
    closed = log.close_window(adoption + HOUR)
    assert log.found() == [("veto.window.cut_short", (window, closed))]


def test_no_flag_when_the_window_closed_early_because_the_override_was_carried() -> None:
    log = Log(veto_window_seconds=DAY)
    adoption = adopted(log)
    log.stage("VetoWindowOpened", adoption, adoption + DAY)
    log.close_window(adoption + HOUR, cause="override_carried", yes=3)  # 3 of 4: two thirds
    assert log.flags == []


def test_flags_the_charter_version_when_a_proposal_pins_one_not_in_force() -> None:
    log = Log()
    submitted = log.submit(version=2)
    assert log.found() == [("charter.version", (submitted,))]
    assert log.flags[0].message.endswith("la proposition épingle la v2, la v1 était en vigueur")


def test_flags_the_charter_version_when_a_rule_cites_one_not_in_force_at_submission() -> None:
    log = Log()
    submitted = log.submit()
    log.charter(consultation_seconds=2 * HOUR, vote_seconds=HOUR, quorum_percent=50)
    cited = log.stage("ConsultationOpened", 0, HOUR, version=2)
    assert log.found() == [("charter.version", (submitted, cited))]
    assert "ConsultationOpened cite la v2, la v1 était en vigueur au dépôt" in (
        log.flags[0].message)
    assert log.flags[0].charter_version == 2


def test_no_flag_when_a_proposal_keeps_its_version_after_an_amendment() -> None:
    log = Log()
    log.submit()
    log.charter(consultation_seconds=2 * HOUR, vote_seconds=HOUR, quorum_percent=50)
    log.stage("ConsultationOpened", 0, HOUR)  # its pinned v1's hour, not v2's two
    log.vote(HOUR, 2 * HOUR)
    assert log.flags == []


def test_flags_the_review_when_given_less_time_than_the_charter() -> None:
    log = Log(admissibility_seconds=DAY)
    log.submit()
    review = log.stage("AdmissibilityOpened", 0, HOUR)
    assert log.found() == [("stage.admissibility", (review,))]
    assert "délai d'examen de 3600 s au lieu de 86400 s" in log.flags[0].message


def test_flags_the_review_when_a_consultation_opened_without_it() -> None:
    log = Log(admissibility_seconds=DAY)
    submitted = log.submit()
    consultation = log.stage("ConsultationOpened", 0, HOUR)
    assert log.found() == [("stage.admissibility", (submitted, consultation))]


def test_flags_the_review_when_concluded_by_its_deadline_before_the_deadline() -> None:
    log = Log(admissibility_seconds=DAY)
    log.submit()
    review = log.stage("AdmissibilityOpened", 0, DAY)
    decided = log.add("AdmissibilityDecided", recorded=HOUR, cause="deadline_reached",
                      charter_version=1)
    log.add("AdmissibilityDecided", recorded=HOUR, cause="clerk_ruling", charter_version=1)
    assert log.found() == [("stage.admissibility", (review, decided))]


def test_flags_the_vote_when_opened_despite_the_consultation_the_guarantor_required() -> None:
    log = Log()
    log.submit()
    log.stage("ConsultationOpened", 0, HOUR)
    required = log.add("ConsultationRequired", seconds=HOUR, charter_version=1)
    vote = log.vote(HOUR, 2 * HOUR)
    assert log.found() == [("guarantor.consultation", (required, vote))]


def test_no_flag_when_the_required_consultation_was_held_before_the_vote() -> None:
    log = Log()
    log.submit()
    log.stage("ConsultationOpened", 0, HOUR)
    log.add("ConsultationRequired", seconds=HOUR, charter_version=1)
    log.stage("ConsultationOpened", HOUR, 2 * HOUR)
    log.vote(2 * HOUR, 3 * HOUR)
    assert log.flags == []


def test_both_breaches_appear_when_two_evaluation_steps_are_planned_too_early() -> None:
    log = Log(evaluation_after_seconds=[DAY, 2 * DAY])
    adoption = adopted(log)
    plan = log.add("ImplementationOpened", opened_at=at(adoption),
                   evaluations_at=[at(adoption + HOUR), at(adoption + HOUR)],
                   closes_at=at(adoption + DAY), charter_version=1)
    assert log.found() == [("evaluation.schedule", (plan,)), ("evaluation.schedule", (plan,))]
    assert [f.message.split(" : ")[1] for f in log.flags] == [
        "évaluation n° 1 prévue 3600 s après l'adoption au lieu de 86400 s",
        "évaluation n° 2 prévue 3600 s après l'adoption au lieu de 172800 s"]
    assert len({f.key for f in log.flags}) == 2


def test_flags_the_schedule_when_fewer_evaluations_are_planned_than_the_charter_sets() -> None:
    log = Log(evaluation_after_seconds=[DAY, 2 * DAY])
    adoption = adopted(log)
    plan = log.add("ImplementationOpened", opened_at=at(adoption),
                   evaluations_at=[at(adoption + DAY)], closes_at=at(adoption + 2 * DAY),
                   charter_version=1)
    assert log.found() == [("evaluation.schedule", (plan,))]
    assert log.flags[0].message.endswith("1 évaluation(s) prévue(s) au lieu de 2")


def test_flags_the_schedule_when_an_evaluation_opened_before_its_date() -> None:
    log = Log(evaluation_after_seconds=[DAY])
    adoption = adopted(log)
    plan = log.add("ImplementationOpened", opened_at=at(adoption),
                   evaluations_at=[at(adoption + DAY)], closes_at=at(adoption + 2 * DAY),
                   charter_version=1)
    early = log.add("EvaluationOpened", step=1, opened_at=at(adoption + HOUR))
    assert log.found() == [("evaluation.schedule", (plan, early))]


def test_flags_the_last_evaluation_when_the_process_closed_before_it_ran() -> None:
    log = Log(evaluation_after_seconds=[HOUR], evaluation_window_seconds=DAY)
    adoption = adopted(log)
    log.add("ImplementationOpened", opened_at=at(adoption),
            evaluations_at=[at(adoption + HOUR)], closes_at=at(adoption + HOUR + DAY),
            charter_version=1)
    step = log.add("EvaluationOpened", step=1, opened_at=at(adoption + HOUR))
    closed = log.add("Closed", closed_at=at(adoption + 2 * HOUR))
    assert log.found() == [("stage.evaluation", (step, closed))]
    assert "3600 s après l'ouverture de la dernière évaluation, au lieu de 86400 s" in (
        log.flags[0].message)


def test_state_is_unchanged_when_an_event_cannot_be_read() -> None:
    log = Log()
    log.submit()
    before = dict(log.checker.proposals[PROPOSAL])
    with pytest.raises(KeyError):
        log.add("VoteOpened", opened_at=at(0))  # no ballot id
    assert log.checker.proposals[PROPOSAL] == before


def test_check_log_skips_an_unreadable_event_when_told_what_to_do_with_it() -> None:
    broken = LoggedEvent("domain.governance.charter:Charter.Adopted", 1, CHARTER, 1, {})
    skipped: list[int] = []
    assert list(check_log([broken], lambda e, _: skipped.append(e.position))) == []
    assert skipped == [1]


def test_every_checked_topic_has_a_check_when_listed() -> None:
    from domain.rules import compliance

    assert set(compliance._HANDLERS) | {compliance.CHARTER_ADOPTED,
                                        compliance.CHARTER_AMENDED} == set(CHECKED_TOPICS)


# -- the view's input and the export's input give the same flags ---------------------------


def _both_ways(app: Any) -> tuple[list[Flag], list[Flag]]:
    """The flags from the domain events (as the projection gets them) and from the leaves."""
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    from_events = [LoggedEvent.of(get_topic(type(d)), n.id, d.originator_id,
                                  d.originator_version, d.__dict__)
                   for n in notifications for d in [app.mapper.to_domain_event(n)]]
    from_leaves = [LoggedEvent.from_record(LogRecord(n.id, n.originator_id,
                                                     n.originator_version, n.topic, n.state))
                   for n in notifications]
    for e, leaf in zip(from_events, from_leaves, strict=True):
        assert e.topic == leaf.topic and e.originator_id == leaf.originator_id
        assert e.fields == {k: v for k, v in leaf.fields.items() if k != "class_version"}
    return list(check_log(from_events)), list(check_log(from_leaves))


def test_flags_are_the_same_from_domain_events_and_from_leaves_when_stages_were_cut_short(
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, n_members=3, consultation_seconds=DAY, vote_seconds=DAY,
                admissibility_seconds=DAY)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock.now)  # the review skipped
    clock.advance(hours=2)
    app.open_vote(pid, clock.now)  # 2 h of a day's consultation
    app.cast_vote(pid, "m1", "for")
    clock.advance(hours=1)
    cutoff = app.close_ballot(pid, clock.now)  # 1 h of a day
    proposal = app.get_proposal(pid)  # a forged adoption: 1 of 3 members took part
    proposal.record_decision(outcome="adopted", cause="majority_carried", yes=1, no=0,
                             abstain=0, members=3, quorum_met=True, cutoff_position=cutoff,
                             rules_cited=["quorum", "majority.simple"])
    app.save(proposal)
    from_events, from_leaves = _both_ways(app)
    assert from_events == from_leaves
    assert [(f.proposal_id, f.rule) for f in from_leaves] == [
        (str(pid), "stage.admissibility"), (str(pid), "stage.consultation"),
        (str(pid), "stage.vote"), (str(pid), "quorum")]


def test_checks_read_old_topics_when_the_log_predates_the_package_move() -> None:
    records = [LogRecord(e["id"], UUID(e["originator_id"]), e["originator_version"],
                         e["topic"], base64.b64decode(e["state"])) for e in LOG["events"]]
    checker = ComplianceChecker()
    for record in records:
        assert checker.apply(LoggedEvent.from_record(record)) == []
    submitted = next(r for r in records if r.topic == "domain.proposal:Proposal.Submitted")
    facts = checker.proposals[str(submitted.originator_id)]
    assert facts["submitted"] == submitted.notification_id and "vote" in facts
