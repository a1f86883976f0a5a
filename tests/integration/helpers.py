"""Builders shared by the integration tests (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from api.settings import Settings
from api.wiring import create_api
from api.auth import ISSUER
from domain.application import Registre
from domain.rules.charter import CharterRules


READ_YOUR_WRITES = {"Prefer": "wait-for-views"}


def api_client(settings: Settings) -> TestClient:
    """A client of the API that reads its own writes: each write answers once the views have
    applied it (the tests read the views right after writing)."""
    return TestClient(create_api(settings), headers=READ_YOUR_WRITES)


def found(app: Registre, members: int = 5, **rules: object) -> uuid.UUID:
    r = {"consultation_seconds": 3600, "vote_seconds": 3600, "quorum_percent": 50,
         "majority": "simple"}
    r.update(rules)
    return app.found_metropolis(
        f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in range(1, members + 1)],
        CharterRules(**r),
    )


def citizen(app: Registre, metropolis_id: uuid.UUID, sub: str) -> str:
    """The pseudonym under which the citizen with token subject `sub` acts in a metropolis
    (what the API records for them, D10)."""
    return app.personal_data.pseudonym(metropolis_id, ISSUER, sub)


def to_vote(app: Registre, metropolis_id: uuid.UUID) -> uuid.UUID:
    """Submit a proposal and run its stages up to an open ballot (as the workflow would)."""
    pid, _ = app.submit_proposal(metropolis_id, "citoyen-1", "Pistes cyclables", "Résumé")
    now = datetime.now(timezone.utc)
    app.open_consultation(pid, now - timedelta(hours=2))
    app.open_vote(pid, now - timedelta(minutes=1))
    return pid
