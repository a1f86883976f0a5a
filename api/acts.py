"""Every act of the deliberation from the command line, over the HTTP API.

    registre proposal submit --metropolis SLUG --title T --summary S [--commune CODE]…
                             [--decision-type TYPE] [--charter-amendment CHARTER.yaml]
    registre draft start --metropolis SLUG --title T --summary S | revise ID [--title …]
    registre draft show ID | submit ID | abandon ID
    registre proposal list | show ID | timeline ID
    registre proposal withdraw ID | support ID | comment ID --text T
    registre proposal admissibility ID (--admissible --competence C | --inadmissible --reason R)
    registre proposal requalify ID --type TYPE --reason R   (clerk)
    registre proposal refer ID --text T
    registre proposal amend ID --text T          (table an amendment)
    registre proposal vote ID --choice for|against|abstain [--amendment N]
    registre proposal veto ID --reason R
    registre proposal milestone ID --text T
    registre proposal score ID --indicator usage=7 [--indicator …] [--comment C]
    registre guarantor notice ID --text T
    registre guarantor require-consultation ID --reason R [--days N]
    registre guarantor appoint-panel ID --member REF [--member …]
    registre guarantor compliance [--proposal ID]
    registre bureau show SLUG | fill SLUG --kind K --holder REF --until DATE
    registre bureau vacate SLUG --holder REF --cause C
    registre petition draft --metropolis SLUG [--kind K] --title T --text X [--commune CODE]
    registre petition sponsor ID | leave ID | withdraw ID | refer ID --text T
    registre petition rule ID (--admissible [--competence C] | --inadmissible --reason R)
    registre petition electorate SLUG --figure CODE=N [--figure …] --source S   (clerk)
    registre petition paper ID --sheets N --provenance P --scans FILE --signers CSV (clerk)
    registre petition answer ID --text T   (clerk)  | report ID --text T   (guarantor)
    registre petition sign ID | unsign ID
    registre petition list [--metropolis SLUG] [--stage S] | show ID | count ID | timeline ID
    registre petition obligations [--metropolis SLUG]

Each act runs with the caller's bearer token (`--token` or `REGISTRE_TOKEN`; the embedded
issuer makes one: `registre token issue`), so the API checks the role exactly as for any other
client. A refusal prints the rule the API named and exits with status 1; nothing was recorded.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import httpx
import typer
import yaml
from pydantic import ValidationError

from api.audit import client_for
from api.config import CharterChanges
from api.settings import Settings

proposal_cli = typer.Typer(help="Acts on a proposal (citizens, council, clerks).",
                           no_args_is_help=True)
guarantor_cli = typer.Typer(help="Acts of the guarantor authority.", no_args_is_help=True)
bureau_cli = typer.Typer(help="The collegial bureau's mandates (clerks).", no_args_is_help=True)
draft_cli = typer.Typer(help="Drafting a proposal before submitting it (its author).",
                        no_args_is_help=True)

URL = typer.Option(None, "--url", help="API URL (default: the embedded one)")
TOKEN = typer.Option(None, "--token", envvar="REGISTRE_TOKEN",
                     help="bearer token of the actor (registre token issue)")


def _call(method: str, path: str, url: Optional[str], token: Optional[str] = None,
          body: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> Any:
    """One API request; a refusal or an unreachable API ends the command with status 1."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = client_for(url or Settings().api_url)
    try:
        response = client.request(method, path, json=body, params=params, headers=headers)
    except httpx.HTTPError as e:
        typer.echo(f"API injoignable ({e}) : lancez `make run` ou passez --url.", err=True)
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        typer.echo(_refusal(response), err=True)
        raise typer.Exit(1)
    return response.json()


def _refusal(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    if isinstance(detail, dict):
        text = (f"Refusé (HTTP {response.status_code}), règle « {detail.get('rule')} » : "
                f"{detail.get('explication', '')} ({detail.get('message')})")
        if detail.get("errors"):  # 422: the fields at fault
            text += " — " + "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', []))} : {d.get('msg')}"
                for d in detail["errors"])
        return text
    return f"Refusé (HTTP {response.status_code}) : {detail}"


