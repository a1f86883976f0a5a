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

`--scenario interpellation` runs the right of interpellation in `demo-metrokawa` (its charter's
petition kind `interpellation`, in seconds): petition 1 gathers its sponsors, a clerk rules it
admissible, a few thousand simulated signers (tokens carrying their commune, elector status and
date of birth) sign it over HTTP until its threshold, and the clerk records the council's
answer in time; petition 2 reaches its threshold and its deadline passes unanswered, which the
guarantor's compliance view flags.

`--scenario convention` draws a citizens' convention of 30 in `demo-metrokawa` (its charter's
convention kind, in seconds): the guarantor commits a secret, a few thousand simulated
residents volunteer, the pool is committed, the secret revealed, the panel drawn with the
least and greatest probability of selection, one member declines and is replaced, the
convention sits and sends a proposal to the council.

Each prints the timelines and where to look (API, the named workflows in the Temporal UI), at
the addresses the running stack uses: `registre run` and `registre up` write them to
`var/stack.json` while they run.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from api.auth import issue_token
from api.demo_data import load_seed
from api.messages_fr import explain
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


# -- `--scenario interpellation`: the right of interpellation -------------------------------

SIGNING_WORKERS = 8
PETITION_OUTCOME_FR = {"answered": "le conseil a répondu", "failed": "seuil non atteint",
                       "lapsed": "faute de parrains", "inadmissible": "irrecevable",
                       "withdrawn": "retirée par son autrice"}
OUTSIDE_COMMUNE = "75056"  # Paris: a resident of no commune of the demo metropolis


def _citizen(secret: str, sub: str, commune: str | None, born: date = date(1985, 6, 1),
             elector: bool = True) -> dict[str, str]:
    """A citizen's bearer token: the identity provider vouches for the commune of residence,
    the registration as elector and the date of birth."""
    token = issue_token(secret, sub, "citizen", commune, elector=elector, birthdate=born)
    return {"Authorization": f"Bearer {token}"}


