"""`POST /petitions/{id}/signatures` through the group-commit writer, on a real PostgreSQL:
the signer is the token's citizen under their pseudonym, eligibility comes from the token's
claims, each answer carries the position of its own committed signature, and a second
signature by the same person is refused alone (409 naming the rule)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.settings import Settings
from api.wiring import create_api
from domain.application import Registre
from domain.petition.signature import Signature, signature_id
from tests.integration.helpers import citizen, found

pytestmark = pytest.mark.integration

ADULT = date(1990, 1, 1)


@dataclass
class Signing:
    settings: Settings
    client: TestClient
    app: Registre
    metropolis: UUID
    petition: UUID

    def token(self, sub: str, role: str = "citizen", commune: str | None = "A",
              birthdate: date | None = ADULT) -> dict[str, str]:
        token = issue_token(self.settings.signing_secret(), sub, role, commune,
                            birthdate=birthdate)
        return {"Authorization": f"Bearer {token}"}

    def sign(self, headers: dict[str, str], petition: UUID | None = None) -> Any:
        return self.client.post(f"/petitions/{petition or self.petition}/signatures",
                                headers=headers)


def stored_signatures(settings: Settings) -> dict[UUID, int]:
    with psycopg.connect(settings.postgres_url) as conn:
        return dict(conn.execute(
            "SELECT originator_id, notification_id FROM registre_events WHERE topic = %s",
            (get_topic(Signature.Signed),)).fetchall())


@pytest.fixture
def signing(settings: Settings) -> Iterator[Signing]:
    api = create_api(settings)
    app: Registre = api.state.registre
    mid = found(app)
    pid, _ = app.draft_petition(mid, citizen(app, mid, "author"), "interpellation",
                                "Piste cyclable", "Une piste le long du canal.")
    app.open_petition_admissibility(pid, app.clock())
    app.rule_petition_admissibility(pid, "clerk-1", True)
    app.open_collection(pid, app.clock())
    with TestClient(api) as client:  # runs the lifespan: the writer starts and stops
        yield Signing(settings, client, app, mid, pid)


def test_a_signature_answers_with_the_position_of_its_committed_event(
        signing: Signing) -> None:
    r = signing.sign(signing.token("alice"))
    assert r.status_code == 201, r.text
    ref = citizen(signing.app, signing.metropolis, "alice")
    stored = stored_signatures(signing.settings)
    assert r.json() == {"position": stored[signature_id(signing.petition, ref)]}
    assert signing.app.count_petition(signing.petition, upto=r.json()["position"]).count == 1


def test_a_second_signature_by_the_same_citizen_is_refused_naming_the_rule(
        signing: Signing) -> None:
    assert signing.sign(signing.token("bob")).status_code == 201
    r = signing.sign(signing.token("bob"))
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["rule"] == "petition.one_signature"
    assert len(stored_signatures(signing.settings)) == 1


def test_refusals_name_their_rule_and_store_nothing(signing: Signing) -> None:
    outside = signing.sign(signing.token("carol", commune="Z"))
    assert outside.status_code == 403 and outside.json()["detail"]["rule"] == "petition.residence"
    young = signing.sign(signing.token("dan", birthdate=date.today().replace(year=2020)))
    assert young.status_code == 403 and young.json()["detail"]["rule"] == "petition.min_age"
    clerk = signing.sign(signing.token("clerk-1", role="clerk"))
    assert clerk.status_code == 403 and clerk.json()["detail"]["rule"] == "role_required"
    unknown = signing.sign(signing.token("erin"), petition=uuid4())
    assert unknown.status_code == 404 and unknown.json()["detail"]["rule"] == "unknown_petition"
    assert signing.sign({}).status_code == 401
    assert stored_signatures(signing.settings) == {}


def test_concurrent_signers_each_stored_once_and_duplicates_refused_alone(
        signing: Signing) -> None:
    # 40 citizens, each signing twice at the same time: 40 stored, 40 refused, no other answer.
    subjects = [f"s{i}" for i in range(40)] * 2
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda sub: signing.sign(signing.token(sub)), subjects))

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 40 + [409] * 40
    assert {a.json()["detail"]["rule"] for a in answers if a.status_code == 409} == {
        "petition.one_signature"}
    stored = stored_signatures(signing.settings)
    assert sorted(a.json()["position"] for a in answers if a.status_code == 201) == sorted(
        stored.values())
    assert signing.client.app.state.writer.stats().stored == 40
