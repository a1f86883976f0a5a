"""`registre convention marginals|draw` on the reference pools."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import cli

SMALL = Path(__file__).resolve().parents[1] / "data" / "sortition" / "flanigan-2021" / \
    "example_small_20"
ARGS = ["--people", str(SMALL / "respondents.csv"), "--features", str(SMALL / "categories.csv"),
        "--panel-size", "20"]


def test_convention_marginals_prints_json_when_asked() -> None:
    result = CliRunner().invoke(cli, ["convention", "marginals", *ARGS, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["method"] == "leximin" and len(out["marginals"]) == 200
    assert all(abs(p - 0.1) < 1e-6 for p in out["marginals"].values())


def test_convention_marginals_prints_french_when_not_json() -> None:
    result = CliRunner().invoke(cli, ["convention", "marginals", *ARGS, "--method", "maximin"])
    assert result.exit_code == 0
    assert "Probabilité minimale : 10,00 %" in result.stdout


def test_convention_draw_is_reproducible_when_the_seed_is_the_same() -> None:
    args = ["convention", "draw", *ARGS, "--seed", "c0ffee", "--json"]
    first, second = (json.loads(CliRunner().invoke(cli, args).stdout) for _ in range(2))
    assert first == second and len(first["panel"]) == 20 and len(first["commitment"]) == 64


def test_convention_cli_exits_2_naming_the_rule_when_the_pool_is_too_small() -> None:
    args = ["--people", str(SMALL / "respondents.csv"), "--features",
            str(SMALL / "categories.csv"), "--panel-size", "500"]
    result = CliRunner().invoke(cli, ["convention", "marginals", *args])
    assert result.exit_code == 2
    assert "sortition.pool_too_small" in result.stderr


def test_convention_cli_exits_2_when_the_seed_is_not_hex() -> None:
    result = CliRunner().invoke(cli, ["convention", "draw", *ARGS, "--seed", "zz"])
    assert result.exit_code == 2 and "sortition.bad_seed" in result.stderr
