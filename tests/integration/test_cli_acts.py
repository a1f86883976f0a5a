"""The `registre proposal | guarantor | bureau` acts from the command line, against the API on
a real PostgreSQL: each act is recorded with the actor of its token; a refusal prints the
rule, exits with status 1 and records nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

import pytest
from typer.testing import CliRunner

from api.auth import issue_token
from api.cli import cli
from tests.conftest import log_size
from tests.integration.helpers import to_vote
from tests.integration.test_proposals_api import Api, api  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def run(api: Api, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """`registre …` with the API client pointed at the test app; returns the CLI result."""
    monkeypatch.setattr("api.acts.client_for", lambda url: api.client)
    runner = CliRunner()

    def invoke(*args: str, sub: str | None = None, role: str | None = None):
        token = ["--token", issue_token(api.settings.signing_secret(), sub, role)] if sub else []
        return runner.invoke(cli, [*args, *token])
    return invoke


def test_a_citizen_submits_supports_and_comments_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    slug = api.app.get_metropolis(api.metropolis_id).slug
    result = run("proposal", "submit", "--metropolis", slug, "--title", "Jardins partagés",
                 "--summary", "Un jardin par quartier.", sub="c1", role="citizen")
    assert result.exit_code == 0, result.output
    assert "Proposition déposée" in result.output
    pid = api.client.get("/proposals").json()[0]["id"]
    assert api.client.get(f"/proposals/{pid}").json()["title"] == "Jardins partagés"

    api.app.open_consultation(UUID(pid), datetime.now(timezone.utc))
    assert run("proposal", "support", pid, sub="c2", role="citizen").exit_code == 0
    assert run("proposal", "comment", pid, "--text", "Bonne idée.", sub="c2",
               role="citizen").exit_code == 0
    shown = run("proposal", "timeline", pid)
    assert "ProposalSubmitted" not in shown.output and "déposée" in shown.output
    assert api.client.get(f"/proposals/{pid}").json()["supports"] == 1
    assert [c["text"] for c in api.client.get(f"/proposals/{pid}/comments").json()] == [
        "Bonne idée."]


def test_a_councillor_votes_and_a_second_vote_is_refused_naming_the_rule(api: Api, run) -> None:  # noqa: F811
    pid = str(to_vote(api.app, api.metropolis_id))
    assert run("proposal", "vote", pid, "--choice", "for", sub="m1",
               role="councillor").exit_code == 0
    size = log_size(api.settings)
    again = run("proposal", "vote", pid, "--choice", "against", sub="m1", role="councillor")
    assert again.exit_code == 1
    assert "règle « one_vote_per_member » : Chaque membre ne vote qu'une fois" in again.output
    assert log_size(api.settings) == size


def test_the_guarantor_requires_a_consultation_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    result = run("guarantor", "require-consultation", str(pid), "--reason",
                 "Le public n'a pas été informé.", "--days", "45", sub="garant",
                 role="guarantor")
    assert result.exit_code == 0, result.output
    assert api.app.get_proposal(pid).required_consultation_seconds == 45 * 86400


def test_refuses_an_act_without_the_role_and_records_nothing(api: Api, run) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    size = log_size(api.settings)
    result = run("guarantor", "notice", str(pid), "--text", "Un avis sans mandat.", sub="c1",
                 role="citizen")
    assert result.exit_code == 1 and "règle « role_required »" in result.output
    assert log_size(api.settings) == size


def test_names_the_field_when_the_api_finds_the_request_malformed(api: Api, run) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    result = run("proposal", "comment", str(pid), "--text", "x", sub="c1", role="citizen")
    assert result.exit_code == 1 and "body.text" in result.output


def test_refuses_an_act_without_a_token_before_calling_the_api(api: Api, run) -> None:  # noqa: F811
    size = log_size(api.settings)
    result = run("proposal", "withdraw", "00000000-0000-0000-0000-000000000000")
    assert result.exit_code == 1 and "REGISTRE_TOKEN" in result.output
    assert log_size(api.settings) == size


def test_refuses_a_score_that_is_not_name_equals_number(api: Api, run) -> None:  # noqa: F811
    result = run("proposal", "score", "00000000-0000-0000-0000-000000000000",
                 "--indicator", "usage:7", sub="p1", role="citizen")
    assert result.exit_code == 2 and "expected name=score" in result.output


def test_submits_the_rules_a_charter_amendment_changes_written_as_in_the_config_file(
    api: Api, run, tmp_path,  # noqa: F811
) -> None:
    charter = tmp_path / "charte-v2.yaml"
    charter.write_text("consultation: P45D\nvote: P14D\nquorum_percent: 60\n"
                       "decision_majorities: {budget: absolute}\n", encoding="utf-8")
    slug = api.app.get_metropolis(api.metropolis_id).slug
    result = run("proposal", "submit", "--metropolis", slug, "--title", "Charte v2",
                 "--summary", "Allonger la consultation.", "--charter-amendment", str(charter),
                 sub="c1", role="citizen")
    assert result.exit_code == 0, result.output
    pid = UUID(api.client.get("/proposals").json()[0]["id"])
    proposed = api.app.get_proposal(pid).amends_charter_with
    in_force = api.app.get_charter(api.metropolis_id).rules().as_dict()
    assert proposed == {**in_force, "consultation_seconds": 45 * 86400,
                        "vote_seconds": 14 * 86400, "quorum_percent": 60,
                        "decision_majorities": {"budget": "absolute"}}


def test_refuses_a_charter_amendment_file_with_a_misspelt_rule(api: Api, run, tmp_path) -> None:  # noqa: F811
    charter = tmp_path / "charte-v2.yaml"
    charter.write_text("consultation: P45D\nvote: P14D\nquorum_percent: 60\nquorom: 3\n",
                       encoding="utf-8")
    size = log_size(api.settings)
    result = run("proposal", "submit", "--metropolis", "x", "--title", "Charte v2",
                 "--summary", "…", "--charter-amendment", str(charter), sub="c1",
                 role="citizen")
    assert result.exit_code == 2 and "quorom" in result.output
    assert log_size(api.settings) == size


def test_a_citizen_drafts_revises_and_submits_from_the_command_line(api: Api, run) -> None:  # noqa: F811
    slug = api.app.get_metropolis(api.metropolis_id).slug
    started = run("draft", "start", "--metropolis", slug, "--title", "Brouillon",
                  "--summary", "Texte.", sub="c1", role="citizen")
    assert started.exit_code == 0, started.output
    draft_id = started.output.split("Brouillon commencé : ")[1].split(" ")[0]
    assert run("draft", "revise", draft_id, "--title", "Vélos en libre-service", sub="c1",
               role="citizen").exit_code == 0
    submitted = run("draft", "submit", draft_id, sub="c1", role="citizen")
    assert submitted.exit_code == 0, submitted.output
    assert [p["title"] for p in api.client.get("/proposals").json()] == [
        "Vélos en libre-service"]
    again = run("draft", "revise", draft_id, "--summary", "Encore ?", sub="c1", role="citizen")
    assert again.exit_code == 1 and "draft_closed" in again.output
