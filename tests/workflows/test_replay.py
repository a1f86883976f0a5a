"""Determinism guard: the recorded histories of ProposalWorkflow, PetitionWorkflow,
BudgetCycleWorkflow and ConventionWorkflow (tests/data/histories, `proposal-…`, `petition-…`,
`budget-…` and `convention-…`) replay on today's code, a change made
without `workflow.patched` fails the replay, and a `Stage` crosses the Temporal boundary as the
very string the histories hold.

Temporal's replay checks the kind and order of the commands, not their arguments: an activity
given another input or a timer of another length replays "successfully". So every history is
also replayed under a recording interceptor, and each activity's input and each timer's length
scheduled on replay must equal the history's ActivityTaskScheduled input and TimerStarted
`start_to_fire_timeout`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio import workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from domain.deliberation.stages import Stage
from workflows.activities import DecideInput, ProposalActivities, StageResult
from workflows.budget import BudgetCycleWorkflow, BudgetInput
from workflows.budget_activities import BudgetActivities, CycleAt
from workflows.convention import ACTIVITY_TIMEOUT, ConventionInput, ConventionWorkflow
from workflows.convention_activities import ConventionActivities, ConventionAt
from workflows.petition import PetitionInput, PetitionWorkflow
from workflows.petition_activities import PetitionActivities, ThresholdInput
from workflows.proposal import ProposalInput, ProposalWorkflow

T = TypeVar("T")

HISTORY_DIR = Path(__file__).parents[1] / "data" / "histories"
HISTORIES = sorted(HISTORY_DIR.glob("*.json"))


def _history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{name.split('-')[0]}-replay",
                                     json.loads((HISTORY_DIR / name).read_text()))


def _workflow_of(path: Path) -> type:
    """The workflow a history file records (its name's prefix)."""
    if path.name.startswith("budget-"):
        return BudgetCycleWorkflow
    if path.name.startswith("convention-"):
        return ConventionWorkflow
    return PetitionWorkflow if path.name.startswith("petition-") else ProposalWorkflow


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
    result = await Replayer(workflows=[_workflow_of(path)]).replay_workflow(
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
    assert names >= {f"petition-v1-{s}" for s in (
        "lapsed", "inadmissible", "failed", "answered", "breach", "agenda", "withdrawal",
        "missed-threshold")}, names
    assert names >= {f"budget-v1-{s}" for s in (
        "completed", "cancelled-submission", "cancelled-voting")}, names
    assert names >= {f"convention-v1-{s}" for s in (
        "completed", "late-reveal", "failed", "cancelled-acceptance")}, names


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


# -- what a replay schedules, against what the history recorded -----------------------------

# (activity name, its input payloads decoded from JSON) and timer lengths in nanoseconds.
Scheduled = tuple[list[tuple[str, list[Any]]], list[int]]
_RECORD = "registre_replay_record"  # the extern function the interceptors report through


def _scheduled_in(history: WorkflowHistory) -> Scheduled:
    """The activities (name and input) and the timers (length) the history recorded."""
    activities, timers = [], []
    for e in history.events:
        if e.HasField("activity_task_scheduled_event_attributes"):
            a = e.activity_task_scheduled_event_attributes
            activities.append((a.activity_type.name,
                               [json.loads(p.data) for p in a.input.payloads]))
        elif e.HasField("timer_started_event_attributes"):
            timers.append(e.timer_started_event_attributes.start_to_fire_timeout.ToNanoseconds())
    return activities, timers


class _RecordingOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        payloads = workflow.payload_converter().to_payloads(input.args)
        workflow.extern_functions()[_RECORD](
            "activity", (input.activity, [json.loads(p.data) for p in payloads]))
        return super().start_activity(input)


class _RecordingInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_RecordingOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        # The SDK has no interceptor for timers (the outbound interceptor has `start_activity`
        # but no `start_timer`): `workflow.sleep` and the timeout of `workflow.wait_condition`
        # (through asyncio's `call_later`) both reach the workflow event loop's `_timer_impl`,
        # which emits the StartTimer command with `int(delay * 1e9)` ns. So the length is read
        # there; should the SDK rename it, this fails loudly (an AttributeError, or no timer
        # recorded against the history's), never silently.
        loop = asyncio.get_running_loop()
        start_timer = loop._timer_impl  # type: ignore[attr-defined]
        record = workflow.extern_functions()[_RECORD]

        def recording(delay: float, *args: Any, **kwargs: Any) -> Any:
            record("timer", int(delay * 1e9))
            return start_timer(delay, *args, **kwargs)

        loop._timer_impl = recording  # type: ignore[attr-defined]
        return await super().execute_workflow(input)


class _ScheduledOnReplay(Interceptor):
    """Records every activity input and timer length a workflow schedules while it replays
    (out of the sandbox through an extern function)."""

    def __init__(self) -> None:
        self.activities: list[tuple[str, list[Any]]] = []
        self.timers: list[int] = []

    def _record(self, kind: str, value: Any) -> None:
        (self.activities if kind == "activity" else self.timers).append(value)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput,
    ) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[_RECORD] = self._record
        return _RecordingInbound


async def _replayed(workflow_class: type, history: WorkflowHistory) -> Scheduled:
    recorder = _ScheduledOnReplay()
    result = await Replayer(workflows=[workflow_class], interceptors=[recorder]).replay_workflow(
        history, raise_on_replay_failure=False)
    assert result.replay_failure is None
    return recorder.activities, recorder.timers


def _differences(replayed: Scheduled, recorded: Scheduled) -> list[str]:
    """What the replay scheduled otherwise than the history recorded."""
    found = []
    for kind, ours, theirs in (("activity", replayed[0], recorded[0]),
                               ("timer", replayed[1], recorded[1])):
        if len(ours) != len(theirs):
            found.append(f"{len(ours)} {kind} scheduled on replay, {len(theirs)} in the history")
        found += [f"{kind} {n}: {a!r} on replay, {b!r} in the history"
                  for n, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1) if a != b]
    return found


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_replay_schedules_the_recorded_activity_inputs_and_timer_lengths_when_replayed(
    path: Path,
) -> None:
    history = _history(path.name)
    recorded = _scheduled_in(history)
    assert recorded[0] and recorded[1]  # every path runs activities and waits on timers
    assert _differences(await _replayed(_workflow_of(path), history), recorded) == []


