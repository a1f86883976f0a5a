"""`registre demo`: the Métrokawa 12 consultation replayed over HTTP against a running stack.

It submits every proposal of the committed seed fixture to the demo metropolis (each by its own
pseudonymous citizen), then follows the most supported one through the short demo charter:
public consultation → council vote (the seated members vote by roll call) → decision, printing
where to look (timeline, API docs, the named workflow in the Temporal UI).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.auth import issue_token
from api.demo_data import load_seed
from api.settings import Settings

console = Console(soft_wrap=True)


def _summary(p: dict[str, Any]) -> str:
    parts = [f"Objectif : {p['objective']}" if p["objective"] else "",
             f"Moyens : {p['means']}" if p["means"] else ""]
    text = "\n\n".join(x for x in parts if x)
    return text or p["title"]


def _wait_for_stage(client: httpx.Client, pid: str, stages: set[str], label: str,
                    timeout: float) -> dict[str, Any]:
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proposal = client.get(f"/proposals/{pid}").raise_for_status().json()
            if proposal["stage"] in stages:
                return proposal
            progress.update(task, description=f"{label} (étape : {proposal['stage_fr']})")
            time.sleep(1)
    raise TimeoutError(f"proposal {pid} did not reach {stages} within {timeout:.0f}s")


def run_demo(url: str, settings: Settings, slug: str) -> int:
    secret = settings.signing_secret()
    seed = load_seed()
    proposals = [p for w in seed["workshops"] for p in w["proposals"]]
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            client.get("/health").raise_for_status()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ({e}). Lancez d'abord `make run`.")
            return 2
        metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        console.print(f"[bold]{metropolis['name']}[/] — charte v{metropolis['charter_version']}: "
                      f"consultation {metropolis['charter']['consultation_seconds']} s, "
                      f"vote {metropolis['charter']['vote_seconds']} s, "
                      f"quorum {metropolis['charter']['quorum_percent']} %")

        submitted: list[tuple[dict[str, Any], str]] = []
        with Progress(console=console) as progress:
            task = progress.add_task("Dépôt des propositions Métrokawa 12", total=len(proposals))
            for p in proposals:
                token = issue_token(secret, f"citoyen-{p['ref'].lower()}", "citizen")
                answer = client.post(
                    "/proposals",
                    json={"metropolis_id": metropolis["id"], "title": p["title"],
                          "summary": _summary(p)},
                    headers={"Authorization": f"Bearer {token}"},
                ).raise_for_status().json()
                submitted.append((p, answer["id"]))
                progress.advance(task)

        chosen, pid = max(submitted, key=lambda s: s[0]["votes"])
        console.print(f"\nProposition suivie : [bold]{chosen['title']}[/] "
                      f"({chosen['votes']} soutiens dans la consultation)\n  id {pid}")
        timeout = 4 * (metropolis["charter"]["consultation_seconds"]
                       + metropolis["charter"]["vote_seconds"]) + 60
        _wait_for_stage(client, pid, {"vote"}, "Consultation publique en cours", timeout)

        council = metropolis["council"]
        choices = ["for"] * (len(council) - 2) + ["against", "abstain"]
        for member, choice in zip(council, choices):
            token = issue_token(secret, member["ref"], member["role"])
            client.post(f"/proposals/{pid}/votes", json={"choice": choice},
                        headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            console.print(f"  vote nominatif de {member['name']} ({member['ref']}) : {choice}")

        decided = _wait_for_stage(client, pid, {"decided"}, "Vote du conseil en cours", timeout)
        tally = decided["tally"]
        console.print(f"\n[bold]Décision : proposition {decided['outcome']}[/] ({decided['cause']}) "
                      f"— pour {tally['yes']}, contre {tally['no']}, abstention {tally['abstain']}\n")
        for entry in client.get(f"/proposals/{pid}/timeline").raise_for_status().json():
            console.print(f"  #{entry['position']:<5} {entry['at'][:19]}  [{entry['stage']}] "
                          f"{entry['actor_role']}: {entry['label']}")
        console.print(
            f"\nOù regarder :\n  chronologie   {url}/proposals/{pid}/timeline\n"
            f"  API           {url}/docs\n"
            f"  workflow      {settings.temporal_ui_url}/namespaces/"
            f"{settings.temporal_namespace}/workflows/proposal-{pid}\n"
            f"  les {len(submitted) - 1} autres propositions suivent la même charte sans vote : "
            "elles seront rejetées faute de quorum."
        )
    return 0