def _rule_of(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"]["rule"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def _wait_petition(client: httpx.Client, pid: str, stages: set[str], label: str,
                   timeout: float) -> dict[str, Any]:
    """Poll the petition's public view until it is in one of `stages` (404 until the views
    have read its drafting)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = client.get(f"/petitions/{pid}")
            if r.status_code == 200:
                petition = r.json()
                if petition["stage"] in stages:
                    return petition
                progress.update(task, description=f"{label} (étape : {petition['stage_fr']})")
            time.sleep(0.3)
    raise TimeoutError(f"petition {pid} did not reach {stages} within {timeout:.0f}s")


def _petition_timeout(rules: dict[str, Any]) -> float:
    """Generous: every period of the kind, several times over."""
    return 6 * sum(v for k, v in rules.items() if k.endswith("_seconds")) + 120


def _to_collection(client: httpx.Client, secret: str, metropolis: dict[str, Any], kind: str,
                   rules: dict[str, Any], n: int, title: str, text: str,
                   timeout: float) -> str:
    """Draft petition `n`, gather its sponsors, have a clerk rule it admissible during the
    review; returns its id once it collects signatures."""
    home = metropolis["communes"][0]["code"]
    r = client.post("/petitions", headers=_citizen(secret, f"autrice-petition-{n}", home),
                    json={"metropolis_id": metropolis["id"], "kind": kind, "title": title,
                          "text": text}).raise_for_status().json()
    pid = r["id"]
    console.print(f"\n[bold]Pétition {n}[/] « {title} » rédigée : {pid}")
    for s in range(1, rules["sponsors"]):
        client.post(f"/petitions/{pid}/sponsors",
                    headers=_citizen(secret, f"parrain-{n}-{s}", home)).raise_for_status()
    console.print(f"  {rules['sponsors']} parrain·es (l'autrice comprise) : le greffe examine "
                  f"la recevabilité ({rules['admissibility_seconds']} s).")
    _wait_petition(client, pid, {"admissibility", "collecting"}, "Parrainages", timeout)
    ruled = client.post(f"/petitions/{pid}/admissibility",
                        headers=_headers(secret, "greffe-demo", "clerk"),
                        json={"admissible": True, "competence": "mobilités"})
    if ruled.status_code == 201:
        console.print("  Le greffe déclare la pétition recevable (compétence : mobilités).")
    else:  # the review's deadline came first: the clerk's silence made it admissible
        console.print(f"  Délai d'examen écoulé (règle {escape(_rule_of(ruled))}) : recevable "
                      "par le silence du greffe.")
    _wait_petition(client, pid, {"collecting", "obligation"}, "Ouverture de la collecte",
                   timeout)
    return pid


def _signers(metropolis: dict[str, Any], n: int, how_many: int) -> list[dict[str, Any]]:
    """Simulated signers: residents of the member communes in proportion to their population,
    adults of every age; then a few the rules refuse (too young, residents elsewhere)."""
    rng = random.Random(f"interpellation-{n}")
    communes = metropolis["communes"]
    codes = rng.choices([c["code"] for c in communes],
                        weights=[max(1, c.get("population", 1)) for c in communes],
                        k=how_many)
    signers = [{"sub": f"signataire-{n}-{i}", "commune": code,
                "born": date(rng.randint(1940, 2007), rng.randint(1, 12), rng.randint(1, 28))}
               for i, code in enumerate(codes)]
    today = date.today()
    signers += [{"sub": f"mineur-{n}-{i}", "commune": codes[0],
                 "born": date(today.year - 12, 1, 1)} for i in range(5)]
    signers += [{"sub": f"ailleurs-{n}-{i}", "commune": OUTSIDE_COMMUNE,
                 "born": date(1980, 1, 1)} for i in range(5)]
    rng.shuffle(signers)
    return signers


def _sign_all(client: httpx.Client, secret: str, pid: str,
              signers: list[dict[str, Any]]) -> dict[str, int]:
    """Every signer signs online over HTTP, a few at a time; returns the answers by rule
    (`signed` for the signatures recorded)."""
    outcome: dict[str, int] = {}

    def sign(signer: dict[str, Any]) -> str:
        headers = _citizen(secret, signer["sub"], signer["commune"], signer["born"])
        for attempt in range(4):
            try:
                r = client.post(f"/petitions/{pid}/signatures", headers=headers)
            except httpx.TransportError:
                time.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code < 300:
                return "signed"
            if r.status_code >= 500 or r.status_code == 429 or _rule_of(r) == (
                    "concurrent_change"):
                time.sleep(0.2 * (attempt + 1))
                continue
            return _rule_of(r)
        return "unreachable"

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress, \
            ThreadPoolExecutor(SIGNING_WORKERS) as pool:
        task = progress.add_task("Signatures en ligne", total=len(signers))
        for answer in pool.map(sign, signers):
            outcome[answer] = outcome.get(answer, 0) + 1
            progress.advance(task)
    return outcome


def _count_reached(client: httpx.Client, pid: str, timeout: float) -> dict[str, Any]:
    """The public count once the views have counted up to the threshold (or the last
    count read when the time is up)."""
    deadline = time.monotonic() + timeout
    count: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = client.get(f"/petitions/{pid}/count")
        if r.status_code == 200:
            count = r.json()
            if count.get("crossed_at") is not None:
                return count
        time.sleep(0.5)
    return count


def _threshold(client: httpx.Client, pid: str, timeout: float) -> int:
    """The threshold in signatures, once the count view has read the collection's opening."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/petitions/{pid}/count")
        if r.status_code == 200 and r.json().get("threshold"):
            return int(r.json()["threshold"])
        time.sleep(0.3)
    raise TimeoutError(f"petition {pid} shows no threshold within {timeout:.0f}s")


