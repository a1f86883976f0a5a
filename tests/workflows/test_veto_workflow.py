"""The governance pact and withdrawal in ProposalWorkflow (time-skipping server, real
PostgreSQL): the veto window after an adoption, and the relay's withdrawal signal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import CommuneNotConcerned, VetoOutsideWindow
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalWorkflow

pytestmark = pytest.mark.integration

REASON = "Le projet supprime le marché couvert de la commune sans concertation."


async def adopted_in_window(d: Deliberation) -> tuple:
    """7 members, m1 mayor of A; adopted 5–2, then the 15-day veto window opens."""
    mid = d.found(members=7, veto_window_seconds=15 * DAY)
    pid, handle = await d.start(mid, communes=("A",))
    await d.env.sleep(timedelta(days=30, hours=1))
    for i, choice in enumerate(["against", "against", "for", "for", "for", "for", "for"], 1):
        d.app.cast_vote(pid, f"m{i}", choice)
    await d.env.sleep(timedelta(days=14, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "veto_window"
    return pid, handle


async def test_mayor_s_veto_is_sustained_when_the_council_does_not_override(
    deliberation: Deliberation,
) -> None:
    pid, handle = await adopted_in_window(deliberation)
    deliberation.app.file_veto(pid, "m1", "A", REASON)
    for ref in ("m3", "m4", "m5", "m6"):  # 4 of 7 < two thirds
        deliberation.app.cast_vote(pid, ref, "for")
    assert await handle.result() == "rejected"
    closed = list(deliberation.app.events.get(pid))[-1]
    assert isinstance(closed, Proposal.VetoWindowClosed) and closed.cause == "veto_sustained"


async def test_mayor_s_veto_is_overridden_when_two_thirds_of_members_lift_it(
    deliberation: Deliberation,
) -> None:
    pid, handle = await adopted_in_window(deliberation)
    deliberation.app.file_veto(pid, "m1", "A", REASON)
    for ref in ("m2", "m3", "m4", "m5", "m6"):  # 5 of 7 >= two thirds
        deliberation.app.cast_vote(pid, ref, "for")
    assert await handle.result() == "adopted"
    assert list(deliberation.app.events.get(pid))[-1].cause == "override_carried"


async def test_adoption_stands_when_no_mayor_vetoes_within_the_window(
    deliberation: Deliberation,
) -> None:
    pid, handle = await adopted_in_window(deliberation)
    assert await handle.result() == "adopted"
    assert list(deliberation.app.events.get(pid))[-1].cause == "no_veto"
    with pytest.raises(VetoOutsideWindow):  # the window has closed: too late
        deliberation.app.file_veto(pid, "m1", "A", REASON)


async def test_workflow_ends_withdrawn_when_signalled_during_the_consultation(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await deliberation.env.sleep(timedelta(days=2))
    position = deliberation.app.withdraw(pid, "citoyen-1")
    await handle.signal(ProposalWorkflow.withdrawn, position)
    try:  # a relay retry: seen already, or the workflow has ended (the relay accepts both)
        await handle.signal(ProposalWorkflow.withdrawn, position)
    except RPCError as e:
        assert e.status == RPCStatusCode.NOT_FOUND, e
    assert await handle.result() == "withdrawn"
    kinds = [type(e).__name__ for e in deliberation.app.events.get(pid)]
    assert kinds == ["Submitted", "ConsultationOpened", "Withdrawn"]


async def test_workflow_ends_withdrawn_when_the_signal_is_late(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found())
    await deliberation.env.sleep(timedelta(days=2))
    deliberation.app.withdraw(pid, "citoyen-1")  # no signal: the next activity finds out
    assert await handle.result() == "withdrawn"
    assert [type(e).__name__ for e in deliberation.app.events.get(pid)][-1] == "Withdrawn"


async def test_window_closes_before_its_term_when_the_override_is_carried(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await adopted_in_window(d)
    d.app.file_veto(pid, "m1", "A", REASON)
    for ref in ("m2", "m3", "m4", "m5", "m6"):  # 5 of 7: two thirds, whatever m1 and m7 do
        d.app.cast_vote(pid, ref, "for")
    # What the relay sends on the vote that carried it.
    await handle.signal(ProposalWorkflow.override_carried, d.app.recorder.max_notification_id())
    assert await handle.result() == "adopted"
    events = list(d.app.events.get(pid))
    window = next(e for e in events if isinstance(e, Proposal.VetoWindowOpened))
    closed = next(e for e in events if isinstance(e, Proposal.BallotClosed)
                  and e.cause == "override_carried")
    assert closed.closed_at < window.closes_at - timedelta(days=14)
    assert events[-1].cause == "override_carried" and events[-1].yes == 5


async def test_window_runs_to_its_term_when_an_override_signal_was_premature(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await adopted_in_window(d)
    position = d.app.file_veto(pid, "m1", "A", REASON)
    for ref in ("m2", "m3", "m4"):  # 3 of 7: not carried
        d.app.cast_vote(pid, ref, "for")
    await handle.signal(ProposalWorkflow.override_carried, position + 3)  # a wrong signal
    await d.env.sleep(timedelta(days=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "veto_window"
    for ref in ("m5", "m6"):  # 5 of 7, within the window
        d.app.cast_vote(pid, ref, "for")
    assert await handle.result() == "adopted"
    closes = [e for e in d.app.events.get(pid) if isinstance(e, Proposal.BallotClosed)]
    assert closes[-1].cause == "deadline_reached"


async def test_refuses_the_veto_of_a_mayor_whose_commune_is_not_concerned(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    mid = d.app.found_metropolis(
        "deux-communes", "Métropole", [{"code": c, "name": c, "population": 1} for c in "AB"],
        [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
         {"ref": "maire-b", "name": "Maire B", "role": "mayor", "commune": "B"},
         {"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
                     veto_window_seconds=15 * DAY))
    pid, handle = await d.start(mid, communes=("A",))
    await d.env.sleep(timedelta(days=30, hours=1))
    for ref in ("maire-a", "maire-b", "c1"):
        d.app.cast_vote(pid, ref, "for")
    await d.env.sleep(timedelta(days=14, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "veto_window"
    size = d.app.recorder.max_notification_id()
    with pytest.raises(CommuneNotConcerned):
        d.app.file_veto(pid, "maire-b", "B", REASON)
    assert d.app.recorder.max_notification_id() == size
    assert await handle.result() == "adopted"
    assert list(d.app.events.get(pid))[-1].cause == "no_veto"
