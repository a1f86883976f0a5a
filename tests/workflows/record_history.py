"""Record ProposalWorkflow histories for the replay test (run by hand when a workflow version is
frozen): `.venv/bin/python -m tests.workflows.record_history VERSION [SCENARIO …]` writes
tests/data/histories/proposal-<VERSION>-<SCENARIO>.json for each scenario (all when none is
named).

Each runs one proposal through the time-skipping server with the activities on a throwaway
PostgreSQL, in a council of three members (m1 the mayor of commune A):
- `plain`: three votes (for, for, against) after the consultation: adopted;
- `withdrawal`: withdrawn during the consultation (signalled);
- `veto-sustained`: the plain adoption, then a veto by the mayor of the concerned commune that
  the council does not override (one vote of three) by the window's term: rejected;
- `veto-overridden`: the same veto, overridden 2–0 of 3, counted at the window's term;
- `override-carried`: the same override, with the relay's signal of the vote that carried it
  (the window closes before its term);
- `deliberation`: one amendment tabled and adopted during the deliberation, then the plain vote;
- `admissibility`: ruled inadmissible by a clerk during the review (signalled);
- `evaluation`: the plain adoption followed by implementation, two evaluation steps (one
  scored by the panel) and closing;
- `guarantor-consultation`: the guarantor requires a public consultation during the
  deliberation; it is held after it, then the plain vote;
- `withdrawal-deliberation`: withdrawn during the deliberation (signalled).

PetitionWorkflow histories: a scenario named `petition-<course>` writes
tests/data/histories/petition-<VERSION>-<course>.json (`.venv/bin/python -m
tests.workflows.record_history v1 petition-lapsed …`; all of them when no scenario is named).
Each drafts one petition of a kind with a threshold of 3 signatures (sponsor period, review,
and obligation of a day each, a collection of three days), the domain's clock following the
test server's; the tests play the relay (a domain act, then its signal with the log position):
- `petition-lapsed`: two sponsors needed, none joins: lapsed at the sponsor period's end;
- `petition-inadmissible`: ruled inadmissible by a clerk during the review (signalled);
- `petition-failed`: a sponsor joins (signalled), admissible by the clerk's silence, two
  signatures by the collection's end: failed;
- `petition-answered`: ruled admissible (signalled), three signatures and the relay's
  crossing (signalled), the council's answer (signalled), closed at the collection's end;
- `petition-breach`: the crossing, no answer by the due date (breach), the collection's end,
  then the late answer (signalled);
- `petition-agenda`: an `agenda` kind: the crossing puts a proposal on the agenda;
- `petition-withdrawal`: withdrawn during the collection (signalled);
- `petition-missed-threshold`: three signatures, no crossing signal: the close recounts and
  records the threshold; then the answer (signalled).

BudgetCycleWorkflow histories: a scenario named `budget-<course>` writes
tests/data/histories/budget-<VERSION>-<course>.json. Each opens one cycle with a `metropolis`
district of 1000 (tally `greedy`; submission, review and voting of one day each), the domain's
clock following the test server's; the recorder plays the API and the relay:
- `budget-completed`: three projects submitted, one ruled ineligible by a clerk during the
  review, three ballots during voting: closed and tallied, results published;
- `budget-cancelled-submission`: cancelled during submission (`cancel` signalled);
- `budget-cancelled-voting`: two projects, one ballot, cancelled during voting (signalled).

ConventionWorkflow histories: a scenario named `convention-<course>` writes
tests/data/histories/convention-<VERSION>-<course>.json. Each opens one convention of the kind
of tests/workflows/convention_harness.py (4 members, quotas on gender and commune, the
guarantor's secret; registration 10 days, reveal 2, acceptance 5, a term of 100), with 8
volunteers (an infeasible pool of 5 for `failed`); the panel distribution is computed by the
brute-force `uniform_solver`; the recorder plays the API and the relay:
- `convention-completed`: the secret committed during registration, the seed revealed in time
  (`seed_revealed`), a seat accepted: the sitting, then the end of term (completed);
- `convention-late-reveal`: no secret at the close: the workflow awaits it, it comes
  (`seed_committed`), the pool commits; the seed comes a day after its deadline
  (`seed_revealed`): the panel is drawn all the same, completed;
- `convention-failed`: no panel of the pool meets the quotas: the pool failed;
- `convention-cancelled-acceptance`: cancelled during acceptance (`cancel` signalled).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from api.embedded import EmbeddedPostgres, free_port, venv_binary
from api.settings import Settings
from api.wiring import build_worker, eventsourcing_env, make_registre, migrate
from domain.application import Registre
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.personal_data import postgres_personal_data
from projections.positions import PostgresLogPositions
from tests.workflows import convention_harness
from workflows import budget as budget_workflow
from workflows import petition as petition_workflow
from workflows.budget import BudgetCycleWorkflow, BudgetInput
from workflows.convention import ConventionInput, ConventionStatus, ConventionWorkflow
from workflows.convention import workflow_id as convention_workflow_id
from workflows.petition import PetitionInput, PetitionWorkflow
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

HISTORIES = Path(__file__).parents[1] / "data" / "histories"
DAY = 86400
SCENARIOS = ("plain", "withdrawal", "veto-sustained", "veto-overridden", "override-carried",
             "deliberation", "admissibility", "evaluation", "guarantor-consultation",
             "withdrawal-deliberation")
VETO = ("veto-sustained", "veto-overridden", "override-carried")
PETITION_SCENARIOS = ("petition-lapsed", "petition-inadmissible", "petition-failed",
                      "petition-answered", "petition-breach", "petition-agenda",
                      "petition-withdrawal", "petition-missed-threshold")
PETITION_KIND = {"basis": "absolute", "threshold_absolute": 3, "sponsor_seconds": DAY,
                 "admissibility_seconds": DAY, "signature_seconds": 3 * DAY,
                 "obligation_seconds": DAY}
PETITION_KINDS = {"answer": PETITION_KIND, "sponsored": {**PETITION_KIND, "sponsors": 2},
                  "agenda": {**PETITION_KIND, "obligation": "agenda"}}
BUDGET_SCENARIOS = ("budget-completed", "budget-cancelled-submission",
                    "budget-cancelled-voting")
BUDGET_RULES = {"rule": "greedy", "submission_seconds": DAY, "review_seconds": DAY,
                "voting_seconds": DAY}
CONVENTION_SCENARIOS = ("convention-completed", "convention-late-reveal", "convention-failed",
                        "convention-cancelled-acceptance")
SIGNER = SignerClaims(commune="A", elector=True, birthdate=date(1990, 1, 1))


def _rules(scenario: str) -> CharterRules:
    return CharterRules(
        consultation_seconds=DAY, vote_seconds=DAY, quorum_percent=50,
        veto_window_seconds=DAY if scenario in VETO else 0,
        evaluation_after_seconds=(2 * DAY, 3 * DAY) if scenario == "evaluation" else (),
        admissibility_seconds=DAY if scenario == "admissibility" else 0,
        deliberation_seconds=DAY if scenario in (
            "deliberation", "guarantor-consultation", "withdrawal-deliberation") else 0)


async def _run(env: WorkflowEnvironment, app: Registre, queue: str, scenario: str) -> Any:
    mid = app.found_metropolis(
        f"replay-{uuid.uuid4().hex[:8]}", "Métropole",
        [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"m{i}", "name": f"M{i}", "role": "mayor" if i == 1 else "councillor",
          "commune": "A"} for i in (1, 2, 3)],
        _rules(scenario))
    pid, _ = app.submit_proposal(mid, "c", "Titre", "Résumé", ["A"] if scenario in VETO else [])
    handle = await env.client.start_workflow(
        ProposalWorkflow.run, ProposalInput(str(pid)), id=workflow_id(str(pid)), task_queue=queue)
    if scenario == "admissibility":
        await env.sleep(timedelta(hours=1))
        await handle.signal(ProposalWorkflow.admissibility_ruled,
                            app.rule_admissibility(pid, "greffe", False, reason="Hors compétence."))
    elif scenario == "withdrawal":
        await env.sleep(timedelta(hours=1))
        await handle.signal(ProposalWorkflow.withdrawn, app.withdraw(pid, "c"))
    elif scenario == "withdrawal-deliberation":
        await env.sleep(timedelta(days=1, hours=1))
        await handle.signal(ProposalWorkflow.withdrawn, app.withdraw(pid, "c"))
    else:
        await env.sleep(timedelta(days=1, hours=1))
        if scenario == "deliberation":
            number, _ = app.table_amendment(pid, "m1", "Un amendement")
            for ref in ("m1", "m2"):
                app.cast_vote(pid, ref, "for", amendment=number)
            await env.sleep(timedelta(days=1))
        if scenario == "guarantor-consultation":
            app.require_consultation(pid, "garant", "Le public doit être consulté.")
            await env.sleep(timedelta(days=2))
        for ref, choice in (("m1", "for"), ("m2", "for"), ("m3", "against")):
            app.cast_vote(pid, ref, choice)
    if scenario in VETO:
        await env.sleep(timedelta(days=1, hours=1))
        position = app.file_veto(pid, "m1", "A", "Motif du veto, exposé en conseil.")
        await handle.signal(ProposalWorkflow.veto_filed, position)
        for ref in ("m2",) if scenario == "veto-sustained" else ("m2", "m3"):
            app.cast_vote(pid, ref, "for")
        if scenario == "override-carried":
            await handle.signal(ProposalWorkflow.override_carried,
                                app.recorder.max_notification_id())
    if scenario == "evaluation":
        await env.sleep(timedelta(days=3, hours=1))
        app.appoint_evaluation_panel(pid, "garant", ["panel-1"])
        app.score_evaluation(pid, "panel-1", {"usage": 7})
    print(scenario, await handle.result())
    return await handle.fetch_history()


class ServerClock:
    """The petition domain's clock, set from the test server's virtual clock before each act
    (a signature must fall within the collection the workflow opened at its time)."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


