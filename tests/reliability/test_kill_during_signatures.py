"""A `kill -9` of the API process (and with it its group-commit writer) while signatures pour
in loses no acknowledged signature and duplicates none.

Against a real PostgreSQL and a real `registre api` process: concurrent clients sign a petition
as distinct citizens; once some hundreds are acknowledged the process is killed with SIGKILL;
a new process is started and every signer whose answer was not a 201 signs again (their first
attempt may or may not have been committed: the store then answers 409 `petition.one_signature`,
never a second signature). Every acknowledged signature is in the store exactly once, and the
store holds exactly one signature per signer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import psycopg
import pytest

from api.auth import issue_token
from api.embedded import free_port, wait_for_port
from api.settings import Settings
from api.wiring import make_registre
from domain.petition.signature import signature_id
from tests.integration.helpers import citizen, found

pytestmark = pytest.mark.integration

SIGNERS = 1500
KILL_AFTER = 300  # acknowledged signatures before the kill
WORKERS = 12


def _open_petition(settings: Settings) -> tuple[object, object]:
    app = make_registre(settings)
    mid = found(app, petition_kinds={"interpellation": {
        "basis": "absolute", "threshold_absolute": 10**6, "min_age": 16}})
    pid, _ = app.draft_petition(mid, "p-auteur", "interpellation", "Titre", "Texte")
    now = datetime.now(timezone.utc)
    app.open_petition_admissibility(pid, now - timedelta(minutes=2))
    app.rule_petition_admissibility(pid, "greffe-1", True)
    app.open_collection(pid, now - timedelta(minutes=1))
    return app, mid, pid


def _start_api(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, REGISTRE_POSTGRES_URL=settings.postgres_url,
               REGISTRE_API_PORT=str(port), REGISTRE_API_HOST="127.0.0.1",
               REGISTRE_VAR_DIR=str(settings.var_dir),
               REGISTRE_JWT_SECRET=settings.signing_secret())
    registre = str(Path(sys.executable).parent / "registre")
    process = subprocess.Popen([registre, "api"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for_port(port, timeout=60, what="the API")
    return process


def _sign_all(url: str, petition_id: object, tokens: dict[str, str], subjects: list[str],
              outcomes: dict[str, int | str], stop_after: int | None,
              killed: threading.Event) -> None:
    """Sign as each subject from WORKERS threads; record each answer (status, or the error's
    name when the connection broke)."""
    queue = list(subjects)
    lock = threading.Lock()
    acknowledged = [0]

    def work() -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    sub = queue.pop()
                try:
                    answer = client.post(f"/petitions/{petition_id}/signatures", json={},
                                         headers={"Authorization": f"Bearer {tokens[sub]}"})
                    outcomes[sub] = answer.status_code
                    if answer.status_code == 201:
                        with lock:
                            acknowledged[0] += 1
                            if stop_after is not None and acknowledged[0] >= stop_after:
                                killed.set()
                except httpx.HTTPError as e:
                    outcomes[sub] = type(e).__name__
                    if killed.is_set():
                        with lock:  # the process is gone: the rest is never sent
                            queue.clear()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _stored_signatures(settings: Settings) -> dict[str, int]:
    """Rows of the store per signature aggregate, first versions only."""
    with psycopg.connect(settings.postgres_url) as conn:
        rows = conn.execute(
            "SELECT originator_id::text, count(*) FROM registre_events "
            "WHERE originator_version = 1 AND topic LIKE %s GROUP BY originator_id",
            ("%Signature.Signed",)).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def test_kill_9_of_the_api_loses_no_acknowledged_signature(settings: Settings) -> None:
    app, mid, pid = _open_petition(settings)
    subjects = [f"habitant-{i}" for i in range(SIGNERS)]
    secret = settings.signing_secret()
    tokens = {s: issue_token(secret, s, "citizen", "A", birthdate=date(1980, 1, 1))
              for s in subjects}
    port = free_port()
    first = _start_api(settings, port)
    url = f"http://127.0.0.1:{port}"
    outcomes: dict[str, int | str] = {}
    killed = threading.Event()

    def killer() -> None:
        killed.wait()
        first.send_signal(signal.SIGKILL)

    k = threading.Thread(target=killer)
    k.start()
    try:
        _sign_all(url, pid, tokens, subjects, outcomes, KILL_AFTER, killed)
    finally:
        killed.set()
        k.join()
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    acknowledged = {s for s, o in outcomes.items() if o == 201}
    assert len(acknowledged) >= KILL_AFTER
    assert len(acknowledged) < SIGNERS, "the kill came too late to test anything"

    stored = _stored_signatures(settings)
    refs = {s: citizen(app, mid, s) for s in subjects}
    for s in acknowledged:  # acknowledged before the kill: in the store, once
        assert stored.get(str(signature_id(pid, refs[s]))) == 1, s

    second = _start_api(settings, port)
    try:
        rest = [s for s in subjects if outcomes.get(s) != 201]
        retried: dict[str, int | str] = {}
        _sign_all(url, pid, tokens, rest, retried, None, threading.Event())
        # a sample of the acknowledged ones signing again: refused, nothing stored
        again: dict[str, int | str] = {}
        _sign_all(url, pid, tokens, sorted(acknowledged)[:50], again, None, threading.Event())
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert set(again.values()) == {409}
    assert set(retried.values()) <= {201, 409}, retried  # 409: committed before the kill
    stored = _stored_signatures(settings)
    assert len(stored) == SIGNERS
    assert set(stored.values()) == {1}
    assert set(stored) == {str(signature_id(pid, refs[s])) for s in subjects}
    assert app.count_petition(pid, upto=app.recorder.max_notification_id()).count == SIGNERS
    app.close()


def test_a_hundred_parallel_signatures_by_one_signer_record_one(settings: Settings) -> None:
    app, mid, pid = _open_petition(settings)
    token = issue_token(settings.signing_secret(), "habitante", "citizen", "A",
                        birthdate=date(1980, 1, 1))
    port = free_port()
    process = _start_api(settings, port)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(100)

    def sign() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            start.wait()
            answer = client.post(f"/petitions/{pid}/signatures", json={},
                                 headers={"Authorization": f"Bearer {token}"})
            with lock:
                answers.append(answer)

    try:
        threads = [threading.Thread(target=sign) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 99
    assert {a.json()["detail"]["rule"] for a in answers if a.status_code == 409} == {
        "petition.one_signature"}
    stored = _stored_signatures(settings)
    assert stored == {str(signature_id(pid, citizen(app, mid, "habitante"))): 1}
    app.close()
