"""`registre budget …` from the command line, against the API on a real PostgreSQL: each act is
recorded with the actor of its token; a refusal prints the rule in French, exits with status 1
and records nothing; a Pabulib file is imported and exported on the ledger itself."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
import typer
from typer.testing import CliRunner

from api.auth import issue_token
from api.budget_acts import register
from api.messages_fr import RULE_FR
from domain.budget.cycle import CycleStage
from domain.governance.metropolis import Metropolis
from domain.rules import pabulib
from tests.conftest import log_size
from tests.integration.test_budget_api import Api, api  # noqa: F401

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parents[1] / "data" / "pabulib" / \
    "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb"


@pytest.fixture
def run(api: Api, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """`registre budget …` with the API client pointed at the test app."""
    monkeypatch.setattr("api.acts.client_for", lambda url: api.client)
    monkeypatch.setattr("api.cli._settings", lambda **kw: api.settings)
    budget_cli = typer.Typer()
    register(budget_cli)
    runner = CliRunner()

    def invoke(*args: str, sub: str | None = None, role: str = "citizen",
               territory: str | None = "A"):
        token = ["--token", issue_token(api.settings.signing_secret(), sub, role, territory,
                                        birthdate=date(1990, 1, 1))] if sub else []
        return runner.invoke(budget_cli, [*args, *token])
    return invoke


def _id_after(output: str, label: str) -> UUID:
    return UUID(output.split(f"{label} : ")[1].split(" ")[0])


def test_a_cycle_is_opened_a_project_submitted_ruled_and_voted_from_the_command_line(
    api: Api, run,  # noqa: F811
) -> None:
    opened = run("open", "--metropolis", api.slug, "--title", "Budget 2027", "--district",
                 "metropolis=100000", "--rule", "ballot=knapsack", "--rule",
                 "replace_ballot=false", sub="greffe-1", role="clerk", territory=None)
    assert opened.exit_code == 0, opened.output
    cycle_id = _id_after(opened.output, "Budget participatif ouvert")
    rules = api.app.get_budget_cycle(cycle_id).cycle_rules
    assert (rules.ballot, rules.replace_ballot) == ("knapsack", False)
    submitted = run("submit", str(cycle_id), "--title", "Jardin partagé", "--summary",
                    "Des bacs.", "--cost", "40000", "--competence", "environnement",
                    sub="autrice")
    assert submitted.exit_code == 0, submitted.output
    project_id = _id_after(submitted.output, "Projet déposé")
    api.reviewing(cycle_id)
    ruled = run("rule", str(project_id), "--eligible", sub="greffe-1", role="clerk",
                territory=None)
    assert ruled.exit_code == 0, ruled.output
    assert api.app.get_budget_project(project_id).eligible is True
    api.voting(cycle_id)
    voted = run("vote", str(cycle_id), "--project", str(project_id), sub="votant")
    assert voted.exit_code == 0, voted.output
    assert api.app.budget_ballots(cycle_id, upto=log_size(api.settings))[0] == {
        "metropolis": {str(api.app.personal_data.pseudonym(
            api.metropolis_id, "registre-local", "votant")): [[str(project_id), 1]]}}
    size = log_size(api.settings)
    again = run("vote", str(cycle_id), "--project", str(project_id), sub="votant")
    assert again.exit_code == 1
    assert "budget.one_ballot" in again.output and RULE_FR["budget.one_ballot"] in again.output
    assert log_size(api.settings) == size


def test_a_clerk_cancels_a_cycle_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    cycle_id = api.open()
    r = run("cancel", str(cycle_id), "--reason", "Budget gelé.", sub="greffe-1", role="clerk",
            territory=None)
    assert r.exit_code == 0, r.output
    assert api.app.get_budget_cycle(cycle_id).stage == CycleStage.CLOSED


def test_refuses_an_act_when_the_role_does_not_permit_it(api: Api, run) -> None:  # noqa: F811
    cycle_id = api.open()
    size = log_size(api.settings)
    r = run("cancel", str(cycle_id), "--reason", "Pas mon rôle.", sub="citoyen")
    assert r.exit_code == 1
    assert "role_required" in r.output
    assert log_size(api.settings) == size


def test_a_pabulib_file_is_imported_and_exported_from_the_command_line(
    api: Api, run, tmp_path: Path,  # noqa: F811
) -> None:
    r = run("import", str(SMALL), "--metropolis", api.slug)
    assert r.exit_code == 0, r.output
    cycle_id = UUID(r.output.split("Importé : cycle ")[1].split(" ")[0])
    assert api.app.get_budget_cycle(cycle_id).metropolis_id == Metropolis.create_id(api.slug)
    out = tmp_path / "export.pb"
    r = run("export", str(cycle_id), "--output", str(out))
    assert r.exit_code == 0, r.output
    exported, original = pabulib.load(out), pabulib.load(SMALL)
    assert {p["project_id"] for p in exported.projects if p["selected"] == "1"} == {
        p["project_id"] for p in original.projects if p["selected"] == "1"}
    assert len(exported.votes) == len(original.votes)
