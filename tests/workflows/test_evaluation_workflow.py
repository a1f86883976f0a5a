"""Implementation and citizens' evaluation after adoption (time-skipping server, real
PostgreSQL): a full 12-month lifecycle runs in seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import EvaluationNotOpen
from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalWorkflow

pytestmark = pytest.mark.integration

MONTH = 30 * DAY


async def test_runs_implementation_and_two_evaluations_then_closes_when_adopted(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    mid = d.found(members=3, evaluation_after_seconds=(6 * MONTH, 12 * MONTH),
                  evaluation_window_seconds=MONTH)
    pid, handle = await d.start(mid)
    await d.env.sleep(timedelta(days=30, hours=1))
    for ref in ("m1", "m2", "m3"):
        d.app.cast_vote(pid, ref, "for")
    await d.env.sleep(timedelta(days=14, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "implementation"
    d.app.record_milestone(pid, "greffe", "Marché public attribué")
    d.app.appoint_evaluation_panel(pid, "garant", ["panel-1"])
    with pytest.raises(EvaluationNotOpen):
        d.app.score_evaluation(pid, "panel-1", {"usage": 7})

    await d.env.sleep(timedelta(days=6 * 30 + 1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "evaluation"
    d.app.score_evaluation(pid, "panel-1", {"usage": 7, "satisfaction": 6}, "Bon début")
    await d.env.sleep(timedelta(days=6 * 30))
    d.app.score_evaluation(pid, "panel-1", {"usage": 8, "satisfaction": 8})

    assert await handle.result() == "adopted"
    kinds = [type(e).__name__ for e in d.app.events.get(pid)]
    assert kinds[-8:] == ["ImplementationOpened", "MilestoneRecorded",
                          "EvaluationPanelAppointed", "EvaluationOpened",
                          "EvaluationScored", "EvaluationOpened", "EvaluationScored", "Closed"]
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "closed"


async def test_ends_at_the_decision_when_the_charter_schedules_no_evaluation(
    deliberation: Deliberation,
) -> None:
    pid, handle = await deliberation.start(deliberation.found(members=3))
    await deliberation.env.sleep(timedelta(days=30, hours=1))
    for ref in ("m1", "m2"):
        deliberation.app.cast_vote(pid, ref, "for")
    assert await handle.result() == "adopted"
    assert [type(e).__name__ for e in deliberation.app.events.get(pid)][-1] == "Decided"
