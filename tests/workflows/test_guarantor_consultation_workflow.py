"""The consultation the guarantor requires, driven by the workflow on the time-skipping server:
required during the deliberation, it opens when the deliberation closes and the vote waits for
its end; required before the consultation, it only lengthens it."""

from __future__ import annotations

from datetime import timedelta

from domain.deliberation.proposal import Proposal
from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalWorkflow

REASON = "Le projet a changé : le public doit être consulté à nouveau."


def stages(d: Deliberation, pid) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "rule", "")) for e in d.app.events.get(pid)
            if isinstance(e, (Proposal.ConsultationOpened, Proposal.ConsultationRequired,
                              Proposal.DeliberationOpened, Proposal.DeliberationClosed,
                              Proposal.VoteOpened))]


async def test_vote_opens_after_the_required_consultation_when_required_in_deliberation(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    mid = d.found(members=3, deliberation_seconds=7 * DAY)
    pid, handle = await d.start(mid)
    await d.env.sleep(timedelta(days=31))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "deliberation"
    d.app.require_consultation(pid, "garant", REASON, seconds=20 * DAY)

    await d.env.sleep(timedelta(days=7))  # day 38: the deliberation ended on day 37
    status = await handle.query(ProposalWorkflow.get_status)
    assert status.stage == "consultation"
    d.app.comment(pid, "citoyenne-9", "Le nouveau tracé coupe le marché.")
    await d.env.sleep(timedelta(days=28))  # day 66: past the 20 days asked
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "consultation"

    await d.env.sleep(timedelta(days=2))  # day 68: the charter's 30 days are over
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    for ref in ("m1", "m2", "m3"):
        d.app.cast_vote(pid, ref, "for")
    assert await handle.result() == "adopted"
    assert stages(d, pid) == [
        ("ConsultationOpened", "stage.consultation"),
        ("DeliberationOpened", "stage.deliberation"),
        ("ConsultationRequired", "guarantor.consultation"),
        ("DeliberationClosed", ""),
        ("ConsultationOpened", "guarantor.consultation"),
        ("VoteOpened", "stage.vote"),
    ]
    required, vote = [e for e in d.app.events.get(pid)
                      if isinstance(e, (Proposal.ConsultationOpened, Proposal.VoteOpened))][1:]
    assert timedelta(days=30) <= vote.opened_at - required.opened_at < timedelta(days=30,
                                                                                 minutes=1)


async def test_consultation_lasts_what_the_guarantor_asked_when_required_before_it(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    mid = d.found(members=3, admissibility_seconds=10 * DAY)
    pid, handle = await d.start(mid)
    await d.env.sleep(timedelta(days=1))
    d.app.require_consultation(pid, "garant", REASON, seconds=45 * DAY)
    await d.env.sleep(timedelta(days=10 + 44))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "consultation"
    await d.env.sleep(timedelta(days=2))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    assert [rule for name, rule in stages(d, pid) if name == "ConsultationOpened"] == [
        "guarantor.consultation"]
