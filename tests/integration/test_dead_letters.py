"""One bad event never stops the system (D13), on a real PostgreSQL: a view that cannot apply
an event records it as a dead letter, exactly once, and goes on; the Merkle log never skips a
leaf; /health and the guarantor see the dead letters."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.settings import Settings
from api.wiring import (
    MERKLE_LOG_NAME,
    create_api,
    make_merkle_log,
    make_registre,
    make_views,
    projection_runner,
)
from domain.application import Registre
from domain.deliberation.notice import Notice
from domain.deliberation.participation import Comment
from domain.topics import stored_topics
from projections.followers import dead_letters
from projections.ledger import MerkleFollower
from tests.integration.helpers import found

pytestmark = pytest.mark.integration


def in_consultation(app: Registre) -> uuid.UUID:
    pid, _ = app.submit_proposal(found(app), "citoyen-1", "Pistes cyclables", "Résumé")
    app.open_consultation(pid, datetime.now(timezone.utc) - timedelta(minutes=1))
    return pid


def store_raw(settings: Settings, topic: str, state: bytes) -> int:
    """Write a stored event straight into the events table (as a bug or an old version
    might have): its state is whatever bytes are given."""
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO registre_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s) RETURNING notification_id",
            (uuid.uuid4(), topic, state)).fetchone()
    assert row is not None
    return int(row[0])


def headers(settings: Settings, sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings.signing_secret(), sub, role)}"}


def test_view_records_a_dead_letter_and_goes_on_when_it_cannot_apply_an_event(
    settings: Settings,
) -> None:
    app = make_registre(settings)
    pid = in_consultation(app)
    # Bypassing the API's validation: a text PostgreSQL refuses ("cannot contain NUL"), in a
    # guarantor's notice (public text, stored in clear: D10 seals only personal data).
    poisoned = app.issue_notice(pid, "garant", "avis", "avant\x00après")
    later = app.comment(pid, "citoyen-3", "Un commentaire lisible")
    app.support(pid, "citoyen-4")
    last = app.recorder.max_notification_id()

    with projection_runner(settings) as runner:
        runner.wait(last, timeout=20)
        runner.run_forever(timeout=0.1)  # re-raises if the runner had died
    letters = dead_letters(make_views(settings).datastore)
    assert [(d.follower, d.position, d.topic) for d in letters] == [
        ("public_views", poisoned, stored_topics(Notice.Issued)[0])]
    assert "NUL" in letters[0].error

    views = make_views(settings)
    assert [c["position"] for c in views.comments(pid, 10, 0)] == [later]
    row = views.get_proposal(pid)
    assert (row["comments"], row["supports"]) == (1, 1)
    assert views.max_tracking_id(app.name) == last
    assert "NoticeIssued" not in [t["event"] for t in views.timeline(pid)]

    # A restart moves on from the tracked position: the event is not tried again.
    with projection_runner(settings) as runner:
        runner.wait(last, timeout=20)
    assert len(dead_letters(make_views(settings).datastore)) == 1
    assert make_views(settings).get_proposal(pid)["comments"] == 1

    with TestClient(create_api(settings)) as client:
        body = client.get("/health").json()
        public = next(f for f in body["followers"] if f["name"] == "public_views")
        assert (public["state"], public["position"], public["lag"], public["dead_letters"]) == (
            "caught_up", last, 0, 1)
        assert public["processed_to"] == body["log_position"] == last
        assert body["dead_letters"] == 1

        seen = client.get("/guarantor/dead-letters",
                          headers=headers(settings, "garant", "guarantor"))
        assert seen.status_code == 200, seen.text
        assert [(d["follower"], d["position"]) for d in seen.json()] == [
            ("public_views", poisoned)]
        refused = client.get("/guarantor/dead-letters",
                             headers=headers(settings, "citoyen-1", "citizen"))
        assert refused.status_code == 403
        assert refused.json()["detail"]["rule"] == "role_required"
    app.close()


def test_view_sets_aside_an_event_whose_state_cannot_be_decoded_when_following(
    settings: Settings,
) -> None:
    app = make_registre(settings)
    pid = in_consultation(app)
    broken = store_raw(settings, stored_topics(Comment.Posted)[0], b"{not json")
    later = app.comment(pid, "citoyen-3", "Toujours suivi")

    with projection_runner(settings) as runner:
        runner.wait(later, timeout=20)
        runner.run_forever(timeout=0.1)
    letters = dead_letters(make_views(settings).datastore, follower="public_views")
    assert [d.position for d in letters] == [broken]
    assert "MapperDeserialisationError" in letters[0].error
    assert [c["position"] for c in make_views(settings).comments(pid, 10, 0)] == [later]
    app.close()


def test_merkle_log_appends_every_event_when_its_content_is_hostile(settings: Settings) -> None:
    """The Merkle log encodes bytes only: NULs, broken JSON or UTF-8, an empty state all
    become leaves, none is skipped or set aside."""
    app = make_registre(settings)
    pid = in_consultation(app)
    app.comment(pid, "citoyen-2", "avant\x00après")
    topic = stored_topics(Comment.Posted)[0]
    for state in (b"{not json", b"\xff\xfe\x00", b"", json.dumps({"t": "\u202e"}).encode()):
        store_raw(settings, topic, state)
    store = make_merkle_log(settings)
    follower = MerkleFollower(app.recorder, app.name, store)
    follower.catch_up()
    stored = [n.id for n in app.recorder.select_notifications(start=1, limit=1000)]
    assert [nid for _, nid, _ in store.leaves(0, 1000)] == stored
    assert store.size() == len(stored)
    assert dead_letters(store.datastore, follower=MERKLE_LOG_NAME) == []
    store.datastore.close()
    app.close()


def test_view_stops_without_setting_aside_when_its_schema_is_missing(settings: Settings) -> None:
    """A missing table is the deployment's fault (`registre migrate` not run), not the
    event's: no dead letter, the position is not moved past it, the runner reports it."""
    app = make_registre(settings)
    pid = in_consultation(app)
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE comment_view")
    comment = app.comment(pid, "citoyen-2", "Un commentaire lisible")

    with pytest.raises(Exception, match="comment_view"), projection_runner(settings) as runner:
        runner.wait(comment, timeout=20)
    views = make_views(settings)
    assert dead_letters(views.datastore) == []
    assert views.max_tracking_id(app.name) == comment - 1
    app.close()
