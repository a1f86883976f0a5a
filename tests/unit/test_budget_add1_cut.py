"""Add1's cut-short runs: `_mes_run(..., cap=budget)` stops a run (`cut`, its first rounds
kept) only when its outcome can no longer cost more than the budget nor fund every supported
project (with `fit`, nor be exhaustive); otherwise it is the full run."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from domain.rules import pabulib
from domain.rules.budget import _Ctx, _mes_run, tally
from tests.unit.test_budget_rules import random_election

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"


@pytest.mark.parametrize("block", range(2))
def test_a_run_is_cut_short_only_when_its_outcome_cannot_stop_add1_when_instances_are_random(
        block: int) -> None:
    cut = kept = 0
    for seed in range(block * 100, block * 100 + 100):
        e = random_election(seed)
        ctx = _Ctx(e, ("default", "id")[seed % 2], "")
        base = Fraction(e.budget, len(e.ballots))
        for k in range(0, 40, 3):
            full = _mes_run(ctx, base + k, False)
            spent = sum(ctx.cost[p] for p in full.seq)
            for fit in (False, True):
                short = _mes_run(ctx, base + k, False, cap=e.budget, fit=fit)
                if short.cut:
                    cut += 1
                    assert short.seq == full.seq[:len(short.seq)], (seed, k, fit)
                    assert spent <= e.budget, (seed, k, fit)
                    assert len(full.seq) < len(ctx.supported), (seed, k, fit)
                    if fit:  # not exhaustive: a supported project left out still fits
                        assert any(spent + ctx.cost[p] <= e.budget for p in ctx.supported
                                   if p not in full.seq), (seed, k)
                else:
                    kept += 1
                    assert short.seq == full.seq and short.raw == full.raw, (seed, k, fit)
    assert cut and kept  # both paths are exercised


def test_add1_cuts_most_runs_short_and_keeps_the_city_s_outcome_when_run_on_wieliczka() -> None:
    e = pabulib.election(pabulib.load(DATA / "Poland_Wieliczka_2023_Green_Budget.pb"))
    outcome = tally(e, "mes-add1", tie_break="id")
    assert outcome.cost == 995_079 and len(outcome.selected) == 30
    assert "by 164 to" in outcome.notes[0]
    assert "cut short" in outcome.notes[0]
    exhaustive = tally(e, "mes-add1-exhaustive", tie_break="id")
    assert exhaustive.cost == 984_579 and len(exhaustive.selected) == 31
    assert "by 150 to" in exhaustive.notes[0] and "cut short" in exhaustive.notes[0]
