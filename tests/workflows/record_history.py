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
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from api.embedded import EmbeddedPostgres, free_port, venv_binary
from api.settings import Settings
from api.wiring import build_worker, make_registre, migrate
from domain.application import Registre
from domain.rules.charter import CharterRules
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id

HISTORIES = Path(__file__).parents[1] / "data" / "histories"
DAY = 86400
SCENARIOS = ("plain", "withdrawal", "veto-sustained", "veto-overridden", "override-carried",
             "deliberation", "admissibility", "evaluation", "guarantor-consultation",
             "withdrawal-deliberation")
VETO = ("veto-sustained", "veto-overridden", "override-carried")


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


async def record(version: str, scenarios: tuple[str, ...]) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pg", free_port())
    pg.start()
    try:
        settings = Settings(postgres_url=pg.url)
        migrate(settings)
        app = make_registre(settings)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=venv_binary("temporal-test-server"))
        queue = f"record-{uuid.uuid4()}"
        with ThreadPoolExecutor(4) as executor:
            async with build_worker(env.client, app, queue, executor):
                for scenario in scenarios:
                    history = await _run(env, app, queue, scenario)
                    out = HISTORIES / f"proposal-{version}-{scenario}.json"
                    out.write_text(history.to_json())
        await env.shutdown()
        app.close()
    finally:
        pg.stop()


if __name__ == "__main__":
    unknown = set(sys.argv[2:]) - set(SCENARIOS)
    if len(sys.argv) < 2 or unknown:
        sys.exit(f"usage: record_history VERSION [{'|'.join(SCENARIOS)} …]")
    asyncio.run(record(sys.argv[1], tuple(sys.argv[2:]) or SCENARIOS))
