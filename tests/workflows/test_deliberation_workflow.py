"""The deliberation stage in ProposalWorkflow: amendments tabled and voted, each decided at the
deliberation's close (time-skipping server, real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import DeliberationNotOpen, VoteNotOpen
from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalWorkflow

pytestmark = pytest.mark.integration


async def test_decides_each_amendment_then_votes_on_the_proposal_when_deliberation_ends(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(members=5, deliberation_seconds=7 * DAY))
    await d.env.sleep(timedelta(days=30, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "deliberation"
    first, _ = d.app.table_amendment(pid, "m1", "Étendre le dispositif aux communes rurales")
    second, _ = d.app.table_amendment(pid, "m2", "Réduire le budget de moitié")
    with pytest.raises(VoteNotOpen):
        d.app.cast_vote(pid, "m1", "for")  # the proposal's own ballot is not open yet
    for ref, choice in (("m1", "for"), ("m2", "for"), ("m3", "for"), ("m4", "against")):
        d.app.cast_vote(pid, ref, choice, amendment=first)
    for ref, choice in (("m1", "against"), ("m2", "for"), ("m3", "against")):
        d.app.cast_vote(pid, ref, choice, amendment=second)

    await d.env.sleep(timedelta(days=7, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "vote"
    with pytest.raises(DeliberationNotOpen):
        d.app.table_amendment(pid, "m1", "Trop tard")
    decided = {e.number: (e.outcome, e.yes, e.no) for e in d.app.events.get(pid)
               if type(e).__name__ == "AmendmentDecided"}
    assert decided == {1: ("adopted", 3, 1), 2: ("rejected", 1, 2)}
    await handle.terminate("test finished")


async def test_workflow_ends_withdrawn_when_the_author_withdraws_during_the_deliberation(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(members=3, deliberation_seconds=7 * DAY))
    await d.env.sleep(timedelta(days=31))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "deliberation"
    await handle.signal(ProposalWorkflow.withdrawn, d.app.withdraw(pid, "citoyen-1"))
    assert await handle.result() == "withdrawn"
    history = await handle.fetch_history()
    fired = [e for e in history.events if e.HasField("timer_fired_event_attributes")]
    assert len(fired) == 1  # the consultation's; it ended on the signal, not the deadline
    assert [type(e).__name__ for e in d.app.events.get(pid)][-1] == "Withdrawn"


async def test_workflow_ends_withdrawn_when_a_consultation_withdrawal_is_not_signalled(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(members=3, deliberation_seconds=7 * DAY))
    await d.env.sleep(timedelta(days=2))
    d.app.withdraw(pid, "citoyen-1")  # no signal: the deliberation's opening finds out
    assert await handle.result() == "withdrawn"


async def test_workflow_ends_withdrawn_when_withdrawn_before_its_first_step(
    deliberation: Deliberation,
) -> None:
    from workflows.proposal import ProposalInput, workflow_id

    d = deliberation
    mid = d.found(members=3, admissibility_seconds=7 * DAY)
    pid, _ = d.app.submit_proposal(mid, "citoyen-1", "Titre", "Résumé")
    d.app.withdraw(pid, "citoyen-1")
    handle = await d.env.client.start_workflow(
        ProposalWorkflow.run, ProposalInput(str(pid)), id=workflow_id(str(pid)),
        task_queue=d.task_queue)
    d.handles.append(handle)
    assert await handle.result() == "withdrawn"
