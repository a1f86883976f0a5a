"""One voter sending 100 ballots at once to a real `registre api` process, on a cycle whose
rules forbid replacing a ballot: exactly one is recorded, and every other answer is 409
`budget.one_ballot` (the group-commit writer's batch refused by the store's uniqueness, each
ballot then run alone through its command)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest

from api.auth import issue_token
from api.embedded import free_port
from api.settings import Settings
from api.wiring import make_registre
from domain.budget.ballot import BudgetBallot, ballot_id
from domain.rules.petition import SignerClaims
from tests.integration.helpers import citizen, found
from tests.reliability.test_kill_during_signatures import _start_api

pytestmark = pytest.mark.integration

BALLOTS = 100


def test_exactly_one_ballot_is_recorded_when_one_voter_sends_a_hundred_at_once(
    settings: Settings,
) -> None:
    app = make_registre(settings)
    mid = found(app, competences=("environnement",))
    cycle_id, _ = app.open_budget_cycle(mid, "greffe-1", "Budget", {"metropolis": 100_000},
                                        {"replace_ballot": False})
    claims = SignerClaims(commune="A", birthdate=date(1990, 1, 1))
    projects = [app.submit_budget_project(cycle_id, f"auteur-{n}", claims, "metropolis",
                                          f"Projet {n}", "Résumé", 1_000, "environnement")[0]
                for n in range(3)]
    at = app.clock() - timedelta(seconds=1)
    app.open_budget_review(cycle_id, at)
    app.open_budget_voting(cycle_id, at)
    port = free_port()
    process = _start_api(settings, port)
    token = issue_token(settings.signing_secret(), "votante", "citizen", "A",
                        birthdate=date(1990, 1, 1))
    try:
        def vote(n: int) -> tuple[int, str | None]:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                r = client.post(f"/budgets/{cycle_id}/ballots",
                                headers={"Authorization": f"Bearer {token}"},
                                json={"district": "metropolis",
                                      "projects": [str(projects[n % 3])]})
                rule = r.json().get("detail", {}).get("rule") if r.status_code >= 400 else None
                return r.status_code, rule

        with ThreadPoolExecutor(BALLOTS) as pool:
            answers = list(pool.map(vote, range(BALLOTS)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert sorted(set(answers)) == [(201, None), (409, "budget.one_ballot")]
    assert answers.count((201, None)) == 1
    bid = ballot_id(cycle_id, "metropolis", citizen(app, mid, "votante"))
    events = list(app.events.get(bid))
    assert len(events) == 1 and isinstance(events[0], BudgetBallot.Cast)
    counted, _ = app.budget_ballots(cycle_id, upto=app.recorder.max_notification_id())
    assert len(counted["metropolis"]) == 1
    app.close()
