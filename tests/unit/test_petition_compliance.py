"""The petitions' compliance checks (domain/rules/compliance.py), pure: each rule flags when the
log breaks it and stays silent when the log respects it, with the proving positions and the
pinned charter version; the checker's small running count is SignatureCount's; the same flags
from the domain events (the view) as from the leaves (an export)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.rules.compliance import RULE_FR, ComplianceChecker, Flag, LoggedEvent
from domain.rules.petition import SignatureCount
from tests.unit.test_compliance_rules import _both_ways

DAY = 86400
T = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
PETITION = "7a0e2c1a-0000-4000-8000-000000000001"
OTHER = "7a0e2c1a-0000-4000-8000-000000000002"
RULES = ("petition.answer_late", "petition.no_answer", "petition.no_obligation",
         "petition.threshold_position", "petition.late_signature")


def at(seconds: float) -> str:
    return (T + timedelta(seconds=seconds)).isoformat()


class PetitionLog:
    """A petition's log written event by event (positions 1, 2, …), checked as it grows."""

    def __init__(self, threshold: int = 3, version: int = 2) -> None:
        self.checker = ComplianceChecker()
        self.flags: list[Flag] = []
        self.position = 0
        self.versions: dict[str, int] = {}
        self.add("Drafted", charter_version=version, kind="interpellation")
        self.opened = self.add("CollectionOpened", at=at(0), closes_at=at(10 * DAY),
                               threshold=threshold, figure=300, figure_source="x")

    def add(self, name: str, originator: str = PETITION, module: str = "petition.petition:Petition",
            **fields: Any) -> int:
        self.position += 1
        self.versions[originator] = self.versions.get(originator, 0) + 1
        fields.setdefault("timestamp", at(0))
        event = LoggedEvent(f"domain.{module}.{name}", self.position, originator,
                            self.versions[originator], fields)
        self.flags += self.checker.apply(event)
        return self.position

    def sign(self, signer: str, name: str = "Signed", petition: str = PETITION) -> int:
        return self.add(name, f"sig-{petition}-{signer}", "petition.signature:Signature",
                        petition_id=petition, signer_ref=signer, commune="A")

    def reach(self, position: int, seconds: float = 0, obligation: bool = True) -> int:
        reached = self.add("ThresholdReached", position=position, count=3)
        if obligation:
            self.add("ObligationOpened", obligation="answer", at=at(seconds),
                     due_at=at(seconds + 30 * DAY))
        return reached

    def found(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(f.rule, f.positions) for f in self.flags]


def test_no_flag_when_a_petition_ran_by_its_rules() -> None:
    log = PetitionLog(threshold=4)
    log.sign("a")
    log.sign("b")
    log.sign("c", "Signed")
    log.sign("c", "Withdrawn")
    log.sign("c", "Renewed")
    crossing = log.sign("d")
    log.reach(crossing)
    log.add("Answered", clerk_ref="g", text="Réponse", at=at(DAY), late=False)
    log.add("CollectionClosed", at=at(10 * DAY))
    log.add("Closed", outcome="answered", count=4, at=at(10 * DAY))
    assert log.flags == []
    assert log.checker.proposals[PETITION]["count"] == 4


def test_flags_the_answer_when_recorded_after_the_deadline() -> None:
    log = PetitionLog()
    crossing = [log.sign(s) for s in "abc"][-1]
    log.reach(crossing)
    answered = log.add("Answered", clerk_ref="g", text="Réponse", at=at(31 * DAY), late=True)
    assert log.found() == [("petition.answer_late", (crossing + 2, answered))]
    assert log.flags[0].message.startswith(RULE_FR["petition.answer_late"])


def test_flags_the_consultation_report_when_recorded_after_the_deadline() -> None:
    log = PetitionLog()
    log.reach([log.sign(s) for s in "abc"][-1])
    log.add("ConsultationReported", guarantor_ref="g", text="Rapport", at=at(40 * DAY),
            late=True)
    assert [f.rule for f in log.flags] == ["petition.answer_late"]
    assert "rapport de la consultation" in log.flags[0].message


def test_no_flag_when_the_answer_came_on_the_deadline() -> None:
    log = PetitionLog()
    log.reach([log.sign(s) for s in "abc"][-1])
    log.add("Answered", clerk_ref="g", text="Réponse", at=at(30 * DAY), late=False)
    assert log.flags == []


def test_flags_no_answer_when_the_breach_is_recorded() -> None:
    log = PetitionLog()
    log.reach([log.sign(s) for s in "abc"][-1])
    obligation = log.position
    breach = log.add("ObligationBreached", due_at=at(30 * DAY), at=at(30 * DAY + 1))
    assert log.found() == [("petition.no_answer", (obligation, breach))]


def test_flags_no_obligation_when_a_threshold_reached_opened_none() -> None:
    log = PetitionLog()
    reached = log.reach([log.sign(s) for s in "abc"][-1], obligation=False)
    closed = log.add("CollectionClosed", at=at(10 * DAY))
    assert log.found() == [("petition.no_obligation", (reached, closed))]


def test_flags_no_obligation_when_the_collection_closed_above_the_threshold_unrecorded() -> None:
    log = PetitionLog()
    crossing = [log.sign(s) for s in "abcd"][2]
    closed = log.add("CollectionClosed", at=at(10 * DAY))
    end = log.add("Closed", outcome="failed", count=4, at=at(10 * DAY))
    assert log.found() == [("petition.no_obligation", (crossing, closed, end))]
    assert "compte 4 signature(s) pour un seuil de 3" in log.flags[0].message