@workflow.defn(name="ProposalWorkflow", sandboxed=False)
class _OpenedPositionShifted(ProposalWorkflow):
    """v1 changed without a patch: the count starts one position later (`vote.position + 1`)."""

    @workflow.run
    async def run(self, input: ProposalInput) -> str:
        return await super().run(input)

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        if isinstance(arg, DecideInput):
            arg = dataclasses.replace(arg, opened_position=arg.opened_position + 1)
        return await super()._act(activity, arg)


@workflow.defn(name="ProposalWorkflow", sandboxed=False)
class _BallotShortened(ProposalWorkflow):
    """v1 changed without a patch: every plain sleep (the ballot's) ends a minute early."""

    @workflow.run
    async def run(self, input: ProposalInput) -> str:
        return await super().run(input)

    async def _sleep_until(self, deadline: str) -> None:
        early = datetime.fromisoformat(deadline) - timedelta(minutes=1)
        await super()._sleep_until(early.isoformat())


async def test_replay_detector_flags_a_changed_activity_input_when_temporal_replay_passes(
) -> None:
    history = _history("proposal-v1-plain.json")
    plain = await Replayer(workflows=[_OpenedPositionShifted]).replay_workflow(
        history, raise_on_replay_failure=False)
    assert plain.replay_failure is None  # what Temporal's replay alone misses
    [difference] = _differences(await _replayed(_OpenedPositionShifted, history),
                                _scheduled_in(history))
    assert difference.startswith("activity ") and "'decide'" in difference
    assert "opened_position" in difference


async def test_replay_detector_flags_a_changed_timer_length_when_temporal_replay_passes(
) -> None:
    history = _history("proposal-v1-plain.json")
    plain = await Replayer(workflows=[_BallotShortened]).replay_workflow(
        history, raise_on_replay_failure=False)
    assert plain.replay_failure is None
    differences = _differences(await _replayed(_BallotShortened, history),
                               _scheduled_in(history))
    assert differences and all(d.startswith("timer ") for d in differences), differences


# -- PetitionWorkflow ------------------------------------------------------------------------


@workflow.defn(name="PetitionWorkflow", sandboxed=False)
class _CollectionFirst(PetitionWorkflow):
    """v1 changed without a patch: the collection opens before the sponsors are asked for."""

    @workflow.run
    async def run(self, input: PetitionInput) -> str:
        await self._act(PetitionActivities.open_collection, self._at(input.petition_id))
        return await super().run(input)


