"""Pabulib files in and out of the ledger on a real PostgreSQL: each of the four real files
imported as a closed cycle (source named by the file's SHA-256, voters under `pabulib:`
pseudonyms, the tally at the close under the file's rule), then exported: the same projects,
costs, ballots and selected set as the file; a file the ledger cannot reproduce is refused
with nothing recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from api.budget_pabulib import export_pb, import_file, import_pb
from api.settings import Settings
from api.wiring import make_registre
from domain.budget.cycle import CycleStage
from domain.errors import InvalidBudgetCycle
from domain.rules import pabulib
from domain.rules.charter import CharterRules
from tests.conftest import log_size

pytestmark = pytest.mark.integration

FILES = sorted((Path(__file__).parents[1] / "data" / "pabulib").glob("*.pb"))


def _metropolis(app):
    return app.found_metropolis(
        "pabulib-replays", "Rejeux Pabulib",
        [{"code": "A", "name": "Ville A", "population": 1000}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     competences=("budget participatif",)))


def _ballots(pb: pabulib.PbFile, prefix: str = "") -> dict[str, frozenset[str]]:
    return {prefix + v["voter_id"].strip(): frozenset(p.strip() for p in v["vote"].split(","))
            for v in pb.votes}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_export_gives_back_the_files_projects_ballots_and_selection_when_it_was_imported(
    settings: Settings, path: Path,
) -> None:
    app = make_registre(settings)
    try:
        imported = import_file(app, _metropolis(app), path, "greffe-import")
        original = pabulib.load(path)
        cycle = app.get_budget_cycle(imported.cycle_id)
        assert cycle.stage == CycleStage.CLOSED
        assert cycle.source == "pabulib:" + hashlib.sha256(path.read_bytes()).hexdigest()
        exported = pabulib.parse(pabulib.dump(export_pb(app, imported.cycle_id)))
        assert {p["project_id"]: int(p["cost"]) for p in exported.projects} == {
            p["project_id"].strip(): int(p["cost"]) for p in original.projects}
        assert {p["project_id"]: p["name"] for p in exported.projects} == {
            p["project_id"].strip(): p["name"].strip() for p in original.projects}
        assert _ballots(exported) == _ballots(original, prefix="pabulib:")
        assert {p["project_id"] for p in exported.projects if p["selected"] == "1"} == {
            p["project_id"].strip() for p in original.projects if p["selected"].strip() == "1"}
        assert exported.meta["rule"] == original.meta["rule"]
        assert exported.meta["budget"] == original.meta["budget"].strip()
        assert int(exported.meta["num_votes"]) == len(original.votes)
    finally:
        app.close()


def test_refuses_an_import_when_the_files_rule_is_not_reproduced(settings: Settings) -> None:
    app = make_registre(settings)
    try:
        mid = _metropolis(app)
        text = FILES[0].read_text(encoding="utf-8")
        rule = pabulib.parse(text).meta["rule"]
        data = text.replace(f"rule;{rule}", "rule;greedy-threshold", 1).encode()
        size = log_size(settings)
        with pytest.raises(InvalidBudgetCycle):
            import_pb(app, mid, data, "greffe-import")
        assert log_size(settings) == size
    finally:
        app.close()


def test_refuses_an_export_when_the_cycle_is_not_closed(settings: Settings) -> None:
    app = make_registre(settings)
    try:
        cycle_id, _ = app.open_budget_cycle(_metropolis(app), "greffe", "Budget",
                                            {"metropolis": 1000})
        with pytest.raises(InvalidBudgetCycle):
            export_pb(app, cycle_id)
    finally:
        app.close()