def _show(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _recorded(data: dict[str, Any], what: str) -> None:
    typer.echo(f"{what} — enregistré à la position #{data['position']} du registre.")


def _need(token: Optional[str]) -> str:
    if not token:
        typer.echo("Un jeton est requis : --token ou REGISTRE_TOKEN (registre token issue).",
                   err=True)
        raise typer.Exit(1)
    return token


def _charter(path: Path) -> dict[str, Any]:
    """The rules a charter amendment changes, written as in the metropolises' file, as the
    API's rules (seconds)."""
    try:
        changes = CharterChanges.model_validate(
            yaml.safe_load(path.read_text(encoding="utf-8"))).as_changes()
    except OSError as e:
        raise typer.BadParameter(str(e), param_hint="--charter-amendment") from None
    except (yaml.YAMLError, ValidationError) as e:
        raise typer.BadParameter(f"{path}: {e}", param_hint="--charter-amendment") from None
    if not changes:
        raise typer.BadParameter(f"{path} changes no rule", param_hint="--charter-amendment")
    return changes


# -- proposals --------------------------------------------------------------------------


@proposal_cli.command("submit")
def submit(
    metropolis: str = typer.Option(..., help="slug of the metropolis"),
    title: str = typer.Option(..., help="titre"),
    summary: str = typer.Option(..., help="objectif et moyens"),
    commune: list[str] = typer.Option([], help="code of a concerned commune (repeatable)"),
    decision_type: str = typer.Option("ordinary", help="a decision type of the charter"),
    charter_amendment: Optional[Path] = typer.Option(
        None, help="YAML file of the rules the amendment changes, written as in "
        "deploy/metropolises.yaml (the others stay as in force)"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """Submit a proposal (citizen); its workflow starts from the log. With
    --charter-amendment, the proposal amends the charter (decided by its amendment majority)."""
    token = _need(token)
    body: dict[str, Any] = {"title": title, "summary": summary, "communes": commune,
                            "decision_type": decision_type}
    if charter_amendment is not None:
        body["charter_amendment"] = _charter(charter_amendment)
    found = _call("GET", f"/metropolises/{metropolis}", url)
    data = _call("POST", "/proposals", url, token, {"metropolis_id": found["id"], **body})
    _recorded(data, f"Proposition déposée : {data['id']}")


@proposal_cli.command("list")
def list_proposals(metropolis: Optional[str] = typer.Option(None, help="slug"),
                   url: Optional[str] = URL) -> None:
    """Proposals, newest first, with their stage."""
    params = {}
    if metropolis:
        params["metropolis_id"] = _call("GET", f"/metropolises/{metropolis}", url)["id"]
    for p in _call("GET", "/proposals", url, params=params):
        typer.echo(f"{p['id']}  [{p['stage_fr']}]  {p['title']}")


@proposal_cli.command("show")
def show(proposal_id: str, url: Optional[str] = URL) -> None:
    """One proposal: stage, deadline, tally, decision."""
    _show(_call("GET", f"/proposals/{proposal_id}", url))


@proposal_cli.command("timeline")
def timeline(proposal_id: str, url: Optional[str] = URL) -> None:
    """The public timeline, in French."""
    for entry in _call("GET", f"/proposals/{proposal_id}/timeline", url):
        typer.echo(f"#{entry['position']:<6} {entry['at'][:19]}  [{entry['stage']}] "
                   f"{entry['actor_role']} : {entry['label']}")


@proposal_cli.command("withdraw")
def withdraw(proposal_id: str, url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """The author withdraws the proposal before the vote."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/withdrawal", url, _need(token)),
              "Proposition retirée")


@proposal_cli.command("support")
def support(proposal_id: str, url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """A citizen supports the proposal during its consultation."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/supports", url, _need(token)),
              "Soutien enregistré")


@proposal_cli.command("comment")
def comment(proposal_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
            token: Optional[str] = TOKEN) -> None:
    """A citizen comments during the consultation."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/comments", url, _need(token),
                    {"text": text}), "Commentaire publié")


@proposal_cli.command("admissibility")
def admissibility(
    proposal_id: str,
    admissible: bool = typer.Option(..., "--admissible/--inadmissible"),
    competence: str = typer.Option("", help="the competence it falls within"),
    reason: str = typer.Option("", help="why it is inadmissible"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A clerk rules on admissibility during the review."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/admissibility", url, _need(token),
                    {"admissible": admissible, "competence": competence, "reason": reason}),
              "Recevable" if admissible else "Irrecevable")


@proposal_cli.command("requalify")
def requalify(proposal_id: str, decision_type: str = typer.Option(..., "--type",
                                                                 help="a decision type"),
              reason: str = typer.Option(...), url: Optional[str] = URL,
              token: Optional[str] = TOKEN) -> None:
    """A clerk requalifies the decision type (and so the majority) before the vote."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/decision-type", url, _need(token),
                    {"decision_type": decision_type, "reason": reason}),
              f"Type de décision : {decision_type}")


