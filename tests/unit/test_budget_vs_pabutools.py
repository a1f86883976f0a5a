"""Our exact budget rules against pabutools, the research reference (GPL, `reference` group).

Every rule of `domain.rules.budget.RULES` that tests/reference/pabutools_rules.py computes with
pabutools must select the same set of projects as ours with `tie_break="id"` (pabutools'
`lexico_tie_breaking`):

- on random approval elections (tests/reference/cases.py, fixed seeds), built in memory on both
  sides;
- live on the real Pabulib files where pabutools is quick (the rules not in SLOW on the small
  files);
- on every real file and every rule against pabutools' outcomes recorded in
  tests/data/pabulib/pabutools-outcomes.json by tests/reference/record_pabutools.py (pabutools'
  Add1 takes minutes on Swiecie and Wieliczka; the JSON names the pabutools version and the
  command, and each file's SHA-256).

Skipped only when pabutools is not installed (`make install` syncs the `reference` group).
"""

from __future__ import annotations

import ast
import json
from importlib.metadata import version
from pathlib import Path

import pytest

pytest.importorskip("pabutools", reason="pabutools (the `reference` dependency group) is not "
                                        "installed: run `make install`")

from domain.rules import budget, pabulib  # noqa: E402
from tests.reference.cases import (  # noqa: E402
    our_election,
    pabutools_case,
    random_case,
    without_unsupported,
)
from tests.reference.pabutools_rules import (  # noqa: E402
    RULES as REFERENCE_RULES,
    load,
    pabutools_outcome,
)
from tests.reference.record_pabutools import OUTCOMES, sha256  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pabulib"
SEEDS = range(100)
COMPARED = [rule for rule in budget.RULES if rule in REFERENCE_RULES]
# pabutools' Add1 reruns MES once per unit of per-voter budget: seconds to minutes on a real file
SLOW = {"mes-add1", "mes-add1-exhaustive", "mes-add1-greedy", "mes-add1-comparison"}
LIVE_FILES = ["Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb", "Poland_Warszawa_2019_Anin.pb"]
RECORDED = json.loads(OUTCOMES.read_text()) if OUTCOMES.exists() else {"files": {}}


def test_every_rule_is_compared_when_pabutools_is_installed() -> None:
    assert COMPARED == list(budget.RULES)


def _compare_random(rule: str, make=random_case) -> None:
    disagreements = []
    for seed in SEEDS:
        case = make(seed)
        ours = budget.tally(our_election(case), rule, tie_break="id").selected
        # Our one documented difference: a project nobody approved is never funded, where
        # pabutools' greedy funds it if it still fits. Unapproved projects come last in every
        # greedy order, so funding them changes nothing else: the rest must be equal.
        theirs = pabutools_outcome(pabutools_case(case), rule) & _approved(case)
        if set(ours) != theirs:
            disagreements.append((len(case.projects) * len(case.ballots), case, ours, theirs))
    if disagreements:
        size, case, ours, theirs = min(disagreements, key=lambda d: d[0])
        pytest.fail(f"{rule}: {len(disagreements)} of {len(SEEDS)} random elections differ; "
                    f"the smallest: {case}: ours {list(ours)}, pabutools {sorted(theirs)}")


@pytest.mark.parametrize("rule", COMPARED)
def test_selected_set_equals_pabutools_when_the_election_is_random(rule: str) -> None:
    _compare_random(rule)


@pytest.mark.parametrize("rule", COMPARED)
def test_selected_set_equals_pabutools_when_every_project_of_a_random_election_has_a_vote(
        rule: str) -> None:
    """The same elections less their unapproved projects: no difference to set aside."""
    _compare_random(rule, lambda seed: without_unsupported(random_case(seed)))


def _approved(case) -> set[str]:
    return {pid for ballot in case.ballots for pid in ballot}


