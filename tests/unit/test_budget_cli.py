"""`registre budget tally`: the rule (or `auto`), the human and JSON outputs, the errors.

The only expected outcomes are the real Pabulib files' own `selected` columns (what each city
funded): `--rule auto` must reproduce them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import cli
from domain.rules import budget, pabulib

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
FILES = sorted(DATA.glob("*.pb"))
SMALL = DATA / "Poland_Warszawa_2019_Anin.pb"

SMALL_PB = """META
key;value
description;a small test
num_projects;3
num_votes;4
budget;100
vote_type;approval
rule;{rule}
PROJECTS
project_id;cost;votes;selected
a;60;3;1
b;50;2;0
c;40;2;1
VOTES
voter_id;vote
1;a,b
2;a,c
3;a
4;b,c
"""


def run(*args: str):
    return CliRunner().invoke(cli, ["budget", "tally", *args])


def write(tmp_path: Path, text: str, name: str = "e.pb") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_files_are_there_when_the_suite_runs() -> None:
    assert len(FILES) == 4, FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_auto_reproduces_the_files_selected_column_when_tallying_a_real_file(path: Path) -> None:
    pb = pabulib.load(path)
    funded = {p["project_id"] for p in pb.projects if p.get("selected", "").strip() == "1"}
    result = run(str(path), "--rule", "auto", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rule"] == budget.PABULIB_RULES[pb.meta["rule"]]
    assert set(out["selected"]) == funded
    assert len(out["selected"]) == len(funded)


def test_json_is_exactly_rule_selected_and_cost_when_json_is_asked(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_PB.format(rule="greedy"))
    result = run(str(path), "--rule", "mes", "--tie-break", "id", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    election = pabulib.election(pabulib.load(path))
    outcome = budget.tally(election, "mes", tie_break="id")
    assert out == {"rule": "mes", "selected": list(outcome.selected), "cost": outcome.cost}


def test_json_names_the_resolved_rule_when_the_rule_is_auto(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_PB.format(rule="equalshares/add1"))
    out = json.loads(run(str(path), "--rule", "auto", "--json").stdout)
    assert out["rule"] == "mes-add1"


@pytest.mark.parametrize("rule", budget.RULES)
def test_human_output_lists_each_funded_project_and_the_total_when_tallying(
        tmp_path: Path, rule: str) -> None:
    path = write(tmp_path, SMALL_PB.format(rule="greedy"))
    result = run(str(path), "--rule", rule)
    assert result.exit_code == 0, result.output
    outcome = budget.tally(pabulib.election(pabulib.load(path)), rule)
    lines = result.stdout.splitlines()
    assert f"rule {rule}" in lines[0]
    rows = [line.split() for line in lines if line[:3].strip().isdigit()]
    assert [row[1] for row in rows] == list(outcome.selected)
    assert f"total {outcome.cost:,} of 100" in result.stdout


def test_human_output_shows_the_price_and_effective_votes_when_the_rule_is_mes() -> None:
    result = run(str(SMALL), "--rule", "mes")
    assert result.exit_code == 0, result.output
    assert "per vote" in result.stdout and "eff. votes" in result.stdout
    assert "voter budget" in result.stdout


def test_exit_code_is_2_with_the_line_on_stderr_when_the_file_is_malformed(
        tmp_path: Path) -> None:
    text = SMALL_PB.format(rule="greedy").replace("c;40;2;1", "c;forty;2;1")
    path = write(tmp_path, text)
    result = run(str(path), "--rule", "greedy")
    assert result.exit_code == 2
    with pytest.raises(pabulib.PbError) as error:
        pabulib.election(pabulib.load(path))
    assert str(error.value) in result.stderr
    assert ":13" in result.stderr  # the faulty project row is line 13
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_exit_code_is_2_when_the_file_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.pb"
    path.write_bytes(b"\xff\xfe\x00META")
    result = run(str(path), "--rule", "greedy")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_exit_code_is_2_when_the_file_does_not_exist(tmp_path: Path) -> None:
    result = run(str(tmp_path / "none.pb"), "--rule", "greedy")
    assert result.exit_code == 2
    assert "none.pb" in result.stderr


def test_exit_code_is_2_naming_the_rules_when_the_rule_is_unknown() -> None:
    result = run(str(SMALL), "--rule", "borda")
    assert result.exit_code == 2
    assert "borda" in result.stderr
    assert all(rule in result.stderr for rule in budget.RULES)


def test_exit_code_is_2_when_the_tie_break_is_unknown() -> None:
    result = run(str(SMALL), "--rule", "mes", "--tie-break", "coin")
    assert result.exit_code == 2
    assert "coin" in result.stderr


def test_auto_is_refused_clearly_when_the_file_names_no_rule(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_PB.format(rule="greedy").replace("rule;greedy\n", ""))
    result = run(str(path), "--rule", "auto")
    assert result.exit_code == 2
    assert "names no rule" in result.stderr


def test_auto_is_refused_clearly_when_the_file_names_a_rule_we_do_not_tally(
        tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_PB.format(rule="greedy-threshold"))
    result = run(str(path), "--rule", "auto")
    assert result.exit_code == 2
    assert "greedy-threshold" in result.stderr


def test_budget_is_a_registered_command_group_when_the_cli_lists_its_help() -> None:
    result = CliRunner().invoke(cli, ["budget", "--help"])
    assert result.exit_code == 0
    assert "tally" in result.stdout