@proposal_cli.command("refer")
def refer(proposal_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
          token: Optional[str] = TOKEN) -> None:
    """The author refers an inadmissibility ruling to the guarantor."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/referral", url, _need(token),
                    {"text": text}), "Garant saisi")


@proposal_cli.command("amend")
def amend(proposal_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
          token: Optional[str] = TOKEN) -> None:
    """A council member tables an amendment during the deliberation."""
    data = _call("POST", f"/proposals/{proposal_id}/amendments", url, _need(token),
                 {"text": text})
    _recorded(data, f"Amendement n° {data['number']} déposé")


@proposal_cli.command("vote")
def vote(
    proposal_id: str,
    choice: str = typer.Option(..., help="for | against | abstain"),
    amendment: Optional[int] = typer.Option(None, help="vote on this amendment instead"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A council member's roll-call vote (the ballot, an amendment, or a veto's override)."""
    path = (f"/proposals/{proposal_id}/amendments/{amendment}/votes" if amendment is not None
            else f"/proposals/{proposal_id}/votes")
    _recorded(_call("POST", path, url, _need(token), {"choice": choice}), "Vote enregistré")


@proposal_cli.command("veto")
def veto(proposal_id: str, reason: str = typer.Option(...), url: Optional[str] = URL,
         token: Optional[str] = TOKEN) -> None:
    """A mayor vetoes within the window, for the commune of the token's territory."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/vetoes", url, _need(token),
                    {"reason": reason}), "Veto déposé")


@proposal_cli.command("milestone")
def milestone(proposal_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
              token: Optional[str] = TOKEN) -> None:
    """A clerk records an implementation milestone."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/milestones", url, _need(token),
                    {"text": text}), "Jalon enregistré")


def _indicators(pairs: list[str]) -> dict[str, int]:
    scores: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"'{pair}': expected name=score", param_hint="--indicator")
        try:
            scores[name.strip()] = int(value)
        except ValueError:
            raise typer.BadParameter(f"'{pair}': the score is a whole number from 0 to 10",
                                     param_hint="--indicator") from None
    return scores


@proposal_cli.command("score")
def score(
    proposal_id: str,
    indicator: list[str] = typer.Option(..., help="name=score (0–10), repeatable"),
    comment: str = typer.Option(""),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A member of the evaluation panel scores the open step."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/evaluations", url, _need(token),
                    {"indicators": _indicators(indicator), "comment": comment}),
              "Évaluation enregistrée")


# -- drafts -------------------------------------------------------------------------------