@pytest.mark.parametrize("rule", ["greedy", "greedy-per-cost", "mes-add1-greedy"])
def test_an_unapproved_project_is_funded_by_pabutools_only_when_money_is_left(
        rule: str) -> None:
    """Budget 10, projects a and b at 5 each, one ballot for a: pabutools funds both, we fund
    a only (a project nobody voted for is never funded: the documented difference)."""
    from tests.reference.cases import Case

    case = Case(0, 10, (("a", 5), ("b", 5)), (("a",),))
    assert budget.tally(our_election(case), rule, tie_break="id").selected == ("a",)
    assert pabutools_outcome(pabutools_case(case), rule) == {"a", "b"}


def _live_cases():
    for name in LIVE_FILES:
        for rule in COMPARED:
            if rule not in SLOW or name == LIVE_FILES[0]:
                yield pytest.param(name, rule, id=f"{Path(name).stem}-{rule}")


@pytest.mark.parametrize(("name", "rule"), list(_live_cases()))
def test_selected_set_equals_pabutools_live_when_the_file_is_small(name: str, rule: str) -> None:
    path = DATA / name
    ours = budget.tally(pabulib.election(pabulib.load(path)), rule, tie_break="id")
    assert set(ours.selected) == pabutools_outcome(load(path), rule)


def _recorded_cases():
    for name, entry in sorted(RECORDED["files"].items()):
        for rule in sorted(entry["outcomes"]):
            yield pytest.param(name, rule, id=f"{Path(name).stem}-{rule}")


def test_recording_covers_every_file_and_rule_when_the_suite_runs() -> None:
    assert sorted(RECORDED["files"]) == sorted(p.name for p in DATA.glob("*.pb"))
    for name, entry in RECORDED["files"].items():
        assert sorted(entry["outcomes"]) == sorted(COMPARED), name


def test_recording_is_of_the_installed_pabutools_when_compared() -> None:
    assert RECORDED["pabutools"] == version("pabutools"), (
        "pabutools changed: run " + RECORDED["command"])


@pytest.mark.parametrize(("name", "rule"), list(_recorded_cases()))
def test_selected_set_equals_recorded_pabutools_when_the_file_is_real(name: str,
                                                                      rule: str) -> None:
    path = DATA / name
    entry = RECORDED["files"][name]
    assert entry["sha256"] == sha256(path), f"{name} changed: run {RECORDED['command']}"
    ours = budget.tally(pabulib.election(pabulib.load(path)), rule, tie_break="id")
    recorded = entry["outcomes"][rule]
    assert set(ours.selected) == set(recorded["selected"])
    assert ours.cost == recorded["cost"]


PRODUCTION = ["domain", "api", "workflows", "projections"]


def _module_level_imports(path: Path) -> set[str]:
    """Top modules imported outside any function body."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name.split(".")[0] for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names.add(child.module.split(".")[0])
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def _all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", [p for d in PRODUCTION for p in sorted((ROOT / d).rglob("*.py"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_production_code_does_not_import_pabutools_when_parsed(path: Path) -> None:
    """GPL pabutools is a test and benchmark reference: only the bench imports it, lazily."""
    assert "pabutools" not in _module_level_imports(path)
    assert "tests" not in _all_imports(path)
    if path != ROOT / "api" / "bench_budget.py":
        assert "pabutools" not in _all_imports(path)


def test_bench_reports_agreement_with_pabutools_when_run_on_a_small_file() -> None:
    from api.bench_budget import bench_budget

    lines: list[str] = []
    path = DATA / LIVE_FILES[0]
    assert bench_budget(path, "mes-add1", repeat=1, cities=True, echo=lines.append)
    text = "\n".join(lines)
    assert text.count("yes:") == 2 and "ratio" in text


def test_bench_budget_is_a_registered_command_when_the_cli_lists_its_help() -> None:
    from typer.testing import CliRunner

    from api.cli import cli

    result = CliRunner().invoke(cli, ["bench", "budget", "--help"])
    assert result.exit_code == 0
    assert "--repeat" in result.stdout