def test_no_flag_when_the_close_records_the_threshold_right_after() -> None:
    log = PetitionLog()
    crossing = [log.sign(s) for s in "abc"][-1]
    log.add("CollectionClosed", at=at(10 * DAY))
    log.reach(crossing, seconds=10 * DAY)  # the close's recount records it, then its obligation
    log.add("Answered", clerk_ref="g", text="Réponse", at=at(11 * DAY), late=False)
    assert log.flags == []


def test_flags_the_threshold_position_when_it_differs_from_the_recounts_crossing() -> None:
    log = PetitionLog()
    signed = [log.sign(s) for s in "abcd"]
    reached = log.reach(signed[3])  # the count crossed at the third signature
    assert log.found() == [("petition.threshold_position", (signed[2], reached))]
    assert f"#{signed[3]}" in log.flags[0].message and f"#{signed[2]}" in log.flags[0].message


def test_flags_the_threshold_position_when_the_recount_never_crossed() -> None:
    log = PetitionLog()
    a = log.sign("a")
    log.sign("b")
    log.sign("b", "Withdrawn")
    reached = log.reach(a)
    assert log.found() == [("petition.threshold_position", (reached,))]
    assert "le recomptage ne l'a pas franchi" in log.flags[0].message


def test_flags_every_signature_event_stored_after_the_close_and_counts_none() -> None:
    log = PetitionLog()
    log.sign("a")
    closed = log.add("CollectionClosed", at=at(10 * DAY))
    late = log.sign("b")
    withdrawn = log.sign("a", "Withdrawn")
    assert log.found() == [("petition.late_signature", (closed, late)),
                           ("petition.late_signature", (closed, withdrawn))]
    facts = log.checker.proposals[PETITION]
    assert (facts["count"], facts["late"]) == (1, 1)


def test_flags_cite_the_charter_version_the_petition_pinned() -> None:
    log = PetitionLog(version=3)
    log.add("CollectionClosed", at=at(10 * DAY))
    log.sign("late")
    assert [(f.proposal_id, f.charter_version) for f in log.flags] == [(PETITION, 3)]


def test_a_signature_of_another_petition_or_of_none_changes_nothing() -> None:
    log = PetitionLog()
    log.sign("a", petition=OTHER)  # never drafted in this log
    assert OTHER not in log.checker.proposals
    assert log.checker.proposals[PETITION]["count"] == 0 and log.flags == []


def test_every_petition_rule_is_explained_in_french() -> None:
    assert set(RULES) <= set(RULE_FR)


def test_running_count_is_signature_counts_when_signatures_alternate() -> None:
    rng = random.Random(11)
    for _ in range(200):
        log = PetitionLog(threshold=rng.randint(1, 6))
        tally = SignatureCount(threshold=log.checker.proposals[PETITION]["threshold"],
                               opened_at=log.opened)
        standing: dict[str, bool] = {}
        for step in range(rng.randint(0, 30)):
            signer = f"s{rng.randint(0, 6)}"
            if step == 25 and tally.closed_at is None:
                tally.closed_at = log.add("CollectionClosed", at=at(DAY))
                continue
            name = ("Withdrawn" if standing.get(signer) else
                    "Renewed" if signer in standing else "Signed")
            position = log.sign(signer, name)
            standing[signer] = name != "Withdrawn"
            if name == "Withdrawn":
                tally.withdrawn(position, signer, "A")
            else:
                tally.signed(position, signer, "A")
        facts = log.checker.proposals[PETITION]
        assert (facts["count"], facts["crossed"], facts["late"]) == (
            tally.count, tally.crossed_at, tally.late)


def test_signatures_stored_before_the_opening_are_never_counted() -> None:
    log = PetitionLog()
    log.checker.proposals[PETITION] = {"petition": 1, "charter_version": 1, "count": 0,
                                       "late": 0, "early": []}
    log.sign("a")  # before the opening
    log.add("CollectionOpened", at=at(0), closes_at=at(DAY), threshold=1, figure=1,
            figure_source="x")
    log.sign("a", "Withdrawn")  # withdraws the uncounted signature: no change
    assert log.checker.proposals[PETITION]["count"] == 0
    renewed = log.sign("a", "Renewed")
    assert log.checker.proposals[PETITION]["crossed"] == renewed


def test_flags_are_the_same_from_domain_events_and_from_leaves_for_a_petition() -> None:
    from tests.unit.test_petition import ADULT, collecting
    from tests.unit.helpers import ManualClock, in_memory_app

    clock = ManualClock()
    app = in_memory_app(clock)
    _, pid, opened = collecting(app, clock)
    positions = [app.sign_petition(pid, f"p-{i}", ADULT) for i in range(opened.threshold + 1)]
    app.record_threshold(pid, positions[-1], opened.threshold + 1, clock())  # not the crossing
    clock.advance(days=11)
    app.answer_petition(pid, "clerk-1", "Trop tard.")
    from_events, from_leaves = _both_ways(app)
    assert from_events == from_leaves
    assert [(f.proposal_id, f.rule) for f in from_leaves] == [
        (str(pid), "petition.threshold_position"), (str(pid), "petition.answer_late")]
    assert from_leaves[0].positions[0] == positions[opened.threshold - 1]
