"""Determinism guard: the recorded histories of ProposalWorkflow (tests/data/histories) replay on
today's code, a change made without `workflow.patched` fails the replay, and a `Stage` crosses
the Temporal boundary as the very string the histories hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from domain.deliberation.stages import Stage
from workflows.activities import ProposalActivities, StageResult
from workflows.proposal import ProposalInput, ProposalWorkflow

HISTORY_DIR = Path(__file__).parents[1] / "data" / "histories"
HISTORIES = sorted(HISTORY_DIR.glob("*.json"))


def _history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json("proposal-replay", json.loads((HISTORY_DIR / name).read_text()))


@workflow.defn(name="ProposalWorkflow", sandboxed=False)
class _ConsultationFirst(ProposalWorkflow):
    """v1 changed without a patch: the consultation opens before the admissibility review is
    asked for."""

    @workflow.run
    async def run(self, input: ProposalInput) -> str:
        await self._act(ProposalActivities.open_consultation, self._at(input.proposal_id))
        return await super().run(input)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays_without_nondeterminism_when_code_changed(
    path: Path,
) -> None:
    history = _history(path.name)
    result = await Replayer(workflows=[ProposalWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_replay_fails_as_nondeterministic_when_the_workflow_changes_without_a_patch(
) -> None:
    result = await Replayer(workflows=[_ConsultationFirst]).replay_workflow(
        _history("proposal-v1-plain.json"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError)


def test_there_is_a_history_of_every_path_when_the_suite_runs() -> None:
    names = {p.stem for p in HISTORIES}
    assert names >= {f"proposal-v1-{s}" for s in (
        "plain", "withdrawal", "veto-sustained", "veto-overridden", "override-carried",
        "deliberation", "admissibility", "evaluation", "guarantor-consultation",
        "withdrawal-deliberation")}, names


def _completed_results(history: WorkflowHistory) -> list[tuple[str, HistoryEvent]]:
    """(activity name, its completion event) in the history's order."""
    scheduled = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")}
    return [(scheduled[e.activity_task_completed_event_attributes.scheduled_event_id], e)
            for e in history.events if e.HasField("activity_task_completed_event_attributes")]


def test_stage_crosses_the_workflow_boundary_as_its_stored_string_when_recorded() -> None:
    converter = DataConverter.default.payload_converter
    results = dict(_completed_results(_history("proposal-v1-plain.json")))
    payload = results["open_vote"].activity_task_completed_event_attributes.result.payloads[0]
    assert json.loads(payload.data)["stage"] == "vote"
    decoded = converter.from_payload(payload, StageResult)
    assert decoded.stage is Stage.VOTE
    encoded = converter.to_payload(StageResult(Stage.VOTE, "2026-01-01T00:00:00+00:00", 1, 1))
    assert json.loads(encoded.data)["stage"] == "vote"