def _collect(client: httpx.Client, secret: str, metropolis: dict[str, Any], pid: str, n: int,
             timeout: float) -> dict[str, Any] | None:
    """Sign petition `n` past its threshold; the count, or None when it was not reached."""
    from api.acts import count_line

    threshold = _threshold(client, pid, timeout)
    extra = max(20, threshold // 50)
    answers = _sign_all(client, secret, pid, _signers(metropolis, n, threshold + extra))
    console.print(f"  {answers.get('signed', 0)} signature(s) enregistrée(s).")
    for rule, n in sorted(answers.items()):
        if rule != "signed":
            console.print(escape(f"  {n} refusée(s), règle {rule} : {explain(rule)}"))
    count = _count_reached(client, pid, timeout)
    if count.get("crossed_at") is None:
        console.print(f"[red]  Le seuil n'est pas atteint ({escape(str(count))}).")
        return None
    console.print(f"  Seuil atteint : {count_line(count)}")
    by_commune = {c["code"]: c["name"] for c in metropolis["communes"]}
    console.print("  par commune : " + ", ".join(
        f"{by_commune.get(code, code)} {k}" for code, k in sorted(
            count["by_commune"].items(), key=lambda item: -item[1])))
    return count


def _print_petition_timeline(client: httpx.Client, pid: str) -> None:
    for e in client.get(f"/petitions/{pid}/timeline").raise_for_status().json():
        console.print(escape(f"  #{e['position']:<6} {e['at'][:19]}  [{e['stage_fr']}] "
                             f"{e['actor_fr']} : {e['text']}"))


def _flags_of(client: httpx.Client, pid: str) -> list[dict[str, Any]]:
    flags = client.get("/guarantor/compliance").raise_for_status().json()
    return [f for f in flags if pid in json.dumps(f)]


def run_interpellation_demo(url: str, settings: Settings, slug: str = "demo-metrokawa",
                            kind: str = "interpellation", *,
                            transport: httpx.BaseTransport | None = None) -> int:
    """Petition 1 gathers its sponsors, is ruled admissible, reaches its threshold from a few
    thousand signers and is answered by the council in time; petition 2 reaches its threshold
    and its deadline passes unanswered, which the guarantor's compliance view flags.
    (`transport`: the tests' stand-in for the running stack.)"""
    limits = httpx.Limits(max_connections=2 * SIGNING_WORKERS)
    with httpx.Client(base_url=url, timeout=30, limits=limits, transport=transport) as client:
        try:
            client.get("/health").raise_for_status()
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}). "
                          "Lancez d'abord `make run`.")
            return 2
        rules = (metropolis["charter"].get("petition_kinds") or {}).get(kind)
        if rules is None:
            console.print(f"[red]La charte de {slug} ne prévoit pas de pétition « {kind} » "
                          "(`make clean-var` puis `make run` pour reprendre la configuration).")
            return 2
        residents = sum(c.get("population", 0) for c in metropolis["communes"])
        console.print(
            f"[bold]{metropolis['name']}[/] — droit d'interpellation « {kind} » : "
            f"{rules['sponsors']} parrain·es en {rules['sponsor_seconds']} s, examen de "
            f"recevabilité {rules['admissibility_seconds']} s, signatures pendant "
            f"{rules['signature_seconds']} s, seuil "
            + (f"{rules['threshold_absolute']} signatures" if rules["basis"] == "absolute"
               else f"{rules['threshold_percent']} % des {residents:,} habitant·es".replace(
                   ",", "\u202f"))
            + f", réponse du conseil due sous {rules['obligation_seconds']} s")
        try:
            return _interpellation(client, url, settings, metropolis, kind, rules)
        except TimeoutError as e:  # a stage that never came: say which, and where to look
            console.print(f"[red]{escape(str(e))} — voir {settings.temporal_ui_url} et "
                          f"{url}/health")
            return 1


