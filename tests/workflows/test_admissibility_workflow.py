"""The admissibility review in ProposalWorkflow (time-skipping server, real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workflows.conftest import DAY, Deliberation
from workflows.proposal import ProposalWorkflow

pytestmark = pytest.mark.integration


async def test_ends_inadmissible_when_the_clerk_rules_so_during_the_review(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(admissibility_seconds=10 * DAY,
                                        competences=("mobilités",)))
    await d.env.sleep(timedelta(days=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "admissibility"
    position = d.app.rule_admissibility(pid, "greffe", False, reason="Compétence régionale.")
    await handle.signal(ProposalWorkflow.admissibility_ruled, position)
    assert await handle.result() == "inadmissible"
    kinds = [type(e).__name__ for e in d.app.events.get(pid)]
    assert kinds == ["Submitted", "AdmissibilityOpened", "AdmissibilityDecided"]


async def test_goes_on_to_consultation_when_the_clerk_rules_it_admissible(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(admissibility_seconds=10 * DAY,
                                        competences=("mobilités",)))
    await d.env.sleep(timedelta(days=1))
    position = d.app.rule_admissibility(pid, "greffe", True, "mobilités")
    await handle.signal(ProposalWorkflow.admissibility_ruled, position)
    await d.env.sleep(timedelta(hours=1))
    status = await handle.query(ProposalWorkflow.get_status)
    assert status.stage == "consultation"  # day 1, well before the 10-day deadline


async def test_is_admissible_by_default_when_the_review_deadline_passes(
    deliberation: Deliberation,
) -> None:
    d = deliberation
    pid, handle = await d.start(d.found(admissibility_seconds=10 * DAY))
    await d.env.sleep(timedelta(days=10, hours=1))
    assert (await handle.query(ProposalWorkflow.get_status)).stage == "consultation"
    decided = [e for e in d.app.events.get(pid) if type(e).__name__ == "AdmissibilityDecided"]
    assert decided[0].cause == "deadline_reached"
