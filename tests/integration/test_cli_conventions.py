"""`registre convention …` acts from the command line, against the API on a real PostgreSQL:
each act is recorded with the actor of its token; a refusal prints the rule in French, exits
with status 1 and records nothing; a registry extract leaves the clerk's machine as keyed
pseudonyms only. (The `convention` typer itself is api/convention_cli.py's: the acts are
added here to a local typer, as the CLI adds them.)"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
import typer
from typer.testing import CliRunner

from api.auth import issue_token
from api.convention_acts import pseudonymise, register_convention_acts
from api.messages_fr import RULE_FR
from domain.convention.convention import ConventionStage
from tests.conftest import log_size
from tests.integration.test_conventions_api import (  # noqa: F401
    SECRET,
    Api,
    api,
    convention_pseudonym,
    uniform_solver,
)

pytestmark = pytest.mark.integration

CLERK = {"sub": "greffe-1", "role": "clerk", "territory": None}
GUARANTOR = {"sub": "garant-1", "role": "guarantor", "territory": None}


@pytest.fixture
def run(api: Api, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """`registre convention …` with the API client pointed at the test app."""
    monkeypatch.setattr("api.acts.client_for", lambda url: api.client)
    convention_cli = typer.Typer()
    register_convention_acts(convention_cli)
    runner = CliRunner()

    def invoke(*args: str, sub: str | None = None, role: str = "citizen",
               territory: str | None = "A"):
        token = ["--token", issue_token(api.settings.signing_secret(), sub, role, territory,
                                        birthdate=date(1990, 1, 1))] if sub else []
        return runner.invoke(convention_cli, [*args, *token])
    return invoke


def _id_after(output: str, label: str) -> UUID:
    return UUID(output.split(f"{label} : ")[1].split(" ")[0])


def test_a_convention_is_convened_committed_joined_revealed_and_answered_from_the_command_line(
    api: Api, run, tmp_path: Path,  # noqa: F811
) -> None:
    opened = run("open", "--metropolis", api.slug, "--title", "Convention climat",
                 "--mandate", "Proposer des mesures.", "--rule", "method=nash",
                 "--quota", "gender:f=2-2", "--quota", "gender:m=2-2", **CLERK)
    assert opened.exit_code == 0, opened.output
    cid = _id_after(opened.output, "Convention citoyenne convoquée")
    rules = api.app.get_convention(cid).convention_rules
    assert (rules.method, rules.quotas) == ("nash", {"gender": {"f": [2, 2], "m": [2, 2]}})
    secret = tmp_path / "garant" / "secret.hex"
    committed = run("commit-seed", str(cid), "--secret-file", str(secret), **GUARANTOR)
    assert committed.exit_code == 0, committed.output
    assert api.app.get_convention(cid).seed_digest == hashlib.sha256(
        bytes.fromhex(secret.read_text().strip())).hexdigest()
    assert secret.stat().st_mode & 0o077 == 0
    for i in range(6):
        r = run("register", str(cid), "--value", f"gender={'fm'[i % 2]}", "--contact",
                "06 00 00 00 00", sub=f"v{i}")
        assert r.exit_code == 0, r.output
    gone = run("withdraw", str(cid), sub="v5")
    assert gone.exit_code == 0 and "Candidature retirée" in gone.output
    assert len(api.app.convention_pool(cid)) == 5
    assert api.app.commit_convention_pool(cid, api.app.clock(), uniform_solver)
    revealed = run("reveal", str(cid), "--secret-file", str(secret), **GUARANTOR)
    assert revealed.exit_code == 0, revealed.output
    panel = api.app.draw_convention_panel(cid, api.app.clock())
    member = next(f"v{i}" for i in range(5) if convention_pseudonym(api, f"v{i}", cid) == panel[0])
    declined = run("answer", str(cid), "--decline", sub=member)
    assert declined.exit_code == 0, declined.output
    assert api.app.get_convention(cid).declined == [panel[0]]
    api.app.open_convention_sitting(cid, api.app.clock())
    held = run("session", str(cid), "--number", "1", "--summary", "Ouverture.", **CLERK)
    assert held.exit_code == 0, held.output
    sent = run("propose", str(cid), "--title", "Des pistes cyclables", "--summary",
               "Relier les communes.", "--commune", "A", **CLERK)
    assert sent.exit_code == 0, sent.output
    proposal_id = _id_after(sent.output, "Proposition transmise au conseil")
    assert api.app.get_convention(cid).proposals == [proposal_id]
    cancelled = run("cancel", str(cid), "--reason", "Fin anticipée.", **CLERK)
    assert cancelled.exit_code == 0, cancelled.output
    assert api.app.get_convention(cid).stage == ConventionStage.ENDED


def test_invitations_are_drawn_from_keyed_pseudonyms_and_the_invited_rows_written_locally(
    api: Api, run, tmp_path: Path,  # noqa: F811
) -> None:
    cid = api.open("jury")
    registry = tmp_path / "registre.csv"
    registry.write_text("adresse,commune\n1  rue de la Paix,A\n2 rue Haute,A\n"
                        "3 place Royale,B\n\n", encoding="utf-8")
    key = tmp_path / "greffe.key"
    r = run("invite", str(cid), "--registry", str(registry), "--key-file", str(key),
            "--seed", "tirage public du 3 mars", **CLERK)
    assert r.exit_code == 0, r.output
    assert "2 invitation(s) tirée(s) parmi 3 entrées" in r.output
    k = bytes.fromhex(key.read_text().strip())
    expected = {pseudonymise(k, line) for line in
                ("1 rue de la Paix;A", "2 rue Haute;A", "3 place Royale;B")}
    convention = api.app.get_convention(cid)
    assert set(convention.invited) <= expected
    rows = (tmp_path / "registre.invited.csv").read_text().splitlines()
    assert [row.rsplit(",", 1)[1] for row in rows] == convention.invited
    assert all("rue" in row or "place" in row for row in rows)
    # what the log holds of the extract: its size, its digest and pseudonyms, no address
    assert all(len(p) == 64 and int(p, 16) >= 0 for p in convention.invited)


def test_a_refusal_prints_the_rule_in_french_and_records_nothing_when_run_from_the_cli(
    api: Api, run,  # noqa: F811
) -> None:
    cid = api.open()
    size = log_size(api.settings)
    r = run("register", str(cid), "--value", "gender=autre", sub="x")
    assert r.exit_code == 1
    assert "convention.category_value" in r.output
    assert RULE_FR["convention.category_value"] in r.output
    early = run("reveal", str(cid), "--seed", SECRET, **GUARANTOR)
    assert early.exit_code == 1 and "convention.seed_before_commitment" in early.output
    bad = run("open", "--metropolis", api.slug, "--title", "T", "--mandate", "M", "--quota",
              "gender:f", **CLERK)
    assert bad.exit_code != 0
    missing = run("withdraw", str(cid))
    assert missing.exit_code == 1 and "Un jeton est requis" in missing.output
    assert log_size(api.settings) == size
