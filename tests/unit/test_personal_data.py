"""Pseudonyms and sealed personal data (D10), on the in-memory key store: a citizen's pseudonym
is stable within a metropolis and unlinkable across; what a person writes is stored only
sealed, opens only under its person's key, refuses to open once altered or moved, and reads as
erased once the key is destroyed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import Registre
from domain.deliberation.participation import Comment
from domain.errors import UnknownDecisionType
from projections.personal_data import TamperedSeal, in_memory_personal_data
from tests.unit.helpers import ManualClock, found, in_memory_app

M1, M2 = uuid4(), uuid4()
TEXT = "Je préfère une piste protégée rue Carnot."


def _all_state_bytes(app: Registre) -> bytes:
    return b"".join(n.state for n in app.recorder.select_notifications(start=1, limit=10_000))


def test_pseudonym_is_stable_when_the_same_citizen_acts_again_in_a_metropolis() -> None:
    data = in_memory_personal_data()
    first = data.pseudonym(M1, "registre-local", "alice")
    assert first == data.pseudonym(M1, "registre-local", "alice")
    assert first.startswith("p-") and len(first) == 34 and "alice" not in first


def test_pseudonyms_differ_when_the_metropolis_issuer_or_subject_differs() -> None:
    data = in_memory_personal_data()
    names = {data.pseudonym(M1, "registre-local", "alice"),
             data.pseudonym(M2, "registre-local", "alice"),
             data.pseudonym(M1, "franceconnect", "alice"),
             data.pseudonym(M1, "registre-local", "bob")}
    assert len(names) == 4


def test_pseudonym_is_none_when_the_metropolis_has_no_key_and_none_may_be_made() -> None:
    data = in_memory_personal_data()
    assert data.pseudonym(M1, "registre-local", "alice", create=False) is None
    assert data.keys.pseudonym_keys == {}  # nothing was made


def test_sealed_text_opens_when_its_person_s_key_is_kept() -> None:
    data = in_memory_personal_data()
    sealed = data.seal(M1, "p-alice", "comment", TEXT)
    assert TEXT not in sealed and "piste" not in sealed
    assert data.open(sealed) == TEXT


def test_refuses_to_open_when_the_ciphertext_was_altered() -> None:
    data = in_memory_personal_data()
    sealed = data.seal(M1, "p-alice", "comment", TEXT)
    head, payload = sealed.rsplit(":", 1)
    blob = bytearray(base64.urlsafe_b64decode(payload))
    blob[-1] ^= 1
    with pytest.raises(TamperedSeal):
        data.open(f"{head}:{base64.urlsafe_b64encode(bytes(blob)).decode()}")


def test_refuses_to_open_when_the_sealed_text_is_moved_to_another_field_or_person() -> None:
    data = in_memory_personal_data()
    data.seal(M1, "p-bob", "comment", "Bob a aussi une clé.")
    sealed = data.seal(M1, "p-alice", "comment", TEXT)
    with pytest.raises(TamperedSeal):
        data.open(sealed.replace(":comment:", ":title:"))
    with pytest.raises(TamperedSeal):
        data.open(sealed.replace(":p-alice:", ":p-bob:"))


def test_opens_as_erased_when_the_person_s_key_was_destroyed() -> None:
    data = in_memory_personal_data()
    sealed = data.seal(M1, "p-alice", "comment", TEXT)
    kept = data.seal(M1, "p-bob", "comment", "Autre avis.")
    assert data.erase(M1, "p-alice") is True
    assert data.open_all([sealed, kept]) == [None, "Autre avis."]


def test_erasure_changes_nothing_when_the_person_has_no_key() -> None:
    data = in_memory_personal_data()
    data.seal(M1, "p-alice", "comment", TEXT)
    assert data.erase(M1, "p-inconnu") is False
    assert list(data.keys.personal) == [(M1, "p-alice")]


def test_log_holds_no_clear_text_when_a_citizen_drafts_submits_and_comments() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, 3)
    draft_id, _ = app.start_draft(mid, "p-alice", "Jardins partagés", "Un jardin par quartier")
    app.revise_draft(draft_id, "p-alice", summary="Deux jardins par quartier")
    pid, _ = app.submit_draft(draft_id, "p-alice")
    app.open_consultation(pid, clock())
    app.comment(pid, "p-bob", TEXT)
    state = _all_state_bytes(app)
    for clear in ("Jardins partagés", "jardin par quartier", "Deux jardins", "rue Carnot"):
        assert clear.encode() not in state and json.dumps(clear).encode() not in state
    [comment] = [n for n in app.recorder.select_notifications(start=1, limit=10_000)
                 if n.topic.endswith("Comment.Posted")]
    posted = app.mapper.to_domain_event(comment)
    assert app.personal_data.open(posted.text_sealed) == TEXT


def test_refuses_personal_text_and_records_nothing_when_no_adapter_is_wired() -> None:
    app = Registre(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=ManualClock())
    mid = found(app, 3)
    size = app.recorder.max_notification_id()
    with pytest.raises(RuntimeError, match="no PersonalData adapter"):
        app.submit_proposal(mid, "p-alice", "Titre", "Résumé")
    assert app.recorder.max_notification_id() == size


def test_old_comment_loads_with_its_clear_text_when_recorded_before_sealing() -> None:
    log = json.loads((Path(__file__).parents[1] / "data" / "log-before-package-move.json")
                     .read_text())
    [old] = [e for e in log["events"] if e["topic"].endswith("Comment.Posted")]
    app = in_memory_app()
    posted = app.mapper.to_domain_event(StoredEvent(
        UUID(old["originator_id"]), old["originator_version"], old["topic"],
        base64.b64decode(old["state"])))
    assert isinstance(posted, Comment.Posted)
    assert app.personal_data.open(posted.text_sealed) == "Un commentaire"


def test_refused_submission_makes_no_data_key_when_its_decision_type_is_unknown() -> None:
    app = in_memory_app()
    mid = found(app, 3)
    size = app.recorder.max_notification_id()
    with pytest.raises(UnknownDecisionType):
        app.submit_proposal(mid, "p-alice", "Titre", "Résumé", decision_type="inconnu")
    assert app.recorder.max_notification_id() == size
    assert app.personal_data.keys.personal == {}