async def _run_petition(env: WorkflowEnvironment, app: Registre, clock: ServerClock,
                        queue: str, scenario: str) -> Any:
    async def sync() -> None:
        clock.now = await env.get_current_time()

    async def reach(stage: str, dated: bool = True) -> None:
        """Until the stage with its deadline (its opening activity is done), or with none
        (`dated=False`: waiting only for a late fulfilment)."""
        for _ in range(1200):
            status = await handle.query(PetitionWorkflow.status)
            if status.stage == stage and (status.deadline is not None) == dated:
                return
            await asyncio.sleep(0.025)
        raise RuntimeError(f"{scenario}: the workflow never reached '{stage}'")

    async def sign(*refs: str) -> list[int]:
        await sync()
        return [app.sign_petition(pid, ref, SIGNER) for ref in refs]

    async def crossing() -> None:
        positions = await sign("s1", "s2", "s3")
        tally = app.count_petition(pid, upto=positions[-1])
        await handle.signal(PetitionWorkflow.threshold_crossed,
                            args=[tally.crossed_at, tally.count])
        await reach("obligation")

    async def answer(text: str) -> None:
        await sync()
        await handle.signal(PetitionWorkflow.obligation_fulfilled,
                            app.answer_petition(pid, "greffe", text))

    course = scenario.removeprefix("petition-")
    mid = app.found_metropolis(
        f"replay-{uuid.uuid4().hex[:8]}", "Métropole",
        [{"code": "A", "name": "A", "population": 1}],
        [{"ref": f"m{i}", "name": f"M{i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=DAY, vote_seconds=DAY, quorum_percent=50,
                     petition_kinds=PETITION_KINDS))
    kind = {"lapsed": "sponsored", "failed": "sponsored", "agenda": "agenda"}.get(course,
                                                                                 "answer")
    await sync()
    pid, _ = app.draft_petition(mid, "auteur", kind, "Titre", "Texte")
    handle = await env.client.start_workflow(
        PetitionWorkflow.run, PetitionInput(str(pid)),
        id=petition_workflow.workflow_id(str(pid)), task_queue=queue)
    if course == "failed":
        await reach("drafted")
        await sync()
        await handle.signal(PetitionWorkflow.sponsors_gathered,
                            app.sponsor_petition(pid, "soutien", SIGNER))
    if course != "lapsed":
        await reach("admissibility")
    if course == "inadmissible":
        await sync()
        await handle.signal(PetitionWorkflow.admissibility_ruled, app.rule_petition_admissibility(
            pid, "greffe", False, reason="Hors compétence."))
    elif course == "answered":
        await sync()
        await handle.signal(PetitionWorkflow.admissibility_ruled,
                            app.rule_petition_admissibility(pid, "greffe", True))
    elif course != "lapsed":
        await env.sleep(timedelta(days=1, hours=1))
    if course not in ("lapsed", "inadmissible"):
        await reach("collecting")
    if course == "failed":
        await sign("s1", "s2")
    elif course in ("answered", "agenda"):
        await crossing()
        if course == "answered":
            await answer("Le conseil répond.")
    elif course == "breach":
        await crossing()
        await env.sleep(timedelta(days=3, hours=1))  # the due date, then the collection's end
        await reach("obligation", dated=False)
        await answer("Réponse tardive.")
    elif course == "withdrawal":
        await handle.signal(PetitionWorkflow.withdrawn, app.withdraw_petition(pid, "auteur"))
    elif course == "missed-threshold":
        await sign("s1", "s2", "s3")
        await env.sleep(timedelta(days=3, hours=1))
        await reach("obligation")
        await answer("Réponse.")
    print(scenario, await handle.result())
    return await handle.fetch_history()


async def _run_budget(env: WorkflowEnvironment, app: Registre, clock: ServerClock,
                      queue: str, scenario: str) -> Any:
    async def sync() -> None:
        clock.now = await env.get_current_time()

    async def reach(stage: str) -> None:
        """Until the stage with its deadline (its opening activity is done)."""
        for _ in range(1200):
            status = await handle.query(BudgetCycleWorkflow.get_stage)
            if status.stage == stage and status.deadline is not None:
                return
            await asyncio.sleep(0.025)
        raise RuntimeError(f"{scenario}: the workflow never reached '{stage}'")

    course = scenario.removeprefix("budget-")
    mid = app.found_metropolis(
        f"replay-{uuid.uuid4().hex[:8]}", "Métropole",
        [{"code": "A", "name": "A", "population": 1}],
        [{"ref": "m1", "name": "M1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=DAY, vote_seconds=DAY, quorum_percent=50,
                     budget=BUDGET_RULES))
    await sync()
    cid, _ = app.open_budget_cycle(mid, "greffe", "Budget", {"metropolis": 1000})
    handle = await env.client.start_workflow(
        BudgetCycleWorkflow.run, BudgetInput(str(cid)),
        id=budget_workflow.workflow_id(str(cid)), task_queue=queue)
    await reach("submission")
    if course == "cancelled-submission":
        await handle.signal(BudgetCycleWorkflow.cancel, "Budget retiré par le conseil.")
    else:
        costs = (300, 500, 200) if course == "completed" else (300, 500)
        pids = [app.submit_budget_project(cid, f"auteur-{i}", SIGNER, "metropolis",
                                          f"Projet {i}", "Résumé", cost)[0]
                for i, cost in enumerate(costs)]
        await env.sleep(timedelta(days=1, hours=1))
        await reach("review")
        if course == "completed":
            await sync()
            app.rule_budget_project(pids[2], "greffe", False, reason="Hors compétence.")
        await env.sleep(timedelta(days=1, hours=1))
        await reach("voting")
        await sync()
        choices = ([[pids[1]], [pids[1], pids[0]], [pids[0]]] if course == "completed"
                   else [[pids[0]]])
        for i, choice in enumerate(choices):
            app.cast_budget_ballot(cid, f"v{i}", SIGNER, "metropolis",
                                   [(str(p), 1) for p in choice])
        if course == "cancelled-voting":
            await handle.signal(BudgetCycleWorkflow.cancel, "Scrutin annulé.")
    print(scenario, await handle.result())
    return await handle.fetch_history()


async def _run_convention(env: WorkflowEnvironment, app: Registre, clock: ServerClock,
                          queue: str, scenario: str) -> Any:
    async def sync() -> None:
        clock.now = await env.get_current_time()

    async def reach(reached: Any, what: str) -> None:
        for _ in range(1200):
            status: ConventionStatus = await handle.query(ConventionWorkflow.get_stage)
            if reached(status):
                return
            await asyncio.sleep(0.025)
        raise RuntimeError(f"{scenario}: the workflow never reached {what}")

    course = scenario.removeprefix("convention-")
    harness = convention_harness
    await sync()
    cid = harness.open_convention(app, harness.found(app))
    handle = await env.client.start_workflow(
        ConventionWorkflow.run, ConventionInput(str(cid)),
        id=convention_workflow_id(str(cid)), task_queue=queue)
    if course != "late-reveal":
        app.commit_convention_seed(cid, "garant-1", harness.SECRET_DIGEST)
    harness.register_pool(app, cid, feasible=course != "failed")
    await reach(lambda s: s.stage == "registration" and s.deadline, "registration")
    if course != "failed":
        await env.sleep(timedelta(days=10, hours=1))
        if course == "late-reveal":
            await reach(lambda s: s.awaiting == "secret", "the secret awaited")
            await sync()
            await handle.signal(ConventionWorkflow.seed_committed,
                                app.commit_convention_seed(cid, "garant-1",
                                                           harness.SECRET_DIGEST))
        await reach(lambda s: s.awaiting == "seed" and s.deadline, "the seed awaited")
        if course == "late-reveal":
            await env.sleep(timedelta(days=3))
            await reach(lambda s: s.late, "the seed late")
        await sync()
        await handle.signal(ConventionWorkflow.seed_revealed,
                            app.reveal_convention_seed(cid, "garant-1", harness.SECRET))
        await reach(lambda s: s.stage == "acceptance" and s.deadline, "acceptance")
        await sync()
        if course == "completed":
            app.answer_convention_seat(cid, app.get_convention(cid).panel[0], True)
        if course == "cancelled-acceptance":
            await handle.signal(ConventionWorkflow.cancel, "Mandat retiré par le conseil.")
    print(scenario, await handle.result())
    return await handle.fetch_history()


async def record(version: str, scenarios: tuple[str, ...]) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pg", free_port())
    pg.start()
    try:
        settings = Settings(postgres_url=pg.url)
        migrate(settings)
        app = make_registre(settings)
        clock = ServerClock()
        petition_app = Registre(
            env=eventsourcing_env(settings), clock=clock, positions=PostgresLogPositions,
            personal_data=lambda recorder: postgres_personal_data(recorder.datastore))
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=venv_binary("temporal-test-server"))
        queue = f"record-{uuid.uuid4()}"
        petition_queue = f"record-petitions-{uuid.uuid4()}"
        with ThreadPoolExecutor(4) as executor:
            async with build_worker(env.client, app, queue, executor), \
                    build_worker(env.client, petition_app, petition_queue, executor,
                                 solver=convention_harness.uniform_solver):
                for scenario in scenarios:
                    if scenario in CONVENTION_SCENARIOS:
                        history = await _run_convention(env, petition_app, clock,
                                                        petition_queue, scenario)
                        name = f"convention-{version}-{scenario.removeprefix('convention-')}"
                    elif scenario in BUDGET_SCENARIOS:
                        history = await _run_budget(env, petition_app, clock,
                                                    petition_queue, scenario)
                        name = f"budget-{version}-{scenario.removeprefix('budget-')}"
                    elif scenario in PETITION_SCENARIOS:
                        history = await _run_petition(env, petition_app, clock,
                                                      petition_queue, scenario)
                        name = f"petition-{version}-{scenario.removeprefix('petition-')}"
                    else:
                        history = await _run(env, app, queue, scenario)
                        name = f"proposal-{version}-{scenario}"
                    (HISTORIES / f"{name}.json").write_text(history.to_json())
        await env.shutdown()
        app.close()
        petition_app.close()
    finally:
        pg.stop()


if __name__ == "__main__":
    known = SCENARIOS + PETITION_SCENARIOS + BUDGET_SCENARIOS + CONVENTION_SCENARIOS
    unknown = set(sys.argv[2:]) - set(known)
    if len(sys.argv) < 2 or unknown:
        sys.exit(f"usage: record_history VERSION [{'|'.join(known)} …]")
    asyncio.run(record(sys.argv[1], tuple(sys.argv[2:]) or known))
