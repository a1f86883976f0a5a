"""`registre petition …` from the command line, against the API on a real PostgreSQL: each act
is recorded with the actor of its token; a refusal prints the rule in French, exits with
status 1 and records nothing."""

from __future__ import annotations

import hashlib
from datetime import date
from uuid import UUID

import pytest
from typer.testing import CliRunner

from api.auth import issue_token
from api.cli import cli
from domain.petition.petition import PetitionStage
from tests.conftest import log_size
from tests.integration.test_petitions_api import (  # noqa: F401
    Api,
    StandInViews,
    api,
    pseudonym,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def run(api: Api, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """`registre …` with the API client pointed at the test app; returns the CLI result."""
    monkeypatch.setattr("api.acts.client_for", lambda url: api.client)
    runner = CliRunner()

    def invoke(*args: str, sub: str | None = None, role: str = "citizen",
               territory: str | None = "A"):
        token = ["--token", issue_token(api.settings.signing_secret(), sub, role, territory,
                                        elector=True, birthdate=date(1990, 1, 1))] if sub else []
        return runner.invoke(cli, [*args, *token])
    return invoke


def _id_in(output: str) -> str:
    return output.split("Pétition rédigée : ")[1].split(" ")[0]


def test_a_citizen_drafts_and_another_sponsors_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    drafted = run("petition", "draft", "--metropolis", api.slug, "--title", "Piste cyclable",
                  "--text", "Nous demandons une piste cyclable.", sub="autrice")
    assert drafted.exit_code == 0, drafted.output
    pid = UUID(_id_in(drafted.output))
    assert "enregistré à la position #" in drafted.output
    sponsored = run("petition", "sponsor", str(pid), sub="parrain")
    assert sponsored.exit_code == 0, sponsored.output
    petition = api.app.get_petition(pid)
    assert petition.sponsors == [pseudonym(api, "autrice"), pseudonym(api, "parrain")]


def test_a_second_sponsorship_is_refused_naming_the_rule_and_records_nothing(
    api: Api, run,  # noqa: F811
) -> None:
    pid = _id_in(run("petition", "draft", "--metropolis", api.slug, "--kind", "trois-parrains",
                     "--title", "Jardins", "--text", "Un jardin par quartier.",
                     sub="autrice").output)
    assert run("petition", "sponsor", pid, sub="parrain").exit_code == 0
    size = log_size(api.settings)
    again = run("petition", "sponsor", pid, sub="parrain")
    assert again.exit_code == 1
    assert "règle « petition.one_sponsorship » : Vous parrainez déjà cette pétition." in (
        again.output)
    assert log_size(api.settings) == size


def test_a_clerk_rules_inadmissible_and_records_the_electorate(api: Api, run) -> None:  # noqa: F811
    pid = UUID(api.draft("consultation")["id"])
    api.app.open_petition_admissibility(pid, api.app.clock())
    ruled = run("petition", "rule", str(pid), "--inadmissible", "--reason",
                "Hors des compétences de la métropole.", sub="greffe-1", role="clerk",
                territory=None)
    assert ruled.exit_code == 0 and "Pétition irrecevable" in ruled.output, ruled.output
    assert api.app.get_petition(pid).outcome == "inadmissible"
    recorded = run("petition", "electorate", api.slug, "--figure", "A=700", "--figure",
                   "B=300", "--source", "extrait REU 2026-11", sub="greffe-1", role="clerk",
                   territory=None)
    assert recorded.exit_code == 0, recorded.output
    bad = run("petition", "electorate", api.slug, "--figure", "A:700", "--source", "x",
              sub="greffe-1", role="clerk")
    assert bad.exit_code == 2 and "expected CODE=ELECTORS" in bad.output


def test_a_clerk_enters_a_paper_batch_from_a_csv_and_its_refused_line_is_named(
    api: Api, run, tmp_path,  # noqa: F811
) -> None:
    pid = api.collecting("interpellation")
    scans = tmp_path / "feuilles.pdf"
    scans.write_bytes(b"%PDF-1.4 feuilles numerisees")
    signers = tmp_path / "signataires.csv"
    signers.write_text("registry_id,commune,elector,birthdate\nREU-1,A,oui,1980-01-02\n"
                       "REU-1,A,oui,1980-01-02\n", encoding="utf-8")
    entered = run("petition", "paper", str(pid), "--sheets", "1", "--provenance",
                  "Mairie de Ville A", "--scans", str(scans), "--signers", str(signers),
                  sub="greffe-1", role="clerk", territory=None)
    assert entered.exit_code == 0, entered.output
    assert "1 signature(s) enregistrée(s), 1 refusée(s)" in entered.output
    assert "ligne 2 refusée, règle « petition.one_signature »" in entered.output
    batch_id = UUID(entered.output.split("Lot papier ")[1].split(" ")[0])
    [batch_event] = list(api.app.events.get(batch_id))
    assert batch_event.digest == hashlib.sha256(scans.read_bytes()).hexdigest()


def test_the_author_withdraws_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    pid = api.draft(sub="autrice")["id"]
    assert run("petition", "withdraw", pid, sub="autrice").exit_code == 0
    assert api.app.get_petition(UUID(pid)).stage == PetitionStage.CLOSED


def test_reads_the_count_and_the_timeline_in_french(api: Api, run) -> None:  # noqa: F811
    views = StandInViews(api.app.get_petition(UUID(api.draft()["id"])).id, api.metropolis_id)
    api.client.app.state.petition_views = views
    count = run("petition", "count", str(views.petition_id))
    assert count.exit_code == 0, count.output
    assert "12 / 15 signatures (80,0 %) (exact à la position #41)" in count.output
    assert "A : 10" in count.output
    timeline = run("petition", "timeline", str(views.petition_id))
    assert "[recherche de parrains] citoyen·ne : Pétition rédigée" in timeline.output
    listed = run("petition", "list", "--metropolis", api.slug, "--stage", "collecting")
    assert f"{views.petition_id}  [collecte des signatures]" in listed.output
