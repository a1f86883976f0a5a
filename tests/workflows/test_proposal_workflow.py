"""ProposalWorkflow on the Temporal time-skipping server, its activities on a real PostgreSQL.

Timers of weeks pass in moments: the test server skips time while the workflow only waits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

pytestmark = pytest.mark.integration



async def test_thirty_day_consultation_advances_to_the_vote_by_itself_when_time_passes(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await deliberation.env.sleep(timedelta(days=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "consultation"
    await deliberation.env.sleep(timedelta(days=30))
    status = await handle.query(ProposalWorkflow.get_status)
    assert status.stage == "vote"
    assert deliberation.app.get_proposal(pid).stage == "vote"


@pytest.mark.parametrize(
    ("majority", "votes", "outcome", "cause"),
    [
        ("simple", ["for", "for", "against"], "rejected", "quorum_not_met"),  # 3 of 7 < 50 %
        ("simple", ["for", "for", "against", "against"], "rejected", "tie"),
        ("simple", ["for", "for", "for", "against"], "adopted", "majority_carried"),
        ("simple", ["for", "against", "against", "abstain"], "rejected",
         "majority_not_reached"),
        # 3 for of 6 taking part: a simple majority, not an absolute one.
        ("absolute", ["for", "for", "for", "against", "abstain", "abstain"], "rejected",
         "majority_not_reached"),
        ("absolute", ["for", "for", "for", "for", "against", "abstain"], "adopted",
         "majority_carried"),
        # 4 for of 7 members: short of two thirds (5 needed), whoever else took part.
        ("two_thirds_of_members", ["for", "for", "for", "for"], "rejected",
         "majority_not_reached"),
        ("two_thirds_of_members", ["for", "for", "for", "for", "for", "against"], "adopted",
         "majority_carried"),
    ],
    ids=["quorum-missed", "tie", "majority", "minority", "absolute-missed", "absolute",
         "two-thirds-missed", "two-thirds"],
)
async def test_decides_from_the_votes_cast_when_the_ballot_deadline_passes(
    deliberation: Deliberation, majority: str, votes: list[str], outcome: str, cause: str,
) -> None:
    pid, handle = await deliberation.start(deliberation.found(members=7, majority=majority))
    await deliberation.env.sleep(timedelta(days=30, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    for i, choice in enumerate(votes, start=1):
        deliberation.app.cast_vote(pid, f"m{i}", choice)

    assert await handle.result() == outcome  # skips the 14-day ballot

    decided = list(deliberation.app.events.get(pid))[-1]
    assert isinstance(decided, Proposal.Decided)
    assert (decided.outcome, decided.cause, decided.members) == (outcome, cause, 7)
    assert decided.yes == votes.count("for") and decided.no == votes.count("against")
    assert decided.charter_version == 1
    assert f"majority.{majority}" in decided.rules_cited or cause == "quorum_not_met"
    assert (await handle.query(ProposalWorkflow.get_status)).outcome == outcome


async def test_records_each_stage_once_when_the_workflow_completes(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await handle.result()
    kinds = [type(e).__name__ for e in deliberation.app.events.get(pid)]
    assert kinds == ["Submitted", "ConsultationOpened", "VoteOpened", "BallotClosed", "Decided"]


async def test_applies_the_pinned_charter_when_amended_during_the_consultation(
    deliberation: Deliberation,
) -> None:
    mid = deliberation.found(members=4, quorum=50)
    pid, handle = await deliberation.start(mid)
    await deliberation.env.sleep(timedelta(days=1))
    deliberation.app.amend_charter(mid, CharterRules(consultation_seconds=DAY, vote_seconds=DAY,
                                                     quorum_percent=100))
    await deliberation.env.sleep(timedelta(days=30))
    deliberation.app.cast_vote(pid, "m1", "for")
    deliberation.app.cast_vote(pid, "m2", "for")
    # Under v2 (quorum 100 %) this would fail; v1 (50 %) pinned at submission carries it.
    assert await handle.result() == "adopted"


async def test_running_process_keeps_its_charter_when_an_amendment_proposal_is_adopted(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    mid = d.found(members=3)  # consultation 30 days, vote 14 days, amendments by two thirds
    amendment_id, _ = d.app.submit_proposal(
        mid, "citoyen-1", "Consultation de 45 jours", "Résumé",
        charter_amendment=CharterRules(consultation_seconds=45 * DAY, vote_seconds=14 * DAY,
                                       quorum_percent=50))
    amendment_handle = await d.env.client.start_workflow(
        ProposalWorkflow.run, ProposalInput(str(amendment_id)),
        id=workflow_id(str(amendment_id)), task_queue=d.task_queue)
    d.handles.append(amendment_handle)
    await d.env.sleep(timedelta(days=31))
    for ref in ("m1", "m2", "m3"):
        d.app.cast_vote(amendment_id, ref, "for")
    await d.env.sleep(timedelta(days=9))  # day 40: the amendment's ballot is still open
    running, handle = await d.start(mid)  # pins v1: a 30-day consultation
    await d.env.sleep(timedelta(days=5))  # day 45: the amendment has been adopted
    # (Not `result()`: waiting on a result lets the server skip time past other timers.)
    assert d.app.get_proposal(amendment_id).outcome == "adopted"
    assert d.app.get_charter(mid).current_version == 2
    later, _ = await d.start(mid)
    assert d.app.get_proposal(later).charter_version == 2

    await d.env.sleep(timedelta(days=26))  # day 71: 31 days after the running one's submission
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    assert d.app.get_proposal(running).charter_version == 1
