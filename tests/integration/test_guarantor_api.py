"""The guarantor's notices over HTTP (real PostgreSQL)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.conftest import log_size
from tests.integration.test_proposals_api import Api, api  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

TEXT = "La durée de consultation paraît courte au regard de l'enjeu pour les habitants."


def test_notice_joins_the_timeline_when_the_guarantor_publishes_it(api: Api) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    r = api.client.post(f"/proposals/{pid}/notices", json={"kind": "avis", "text": TEXT},
                        headers=api.token("garant", "guarantor"))
    assert r.status_code == 201, r.text
    last = api.client.get(f"/proposals/{pid}/timeline").json()[-1]
    assert (last["event"], last["actor_role"]) == ("NoticeIssued", "guarantor")
    assert last["label"].startswith("Avis du garant : « La durée")


def test_refuses_notice_when_the_caller_is_not_the_guarantor(api: Api) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{pid}/notices", json={"text": TEXT},
                        headers=api.token("m1", "councillor"))
    assert r.status_code == 403 and r.json()["detail"]["rule"] == "role_required"
    assert log_size(api.settings) == size


def test_refuses_notice_when_the_proposal_is_unknown(api: Api) -> None:  # noqa: F811
    size = log_size(api.settings)
    r = api.client.post(f"/proposals/{uuid4()}/notices", json={"text": TEXT},
                        headers=api.token("garant", "guarantor"))
    assert r.status_code == 404 and r.json()["detail"]["rule"] == "unknown_proposal"
    assert log_size(api.settings) == size


def test_names_the_field_when_the_notice_kind_is_unknown(api: Api) -> None:  # noqa: F811
    pid, _ = api.app.submit_proposal(api.metropolis_id, "c1", "Titre", "Résumé")
    r = api.client.post(f"/proposals/{pid}/notices", json={"kind": "blâme", "text": TEXT},
                        headers=api.token("garant", "guarantor"))
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["loc"] == ["body", "kind"]