def _interpellation(client: httpx.Client, url: str, settings: Settings,
                    metropolis: dict[str, Any], kind: str, rules: dict[str, Any]) -> int:
    """The two petitions, one after the other (0 when both went as told)."""
    secret = settings.signing_secret()
    timeout = _petition_timeout(rules)

    pid1 = _to_collection(
        client, secret, metropolis, kind, rules, 1,
        "Une piste cyclable continue sur l'avenue de Laon",
        "Nous demandons au conseil métropolitain de relier Reims et Bétheny par une piste "
        "cyclable protégée.", timeout)
    if _collect(client, secret, metropolis, pid1, 1, timeout) is None:
        return 1
    obliged = _wait_petition(client, pid1, {"obligation", "closed"}, "Seuil", timeout)
    answer = ("Le conseil métropolitain inscrit la piste cyclable de l'avenue de Laon au "
              "plan vélo 2027 et en présentera le tracé en réunion publique.")
    r = client.post(f"/petitions/{pid1}/answer", json={"text": answer},
                    headers=_headers(secret, "greffe-demo", "clerk"))
    if r.status_code != 201:
        console.print(f"[red]  La réponse du conseil est refusée ({r.status_code}, règle "
                      f"{escape(_rule_of(r))}) ; étape : {escape(obliged['stage_fr'])}.")
        return 1
    console.print(f"  Réponse du conseil enregistrée par le greffe dans le délai : "
                  f"« {answer} »")
    final = _wait_petition(client, pid1, {"closed"}, "Fin de la collecte", timeout)
    outcome = str(final.get("outcome"))
    console.print(f"\n[bold]Pétition 1 close[/] : "
                  f"{escape(PETITION_OUTCOME_FR.get(outcome, outcome))}. Chronologie :")
    _print_petition_timeline(client, pid1)

    pid2 = _to_collection(
        client, secret, metropolis, kind, rules, 2,
        "Ouvrir les piscines métropolitaines le dimanche soir",
        "Nous demandons au conseil d'ouvrir les piscines de la métropole le dimanche "
        "jusqu'à 21 h.", timeout)
    if _collect(client, secret, metropolis, pid2, 2, timeout) is None:
        return 1
    _wait_petition(client, pid2, {"obligation", "closed"}, "Seuil", timeout)
    due = [o for o in client.get("/petitions/obligations-due",
                                 params={"metropolis_id": metropolis["id"]}).json()
           if str(o.get("petition_id")) == pid2]
    due_at = escape(str(due[0].get("due_at"))) if due else "?"
    console.print(f"  Le conseil doit répondre avant {due_at} ; il ne répondra pas.")
    flags: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task("Échéance de la réponse du conseil", total=None)
        deadline = time.monotonic() + timeout
        while not flags and time.monotonic() < deadline:
            flags = _flags_of(client, pid2)
            if not flags:
                time.sleep(1)
    if not flags:
        console.print(f"[red]  La vue de conformité du garant ne signale rien pour la "
                      f"pétition 2 en {timeout:.0f} s.")
        return 1
    for f in flags:
        console.print("\n[bold]Anomalie relevée par le garant[/] — " + escape(
            f"pétition 2, règle {f['rule']} : {f['message']} (positions "
            f"{', '.join(map(str, f.get('positions', [])))})"))
    console.print(f"Pétition 1 : {len(_flags_of(client, pid1))} anomalie(s) ; pétition 2 : "
                  f"{len(flags)} anomalie(s).")
    console.print(
        f"\nOù regarder :\n  compteur      {url}/petitions/{pid1}/count\n"
        f"  chronologie   {url}/petitions/{pid2}/timeline\n"
        f"  conformité    {url}/guarantor/compliance\n"
        f"  workflows     petition-{pid1}, petition-{pid2} dans "
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows")
    return 0


# -- `--scenario budget`: the first metropolitan participatory budget -----------------------

BUDGET_VOTERS = 2000
BUDGET_METROPOLIS = 1_200_000  # euros, the whole metropolis' district
BUDGET_REIMS = 250_000


def _wait_cycle(client: httpx.Client, cid: str, stages: set[str], label: str,
                timeout: float) -> dict[str, Any]:
    """Poll the cycle's public view until it is in one of `stages`."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task(label, total=None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = client.get(f"/budgets/{cid}")
            if r.status_code == 200 and r.json()["stage"] in stages:
                return r.json()
            time.sleep(0.3)
    raise TimeoutError(f"budget cycle {cid} did not reach {stages} within {timeout:.0f}s")


def _eur(amount: int) -> str:
    """An amount of euros as written in French: 1 200 000 € (narrow no-break spaces)."""
    return f"{amount:,} €".replace(",", "\u202f")


def _budget_projects(seed: dict[str, Any]) -> list[dict[str, Any]]:
    """The consultation's proposals as budget projects: title, objective as summary, a cost
    drawn (seeded) between 40 000 and 450 000 euros; the seed's support as popularity."""
    rng = random.Random("budget-metrokawa")
    proposals = [p for w in seed["workshops"] for p in w["proposals"]]
    chosen = sorted(proposals, key=lambda p: -p.get("votes", 0))[:12]
    return [{"title": p["title"], "summary": p.get("objective") or p["title"],
             "cost": rng.randrange(40_000, 450_000, 1_000),
             "weight": 1 + p.get("votes", 0)} for p in chosen]


def run_budget_demo(url: str, settings: Settings, slug: str = "demo-metrokawa", *,
                    voters: int = BUDGET_VOTERS,
                    transport: httpx.BaseTransport | None = None) -> int:
    """Métrokawa's first metropolitan budget: a clerk opens the cycle, residents submit
    projects drawn from the consultation, the clerk rules one ineligible, thousands of
    simulated residents vote over HTTP, and the Equal Shares results are printed with why
    each project was or was not funded. (`transport`: the tests' stand-in.)"""
    limits = httpx.Limits(max_connections=2 * SIGNING_WORKERS)
    with httpx.Client(base_url=url, timeout=30, limits=limits, transport=transport) as client:
        try:
            client.get("/health").raise_for_status()
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}). "
                          "Lancez d'abord `make run`.")
            return 2
        rules = metropolis["charter"].get("budget") or {}
        if not rules or rules.get("voting_seconds", 0) > 600:
            console.print(f"[red]La charte de {slug} ne prévoit pas de budget de démonstration "
                          "(`make clean-var` puis `make run` pour reprendre la configuration).")
            return 2
        try:
            return _budget(client, url, settings, metropolis, rules, voters)
        except TimeoutError as e:
            console.print(f"[red]{escape(str(e))} — voir {settings.temporal_ui_url} et "
                          f"{url}/health")
            return 1