@workflow.defn(name="PetitionWorkflow", sandboxed=False)
class _CrossingShifted(PetitionWorkflow):
    """v1 changed without a patch: the threshold is recorded one position later."""

    @workflow.run
    async def run(self, input: PetitionInput) -> str:
        return await super().run(input)

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        if isinstance(arg, ThresholdInput):
            arg = dataclasses.replace(arg, position=arg.position + 1)
        return await super()._act(activity, arg)


async def test_petition_replay_fails_as_nondeterministic_when_changed_without_a_patch(
) -> None:
    result = await Replayer(workflows=[_CollectionFirst]).replay_workflow(
        _history("petition-v1-answered.json"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError)


async def test_petition_replay_detector_flags_a_changed_threshold_position(
) -> None:
    history = _history("petition-v1-answered.json")
    [difference] = _differences(await _replayed(_CrossingShifted, history),
                                _scheduled_in(history))
    assert "'record_threshold'" in difference and "position" in difference


# -- BudgetCycleWorkflow ---------------------------------------------------------------------


@workflow.defn(name="BudgetCycleWorkflow", sandboxed=False)
class _VotingFirst(BudgetCycleWorkflow):
    """v1 changed without a patch: voting opens before the cycle is read."""

    @workflow.run
    async def run(self, input: BudgetInput) -> str:
        await self._act(BudgetActivities.open_budget_voting, self._at(input.cycle_id))
        return await super().run(input)


@workflow.defn(name="BudgetCycleWorkflow", sandboxed=False)
class _TallyAnHourLate(BudgetCycleWorkflow):
    """v1 changed without a patch: the tally is given a time an hour after the close."""

    @workflow.run
    async def run(self, input: BudgetInput) -> str:
        return await super().run(input)

    async def _act(self, activity: Callable[[Any, Any], T], arg: object) -> T:
        if activity is BudgetActivities.tally_budget_cycle and isinstance(arg, CycleAt):
            later = datetime.fromisoformat(arg.at) + timedelta(hours=1)
            arg = dataclasses.replace(arg, at=later.isoformat())
        return await super()._act(activity, arg)


async def test_budget_replay_fails_as_nondeterministic_when_changed_without_a_patch(
) -> None:
    result = await Replayer(workflows=[_VotingFirst]).replay_workflow(
        _history("budget-v1-completed.json"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError)


async def test_budget_replay_detector_flags_a_changed_tally_time_when_temporal_replay_passes(
) -> None:
    history = _history("budget-v1-completed.json")
    [difference] = _differences(await _replayed(_TallyAnHourLate, history),
                                _scheduled_in(history))
    assert "'tally_budget_cycle'" in difference and "at" in difference


# -- ConventionWorkflow ----------------------------------------------------------------------


@workflow.defn(name="ConventionWorkflow", sandboxed=False)
class _DrawFirst(ConventionWorkflow):
    """v1 changed without a patch: the panel is drawn before the convention is read."""

    @workflow.run
    async def run(self, input: ConventionInput) -> str:
        await self._act(ConventionActivities.draw_convention_panel,
                        self._at(input.convention_id))
        return await super().run(input)


@workflow.defn(name="ConventionWorkflow", sandboxed=False)
class _PoolAnHourLate(ConventionWorkflow):
    """v1 changed without a patch: the pool is committed at a time an hour after the close."""

    @workflow.run
    async def run(self, input: ConventionInput) -> str:
        return await super().run(input)

    async def _act(self, activity: Callable[[Any, Any], T], arg: object,
                   timeout: timedelta = ACTIVITY_TIMEOUT) -> T:
        if activity is ConventionActivities.commit_convention_pool and isinstance(
                arg, ConventionAt):
            later = datetime.fromisoformat(arg.at) + timedelta(hours=1)
            arg = dataclasses.replace(arg, at=later.isoformat())
        return await super()._act(activity, arg, timeout)


async def test_convention_replay_fails_as_nondeterministic_when_changed_without_a_patch(
) -> None:
    result = await Replayer(workflows=[_DrawFirst]).replay_workflow(
        _history("convention-v1-completed.json"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError)


async def test_convention_replay_detector_flags_a_changed_pool_time_when_replay_passes(
) -> None:
    history = _history("convention-v1-completed.json")
    [difference] = _differences(await _replayed(_PoolAnHourLate, history),
                                _scheduled_in(history))
    assert "'commit_convention_pool'" in difference and "at" in difference
