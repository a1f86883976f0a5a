"""End to end: `registre demo --scenario budget` over HTTP against `registre run` (embedded
PostgreSQL, Temporal dev server, worker with the BudgetCycleWorkflow and the relay, the budget
views, the API with the group-commit writer), on a charter of seconds: a cycle opened,
projects from the consultation, one ruled ineligible, six hundred voters, the Equal Shares
results with each project's explanation; no voter's or author's identity or text in clear in
the exported log, which the offline verifier checks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.audit import export
from tests.e2e.test_stack import Stack, wait_for_follower

pytestmark = pytest.mark.e2e

CONFIG = """
metropolises:
  - slug: e2e-budget
    name: Budget de bout en bout
    communes:
      - {code: "51454", name: "Reims", population: 3000}
      - {code: "51612", name: "Tinqueux", population: 500}
    council:
      - {ref: b-conseil-1, name: "Conseillère 1", role: councillor, commune: "51454"}
      - {ref: b-conseil-2, name: "Conseiller 2", role: councillor, commune: "51612"}
    charter:
      consultation: PT5S
      vote: PT5S
      quorum_percent: 50
      budget: {ballot: approval, max_approvals: 4, rule: mes-add1, submission_seconds: 15,
               review_seconds: 8, voting_seconds: 120}
"""

PERSONAL = ("porteuse-0", "votant-0", "votant-1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("budget-stack"))
    (s.tmp / "metropolises.yaml").write_text(CONFIG, encoding="utf-8")
    s.start()
    try:
        yield s
    finally:
        if s.process and s.process.poll() is None:
            s.stop()


def test_budget_demo_publishes_the_equal_shares_results_when_the_ballots_are_in(
    stack: Stack, tmp_path: Path,
) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "api.cli", "demo", "--scenario", "budget", "--url", stack.url,
         "--metropolis", "e2e-budget", "--voters", "600"],
        env=dict(stack.env, COLUMNS="200"), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr + stack.log_tail()
    for line in ("Cycle ouvert : ", "Le greffe déclare", "bulletin(s) enregistré(s)",
                 "règle budget.min_age", "règle budget.residence",
                 "Résultats — metropolis (mes-add1", "retenu "):
        assert line in done.stdout, done.stdout
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        health = wait_for_follower(client, "compliance")
        assert health["dead_letters"] == 0
        path = tmp_path / "export.jsonl"
        export(client, path)
    leaves = b"".join(base64.b64decode(r["leaf"]) for r in map(json.loads, path.open())
                      if r["kind"] == "record")
    for clear in PERSONAL:
        assert clear.encode() not in leaves, clear
    verified = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "api.cli", "audit", "verify", "--export", str(path)],
        env=stack.env, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