def _budget(client: httpx.Client, url: str, settings: Settings, metropolis: dict[str, Any],
            rules: dict[str, Any], voters: int) -> int:
    secret = settings.signing_secret()
    timeout = 6 * sum(v for k, v in rules.items() if k.endswith("_seconds")) + 120
    reims = metropolis["communes"][0]["code"]
    console.print(
        f"[bold]{metropolis['name']}[/] — premier budget participatif métropolitain : "
        f"dépôt {rules['submission_seconds']} s, examen {rules['review_seconds']} s, vote "
        f"{rules['voting_seconds']} s ; bulletin « {rules['ballot']} » (au plus "
        f"{rules['max_approvals'] or 'tous les'} projets), dépouillement « {rules['rule']} ».")
    opened = client.post(f"/metropolises/{metropolis['slug']}/budgets",
                         headers=_headers(secret, "greffe-demo", "clerk"), json={
                             "title": "Budget participatif métropolitain 2027",
                             "districts": {"metropolis": BUDGET_METROPOLIS,
                                           reims: BUDGET_REIMS}})
    if opened.status_code != 201:
        console.print(f"[red]Ouverture refusée : règle {escape(_rule_of(opened))}")
        return 1
    cid = opened.json()["id"]
    console.print(f"Cycle ouvert : {cid} (métropole {_eur(BUDGET_METROPOLIS)}, Reims "
                  f"{_eur(BUDGET_REIMS)})")
    drafts = _budget_projects(load_seed())
    projects: list[dict[str, Any]] = []
    for n, p in enumerate(drafts):
        district = reims if n % 4 == 3 else "metropolis"
        cost = min(p["cost"], BUDGET_REIMS) if district == reims else p["cost"]
        r = client.post(f"/budgets/{cid}/projects", headers=_citizen(
            secret, f"porteuse-{n}", reims), json={"district": district, "title": p["title"],
                                                   "summary": p["summary"], "cost": cost})
        if r.status_code != 201:
            console.print(escape(f"  projet refusé : {p['title']} (règle {_rule_of(r)})"))
            continue
        projects.append({**p, "id": r.json()["id"], "district": district, "cost": cost})
        console.print(escape(f"  déposé [{district}] {p['title']} — {_eur(cost)}"))
    _wait_cycle(client, cid, {"review", "voting"}, "Dépôt des projets", timeout)
    refused = projects[-1]
    r = client.post(f"/budget-projects/{refused['id']}/ruling",
                    headers=_headers(secret, "greffe-demo", "clerk"),
                    json={"eligible": False, "reason": "Relève de la compétence des communes."})
    if r.status_code == 201:
        console.print(escape(f"Le greffe déclare « {refused['title']} » irrecevable ; les "
                             "autres sont recevables par le silence du greffe."))
        projects.remove(refused)
    _wait_cycle(client, cid, {"voting"}, "Examen de recevabilité", timeout)
    answers = _vote_all(client, secret, metropolis, cid, projects, rules, voters)
    console.print(f"  {answers.get('voted', 0)} bulletin(s) enregistré(s).")
    for rule, n in sorted(answers.items()):
        if rule != "voted":
            console.print(escape(f"  {n} refusé(s), règle {rule} : {explain(rule)}"))
    _wait_cycle(client, cid, {"results", "closed"}, "Vote puis dépouillement", timeout)
    results = client.get(f"/budgets/{cid}/results").raise_for_status().json()
    for district, result in results.items():
        console.print(f"\n[bold]Résultats — {district}[/] ({result['rule']}, "
                      f"{result['ballots']} bulletins, {_eur(result['cost'])} sur "
                      f"{_eur(result['budget'])})")
        for x in result.get("explanation", []):
            mark = "[green]retenu[/]" if x["selected"] else "non retenu"
            why = "" if x["selected"] else f" : {x['reason']}"
            console.print(f"  {mark} " + escape(
                f"{x['title']} — {_eur(x['cost'])}, {x['votes']} voix{why}"))
    console.print(f"\nOù regarder :\n  résultats     {url}/budgets/{cid}/results\n"
                  f"  chronologie   {url}/budgets/{cid}/timeline\n"
                  f"  workflow      budget-{cid} dans {settings.temporal_ui_url}")
    return 0


def _vote_all(client: httpx.Client, secret: str, metropolis: dict[str, Any], cid: str,
              projects: list[dict[str, Any]], rules: dict[str, Any],
              voters: int) -> dict[str, int]:
    """Simulated residents (communes by population, adults) tick between 1 and the rules'
    maximum of the metropolis' projects, the most supported in the consultation more often;
    Reims residents vote in Reims' district too; a few children and outsiders are refused."""
    rng = random.Random("budget-votes")
    communes = metropolis["communes"]
    reims = communes[0]["code"]
    most = rules.get("max_approvals") or 4
    by_district: dict[str, list[dict[str, Any]]] = {}
    for p in projects:
        by_district.setdefault(p["district"], []).append(p)
    codes = rng.choices([c["code"] for c in communes],
                        weights=[max(1, c.get("population", 1)) for c in communes], k=voters)
    today = date.today()
    jobs: list[tuple[dict[str, str], dict[str, Any]]] = []
    for i, code in enumerate(codes):
        born = date(today.year - 12, 1, 1) if i % 500 == 7 else date(
            rng.randint(1940, 2006), rng.randint(1, 12), rng.randint(1, 28))
        commune = OUTSIDE_COMMUNE if i % 500 == 9 else code
        headers = _citizen(secret, f"votant-{i}", commune, born)
        for district in ("metropolis", reims):
            pool = by_district.get(district, [])
            if not pool or (district == reims and code != reims):
                continue
            k = rng.randint(1, min(most, len(pool)))
            picked: list[str] = []
            while len(picked) < k:
                p = rng.choices(pool, weights=[q["weight"] for q in pool])[0]["id"]
                if p not in picked:
                    picked.append(p)
            jobs.append((headers, {"district": district, "projects": picked}))

    def vote(job: tuple[dict[str, str], dict[str, Any]]) -> str:
        for attempt in range(4):
            try:
                r = client.post(f"/budgets/{cid}/ballots", headers=job[0], json=job[1])
            except httpx.TransportError:
                time.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code < 300:
                return "voted"
            if r.status_code >= 500 or _rule_of(r) == "concurrent_change":
                time.sleep(0.2 * (attempt + 1))
                continue
            return _rule_of(r)
        return "unreachable"

    outcome: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress, \
            ThreadPoolExecutor(SIGNING_WORKERS) as pool:
        task = progress.add_task("Bulletins", total=len(jobs))
        for answer in pool.map(vote, jobs):
            outcome[answer] = outcome.get(answer, 0) + 1
            progress.advance(task)
    return outcome