@draft_cli.command("start")
def draft_start(
    metropolis: str = typer.Option(..., help="slug of the metropolis"),
    title: str = typer.Option(...), summary: str = typer.Option(...),
    commune: list[str] = typer.Option([], help="code of a concerned commune (repeatable)"),
    decision_type: str = typer.Option("ordinary"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """Begin drafting a proposal; nothing runs until it is submitted."""
    token = _need(token)
    found = _call("GET", f"/metropolises/{metropolis}", url)
    data = _call("POST", "/drafts", url, token, {
        "metropolis_id": found["id"], "title": title, "summary": summary,
        "communes": commune, "decision_type": decision_type})
    _recorded(data, f"Brouillon commencé : {data['id']}")


@draft_cli.command("revise")
def draft_revise(draft_id: str, title: Optional[str] = typer.Option(None),
                 summary: Optional[str] = typer.Option(None),
                 commune: Optional[list[str]] = typer.Option(None, help="replaces the list"),
                 decision_type: Optional[str] = typer.Option(None),
                 url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """Revise the parts of the draft given; the others stay as they were."""
    body = {k: v for k, v in {"title": title, "summary": summary, "communes": commune,
                              "decision_type": decision_type}.items() if v is not None}
    _recorded(_call("PATCH", f"/drafts/{draft_id}", url, _need(token), body),
              "Brouillon révisé")


@draft_cli.command("show")
def draft_show(draft_id: str, url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """The draft as it now reads."""
    _show(_call("GET", f"/drafts/{draft_id}", url, _need(token)))


@draft_cli.command("submit")
def draft_submit(draft_id: str, url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """Submit the draft: it becomes a proposal under the charter in force."""
    data = _call("POST", f"/drafts/{draft_id}/submission", url, _need(token))
    _recorded(data, f"Proposition déposée : {data['id']}")


@draft_cli.command("abandon")
def draft_abandon(draft_id: str, url: Optional[str] = URL,
                  token: Optional[str] = TOKEN) -> None:
    """Abandon the draft (it stays in the log as abandoned)."""
    _recorded(_call("POST", f"/drafts/{draft_id}/abandonment", url, _need(token)),
              "Brouillon abandonné")


# -- the guarantor ----------------------------------------------------------------------


@guarantor_cli.command("notice")
def notice(proposal_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
           token: Optional[str] = TOKEN) -> None:
    """Publish a notice (avis) on a proposal."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/notices", url, _need(token),
                    {"kind": "avis", "text": text}), "Avis publié")


@guarantor_cli.command("require-consultation")
def require_consultation(
    proposal_id: str, reason: str = typer.Option(...),
    days: Optional[float] = typer.Option(None, help="minimum length (default: the charter's)"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """Require a public consultation before the vote."""
    body: dict[str, Any] = {"reason": reason}
    if days is not None:
        body["duration_seconds"] = round(days * 86400)
    _recorded(_call("POST", f"/proposals/{proposal_id}/consultation-requirement", url,
                    _need(token), body), "Consultation publique exigée")


@guarantor_cli.command("appoint-panel")
def appoint_panel(proposal_id: str,
                  member: list[str] = typer.Option(..., help="citizen ref, repeatable"),
                  url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """Appoint the citizens' evaluation panel of an adopted proposal."""
    _recorded(_call("POST", f"/proposals/{proposal_id}/evaluation-panel", url, _need(token),
                    {"members": member}), f"Panel d'évaluation désigné ({len(member)})")


@guarantor_cli.command("compliance")
def compliance(proposal: Optional[str] = typer.Option(None, help="one proposal's id"),
               url: Optional[str] = URL) -> None:
    """The compliance view: every breach of a pinned charter, with its proving events."""
    flags = _call("GET", "/guarantor/compliance", url,
                  params={"proposal_id": proposal} if proposal else None)
    for f in flags:
        typer.echo(f"{f['proposal_id']}  règle {f['rule']} : {f['message']} "
                   f"(positions {', '.join(map(str, f['positions']))})")
    typer.echo(f"{len(flags)} anomalie(s).")


# -- the collegial bureau -----------------------------------------------------------------


@bureau_cli.command("show")
def bureau_show(metropolis: str, url: Optional[str] = URL) -> None:
    """The bureau's composition and mandates."""
    _show(_call("GET", f"/metropolises/{metropolis}/bureau", url))


@bureau_cli.command("fill")
def bureau_fill(
    metropolis: str, kind: str = typer.Option(..., help="maires_majoritaires | "
                                              "vice_presidents_minoritaires | "
                                              "citoyens_tires_au_sort"),
    holder: str = typer.Option(...), until: datetime = typer.Option(..., help="mandate end"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A clerk records a mandate on the bureau."""
    _recorded(_call("POST", f"/metropolises/{metropolis}/bureau/seats", url, _need(token),
                    {"kind": kind, "holder_ref": holder,
                     "mandate_until": (until if until.tzinfo else
                                       until.replace(tzinfo=timezone.utc)).isoformat()}),
              "Mandat enregistré")


@bureau_cli.command("vacate")
def bureau_vacate(metropolis: str, holder: str = typer.Option(...),
                  cause: str = typer.Option(...), url: Optional[str] = URL,
                  token: Optional[str] = TOKEN) -> None:
    """A clerk records the end of a mandate."""
    _recorded(_call("POST", f"/metropolises/{metropolis}/bureau/vacancies", url, _need(token),
                    {"holder_ref": holder, "cause": cause}), "Fin de mandat enregistrée")


# -- petitions (right of interpellation) -----------------------------------------------------

petition_cli = typer.Typer(help="Petitions (right of interpellation): citizens, clerks, the "
                           "guarantor.", no_args_is_help=True)


@petition_cli.command("draft")
def petition_draft(
    metropolis: str = typer.Option(..., help="slug of the metropolis"),
    kind: str = typer.Option("interpellation", help="a petition kind of the charter"),
    title: str = typer.Option(..., help="titre"),
    text: str = typer.Option(..., help="texte de la pétition"),
    commune: Optional[str] = typer.Option(None, help="the commune (a kind of commune scope)"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """Draft a petition (citizen who could sign it); it then gathers its sponsors."""
    token = _need(token)
    found = _call("GET", f"/metropolises/{metropolis}", url)
    body: dict[str, Any] = {"metropolis_id": found["id"], "kind": kind, "title": title,
                            "text": text}
    if commune is not None:
        body["commune"] = commune
    data = _call("POST", "/petitions", url, token, body)
    _recorded(data, f"Pétition rédigée : {data['id']}")


@petition_cli.command("sponsor")
def petition_sponsor(petition_id: str, url: Optional[str] = URL,
                     token: Optional[str] = TOKEN) -> None:
    """Sponsor a petition gathering its sponsors (citizen who could sign it)."""
    _recorded(_call("POST", f"/petitions/{petition_id}/sponsors", url, _need(token)),
              "Parrainage enregistré")


@petition_cli.command("leave")
def petition_leave(petition_id: str, url: Optional[str] = URL,
                   token: Optional[str] = TOKEN) -> None:
    """Leave one's sponsorship before the sponsors are gathered (a co-sponsor)."""
    _recorded(_call("DELETE", f"/petitions/{petition_id}/sponsors/mine", url, _need(token)),
              "Parrainage retiré")


@petition_cli.command("withdraw")
def petition_withdraw(petition_id: str, url: Optional[str] = URL,
                      token: Optional[str] = TOKEN) -> None:
    """The author withdraws the petition before its threshold is reached."""
    _recorded(_call("POST", f"/petitions/{petition_id}/withdrawal", url, _need(token)),
              "Pétition retirée")


@petition_cli.command("refer")
def petition_refer(petition_id: str, text: str = typer.Option(...), url: Optional[str] = URL,
                   token: Optional[str] = TOKEN) -> None:
    """The author refers the petition (an inadmissibility, say) to the guarantor."""
    _recorded(_call("POST", f"/petitions/{petition_id}/referral", url, _need(token),
                    {"text": text}), "Garant saisi")


@petition_cli.command("rule")
def petition_rule(
    petition_id: str,
    admissible: bool = typer.Option(..., "--admissible/--inadmissible"),
    competence: str = typer.Option("", help="the competence it falls within"),
    reason: str = typer.Option("", help="why it is inadmissible"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A clerk rules on the petition's admissibility during the review."""
    _recorded(_call("POST", f"/petitions/{petition_id}/admissibility", url, _need(token),
                    {"admissible": admissible, "competence": competence, "reason": reason}),
              "Pétition recevable" if admissible else "Pétition irrecevable")


def _figures(pairs: list[str]) -> dict[str, int]:
    figures: dict[str, int] = {}
    for pair in pairs:
        code, sep, value = pair.partition("=")
        try:
            figures[code.strip()] = int(value)
        except ValueError:
            sep = ""
        if not sep or not code.strip():
            raise typer.BadParameter(f"'{pair}': expected CODE=ELECTORS", param_hint="--figure")
    return figures


@petition_cli.command("electorate")
def petition_electorate(
    metropolis: str = typer.Argument(..., help="slug of the metropolis"),
    figure: list[str] = typer.Option(..., help="CODE=ELECTORS for a commune, repeatable"),
    source: str = typer.Option(..., help="reference of the electoral roll's extract"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A clerk records the registered electors per commune (from an extract of the roll)."""
    body = {"figures": _figures(figure), "source": source}
    _recorded(_call("POST", f"/metropolises/{metropolis}/electorate", url, _need(token), body),
              "Électeurs inscrits enregistrés")


def _paper_signers(path: Path) -> list[dict[str, Any]]:
    """The signers of a CSV file: registry_id, commune, elector (oui/non), birthdate."""
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise typer.BadParameter(f"{path}: {e}", param_hint="--signers") from None
    signers = []
    for n, row in enumerate(rows, start=2):
        if not row.get("registry_id") or not row.get("commune"):
            raise typer.BadParameter(f"{path}:{n}: registry_id and commune are required",
                                     param_hint="--signers")
        signers.append({
            "registry_id": row["registry_id"].strip(), "commune": row["commune"].strip(),
            "elector": (row.get("elector") or "").strip().lower() in ("1", "true", "oui", "yes"),
            "birthdate": (row.get("birthdate") or "").strip() or None})
    if not signers:
        raise typer.BadParameter(f"{path} holds no signer", param_hint="--signers")
    return signers


@petition_cli.command("paper")
def petition_paper(
    petition_id: str,
    sheets: int = typer.Option(..., help="how many sheets"),
    provenance: str = typer.Option(..., help="where the sheets come from"),
    scans: Path = typer.Option(..., exists=True, dir_okay=False,
                               help="the scanned sheets (its SHA-256 is recorded)"),
    signers: Path = typer.Option(..., exists=True, dir_okay=False,
                                 help="CSV: registry_id,commune,elector,birthdate"),
    url: Optional[str] = URL, token: Optional[str] = TOKEN,
) -> None:
    """A clerk enters a batch of paper signatures; an entry that may not sign is refused
    alone, its rule named."""
    import hashlib

    token = _need(token)
    digest = hashlib.sha256(scans.read_bytes()).hexdigest()
    data = _call("POST", f"/petitions/{petition_id}/paper-batches", url, token, {
        "sheets": sheets, "provenance": provenance, "digest": digest,
        "signers": _paper_signers(signers)})
    typer.echo(f"Lot papier {data['batch_id']} (SHA-256 {digest}) : {data['recorded']} "
               f"signature(s) enregistrée(s), {len(data['refused'])} refusée(s).")
    for r in data["refused"]:
        typer.echo(f"  ligne {r['index'] + 1} refusée, règle « {r['rule']} » : "
                   f"{r['explication']} ({r['message']})")


@petition_cli.command("answer")
def petition_answer(petition_id: str, text: str = typer.Option(..., help="the answer"),
                    url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """A clerk records the council's answer once the threshold is reached."""
    _recorded(_call("POST", f"/petitions/{petition_id}/answer", url, _need(token),
                    {"text": text}), "Réponse du conseil enregistrée")


@petition_cli.command("report")
def petition_report(petition_id: str, text: str = typer.Option(..., help="the report"),
                    url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
    """The guarantor records the report of the public consultation the petition won."""
    _recorded(_call("POST", f"/petitions/{petition_id}/consultation-report", url,
                    _need(token), {"text": text}), "Rapport de consultation enregistré")


@petition_cli.command("sign")
def petition_sign(petition_id: str, url: Optional[str] = URL,
                  token: Optional[str] = TOKEN) -> None:
    """Sign a petition collecting signatures (once per person)."""
    data = _call("POST", f"/petitions/{petition_id}/signatures", url, _need(token))
    if isinstance(data, dict) and "position" in data:
        _recorded(data, "Signature enregistrée")
    else:
        typer.echo("Signature enregistrée.")


@petition_cli.command("unsign")
def petition_unsign(petition_id: str, url: Optional[str] = URL,
                    token: Optional[str] = TOKEN) -> None:
    """Withdraw one's signature before the threshold is reached."""
    data = _call("DELETE", f"/petitions/{petition_id}/signatures/mine", url, _need(token))
    if isinstance(data, dict) and "position" in data:
        _recorded(data, "Signature retirée")
    else:
        typer.echo("Signature retirée.")


@petition_cli.command("list")
def petition_list(metropolis: Optional[str] = typer.Option(None, help="slug"),
                  stage: Optional[str] = typer.Option(
                      None, help="drafted | admissibility | collecting | obligation | closed"),
                  url: Optional[str] = URL) -> None:
    """Petitions with their stage."""
    params: dict[str, Any] = {}
    if metropolis:
        params["metropolis_id"] = _call("GET", f"/metropolises/{metropolis}", url)["id"]
    if stage:
        params["stage"] = stage
    for p in _call("GET", "/petitions", url, params=params):
        typer.echo(f"{p['id']}  [{p['stage_fr']}]  {p.get('title') or ''}")


@petition_cli.command("show")
def petition_show(petition_id: str, url: Optional[str] = URL) -> None:
    """One petition: kind, stage, deadlines, threshold, outcome."""
    _show(_call("GET", f"/petitions/{petition_id}", url))


def count_line(count: dict[str, Any]) -> str:
    """`1 234 / 2 000 signatures (61,7 %)`, as the demo prints it too."""
    def spaced(n: int) -> str:
        return f"{n:,}".replace(",", "\u202f")

    threshold = count.get("threshold")
    line = f"{spaced(count['count'])} signature(s)"
    if threshold:
        percent = count.get("progress_percent")
        if percent is None:
            percent = 100 * count["count"] / threshold
        line = (f"{spaced(count['count'])} / {spaced(threshold)} signatures "
                f"({percent:.1f} %)".replace(".", ","))
    if count.get("crossed_at") is not None:
        line += f" — seuil franchi à la position #{count['crossed_at']}"
    return line


@petition_cli.command("count")
def petition_count(petition_id: str, url: Optional[str] = URL) -> None:
    """The exact count of signatures, by commune, and the threshold."""
    count = _call("GET", f"/petitions/{petition_id}/count", url)
    typer.echo(count_line(count) + f" (exact à la position #{count['position']})")
    for commune, n in sorted((count.get("by_commune") or {}).items()):
        typer.echo(f"  {commune} : {n}")


@petition_cli.command("timeline")
def petition_timeline(petition_id: str, url: Optional[str] = URL) -> None:
    """The petition's public timeline, in French."""
    for entry in _call("GET", f"/petitions/{petition_id}/timeline", url):
        typer.echo(f"#{entry['position']:<6} {entry['at'][:19]}  [{entry['stage_fr']}] "
                   f"{entry['actor_fr']} : {entry['text']}")


@petition_cli.command("obligations")
def petition_obligations(metropolis: Optional[str] = typer.Option(None, help="slug"),
                         url: Optional[str] = URL) -> None:
    """The petitions whose threshold obliges the council, and until when."""
    params: dict[str, Any] = {}
    if metropolis:
        params["metropolis_id"] = _call("GET", f"/metropolises/{metropolis}", url)["id"]
    due = _call("GET", "/petitions/obligations-due", url, params=params)
    for o in due:
        typer.echo(f"{o['petition_id']}  {o.get('obligation', '')}  échéance "
                   f"{o.get('due_at', '?')}{'  EN RETARD' if o.get('late') else ''}")
    typer.echo(f"{len(due)} obligation(s) en attente.")
