"""End to end: `registre demo --scenario interpellation` over HTTP against `registre run`
(embedded PostgreSQL, Temporal dev server, worker with the PetitionWorkflow and the relay,
projections with the petition views, the API with the group-commit writer), on a charter of
seconds and a small metropolis (a threshold of some forty signatures)."""

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
  - slug: e2e-interpellation
    name: Interpellation de bout en bout
    communes:
      - {code: "51454", name: "Reims", population: 3000}
      - {code: "51612", name: "Tinqueux", population: 500}
    council:
      - {ref: i-conseil-1, name: "Conseillère 1", role: councillor, commune: "51454"}
      - {ref: i-conseil-2, name: "Conseiller 2", role: councillor, commune: "51612"}
    charter:
      consultation: PT5S
      vote: PT5S
      quorum_percent: 50
      petition_kinds:
        interpellation: {threshold_percent: 1, sponsors: 3, sponsor_seconds: 30,
                         admissibility_seconds: 5, signature_seconds: 20, min_age: 16,
                         obligation: answer, obligation_seconds: 8}
"""

# What the demo's citizens are (token subjects) and write: none may appear in the export (D10).
PERSONAL = ("autrice-petition-1", "autrice-petition-2", "parrain-1-1", "signataire-1-0",
            "signataire-2-0", "mineur-1-0", "Une piste cyclable continue sur l'avenue de Laon",
            "Ouvrir les piscines métropolitaines le dimanche soir",
            "Nous demandons au conseil d'ouvrir les piscines")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("petition-stack"))
    (s.tmp / "metropolises.yaml").write_text(CONFIG, encoding="utf-8")
    s.start()
    try:
        yield s
    finally:
        if s.process and s.process.poll() is None:
            s.stop()


def test_interpellation_demo_answers_one_petition_and_the_guarantor_flags_the_other(
    stack: Stack, tmp_path: Path,
) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "api.cli", "demo", "--scenario", "interpellation", "--url",
         stack.url, "--metropolis", "e2e-interpellation"],
        env=dict(stack.env, COLUMNS="200"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr + stack.log_tail()
    for line in ("Le greffe déclare la pétition recevable",
                 "5 refusée(s), règle petition.min_age",
                 "5 refusée(s), règle petition.residence",
                 "Seuil atteint : ",
                 "Réponse du conseil enregistrée par le greffe dans le délai",
                 "Pétition 1 close : le conseil a répondu.",
                 "Anomalie relevée par le garant — pétition 2",
                 "Pétition 1 : 0 anomalie(s) ; pétition 2 : "):
        assert line in done.stdout, done.stdout
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        health = wait_for_follower(client, "compliance")
        assert health["dead_letters"] == 0  # every stored event was appliable by every view
        path = tmp_path / "export.jsonl"
        export(client, path)
    leaves = b"".join(base64.b64decode(r["leaf"]) for r in map(json.loads, path.open())
                      if r["kind"] == "record")
    for clear in PERSONAL:
        for form in (clear.encode(), json.dumps(clear)[1:-1].encode()):
            assert form not in leaves, clear
    verified = subprocess.run(  # noqa: S603  the log, its leaves and roots check out
        [sys.executable, "-m", "api.cli", "audit", "verify", "--export", str(path)],
        env=stack.env, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