# -- `--scenario convention`: a citizens' convention drawn by lot --------------------------

CONVENTION_VOLUNTEERS = 2000
GENDERS = {"femme": 52, "homme": 48}  # INSEE, population of 16 and over
AGE_BANDS = {"16-29": 21, "30-44": 24, "45-59": 25, "60+": 30}
BAND_YEARS = {"16-29": (16, 29), "30-44": (30, 44), "45-59": (45, 59), "60+": (60, 90)}
STAGE_FR = {"registration": "inscriptions", "committed": "vivier engagé",
            "revealed": "graine révélée", "acceptance": "acceptation des sièges",
            "sitting": "en séance", "ended": "terminée"}


def _wait_convention(client: httpx.Client, cid: str, stages: set[str], label: str,
                     timeout: float) -> dict[str, Any]:
    """Poll the convention's public view until it is in one of `stages`."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = client.get(f"/conventions/{cid}")
            if r.status_code == 200:
                convention = r.json()
                if convention.get("stage") in stages:
                    return convention
                stage = convention.get("stage", "")
                progress.update(task, description=f"{label} (étape : "
                                                  f"{STAGE_FR.get(stage, stage)})")
            time.sleep(0.5)
    raise TimeoutError(f"convention {cid} did not reach {stages} within {timeout:.0f}s")


def _volunteers(metropolis: dict[str, Any], how_many: int) -> list[dict[str, Any]]:
    """Simulated volunteers: residents of the member communes in proportion to their
    population, gender and age band drawn from the French population of 16 and over (the
    date of birth the identity provider vouches for agrees with the band declared); then a
    few the rules refuse (a child, a resident elsewhere)."""
    rng = random.Random("convention-metrokawa")
    communes = metropolis["communes"]
    today = date.today()
    people = []
    for i in range(how_many):
        commune = rng.choices([c["code"] for c in communes],
                              weights=[max(1, c.get("population", 1)) for c in communes])[0]
        gender = rng.choices(list(GENDERS), weights=list(GENDERS.values()))[0]
        band = rng.choices(list(AGE_BANDS), weights=list(AGE_BANDS.values()))[0]
        lo, hi = BAND_YEARS[band]
        born = date(today.year - rng.randint(lo + 1, hi), rng.randint(1, 12), rng.randint(1, 28))
        people.append({"sub": f"volontaire-{i}", "commune": commune, "born": born,
                       "values": {"gender": gender, "age": band}})
    home = communes[0]["code"]
    people.append({"sub": "volontaire-enfant", "commune": home,
                   "born": date(today.year - 12, 1, 1),
                   "values": {"gender": "femme", "age": "16-29"}})
    people.append({"sub": "volontaire-ailleurs", "commune": OUTSIDE_COMMUNE,
                   "born": date(1980, 1, 1), "values": {"gender": "homme", "age": "45-59"}})
    return people


def _register_all(client: httpx.Client, secret: str, cid: str, people: list[dict[str, Any]],
                  categories: set[str]) -> dict[str, int]:
    """Each volunteer registers with the values of the quotas' categories (the commune is
    the identity provider's)."""
    def register(p: dict[str, Any]) -> str:
        values = {k: v for k, v in p["values"].items() if k in categories}
        for attempt in range(4):
            try:
                r = client.post(f"/conventions/{cid}/volunteers",
                                headers=_citizen(secret, p["sub"], p["commune"], p["born"]),
                                json={"values": values,
                                      "contact": f"{p['sub']}@exemple.fr"})
            except httpx.TransportError:
                time.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code < 300:
                return "registered"
            if r.status_code >= 500 or _rule_of(r) == "concurrent_change":
                time.sleep(0.2 * (attempt + 1))
                continue
            return _rule_of(r)
        return "unreachable"

    outcome: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress, \
            ThreadPoolExecutor(SIGNING_WORKERS) as pool:
        task = progress.add_task("Volontaires", total=len(people))
        for answer in pool.map(register, people):
            outcome[answer] = outcome.get(answer, 0) + 1
            progress.advance(task)
    return outcome


