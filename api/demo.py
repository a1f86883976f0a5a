"""`registre demo`: scenarios replayed over HTTP against a running stack.

`--scenario metrokawa` (the default) submits every proposal of the committed seed fixture to the
demo metropolis (each by its own pseudonymous citizen), then follows the most supported one
through the short demo charter: public consultation → council vote (the seated members vote by
roll call) → decision.

`--scenario veto` runs the governance pact of the demo metropolis `demo-pacte` (Grand Reims
style): two proposals concerning one commune each are adopted by the council; the mayor of each
commune files a reasoned veto; the council fails to override the first (veto sustained) and
overrides the second by two thirds of its members (the window then closes at once).

`--scenario evaluation` follows an adopted proposal through implementation (clerk's milestones),
the guarantor's appointment of the evaluation panel, two evaluations and closing.

`--scenario garant`: the guarantor requires a public consultation while the charter's is under
way; the required one follows it, then the council votes.

Each prints the timelines and where to look (API, the named workflows in the Temporal UI), at
the addresses the running stack uses: `registre run` and `registre up` write them to
`var/stack.json` while they run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.auth import issue_token
from api.demo_data import load_seed
from api.settings import Settings

console = Console(soft_wrap=True)

STACK_FILE = "stack.json"


def record_stack(settings: Settings) -> Path:
    """Write where the stack started with `settings` listens, for the clients started later
    in another terminal (`registre demo`)."""
    path = settings.var_dir / STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"api_host": settings.api_host, "api_port": settings.api_port,
                                "temporal_ui_url": settings.temporal_ui_url}))
    return path


def forget_stack(settings: Settings) -> None:
    (settings.var_dir / STACK_FILE).unlink(missing_ok=True)


def running_stack(settings: Settings) -> Settings:
    """`settings` with the API and Temporal UI addresses of the running stack, if one
    recorded them (`registre run` with `--ui-port`, say); else `settings` unchanged."""
    path = settings.var_dir / STACK_FILE
    try:
        stack = json.loads(path.read_text())
    except (OSError, ValueError):
        return settings
    known = {k: stack[k] for k in ("api_host", "api_port", "temporal_ui_url") if k in stack}
    return settings.model_copy(update=known)


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


def _headers(secret: str, sub: str, role: str, territory: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, sub, role, territory)}"}


def _print_timeline(client: httpx.Client, pid: str) -> None:
    for entry in client.get(f"/proposals/{pid}/timeline").raise_for_status().json():
        console.print(f"  #{entry['position']:<5} {entry['at'][:19]}  [{entry['stage']}] "
                      f"{entry['actor_role']}: {entry['label']}")


def run_veto_demo(url: str, settings: Settings, slug: str = "demo-pacte") -> int:
    secret = settings.signing_secret()
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            client.get("/health").raise_for_status()
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}). "
                          "Lancez d'abord `make run` (après `make clean-var` si la "
                          "configuration a changé).")
            return 2
        charter = metropolis["charter"]
        console.print(f"[bold]{metropolis['name']}[/] — charte v{metropolis['charter_version']}: "
                      f"consultation {charter['consultation_seconds']} s, vote "
                      f"{charter['vote_seconds']} s, délai de veto "
                      f"{charter['veto_window_seconds']} s, levée du veto à la majorité "
                      f"{charter['veto_override_majority']}")
        mayors = {m["commune"]: m for m in metropolis["council"] if m["role"] == "mayor"}
        council = metropolis["council"]
        cases = [
            ("Fermeture du marché couvert du Boulingrin le dimanche", "51454",
             "Le marché du dimanche fait vivre le centre de Reims ; la commune n'a pas été "
             "consultée.", 3),  # override votes for: 3 of 6 < two thirds
            ("Piste cyclable continue entre Tinqueux et le centre de Reims", "51612",
             "Le tracé supprime quarante places de stationnement rue de Champagne.", 4),
            # 4 of 6 is two thirds of the members: the override is carried whatever the last
            # votes, and the window closes at once (a fifth vote would find it closed).
        ]
        pids = []
        for title, commune, _, _ in cases:
            r = client.post("/proposals", headers=_headers(secret, "citoyenne-pacte", "citizen"),
                            json={"metropolis_id": metropolis["id"], "title": title,
                                  "summary": "Proposition de démonstration du pacte.",
                                  "communes": [commune]}).raise_for_status().json()
            pids.append(r["id"])
            console.print(f"Proposition « {title} » (commune {commune}) : {r['id']}")
        timeout = _timeout(charter)
        for pid in pids:
            _wait_for_stage(client, pid, {"vote"}, "Consultation publique", timeout)
        for pid in pids:
            for member in council:
                choice = "for" if member["commune"] != "51573" else "against"
                client.post(f"/proposals/{pid}/votes", json={"choice": choice},
                            headers=_headers(secret, member["ref"], member["role"]),
                            ).raise_for_status()
        console.print("Le conseil a voté (5 pour, 1 contre sur chaque proposition).")
        for pid, (_, commune, reason, override_votes) in zip(pids, cases):
            _wait_for_stage(client, pid, {"veto_window"}, "Vote du conseil", timeout)
            mayor = mayors[commune]
            client.post(f"/proposals/{pid}/vetoes", json={"reason": reason},
                        headers=_headers(secret, mayor["ref"], "mayor", commune),
                        ).raise_for_status()
            console.print(f"Veto de {mayor['name']} : « {reason} »")
            voters = [m for m in council if m["ref"] != mayor["ref"]][:override_votes]
            for member in voters:
                client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                            headers=_headers(secret, member["ref"], member["role"]),
                            ).raise_for_status()
            console.print(f"  levée du veto : {override_votes} voix pour sur {len(council)}")
        for pid in pids:
            final = _wait_for_stage(client, pid, FINAL_OR_LATER, "Délai de veto", timeout)
            console.print(f"\n[bold]{final['title']}[/] : proposition {final['outcome']} "
                          f"({final['cause']})")
            _print_timeline(client, pid)
        console.print(f"\nOù regarder : {url}/docs ; workflows "
                      + ", ".join(f"proposal-{p}" for p in pids)
                      + f" dans {settings.temporal_ui_url}")
    return 0


FINAL_OR_LATER = {"decided", "implementation", "evaluation", "closed"}


def _timeout(charter: dict[str, Any]) -> float:
    """Generous: every stage of the charter, several times over."""
    stages = [v for k, v in charter.items() if k.endswith("_seconds") and isinstance(v, int)]
    return 6 * (sum(stages) + sum(charter.get("evaluation_after_seconds", []))) + 120


def run_evaluation_demo(url: str, settings: Settings, slug: str = "demo-pacte") -> int:
    """Adopted, implemented (clerk's milestones), evaluated twice by a citizens' panel with a
    guarantor's observation, then closed."""
    secret = settings.signing_secret()
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}).")
            return 2
        charter = metropolis["charter"]
        if not charter.get("evaluation_after_seconds"):
            console.print(f"[red]La charte de {slug} ne prévoit pas d'évaluation "
                          "(`make clean-var` puis `make run` pour reprendre la configuration).")
            return 2
        r = client.post("/proposals", headers=_headers(secret, "citoyen-eval", "citizen"), json={
            "metropolis_id": metropolis["id"],
            "title": "Budget participatif métropolitain pour la rénovation des écoles",
            "summary": "Objectif : 5 % du budget d'investissement décidé par les habitants."},
        ).raise_for_status().json()
        pid = r["id"]
        console.print(f"Proposition déposée : {pid}")
        timeout = _timeout(charter)
        _wait_for_stage(client, pid, {"vote"}, "Consultation publique", timeout)
        for member in metropolis["council"]:
            client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=_headers(secret, member["ref"], member["role"]),
                        ).raise_for_status()
        console.print(f"Le conseil vote : {len(metropolis['council'])} pour.")
        _wait_for_stage(client, pid, {"implementation", "evaluation"}, "Vote du conseil",
                        timeout)
        clerk = _headers(secret, "greffe-demo", "clerk")
        panel = ["panel-1", "panel-2", "panel-3"]
        client.post(f"/proposals/{pid}/evaluation-panel", json={"members": panel},
                    headers=_headers(secret, "garant-demo", "guarantor")).raise_for_status()
        console.print(f"Le garant désigne le panel d'évaluation citoyen : {', '.join(panel)}")
        for text in ("Délibération d'application votée", "Plateforme de vote ouverte"):
            client.post(f"/proposals/{pid}/milestones", json={"text": text},
                        headers=clerk).raise_for_status()
            console.print(f"Jalon : {text}")
        for step, scores in ((1, {"participation": 6, "transparence": 7}),
                             (2, {"participation": 8, "transparence": 8})):
            _wait_step(client, pid, step, timeout)
            for member in panel:
                client.post(f"/proposals/{pid}/evaluations",
                            json={"indicators": scores, "comment": f"Évaluation {step}"},
                            headers=_headers(secret, member, "citizen")).raise_for_status()
            console.print(f"Évaluation n° {step} : 3 membres du panel ont noté {scores}")
            if step == 1:
                client.post(f"/proposals/{pid}/notices", json={
                    "kind": "avis", "text": "Le garant observe une participation encore "
                    "faible dans les quartiers prioritaires."},
                    headers=_headers(secret, "garant-demo", "guarantor")).raise_for_status()
                console.print("Observation du garant publiée.")
        _wait_for_stage(client, pid, {"closed"}, "Dernière évaluation", timeout)
        console.print("\n[bold]Processus clos.[/]")
        _print_timeline(client, pid)
        flags = client.get("/guarantor/compliance", params={"proposal_id": pid}).json()
        console.print(f"\nVue de conformité du garant : {len(flags)} anomalie(s).")
    return 0


