"""The proposal's stages and their one transition table (domain/deliberation/stages.py): the
table's shape, the aggregate refusing every move the table does not list, and stored events
recorded when stages were plain strings still loading."""

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
from domain.errors import ProposalWithdrawn, WithdrawalTooLate, WrongStage
from projections.labels import STAGE_FR
from tests.unit.helpers import in_memory_app

AT = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
LATER = AT + timedelta(days=1)
RESULT = {"outcome": "adopted", "cause": "no_veto", "yes": 0, "no": 0, "abstain": 0,
          "members": 3, "cutoff_position": 0, "rules_cited": ["veto.window"]}
DECISION = {**RESULT, "cause": "majority_carried", "quorum_met": True}

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