def _extremes(probabilities: Any) -> tuple[float, float] | None:
    """The least and greatest selection probability in the probabilities' view."""
    if not isinstance(probabilities, dict):
        return None
    for lo, hi in (("min", "max"), ("least", "greatest"), ("minimum", "maximum")):
        if probabilities.get(lo) is not None and probabilities.get(hi) is not None:
            low, high = probabilities[lo], probabilities[hi]
            # The view gives each as {"probability": decimal string, "fraction": "a/b"}.
            return (float(low["probability"] if isinstance(low, dict) else low),
                    float(high["probability"] if isinstance(high, dict) else high))
    values = probabilities.get("probabilities", probabilities.get("volunteers"))
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, list) and values:
        numbers = [float(v["probability"]) if isinstance(v, dict) else float(v)
                   for v in values]
        return min(numbers), max(numbers)
    return None


def _percent(p: float) -> str:
    """A probability as written in French: 1,50 % (a narrow no-break space)."""
    return f"{100 * p:.2f}".replace(".", ",") + "\u202f%"


def run_convention_demo(url: str, settings: Settings, slug: str = "demo-metrokawa", *,
                        volunteers: int = CONVENTION_VOLUNTEERS,
                        transport: httpx.BaseTransport | None = None) -> int:
    """Métrokawa's first citizens' convention: a clerk convenes 30 members, the guarantor
    commits a secret, a few thousand simulated residents volunteer over HTTP, the pool and
    its panel distribution are committed, the guarantor reveals the secret, the panel is
    drawn, one member declines and is replaced, the convention sits and sends a proposal to
    the council. (`transport`: the tests' stand-in.)"""
    limits = httpx.Limits(max_connections=2 * SIGNING_WORKERS)
    with httpx.Client(base_url=url, timeout=30, limits=limits, transport=transport) as client:
        try:
            client.get("/health").raise_for_status()
            metropolis = client.get(f"/metropolises/{slug}").raise_for_status().json()
        except httpx.HTTPError as e:
            console.print(f"[red]L'API ne répond pas sur {url} ou ne connaît pas {slug} ({e}). "
                          "Lancez d'abord `make run`.")
            return 2
        rules = (metropolis["charter"].get("convention_kinds") or {}).get("convention") or {}
        if not rules or rules.get("registration_seconds", 0) > 600:
            console.print(f"[red]La charte de {slug} ne prévoit pas de convention de "
                          "démonstration (`make clean-var` puis `make run` pour reprendre la "
                          "configuration).")
            return 2
        try:
            return _convention(client, url, settings, metropolis, rules, volunteers)
        except TimeoutError as e:
            console.print(f"[red]{escape(str(e))} — voir {settings.temporal_ui_url} et "
                          f"{url}/health")
            return 1


