"""/health tells the truth: it queries the store, names each follower's state, and answers
503 naming the database when PostgreSQL is down."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.embedded import EmbeddedPostgres, free_port
from api.settings import Settings
from api.wiring import create_api, make_registre, migrate
from tests.integration.helpers import found

pytestmark = pytest.mark.integration


def test_health_names_every_follower_behind_when_no_follower_runs(settings: Settings) -> None:
    app = make_registre(settings)
    found(app)
    last = app.recorder.max_notification_id()
    with TestClient(create_api(settings)) as client:
        r = client.get("/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["database"], body["log_position"]) == ("ok", "ok", last)
    by_name = {f["name"]: f for f in body["followers"]}
    assert set(by_name) == {"public_views", "compliance", "petition_views", "budget_views",
                            "convention_views", "RegistreRelay", "merkle_log"}
    merkle = by_name["merkle_log"]
    assert (merkle["state"], merkle["position"], merkle["lag"], merkle["processed_to"]) == (
        "behind", None, last, 0)
    assert by_name["compliance"]["state"] == "behind"  # the charter's adoption is pending
    assert by_name["petition_views"]["lag"] == 0  # no petition event to follow yet
    assert body["dead_letters"] == 0
    app.close()


def test_health_answers_503_naming_the_database_when_postgres_is_down() -> None:
    base = Path(tempfile.mkdtemp(prefix="registre-health-pg-"))
    server = EmbeddedPostgres(base / "data", free_port())
    server.start()
    try:
        settings = Settings(postgres_url=server.url, var_dir=base / "var",
                            jwt_secret="health-test-signing-key".ljust(48, "."))
        migrate(settings)
        with TestClient(create_api(settings)) as client:
            assert client.get("/health").status_code == 200
            server.stop()
            down = client.get("/health")
            assert down.status_code == 503, down.text
            body = down.json()
            assert (body["status"], body["database"]) == ("unavailable", "unavailable")
            assert body["detail"]["rule"] == "database_unavailable"
            assert body["detail"]["failing"] == "database"
            assert body["detail"]["explication"]
            server.start()  # back: the same API answers again
            assert client.get("/health").status_code == 200
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
