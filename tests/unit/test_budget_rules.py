"""The participatory-budget tally rules: hand-computed examples, ties, cumulative ballots, the
fast MES and Add1 against slow references, explanations."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from domain.rules import budget, pabulib
from domain.rules.budget import (Ballot, BudgetRuleError, Election, Project, _add1_reference,
                                 _Ctx, _mes_reference, _mes_run, explain, tally)

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
FILES = sorted(DATA.glob("*.pb"))
MES_RULES = ("mes", "mes-cardinality", "mes-add1", "mes-add1-exhaustive")


def approval(budget_: int, costs: dict[str, int], ballots: list[str]) -> Election:
    return Election(budget_, tuple(Project(pid, c) for pid, c in costs.items()),
                    tuple(Ballot.approval(list(b)) for b in ballots))


# Three voters, budget 30, so 10 each. v1 approves B, C, D; v2 approves B, C; v3 approves B, D.
THREE = approval(30, {"B": 15, "C": 8, "D": 6}, ["BCD", "BC", "BD"])


def test_mes_pays_a_poor_supporter_s_whole_budget_when_ties_go_by_id() -> None:
    # Round 1: B (3 supporters, 5 each, rho = 5/15 = 1/3) beats C and D (2 supporters each, rho
    # = 1/2): budgets 5, 5, 5. Round 2: C and D tie at rho = 1/2 (C: 4 each of 8; D: 3 each of
    # 6); by id C wins: v1, v2 pay 4, budgets 1, 1, 5. Round 3: D costs 6, its supporters hold
    # 1 + 5: v1 cannot pay an equal 3 and pays all of 1; v3 pays the rest, 5; so rho·6 = 5,
    # rho = 5/6, and the effective vote count is 6 / 5.
    outcome = tally(THREE, "mes", tie_break="id")
    assert outcome.selected == ("B", "C", "D")
    assert [r.price for r in outcome.rounds] == [Fraction(1, 3), Fraction(1, 2), Fraction(5, 6)]
    assert [r.effective_votes for r in outcome.rounds] == [3, 2, Fraction(6, 5)]
    assert [r.paid for r in outcome.rounds] == [15, 8, 6]
    assert [r.payers for r in outcome.rounds] == [3, 2, 2]
    assert outcome.voter_budget == 10
    assert outcome.cost == 29


def test_mes_prefers_the_cheaper_of_tied_projects_when_the_tie_break_is_default() -> None:
    # Round 2: C and D tie at rho = 1/2; the default tie-break takes the cheaper D (3 each from
    # v1, v3): budgets 2, 5, 2. C then needs 8 from 2 + 5 = 7: unaffordable; the run ends.
    outcome = tally(THREE, "mes")
    assert outcome.selected == ("B", "D")
    reasons = {e.id: e for e in explain(THREE, outcome)}
    assert reasons["C"].reason.startswith("its supporters' remaining money (7)")
    assert reasons["C"].supporters_money == 7


def test_mes_cardinality_funds_the_lowest_payment_per_vote_first_when_utilities_are_votes() -> None:
    # Per approval: D needs 3 each, C 4, B 5: D (v1, v3 -> 7, 10, 7); then C 4 each (v1 3, v2 6)
    # beats B 5 each; then B: v1 holds 3 < 15/3 and pays 3, v2 and v3 pay (15 - 3)/2 = 6.
    outcome = tally(THREE, "mes-cardinality")
    assert outcome.selected == ("D", "C", "B")
    assert [r.price for r in outcome.rounds] == [3, 4, 6]
    assert outcome.rounds[2].effective_votes == Fraction(15, 6)


GREEDY = approval(10, {"a": 6, "b": 5, "c": 2}, ["abc", "ab", "a"])


def test_greedy_skips_a_project_when_it_does_not_fit_and_continues() -> None:
    outcome = tally(GREEDY, "greedy")
    assert outcome.selected == ("a", "c")  # b (2 votes) would overspend: 6 + 5 > 10
    assert outcome.cost == 8
    assert outcome.voter_budget is None
    assert [r.phase for r in outcome.rounds] == ["greedy", "greedy"]
    assert [r.paid for r in outcome.rounds] == [6, 2]
    why = {e.id: e.reason for e in explain(GREEDY, outcome)}
    assert why == {"a": "", "b": "did not fit the remaining budget (2 left)", "c": ""}


def test_greedy_per_cost_breaks_a_tie_by_cost_when_the_tie_break_is_default() -> None:
    # a: 3 votes / 6 = 1/2, c: 1 / 2 = 1/2, b: 2 / 5. Tied a and c: the cheaper c first.
    assert tally(GREEDY, "greedy-per-cost").selected == ("c", "a")
    assert tally(GREEDY, "greedy-per-cost", tie_break="id").selected == ("a", "c")


def test_greedy_orders_equal_votes_by_the_lot_when_cost_and_votes_tie() -> None:
    e = approval(10, {"x": 10, "y": 10}, ["xy"])
    first = min(("x", "y"), key=lambda pid: budget.lot_key("seed", pid))
    assert tally(e, "greedy", lot_seed="seed").selected == (first,)
    assert tally(e, "greedy", tie_break="id").selected == ("x",)
    assert budget.lot_key("seed", "x") == __import__("hashlib").sha256(b"seed:x").hexdigest()


def test_greedy_counts_points_when_ballots_are_cumulative() -> None:
    e = Election(10, (Project("a", 10), Project("b", 10)),
                 (Ballot((("a", 5),)), Ballot((("b", 2),)), Ballot((("b", 2),))))
    outcome = tally(e, "greedy")
    assert outcome.selected == ("a",)       # 5 points beat 4, though b has more supporters
    assert outcome.rounds[0].votes == 1


def test_mes_charges_in_proportion_to_points_when_ballots_are_cumulative() -> None:
    # Budget 12, 4 each. p costs 6: v1 gave 2 points, v2 1: with cost utilities rho·6 per point,
    # 2·6ρ + 1·6ρ = 6 gives rho = 1/3: v1 pays 4, v2 pays 2.
    e = Election(12, (Project("p", 6),),
                 (Ballot((("p", 2),)), Ballot((("p", 1),)), Ballot(())))
    outcome = tally(e, "mes")
    assert outcome.selected == ("p",)
    assert outcome.rounds[0].price == Fraction(1, 3)
    assert outcome.rounds[0].effective_votes == 3  # cost / payment per point: 6 / 2


def test_add1_raises_the_voter_budget_when_money_is_left_over() -> None:
    # Budget 30: plain MES funds B and D (21); at 10 + k each, C becomes affordable once
    # v1 and v2 keep 8 between them: k = 1 gives 11 each, B 5 each, D 3 each, C needs 8 from
    # 3 + 6 = 9: funded, 29 <= 30.
    outcome = tally(THREE, "mes-add1")
    assert set(outcome.selected) == {"B", "C", "D"}
    assert outcome.voter_budget == 11
    assert outcome.notes and "raised from 10 by 1 to 11" in outcome.notes[0]


def test_add1_greedy_completes_the_budget_when_money_is_left() -> None:
    e = approval(20, {"a": 10, "b": 9, "c": 1}, ["a", "a", "b", "c"])
    plain = tally(e, "mes-add1")
    completed = tally(e, "mes-add1-greedy")
    assert set(completed.selected) >= set(plain.selected)
    assert completed.cost <= 20
    assert all(r.phase == "completion" for r in completed.rounds[len(plain.rounds):])


def test_comparison_switches_to_greedy_when_more_voters_prefer_it() -> None:
    # Anin 2019: the Add1 outcome leaves room that greedy fills; 91 voters prefer greedy, none
    # prefers MES.
    e = pabulib.election(pabulib.load(DATA / "Poland_Warszawa_2019_Anin.pb"))
    outcome = tally(e, "mes-add1-comparison")
    assert outcome.selected == tally(e, "greedy").selected
    assert outcome.voter_budget is None
    assert outcome.notes[-1] == ("comparison step: greedy outcome preferred by 91 of 457 "
                                 "voters, the MES outcome by 0; switched to greedy")


def test_comparison_keeps_mes_when_fewer_voters_prefer_greedy() -> None:
    e = pabulib.election(pabulib.load(DATA / "Poland_Wieliczka_2023_Green_Budget.pb"))
    outcome = tally(e, "mes-add1-comparison")
    assert outcome.selected == tally(e, "mes-add1").selected
    assert outcome.notes[-1].endswith("; kept MES")


@pytest.mark.parametrize(("election", "message"), [
    (approval(10, {"a": 0}, ["a"]), "cost 0 is not a positive integer"),
    (approval(10, {"a": 5}, ["z"]), "unknown project 'z'"),
    (approval(-1, {"a": 5}, ["a"]), "budget -1"),
    (Election(10, (Project("a", 5), Project("a", 6)), ()), "duplicate project id 'a'"),
    (Election(10, (Project("a", 5),), (Ballot((("a", -1),)),)), "points -1"),
    (Election(10, (Project("a", 5),), (Ballot((("a", 1), ("a", 1))),)), "twice"),
])
def test_validate_refuses_an_election_when_it_is_malformed(election: Election,
                                                           message: str) -> None:
    with pytest.raises(BudgetRuleError, match=message):
        budget.validate(election)
    with pytest.raises(BudgetRuleError):
        tally(election, "mes")


def test_tally_refuses_a_rule_when_it_is_unknown() -> None:
    with pytest.raises(BudgetRuleError, match="unknown rule"):
        tally(THREE, "phragmen")
    with pytest.raises(BudgetRuleError, match="unknown tie-break"):
        tally(THREE, "mes", tie_break="random")


def test_pabulib_rules_name_only_rules_here_when_listed() -> None:
    assert set(budget.PABULIB_RULES.values()) <= set(budget.RULES)
    assert budget.PABULIB_RULES["equalshares/add1"] == "mes-add1"


# ---------------------------------------------------------------------------------------------
# Fast against reference


def random_election(seed: int) -> Election:
    rng = random.Random(seed)
    m, n = rng.randint(3, 12), rng.randint(5, 60)
    costs = [rng.choice([rng.randint(1, 20) * 10, 50, 100]) for _ in range(m)]  # ties on cost
    cumulative = rng.random() < 0.3
    ballots = []
    for _ in range(n):
        ids = rng.sample(range(m), rng.randint(0, min(m, 4)))
        if cumulative:
            ballots.append(Ballot(tuple((f"p{i}", rng.randint(0, 3)) for i in ids)))
        else:
            ballots.append(Ballot.approval([f"p{i}" for i in ids]))
    return Election(rng.randint(1, sum(costs)), tuple(Project(f"p{i}", costs[i])
                                                       for i in range(m)), tuple(ballots))


@pytest.mark.parametrize("block", range(4))
def test_fast_mes_and_add1_equal_the_references_when_instances_are_random(block: int) -> None:
    for seed in range(block * 50, block * 50 + 50):
        e = random_election(seed)
        base = Fraction(e.budget, len(e.ballots))
        tie_break = ("default", "id")[seed % 2]
        for rule, cardinal in (("mes", False), ("mes-cardinality", True)):
            expected = _mes_reference(e, cardinal, base, tie_break)
            assert list(tally(e, rule, tie_break).selected) == expected, (seed, rule)
        for rule, exhaustive in (("mes-add1", False), ("mes-add1-exhaustive", True)):
            k, expected = _add1_reference(e, exhaustive, tie_break)
            outcome = tally(e, rule, tie_break)
            assert list(outcome.selected) == expected, (seed, rule)
            assert outcome.voter_budget == base + k, (seed, rule)


def fast_mes(tie_break: str = "default"):
    def run(e: Election, voter_budget: Fraction) -> list[str]:
        ctx = _Ctx(e, tie_break, "")
        return [ctx.ids[p] for p, *_ in _mes_run(ctx, voter_budget, False).chosen]
    return run


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_add1_jumps_equal_one_unit_steps_when_run_on_real_files(path: Path) -> None:
    e = pabulib.election(pabulib.load(path))
    base = Fraction(e.budget, len(e.ballots))
    for rule, exhaustive in (("mes-add1", False), ("mes-add1-exhaustive", True)):
        k, expected = _add1_reference(e, exhaustive, mes=fast_mes())
        outcome = tally(e, rule)
        assert list(outcome.selected) == expected
        assert outcome.voter_budget == base + k


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_fast_mes_equals_the_reference_when_run_on_real_files(path: Path) -> None:
    e = pabulib.election(pabulib.load(path))
    outcome = tally(e, "mes")
    assert list(outcome.selected) == _mes_reference(e, False, outcome.voter_budget)
    raised = tally(e, "mes-add1")  # the budget the kept Add1 run used
    assert list(raised.selected) == _mes_reference(e, False, raised.voter_budget)
    assert all(r.paid == r.cost for r in raised.rounds)


# ---------------------------------------------------------------------------------------------
# Explanations


def test_explain_lists_every_project_when_run_on_swiecie() -> None:
    e = pabulib.election(pabulib.load(DATA / "Poland_Swiecie_2023.pb"))
    outcome = tally(e, "mes-add1")
    explained = explain(e, outcome)
    assert [x.id for x in explained] == [p.id for p in e.projects]
    for x in explained:
        if x.selected:
            assert outcome.rounds[x.round].project == x.id and x.reason == ""
            assert x.phase == "mes"
        else:
            assert x.round is None and x.reason
            assert x.supporters_money < x.cost
            assert x.reason.startswith("its supporters' remaining money")
    assert sum(r.paid for r in outcome.rounds) == outcome.cost
    assert all(r.paid == r.cost for r in outcome.rounds)
    assert {x.id for x in explained if x.selected} == set(outcome.selected)
    assert [x.votes for x in explained][:3] == [380, 435, 434]