def _convention(client: httpx.Client, url: str, settings: Settings,
                metropolis: dict[str, Any], rules: dict[str, Any], volunteers: int) -> int:
    import hashlib
    import secrets

    secret = settings.signing_secret()
    clerk = _headers(secret, "greffe-demo", "clerk")
    guarantor = _headers(secret, "garant-demo", "guarantor")
    timeout = 6 * (rules["registration_seconds"] + rules["reveal_seconds"]
                   + rules["acceptance_seconds"]) + 180
    quotas = rules.get("quotas", {})
    console.print(
        f"[bold]{metropolis['name']}[/] — convention citoyenne de {rules['size']} membres "
        f"tirés au sort (méthode « {rules['method']} ») : inscriptions "
        f"{rules['registration_seconds']} s, acceptation {rules['acceptance_seconds']} s ; "
        f"quotas sur {', '.join(sorted(quotas)) or 'aucune catégorie'}.")
    opened = client.post(f"/metropolises/{metropolis['slug']}/conventions", headers=clerk,
                         json={"kind": "convention",
                               "title": "Convention citoyenne pour le climat de Métrokawa",
                               "mandate": "Proposer au conseil des mesures pour réduire de "
                                          "moitié les émissions des transports d'ici 2035."})
    if opened.status_code != 201:
        console.print(f"[red]Convocation refusée : règle {escape(_rule_of(opened))}")
        return 1
    cid = opened.json()["id"]
    console.print(f"Convention convoquée : {cid}")
    guarantor_secret = secrets.token_hex(32)
    digest = hashlib.sha256(bytes.fromhex(guarantor_secret)).hexdigest()
    client.post(f"/conventions/{cid}/seed-commitment", headers=guarantor,
                json={"digest": digest}).raise_for_status()
    console.print(f"Le garant engage son secret avant la clôture du vivier : SHA-256 {digest}")
    people = _volunteers(metropolis, volunteers)
    answers = _register_all(client, secret, cid, people, set(quotas))
    console.print(f"  {answers.get('registered', 0)} volontaire(s) inscrit(s).")
    for rule, n in sorted(answers.items()):
        if rule != "registered":
            console.print(escape(f"  {n} refusé(s), règle {rule} : {explain(rule)}"))
    committed = _wait_convention(client, cid, {"committed", "revealed", "acceptance",
                                               "sitting", "ended"},
                                 "Clôture et engagement du vivier", timeout)
    if committed.get("stage") == "ended":
        console.print(f"[red]Le vivier n'a pas pu être engagé : "
                      f"{escape(json.dumps(committed.get('failure'), ensure_ascii=False))}")
        return 1
    console.print(f"\nEngagement publié (vivier, quotas, algorithme, distribution, source "
                  f"d'aléa) : [bold]{committed.get('commitment')}[/]")
    revealed = client.post(f"/conventions/{cid}/seed", headers=guarantor,
                           json={"seed": guarantor_secret})
    if revealed.status_code != 201:
        console.print(f"[red]Révélation refusée : règle {escape(_rule_of(revealed))}")
        return 1
    console.print(f"Le garant révèle son secret, qui sert de graine : {guarantor_secret}")
    drawn = _wait_convention(client, cid, {"acceptance", "sitting"}, "Tirage du panel",
                             timeout)
    panel = list(drawn.get("panel") or [])
    console.print(f"\n[bold]Panel tiré[/] ({len(panel)} membres, pseudonymes propres à "
                  "cette convention) :")
    for ref in panel:
        console.print(f"  {escape(str(ref))}")
    extremes = _extremes(client.get(f"/conventions/{cid}/probabilities").json())
    if extremes is not None:
        console.print(f"Probabilité d'être tiré : au moins {_percent(extremes[0])}, au "
                      f"plus {_percent(extremes[1])} selon le profil du volontaire.")
    _answer_seats(client, secret, cid, people)
    sitting = _wait_convention(client, cid, {"sitting"}, "Acceptation des sièges", timeout)
    console.print(f"\nLa convention siège : {len(sitting.get('members') or panel)} membres.")
    client.post(f"/conventions/{cid}/sessions", headers=clerk, json={
        "number": 1, "summary": "Séance d'ouverture : audition des services des mobilités."}
    ).raise_for_status()
    console.print("Séance 1 consignée par le greffe.")
    sent = client.post(f"/conventions/{cid}/proposals", headers=clerk, json={
        "title": "Un réseau express vélo entre les communes",
        "summary": "Relier Reims, Tinqueux, Saint-Brice-Courcelles et Bétheny par des pistes "
                   "cyclables continues et sécurisées.",
        "communes": [c["code"] for c in metropolis["communes"]]})
    sent.raise_for_status()
    console.print(f"Proposition transmise au conseil, qui doit y répondre : "
                  f"{sent.json()['id']}")
    console.print(f"\nOù regarder :\n  convention    {url}/conventions/{cid}\n"
                  f"  vivier        {url}/conventions/{cid}/pool\n"
                  f"  probabilités  {url}/conventions/{cid}/probabilities\n"
                  f"  chronologie   {url}/conventions/{cid}/timeline\n"
                  f"  workflow      convention-{cid} dans {settings.temporal_ui_url}\n"
                  "  vérifier      registre audit verify (refait chaque tirage)")
    return 0


def _answer_seats(client: httpx.Client, secret: str, cid: str,
                  people: list[dict[str, Any]]) -> None:
    """The demo does not know which pseudonym is whose (the server's key): each volunteer
    in turn answers; those not drawn are refused (`convention.not_a_member`, nothing
    recorded). The first member found declines (an alternate with the same profile takes the
    seat), the next three accept; the others stay silent and keep their seat."""
    declined = accepted = 0
    for p in people:
        if accepted >= 3:
            return
        r = client.post(f"/conventions/{cid}/seats/me",
                        headers=_citizen(secret, p["sub"], p["commune"], p["born"]),
                        json={"accept": declined > 0})
        if r.status_code != 201:
            if _rule_of(r) == "wrong_stage":
                return
            continue
        if declined == 0:
            declined = 1
            profile = ", ".join(p["values"].values())
            console.print(escape(f"  {p['sub']} ({profile}) décline son siège : un "
                                 "suppléant du même profil est tiré avec la même graine."))
        else:
            accepted += 1
            console.print(escape(f"  {p['sub']} accepte son siège."))
