"""Determinism guard: recorded histories of earlier workflow versions replay on today's code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.proposal import ProposalWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "data" / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays_without_nondeterminism_when_code_changed(
    path: Path,
) -> None:
    raw = json.loads(path.read_text())
    history = WorkflowHistory.from_json("proposal-replay", raw)
    result = await Replayer(workflows=[ProposalWorkflow]).replay_workflow(history)
    assert result.replay_failure is None


def test_there_is_a_history_to_replay_when_the_suite_runs() -> None:
    assert HISTORIES, "no recorded history: the replay test would pass vacuously"
