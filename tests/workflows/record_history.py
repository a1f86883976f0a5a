"""Record a ProposalWorkflow history for the replay test (run by hand when a workflow version is
frozen): `uv run python -m tests.workflows.record_history OUT.json SCENARIO`.

It runs one proposal through the time-skipping server with the activities on a throwaway
PostgreSQL: `plain`, three votes (for, for, against) of three members; `veto`, the same
adoption then a veto by the mayor of the concerned commune, overridden 2–0 of 3; `withdrawal`,
withdrawn during the consultation (signalled); `evaluation`, the plain adoption followed by
implementation, two evaluation steps (one scored) and closing; `admissibility`, ruled
inadmissible by a clerk during the review (signalled); `deliberation`, one amendment tabled and
adopted during the deliberation, then the plain vote; `consultation`, the guarantor requires a
public consultation during the deliberation, held after it, then the plain vote; `override`,
the veto scenario with the signal of the vote that carried the override (the window closes
early); `withdrawal-deliberation`, withdrawn during the deliberation (signalled)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from api.embedded import EmbeddedPostgres, free_port, venv_binary
from api.settings import Settings
from api.wiring import build_worker, make_registre, migrate
from domain.rules.charter import CharterRules
from workflows.proposal import ProposalInput, ProposalWorkflow, workflow_id


async def record(out: Path, scenario: str) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pg", free_port())
    pg.start()
    try:
        settings = Settings(postgres_url=pg.url)
        migrate(settings)
        app = make_registre(settings)
        mid = app.found_metropolis(
            "replay", "Métropole", [{"code": "A", "name": "A", "population": 1}],
            [{"ref": f"m{i}", "name": f"M{i}", "role": "mayor" if i == 1 else "councillor",
              "commune": "A"} for i in (1, 2, 3)],
            CharterRules(consultation_seconds=86400, vote_seconds=86400, quorum_percent=50,
                         veto_window_seconds=86400 if scenario in ("veto", "override") else 0,
                         evaluation_after_seconds=(2 * 86400, 3 * 86400)
                         if scenario == "evaluation" else (),
                         admissibility_seconds=86400 if scenario == "admissibility" else 0,
                         deliberation_seconds=86400 if scenario in (
                             "deliberation", "consultation", "withdrawal-deliberation") else 0))
        pid, _ = app.submit_proposal(mid, "c", "Titre", "Résumé",
                                     ["A"] if scenario in ("veto", "override") else [])
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=venv_binary("temporal-test-server"))
        queue = f"record-{uuid.uuid4()}"
        with ThreadPoolExecutor(4) as executor:
            async with build_worker(env.client, app, queue, executor):
                handle = await env.client.start_workflow(
                    ProposalWorkflow.run, ProposalInput(str(pid)), id=workflow_id(str(pid)),
                    task_queue=queue)
                if scenario == "admissibility":
                    await env.sleep(timedelta(hours=1))
                    await handle.signal(ProposalWorkflow.admissibility_ruled,
                                        app.rule_admissibility(pid, "greffe", False,
                                                               reason="Hors compétence."))
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
                    if scenario == "consultation":
                        app.require_consultation(pid, "garant", "Le public doit être consulté.")
                        await env.sleep(timedelta(days=2))
                    for ref, choice in (("m1", "for"), ("m2", "for"), ("m3", "against")):
                        app.cast_vote(pid, ref, choice)
                if scenario in ("veto", "override"):
                    await env.sleep(timedelta(days=1, hours=1))
                    position = app.file_veto(pid, "m1", "A", "Motif du veto, exposé en conseil.")
                    await handle.signal(ProposalWorkflow.veto_filed, position)
                    for ref in ("m2", "m3"):
                        app.cast_vote(pid, ref, "for")
                    if scenario == "override":
                        await handle.signal(ProposalWorkflow.override_carried,
                                            app.recorder.max_notification_id())
                if scenario == "evaluation":
                    await env.sleep(timedelta(days=3, hours=1))
                    app.appoint_evaluation_panel(pid, "garant", ["panel-1"])
                    app.score_evaluation(pid, "panel-1", {"usage": 7})
                print(await handle.result())
                history = await handle.fetch_history()
        out.write_text(history.to_json())
        await env.shutdown()
        app.close()
    finally:
        pg.stop()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "plain"))
