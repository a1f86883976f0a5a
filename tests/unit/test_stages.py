"""The proposal's stages and their one transition table (domain/deliberation/stages.py): the
table's shape, the aggregate refusing every move the table does not list, the moves the table
allows from the current stage that the process still refuses (a veto window owed or already
held, evaluation steps due or skipped, a second deliberation, a stage the pinned charter asks
for first), and stored events recorded before (stages as plain strings, decisions silent on
the veto window) still loading."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.deliberation.proposal import Proposal
from domain.deliberation.stages import (
    BEFORE_THE_VOTE,
    TERMINAL,
    TRANSITIONS,
    Stage,
    check_transition,
)
from domain.application import Registre
from domain.errors import (
    AdmissibilityReviewRequired,
    DeliberationAlreadyHeld,
    DeliberationRequired,
    EvaluationsStillDue,
    EvaluationStepOutOfOrder,
    NoVetoWindowOwed,
    ProposalWithdrawn,
    VetoWindowAlreadyHeld,
    VetoWindowOwed,
    WithdrawalTooLate,
    WrongStage,
)
from projections.labels import STAGE_FR
from tests.unit.helpers import ManualClock, found, in_memory_app

AT = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
LATER = AT + timedelta(days=1)
RESULT = {"outcome": "adopted", "cause": "no_veto", "yes": 0, "no": 0, "abstain": 0,
          "members": 3, "cutoff_position": 0, "rules_cited": ["veto.window"]}
DECISION = {**RESULT, "cause": "majority_carried", "quorum_met": True,
            "veto_window_owed": True}  # a concerned commune holds a veto

# Every command that moves a proposal, with the stage it moves it to.
MOVES: list[tuple[str, Stage, Callable[[Proposal], Any]]] = [
    ("open_admissibility", Stage.ADMISSIBILITY, lambda p: p.open_admissibility(AT, LATER)),
    ("rule admissible", Stage.ADMISSIBLE,
     lambda p: p.decide_admissibility("greffe", True, "", "", (), "clerk_ruling")),
    ("rule inadmissible", Stage.INADMISSIBLE,
     lambda p: p.decide_admissibility("greffe", False, "", "Hors compétence.", (),
                                      "clerk_ruling")),
    ("open_consultation", Stage.CONSULTATION, lambda p: p.open_consultation(AT, LATER)),
    ("open_required_consultation", Stage.CONSULTATION,
     lambda p: p.open_required_consultation(AT, LATER)),
    ("open_deliberation", Stage.DELIBERATION, lambda p: p.open_deliberation(AT, LATER)),
    ("close_deliberation", Stage.DELIBERATED, lambda p: p.close_deliberation(AT)),
    ("open_vote", Stage.VOTE, lambda p: p.open_vote(AT, LATER)),
    ("close_ballot", Stage.COUNTING, lambda p: p.close_ballot(AT)),
    ("record_decision", Stage.DECIDED, lambda p: p.record_decision(**DECISION)),
    ("open_veto_window", Stage.VETO_WINDOW, lambda p: p.open_veto_window(AT, LATER)),
    ("close_veto_window", Stage.DECIDED, lambda p: p.close_veto_window(**RESULT)),
    ("open_implementation", Stage.IMPLEMENTATION,
     lambda p: p.open_implementation(AT, [LATER], LATER)),
    ("open_evaluation", Stage.EVALUATION, lambda p: p.open_evaluation(1, AT)),
    ("close", Stage.CLOSED, lambda p: p.close(AT)),
    ("withdraw", Stage.WITHDRAWN, lambda p: p.withdraw("citoyen-1")),
]


def _proposal_at(stage: Stage) -> Proposal:
    """A proposal put straight into `stage` (an adopted one, so only the stage decides)."""
    proposal = Proposal(metropolis_id=uuid4(), charter_id=uuid4(), charter_version=1,
                        author_ref="citoyen-1", title_sealed="", summary_sealed="", communes=[])
    proposal.stage = stage
    proposal.outcome = "adopted"
    return proposal


def test_every_stage_is_reachable_from_submitted_when_walking_the_table() -> None:
    reached, frontier = {Stage.SUBMITTED}, [Stage.SUBMITTED]
    while frontier:
        for following in TRANSITIONS[frontier.pop()] - reached:
            reached.add(following)
            frontier.append(following)
    assert reached == set(Stage)


def test_terminal_stages_have_no_successor_when_walking_the_table() -> None:
    assert set(TRANSITIONS) == set(Stage)
    assert TERMINAL == {Stage.INADMISSIBLE, Stage.WITHDRAWN, Stage.CLOSED}
    assert all(not TRANSITIONS[stage] for stage in TERMINAL)
    assert all(TRANSITIONS[stage] for stage in set(Stage) - TERMINAL)


def test_withdrawal_is_open_exactly_until_the_vote_when_read_from_the_table() -> None:
    assert BEFORE_THE_VOTE == {Stage.SUBMITTED, Stage.ADMISSIBILITY, Stage.ADMISSIBLE,
                               Stage.CONSULTATION, Stage.DELIBERATION, Stage.DELIBERATED}


def test_check_transition_refuses_a_move_when_the_table_does_not_list_it() -> None:
    check_transition("decided", Stage.VETO_WINDOW)  # a plain stored string is a Stage
    with pytest.raises(WrongStage):
        check_transition("decided", Stage.VOTE)
    with pytest.raises(WrongStage):
        check_transition(Stage.CLOSED, Stage.EVALUATION)


@pytest.mark.parametrize(("name", "target", "move"), MOVES, ids=[m[0] for m in MOVES])
def test_aggregate_refuses_a_transition_when_it_is_not_in_the_table(
    name: str, target: Stage, move: Callable[[Proposal], Any],
) -> None:
    refused = [stage for stage in Stage if target not in TRANSITIONS[stage]]
    assert refused
    for stage in refused:
        proposal = _proposal_at(stage)
        recorded = len(proposal.pending_events)
        with pytest.raises((WrongStage, ProposalWithdrawn, WithdrawalTooLate)):
            move(proposal)
        assert (proposal.stage, len(proposal.pending_events)) == (stage, recorded), stage


def test_aggregate_moves_along_the_table_when_a_proposal_runs_its_course() -> None:
    proposal = _proposal_at(Stage.SUBMITTED)
    path = [Stage.SUBMITTED]
    for name in ("open_admissibility", "rule admissible", "open_consultation",
                 "open_deliberation", "close_deliberation", "open_vote", "close_ballot",
                 "record_decision", "open_veto_window", "close_veto_window",
                 "open_implementation", "open_evaluation", "close"):
        if name == "close_veto_window":
            proposal.override_ballot_id = None  # no veto filed: the window just closes
        next(move for n, _, move in MOVES if n == name)(proposal)
        assert proposal.stage in TRANSITIONS[path[-1]], name
        assert isinstance(proposal.stage, Stage)
        path.append(proposal.stage)
    assert path[-1] is Stage.CLOSED


def test_every_stage_has_a_french_label_when_shown_to_citizens() -> None:
    assert set(Stage) <= set(STAGE_FR)


def test_proposal_loads_with_its_stage_when_events_were_recorded_before_the_enum() -> None:
    log = json.loads((Path(__file__).parents[1] / "data" / "log-before-package-move.json")
                     .read_text())
    app = in_memory_app()
    app.recorder.insert_events([
        StoredEvent(UUID(e["originator_id"]), e["originator_version"], e["topic"],
                    base64.b64decode(e["state"]))
        for e in log["events"]])
    submitted = next(e for e in log["events"] if e["topic"].endswith("Proposal.Submitted"))
    proposal = app.get_proposal(UUID(submitted["originator_id"]))
    assert proposal.stage is Stage.DECIDED and proposal.stage == "decided"
    proposal.open_implementation(AT, [LATER], LATER)  # and it moves on by the table
    assert proposal.stage is Stage.IMPLEMENTATION


# -- moves the table allows from the current stage but the process refuses -------------------
# The table sees only the current stage; the aggregate keeps the facts it needs (a veto window
# owed or held, a deliberation held, the evaluation steps due) and the commands check the pinned
# charter's stages. Each refusal leaves the log as it was.

DAY = 86400


def _found(app: Registre, **rules: object) -> UUID:
    """A metropolis of five councillors for commune A, one-day stages unless `rules` say."""
    return found(app, consultation_seconds=DAY, vote_seconds=DAY, **rules)


def _adopted(app: Registre, clock: ManualClock, communes: tuple[str, ...] = (),
             **rules: object) -> UUID:
    """A proposal adopted 3–0 after its consultation (its veto window, if any, not opened)."""
    pid, _ = app.submit_proposal(_found(app, **rules), "citoyen-1", "Titre", "Résumé",
                                 communes)
    app.open_consultation(pid, clock())
    clock.advance(days=1)
    opened = app.open_vote(pid, clock())
    for ref in ("m1", "m2", "m3"):
        app.cast_vote(pid, ref, "for")
    clock.advance(days=1)
    assert app.decide(pid, opened.position, app.close_ballot(pid, clock())) == "adopted"
    return pid


def _refused(app: Registre, error: type[Exception], act: Callable[[], Any]) -> None:
    """`act` raises `error` and the log stays as it was."""
    before = app.recorder.max_notification_id()
    with pytest.raises(error):
        act()
    assert app.recorder.max_notification_id() == before


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(AT)


@pytest.fixture
def app(clock: ManualClock) -> Registre:
    return in_memory_app(clock)


def test_implementation_is_refused_when_the_veto_window_is_owed(app, clock) -> None:
    pid = _adopted(app, clock, ("A",), veto_window_seconds=DAY,
                   evaluation_after_seconds=(DAY,))
    proposal = app.get_proposal(pid)
    assert (proposal.stage, proposal.veto_window_owed) == (Stage.DECIDED, True)
    _refused(app, VetoWindowOwed, lambda: app.open_implementation(pid, clock()))
    with pytest.raises(VetoWindowOwed):
        proposal.open_implementation(AT, [LATER], LATER)
    assert proposal.pending_events == []


def test_implementation_opens_when_the_veto_window_closed_on_the_adoption(app, clock) -> None:
    pid = _adopted(app, clock, ("A",), veto_window_seconds=DAY,
                   evaluation_after_seconds=(DAY,))
    app.open_veto_window(pid, clock())
    clock.advance(days=1)
    assert app.close_veto_window(pid, clock()) == "adopted"
    assert app.open_implementation(pid, clock()) is not None
    assert app.get_proposal(pid).stage is Stage.IMPLEMENTATION


def test_implementation_opens_when_no_commune_concerned_holds_a_veto(app, clock) -> None:
    pid = _adopted(app, clock, ("A",), veto_window_seconds=DAY, veto_territories=("B",),
                   evaluation_after_seconds=(DAY,))
    assert app.get_proposal(pid).veto_window_owed is False
    assert app.open_veto_window(pid, clock()) is None
    assert app.open_implementation(pid, clock()) is not None


def test_second_veto_window_is_refused_when_the_first_closed(app, clock) -> None:
    pid = _adopted(app, clock, ("A",), veto_window_seconds=DAY)
    first = app.open_veto_window(pid, clock())
    clock.advance(days=1)
    app.close_veto_window(pid, clock())
    proposal = app.get_proposal(pid)
    assert (proposal.stage, proposal.veto_window_held) == (Stage.DECIDED, True)
    with pytest.raises(VetoWindowAlreadyHeld):
        proposal.open_veto_window(clock(), clock() + timedelta(days=1))
    assert proposal.pending_events == []
    before = app.recorder.max_notification_id()
    assert app.open_veto_window(pid, clock()) == first  # a retry: what was recorded
    assert app.recorder.max_notification_id() == before


def test_veto_window_is_refused_when_the_decision_owes_none(app, clock) -> None:
    pid = _adopted(app, clock)  # concerns no commune
    proposal = app.get_proposal(pid)
    with pytest.raises(NoVetoWindowOwed):
        proposal.open_veto_window(clock(), clock() + timedelta(days=1))
    assert proposal.pending_events == []


def _implemented(app: Registre, clock: ManualClock, steps: int) -> UUID:
    pid = _adopted(app, clock, evaluation_after_seconds=tuple(n * DAY for n in
                                                              range(1, steps + 1)))
    assert app.open_implementation(pid, clock()) is not None
    return pid


def test_closing_is_refused_when_no_evaluation_step_was_held(app, clock) -> None:
    pid = _implemented(app, clock, steps=2)
    assert app.get_proposal(pid).evaluations_due == 2
    _refused(app, EvaluationsStillDue, lambda: app.close_process(pid, clock()))
    assert app.get_proposal(pid).stage is Stage.IMPLEMENTATION


def test_closing_is_refused_when_an_evaluation_step_is_still_due(app, clock) -> None:
    pid = _implemented(app, clock, steps=2)
    app.open_evaluation(pid, 1, clock())
    _refused(app, EvaluationsStillDue, lambda: app.close_process(pid, clock()))
    app.open_evaluation(pid, 2, clock())
    assert app.close_process(pid, clock()) == Stage.CLOSED


def test_evaluation_step_is_refused_when_it_skips_one(app, clock) -> None:
    pid = _implemented(app, clock, steps=3)
    app.open_evaluation(pid, 1, clock())
    _refused(app, EvaluationStepOutOfOrder, lambda: app.open_evaluation(pid, 3, clock()))
    assert app.get_proposal(pid).evaluation_step == 1


def test_evaluation_step_is_refused_when_it_is_not_scheduled_or_already_open(app,
                                                                               clock) -> None:
    pid = _implemented(app, clock, steps=1)
    proposal = app.get_proposal(pid)
    with pytest.raises(EvaluationStepOutOfOrder):
        proposal.open_evaluation(2, clock())  # the schedule has one step
    proposal.open_evaluation(1, clock())
    with pytest.raises(EvaluationStepOutOfOrder):
        proposal.open_evaluation(1, clock())
    assert len(proposal.pending_events) == 1


def _deliberated_then_required(app: Registre, clock: ManualClock) -> UUID:
    """Consultation → deliberation (the guarantor requires a consultation during it) →
    deliberated → the required consultation, now open."""
    pid, _ = app.submit_proposal(_found(app, deliberation_seconds=DAY), "citoyen-1", "Titre",
                                 "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=1)
    app.open_deliberation(pid, clock())
    app.require_consultation(pid, "garant", "Le projet a changé pendant la délibération.")
    clock.advance(days=1)
    app.close_deliberation(pid, clock())
    assert app.open_required_consultation(pid, clock()) is not None
    return pid


def test_second_deliberation_is_refused_when_the_required_consultation_follows_it(
    app, clock,
) -> None:
    pid = _deliberated_then_required(app, clock)
    proposal = app.get_proposal(pid)
    assert (proposal.stage, proposal.deliberation_held) == (Stage.CONSULTATION, True)
    clock.advance(days=1)
    _refused(app, DeliberationAlreadyHeld, lambda: app.open_deliberation(pid, clock()))
    with pytest.raises(DeliberationAlreadyHeld):
        proposal.open_deliberation(clock(), clock() + timedelta(days=1))
    assert proposal.pending_events == []


def test_vote_opens_when_the_required_consultation_followed_the_deliberation(
    app, clock,
) -> None:
    pid = _deliberated_then_required(app, clock)
    clock.advance(days=1)
    assert app.open_required_consultation(pid, clock()) is None  # held: the vote may open
    assert app.open_vote(pid, clock()).stage is Stage.VOTE


def test_vote_is_refused_when_the_charter_has_a_deliberation_not_yet_held(app, clock) -> None:
    pid, _ = app.submit_proposal(_found(app, deliberation_seconds=DAY), "citoyen-1", "Titre",
                                 "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=1)
    _refused(app, DeliberationRequired, lambda: app.open_vote(pid, clock()))
    assert app.get_proposal(pid).stage is Stage.CONSULTATION


def test_consultation_is_refused_when_the_charter_asks_for_an_admissibility_review(
    app, clock,
) -> None:
    pid, _ = app.submit_proposal(_found(app, admissibility_seconds=DAY), "citoyen-1", "Titre",
                                 "Résumé")
    _refused(app, AdmissibilityReviewRequired, lambda: app.open_consultation(pid, clock()))
    assert app.get_proposal(pid).stage is Stage.SUBMITTED
    app.open_admissibility(pid, clock())
    clock.advance(days=1)
    assert app.conclude_admissibility(pid, clock()) is Stage.ADMISSIBLE
    assert app.open_consultation(pid, clock()).stage is Stage.CONSULTATION


def _reloaded_without_the_owed_window(app: Registre) -> Registre:
    """A copy of `app`'s log in which every Decided event is as recorded before decisions said
    whether they owe a veto window (class version 1, no such field)."""
    copy = in_memory_app(ManualClock(app.clock()))
    stored = app.recorder.select_notifications(start=1, limit=10_000)
    events = []
    for s in stored:
        state = s.state
        if s.topic.endswith("Proposal.Decided"):
            fields = json.loads(state)
            fields.pop("veto_window_owed")
            fields.pop("class_version", None)
            state = json.dumps(fields).encode()
        events.append(StoredEvent(s.originator_id, s.originator_version, s.topic, state))
    copy.recorder.insert_events(events)
    return copy


def test_old_decision_loads_and_implementation_waits_for_the_window_when_the_charter_owes_it(
    app, clock,
) -> None:
    pid = _adopted(app, clock, ("A",), veto_window_seconds=DAY,
                   evaluation_after_seconds=(DAY,))
    old = _reloaded_without_the_owed_window(app)
    proposal = old.get_proposal(pid)
    assert (proposal.stage, proposal.veto_window_owed) == (Stage.DECIDED, None)
    _refused(old, VetoWindowOwed, lambda: old.open_implementation(pid, clock()))
    assert old.open_veto_window(pid, clock()) is not None  # the window it owes still opens