def run_guarantor_demo(url: str, settings: Settings, slug: str = "demo-pacte") -> int:
    """The guarantor requires a public consultation during the charter's: when that one ends, the
    required one opens (citizens comment again), and only then does the council vote."""
    secret = settings.signing_secret()
    guarantor = _headers(secret, "garant-demo", "guarantor")
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}).")
            return 2
        charter = metropolis["charter"]
        r = client.post("/proposals", headers=_headers(secret, "citoyenne-garant", "citizen"),
                        json={"metropolis_id": metropolis["id"],
                              "title": "Fermeture nocturne du parc de Champagne",
                              "summary": "Fermer le parc de 22 h à 6 h d'avril à septembre."},
                        ).raise_for_status().json()
        pid = r["id"]
        console.print(f"Proposition déposée : {pid}")
        timeout = _timeout(charter)
        _wait_for_stage(client, pid, {"consultation"}, "Dépôt", timeout)
        required = 2 * charter["consultation_seconds"]
        client.post(f"/proposals/{pid}/consultation-requirement", headers=guarantor, json={
            "reason": "Les riverains du parc n'ont pas été informés de la consultation.",
            "duration_seconds": required}).raise_for_status()
        console.print(f"Le garant exige une consultation publique d'au moins {required} s "
                      "avant le vote.")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(
                t["event"] == "ConsultationOpened" and t["details"]["rule"] ==
                "guarantor.consultation"
                for t in client.get(f"/proposals/{pid}/timeline").raise_for_status().json()):
            time.sleep(1)
        console.print("La consultation exigée par le garant est ouverte.")
        for n, text in enumerate(("J'habite en face du parc : la fermeture me convient.",
                                  "Les joggeurs du matin seront pénalisés."), start=1):
            client.post(f"/proposals/{pid}/comments", json={"text": text},
                        headers=_headers(secret, f"riverain-{n}", "citizen")).raise_for_status()
            console.print(f"  commentaire : « {text} »")
        _wait_for_stage(client, pid, {"vote"}, "Consultation exigée par le garant", timeout)
        refused = client.post(f"/proposals/{pid}/consultation-requirement", headers=guarantor,
                              json={"reason": "Une nouvelle exigence, trop tard cette fois."})
        console.print(f"Nouvelle exigence une fois le vote ouvert : refusée "
                      f"({refused.status_code}, règle {refused.json()['detail']['rule']}).")
        for member in metropolis["council"]:
            client.post(f"/proposals/{pid}/votes", json={"choice": "for"},
                        headers=_headers(secret, member["ref"], member["role"]),
                        ).raise_for_status()
        final = _wait_for_stage(client, pid, FINAL_OR_LATER, "Vote du conseil", timeout)
        console.print(f"\n[bold]{final['title']}[/] : proposition {final['outcome']} "
                      f"({final['cause']})")
        _print_timeline(client, pid)
        flags = client.get("/guarantor/compliance", params={"proposal_id": pid}).json()
        console.print(f"\nVue de conformité du garant : {len(flags)} anomalie(s).")
    return 0


def _wait_step(client: httpx.Client, pid: str, step: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timeline = client.get(f"/proposals/{pid}/timeline").raise_for_status().json()
        if any(t["event"] == "EvaluationOpened" and t["details"]["step"] == step
               for t in timeline):
            return
        time.sleep(1)
    raise TimeoutError(f"evaluation step {step} did not open within {timeout:.0f}s")


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
        _print_timeline(client, pid)
        console.print(
            f"\nOù regarder :\n  chronologie   {url}/proposals/{pid}/timeline\n"
            f"  API           {url}/docs\n"
            f"  workflow      {settings.temporal_ui_url}/namespaces/"
            f"{settings.temporal_namespace}/workflows/proposal-{pid}\n"
            f"  les {len(submitted) - 1} autres propositions suivent la même charte sans vote : "
            "elles seront rejetées faute de quorum."
        )
    return 0
