"""Privacy by design (D10) over HTTP on a real PostgreSQL: citizens' token subjects never reach
the log (pseudonyms), what they write is stored only sealed, the views open it for display, a
draft reads for its author only until submitted, and the guarantor's erasure (API or CLI) leaves
no readable byte of the erased text in any table while a new export still verifies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from api.audit import export
from api.settings import Settings
from api.wiring import ledger_key, make_merkle_log
from domain.ledger.verify import verify_export
from domain.ports import ERASED
from projections.ledger import MerkleFollower, issue_checkpoint
from projections.personal_data import PERSONAL_KEYS
from tests.conftest import log_size
from tests.integration.helpers import citizen
from tests.integration.test_evaluation_api import in_implementation
from tests.integration.test_proposals_api import Api, api  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

# ASCII on purpose: each must be found however a table renders it (text, JSON, bytea hex).
SUBJECTS = ("alice-sub-7f3a", "bob-sub-91c2", "carol-sub-22d4", "dave-sub-55e6", "eve-sub-08b1")
DRAFT_TITLE, DRAFT_SUMMARY = "Jardin partage rue Carnot", "Un jardin partage par quartier"
REVISED = "Deux jardins partages par quartier"
TITLE, SUMMARY = "Bancs publics place Drouet", "Des bancs ombrages pour les aines"
COMMENT = "Commentaire prive de Dave sur les bancs"
EVALUATION = "Avis d'Eve sur la mise en oeuvre"


def _rendered(text: str) -> tuple[str, ...]:
    """How a clear text would show in a row cast to text: as is, or hex inside bytea."""
    return (text.lower(), text.encode().hex())


def _database_text(settings: Settings) -> str:
    """Every row of every table of the database, as text (lower case)."""
    with psycopg.connect(settings.postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE "
            "table_schema NOT IN ('pg_catalog', 'information_schema') AND "
            "table_type = 'BASE TABLE'").fetchall()
        assert len(tables) >= 8, tables
        rows = [str(r[0]) for schema, name in tables for r in conn.execute(
            f'SELECT t::text FROM "{schema}"."{name}" t')]  # noqa: S608 - catalogue names
    return "\n".join(rows).lower()


def _events_text(settings: Settings) -> str:
    with psycopg.connect(settings.postgres_url) as conn:
        return "\n".join(bytes(r[0]).decode() for r in conn.execute(
            "SELECT state FROM registre_events")).lower()


def _keys(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.postgres_url) as conn:
        return conn.execute(f"SELECT metropolis_id, person, key FROM {PERSONAL_KEYS} "  # noqa: S608
                            "ORDER BY 1, 2").fetchall()


def _exported(api: Api, tmp_path: Path) -> tuple[list[dict], object]:  # noqa: F811
    log = make_merkle_log(api.settings)
    try:
        MerkleFollower(api.app.recorder, api.app.name, log).catch_up()
        key = ledger_key(api.settings)
        assert issue_checkpoint(log, key) is not None
    finally:
        log.datastore.close()
    path = tmp_path / "export.jsonl"
    export(api.client, path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return lines, verify_export(lines, key.vkey())


def _citizens_act(api: Api) -> tuple[str, str, str]:  # noqa: F811
    """Alice drafts, revises and submits; Bob submits; Carol supports; Dave comments."""
    h = {s: api.token(s, "citizen") for s in SUBJECTS}
    mid = str(api.metropolis_id)
    r = api.client.post("/drafts", headers=h["alice-sub-7f3a"], json={
        "metropolis_id": mid, "title": DRAFT_TITLE, "summary": DRAFT_SUMMARY})
    assert r.status_code == 201, r.text
    draft_id = r.json()["id"]
    assert api.client.patch(f"/drafts/{draft_id}", headers=h["alice-sub-7f3a"],
                            json={"summary": REVISED}).status_code == 200
    alice = api.client.post(f"/drafts/{draft_id}/submission", headers=h["alice-sub-7f3a"])
    assert alice.status_code == 201, alice.text
    bob = api.client.post("/proposals", headers=h["bob-sub-91c2"], json={
        "metropolis_id": mid, "title": TITLE, "summary": SUMMARY})
    assert bob.status_code == 201, bob.text
    pid = bob.json()["id"]
    api.app.open_consultation(UUID(pid), datetime.now(timezone.utc) - timedelta(minutes=1))
    assert api.client.post(f"/proposals/{pid}/supports",
                           headers=h["carol-sub-22d4"]).status_code == 201
    assert api.client.post(f"/proposals/{pid}/comments", headers=h["dave-sub-55e6"],
                           json={"text": COMMENT}).status_code == 201
    return draft_id, alice.json()["id"], pid


def test_no_subject_and_no_clear_text_reach_any_event_when_citizens_act_over_http(
        api: Api) -> None:  # noqa: F811
    _, _, pid = _citizens_act(api)
    events = _events_text(api.settings)
    for clear in (*SUBJECTS, DRAFT_TITLE, DRAFT_SUMMARY, REVISED, TITLE, SUMMARY, COMMENT):
        assert clear.lower() not in events, clear
    # ... while the views read them in clear, and one support per pseudonym still holds.
    body = api.client.get(f"/proposals/{pid}").json()
    assert (body["title"], body["summary"], body["supports"]) == (TITLE, SUMMARY, 1)
    [comment] = api.client.get(f"/proposals/{pid}/comments").json()
    assert comment == {**comment, "text": COMMENT,
                       "citizen_ref": citizen(api.app, api.metropolis_id, "dave-sub-55e6")}
    again = api.client.post(f"/proposals/{pid}/supports",
                            headers=api.token("carol-sub-22d4", "citizen"))
    assert again.status_code == 409 and again.json()["detail"]["rule"] == "one_support_per_citizen"


def test_a_draft_reads_for_its_author_only_until_it_is_submitted_when_others_ask(
        api: Api) -> None:  # noqa: F811
    h = api.token("alice-sub-7f3a", "citizen")
    r = api.client.post("/drafts", headers=h, json={
        "metropolis_id": str(api.metropolis_id), "title": DRAFT_TITLE, "summary": DRAFT_SUMMARY})
    draft_id = r.json()["id"]
    mine = api.client.get(f"/drafts/{draft_id}", headers=h).json()
    assert (mine["title"], mine["summary"]) == (DRAFT_TITLE, DRAFT_SUMMARY)
    other = api.client.get(f"/drafts/{draft_id}", headers=api.token("bob-sub-91c2", "citizen"))
    assert other.status_code == 403 and other.json()["detail"]["rule"] == "not_the_author"
    pid = api.client.post(f"/drafts/{draft_id}/submission", headers=h).json()["id"]
    after = api.client.get(f"/drafts/{draft_id}", headers=h).json()
    assert (after["title"], after["summary"], after["proposal_id"]) == (None, None, pid)
    assert api.client.get(f"/proposals/{pid}").json()["title"] == DRAFT_TITLE


def test_erased_texts_read_as_erased_and_leave_no_byte_when_the_guarantor_erases(
        api: Api, tmp_path: Path) -> None:  # noqa: F811
    _, alice_pid, pid = _citizens_act(api)
    guarantor = api.token("garant", "guarantor")
    size = log_size(api.settings)
    for sub in ("dave-sub-55e6", "alice-sub-7f3a"):
        r = api.client.post("/guarantor/erasures", headers=guarantor, json={
            "metropolis_id": str(api.metropolis_id), "subject": sub})
        assert r.status_code == 201, r.text
        assert r.json() == {"pseudonym": citizen(api.app, api.metropolis_id, sub),
                            "erased": True}
    assert log_size(api.settings) == size  # the log keeps every leaf as it was

    [comment] = api.client.get(f"/proposals/{pid}/comments").json()
    assert comment["text"] == ERASED
    erased = api.client.get(f"/proposals/{alice_pid}").json()
    assert (erased["title"], erased["summary"]) == (ERASED, ERASED)
    [submitted] = [t for t in api.client.get(f"/proposals/{alice_pid}/timeline").json()
                   if t["event"] == "ProposalSubmitted"]
    assert f"« {ERASED} »" in submitted["label"] and DRAFT_TITLE not in submitted["label"]
    assert api.client.get(f"/proposals/{pid}").json()["title"] == TITLE  # Bob's is kept

    database = _database_text(api.settings)
    assert "Ville A".encode().hex() in database  # the scan reads the log's bytea (public text)
    for clear in (COMMENT, DRAFT_TITLE, DRAFT_SUMMARY, REVISED, *SUBJECTS):
        for form in _rendered(clear):
            assert form not in database, (clear, form)
    lines, report = _exported(api, tmp_path)
    assert report.ok, report.errors
    assert report.records == log_size(api.settings) and report.ballots_recounted == 0


def test_refuses_erasure_and_changes_nothing_when_unknown_or_not_the_guarantor(
        api: Api) -> None:  # noqa: F811
    _citizens_act(api)
    keys, size = _keys(api.settings), log_size(api.settings)
    body = {"metropolis_id": str(api.metropolis_id), "subject": "dave-sub-55e6"}
    by_citizen = api.client.post("/guarantor/erasures", json=body,
                                 headers=api.token("dave-sub-55e6", "citizen"))
    assert by_citizen.status_code == 403
    assert by_citizen.json()["detail"]["rule"] == "role_required"
    unknown = api.client.post("/guarantor/erasures", headers=api.token("garant", "guarantor"),
                              json={**body, "subject": "nobody-sub-00"})
    assert unknown.status_code == 404 and unknown.json()["detail"]["rule"] == "unknown_person"
    assert unknown.json()["detail"]["explication"]
    assert (_keys(api.settings), log_size(api.settings)) == (keys, size)


def test_cli_erases_the_subject_s_key_when_the_metropolis_and_subject_are_known(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from api.cli import cli

    _, _, pid = _citizens_act(api)
    slug = api.app.get_metropolis(api.metropolis_id).slug
    monkeypatch.setenv("REGISTRE_POSTGRES_URL", api.settings.postgres_url)
    runner = CliRunner()
    unknown = runner.invoke(cli, ["privacy", "erase", "--subject", "nobody-sub-00",
                                  "--metropolis", slug])
    assert unknown.exit_code == 1 and "nothing erased" in unknown.output
    done = runner.invoke(cli, ["privacy", "erase", "--subject", "dave-sub-55e6",
                               "--metropolis", slug])
    assert done.exit_code == 0, done.output
    assert citizen(api.app, api.metropolis_id, "dave-sub-55e6") in done.output
    [comment] = api.client.get(f"/proposals/{pid}/comments").json()
    assert comment["text"] == ERASED


def test_an_evaluation_comment_is_sealed_and_opens_in_the_timeline_when_a_panel_member_scores(
        api: Api) -> None:  # noqa: F811
    pid = in_implementation(api)
    mid = api.app.get_proposal(pid).metropolis_id
    api.app.appoint_evaluation_panel(pid, "garant", [citizen(api.app, mid, "eve-sub-08b1")])
    api.app.open_evaluation(pid, 1, datetime.now(timezone.utc))
    r = api.client.post(f"/proposals/{pid}/evaluations", headers=api.token("eve-sub-08b1",
                                                                           "citizen"),
                        json={"indicators": {"usage": 7}, "comment": EVALUATION})
    assert r.status_code == 201, r.text
    assert EVALUATION.lower() not in _events_text(api.settings)
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert last["event"] == "EvaluationScored" and f"« {EVALUATION} »" in last["label"]
    assert last["details"]["comment"] == EVALUATION


def test_verifier_names_the_comment_when_its_ciphertext_is_altered_in_the_store(
        api: Api, tmp_path: Path) -> None:  # noqa: F811
    _citizens_act(api)
    log = make_merkle_log(api.settings)
    try:
        MerkleFollower(api.app.recorder, api.app.name, log).catch_up()
        key = ledger_key(api.settings)
        assert issue_checkpoint(log, key) is not None
    finally:
        log.datastore.close()
    with psycopg.connect(api.settings.postgres_url) as conn:
        [(position, state)] = conn.execute("SELECT notification_id, state FROM registre_events "
                                           "WHERE topic LIKE '%Comment.Posted'").fetchall()
        event = json.loads(bytes(state))
        sealed = event["text_sealed"]  # change one character of the ciphertext's base64
        event["text_sealed"] = sealed[:-2] + ("B" if sealed[-2] != "B" else "C") + sealed[-1]
        conn.execute("UPDATE registre_events SET state = %s WHERE notification_id = %s",
                     (json.dumps(event, separators=(",", ":")).encode(), position))
    path = tmp_path / "export.jsonl"
    export(api.client, path)
    report = verify_export([json.loads(line) for line in path.read_text().splitlines()],
                           key.vkey())
    assert not report.ok and report.first_bad_position == position, report.errors
