"""The participatory budget's acts from the command line (`registre budget …`), over the
HTTP API with the caller's bearer token, as every other act (api/acts.py):

    registre budget open --metropolis SLUG --title T --district metropolis=500000 [--district A=…]
                         [--rule KEY=VALUE …]                                        (clerk)
    registre budget submit CYCLE --district D --title T --summary S --cost N [--competence C]
    registre budget rule PROJECT (--eligible | --ineligible --reason R)               (clerk)
    registre budget appeal PROJECT --text T                                          (author)
    registre budget decide-appeal PROJECT (--upheld | --dismissed) --reason R     (guarantor)
    registre budget vote CYCLE --district D --project ID [--project …] | --points ID=N …
    registre budget milestone PROJECT --status S [--note N]                           (clerk)
    registre budget cancel CYCLE --reason R                                           (clerk)
    registre budget show CYCLE | results CYCLE
    registre budget import FILE.pb --metropolis SLUG        (on the ledger itself; operator)
    registre budget export CYCLE [--district D] [--output FILE.pb]

`import` and `export` run on the ledger directly (the operator's settings, as `registre
migrate`), not over the API: an import runs every stage of a closed cycle at once.
`register(budget_cli)` adds these commands to the `budget` typer of api/budget_cli.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from api.acts import TOKEN, URL, _call, _need, _recorded, _show


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        out[key.strip()] = rest.strip()
    return out


def _whole(value: str, option: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a whole number", param_hint=option) from None


def _rule_value(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        return value


def register(budget_cli: typer.Typer) -> None:
    """Add the budget's act commands to `budget_cli`."""

    @budget_cli.command("open")
    def budget_open(
        metropolis: str = typer.Option(..., help="slug of the metropolis"),
        title: str = typer.Option(..., help="titre du cycle"),
        district: list[str] = typer.Option(..., help="DISTRICT=BUDGET: `metropolis` or a "
                                                     "member commune's code (repeatable)"),
        rule: list[str] = typer.Option([], help="KEY=VALUE overriding a charter budget rule, "
                                                "e.g. ballot=knapsack (repeatable)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Open a budget cycle with its districts' budgets and rules (clerk)."""
        districts = {k: _whole(v, "--district") for k, v in _pairs(district, "--district").items()}
        body: dict[str, Any] = {"title": title, "districts": districts}
        if rule:
            body["rules"] = {k: _rule_value(v) for k, v in _pairs(rule, "--rule").items()}
        data = _call("POST", f"/metropolises/{metropolis}/budgets", url, _need(token), body)
        _recorded(data, f"Budget participatif ouvert : {data['id']}")

    @budget_cli.command("submit")
    def budget_submit(
        cycle_id: str, district: str = typer.Option("metropolis"),
        title: str = typer.Option(...), summary: str = typer.Option(...),
        cost: int = typer.Option(..., help="coût, en unités entières"),
        competence: Optional[str] = typer.Option(None),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Submit a project to a cycle taking projects (resident)."""
        body: dict[str, Any] = {"district": district, "title": title, "summary": summary,
                                "cost": cost}
        if competence is not None:
            body["competence"] = competence
        data = _call("POST", f"/budgets/{cycle_id}/projects", url, _need(token), body)
        _recorded(data, f"Projet déposé : {data['id']}")

    @budget_cli.command("rule")
    def budget_rule(
        project_id: str,
        eligible: bool = typer.Option(..., "--eligible/--ineligible"),
        reason: str = typer.Option("", help="motifs (requis pour --ineligible)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Rule a project eligible or not during the review (clerk)."""
        _recorded(_call("POST", f"/budget-projects/{project_id}/ruling", url, _need(token),
                        {"eligible": eligible, "reason": reason}), "Décision enregistrée")

    @budget_cli.command("appeal")
    def budget_appeal(project_id: str, text: str = typer.Option(...),
                      url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
        """Appeal a project's ineligibility to the guarantor (its author)."""
        _recorded(_call("POST", f"/budget-projects/{project_id}/appeal", url, _need(token),
                        {"text": text}), "Recours enregistré")

    @budget_cli.command("decide-appeal")
    def budget_decide_appeal(
        project_id: str, upheld: bool = typer.Option(..., "--upheld/--dismissed"),
        reason: str = typer.Option(...), url: Optional[str] = URL,
        token: Optional[str] = TOKEN,
    ) -> None:
        """Decide an appeal, with reasons (guarantor)."""
        _recorded(_call("POST", f"/budget-projects/{project_id}/appeal-decision", url,
                        _need(token), {"upheld": upheld, "reason": reason}),
                  "Décision du garant enregistrée")

    @budget_cli.command("vote")
    def budget_vote(
        cycle_id: str, district: str = typer.Option("metropolis"),
        project: list[str] = typer.Option([], help="a project ticked (repeatable)"),
        points: list[str] = typer.Option([], help="PROJECT=N points (cumulative ballot)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Cast a ballot while voting is open (resident)."""
        if bool(project) == bool(points):
            raise typer.BadParameter("give --project … or --points …, not both")
        body: dict[str, Any] = {"district": district}
        if project:
            body["projects"] = project
        else:
            body["choices"] = [{"project": k, "points": _whole(v, "--points")}
                               for k, v in _pairs(points, "--points").items()]
        _recorded(_call("POST", f"/budgets/{cycle_id}/ballots", url, _need(token), body),
                  "Bulletin enregistré")

    @budget_cli.command("milestone")
    def budget_milestone(
        project_id: str,
        status: str = typer.Option(..., help="planned | started | delivered | abandoned"),
        note: str = typer.Option(""), url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Record a milestone of a selected project (clerk)."""
        _recorded(_call("POST", f"/budget-projects/{project_id}/milestones", url,
                        _need(token), {"status": status, "note": note}), "Jalon enregistré")

    @budget_cli.command("cancel")
    def budget_cancel(cycle_id: str, reason: str = typer.Option(...),
                      url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
        """Cancel a cycle before its results, with reasons (clerk)."""
        _recorded(_call("POST", f"/budgets/{cycle_id}/cancellation", url, _need(token),
                        {"reason": reason}), "Budget participatif annulé")

    @budget_cli.command("show")
    def budget_show(cycle_id: str, url: Optional[str] = URL) -> None:
        """A cycle, then its projects."""
        _show({"cycle": _call("GET", f"/budgets/{cycle_id}", url),
               "projects": _call("GET", f"/budgets/{cycle_id}/projects", url)})

    @budget_cli.command("results")
    def budget_results(cycle_id: str, url: Optional[str] = URL) -> None:
        """Each district's results: the projects selected, the rounds, why the others not."""
        _show(_call("GET", f"/budgets/{cycle_id}/results", url))

    @budget_cli.command("import")
    def budget_import(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
        metropolis: str = typer.Option(..., help="slug of the metropolis to import into"),
        clerk: str = typer.Option("import-pabulib", help="the clerk reference recorded"),
    ) -> None:
        """Import a Pabulib `.pb` file as a closed, tallied cycle (operator, on the ledger)."""
        from api.budget_pabulib import import_file
        from api.cli import _settings
        from api.wiring import make_registre
        from domain.errors import DomainError
        from domain.governance.metropolis import Metropolis
        from domain.rules.pabulib import PbError

        app = make_registre(_settings())
        try:
            done = import_file(app, Metropolis.create_id(metropolis), path, clerk)
        except (DomainError, PbError) as e:
            typer.echo(f"Refusé : {e}", err=True)
            raise typer.Exit(1) from None
        finally:
            app.close()
        selected = sum(len(r["selected"]) for r in done.results.values())
        typer.echo(f"Importé : cycle {done.cycle_id} ({done.source}), {done.projects} "
                   f"projets, {done.ballots} bulletins, {selected} projets retenus.")

    @budget_cli.command("export")
    def budget_export(
        cycle_id: str, district: Optional[str] = typer.Option(None),
        output: Optional[Path] = typer.Option(None, help="file to write (default: stdout)"),
    ) -> None:
        """Export a closed cycle's district as a Pabulib `.pb` file (on the ledger)."""
        from uuid import UUID

        from api.budget_pabulib import export_pb
        from api.cli import _settings
        from api.wiring import make_registre
        from domain.errors import DomainError
        from domain.rules.pabulib import dump

        try:
            cid = UUID(cycle_id)
        except ValueError:
            raise typer.BadParameter(f"{cycle_id!r} is not a cycle id") from None
        app = make_registre(_settings())
        try:
            text = dump(export_pb(app, cid, district))
        except DomainError as e:
            typer.echo(f"Refusé : {e}", err=True)
            raise typer.Exit(1) from None
        finally:
            app.close()
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8", newline="")
            typer.echo(f"Écrit : {output}")
