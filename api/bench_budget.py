"""`registre bench budget FILE.pb`: our exact Add1 tally against pabutools', in the same run.

pabutools (GPL-3.0, the `reference` dependency group that `make install` syncs) is the research
reference; it is imported here lazily, inside `bench_budget`, and nowhere else in production
code. Both sides read the same file (each with its own parser, not timed) and tie-break by
project id (pabutools' `lexico_tie_breaking`, our `tie_break="id"`).

pabutools' Add1, `method_of_equal_shares(..., voter_budget_increment=1)`, stops at the first
exhaustive outcome: that is our `mes-add1-exhaustive`, not the cities' `mes-add1`, which goes on
raising the per-voter budget until the outcome would exceed the budget. So for `--rule mes-add1`
the bench times, on the file:

- ours `mes-add1` (best of N) and ours `mes-add1-exhaustive` (best of N);
- pabutools' `method_of_equal_shares(Cost_Sat, voter_budget_increment=1)` (once): it must
  select what our `mes-add1-exhaustive` does (`agree`); `ratio` = its time / our `mes-add1`'s,
  `ratio same rule` = its time / our `mes-add1-exhaustive`'s;
- with `--cities` only (pabutools takes many minutes on the large files), the cities' rule
  composed from pabutools' parts (once): `method_of_equal_shares(Cost_Sat)` on the instance
  with its budget raised by n (one unit per voter) at a time, the last outcome within the
  budget kept, i.e. `exhaustion_by_budget_increase(..., budget_step=n, exhaustive_stop=False)`
  with our end (every supported project funded), compared with our `mes-add1`: `ratio cities`
  = its time / ours.

Other rules pabutools computes with one call (`mes`, `mes-cardinality`, `greedy`,
`greedy-per-cost`, `mes-add1-exhaustive`) are benched one to one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from domain.rules import budget, pabulib

BENCH_RULES = ("mes-add1", "mes-add1-exhaustive", "mes", "mes-cardinality", "greedy",
               "greedy-per-cost")


class MissingReference(RuntimeError):
    """pabutools is not installed."""


def _pabutools() -> dict[str, Callable]:
    """Our rules as pabutools calls (instance, profile) -> project ids, imported lazily."""
    try:
        from pabutools.election import Cardinality_Sat, Cost_Sat, Instance
        from pabutools.rules import (
            greedy_utilitarian_welfare,
            method_of_equal_shares,
        )
        from pabutools.tiebreaking import lexico_tie_breaking
    except ImportError:
        raise MissingReference(
            "pabutools is not installed: it is in the `reference` dependency group; run "
            "`make install` (uv sync --frozen --group reference)") from None

    def mes(sat, **params):
        return lambda instance, profile, **more: method_of_equal_shares(
            instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking,
            **params, **more)

    def greedy(sat):
        return lambda instance, profile: greedy_utilitarian_welfare(
            instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking)

    def add1_cities(instance, profile):
        # exhaustion_by_budget_increase(mes, budget_step=n, exhaustive_stop=False), written out
        # so that it ends, as ours does, once every supported project is funded (more budget
        # cannot change that outcome; pabutools' own loop would go on to its budget_bound)
        n = profile.num_ballots()
        supported = {p.name for ballot in profile for p in ballot}
        raised = Instance(instance, budget_limit=instance.budget_limit)
        previous: list = []
        while True:
            outcome = method_of_equal_shares(raised, profile, sat_class=Cost_Sat,
                                             tie_breaking=lexico_tie_breaking)
            if not instance.is_feasible(outcome):
                return previous
            if supported <= {p.name for p in outcome}:
                return outcome
            previous = outcome
            raised.budget_limit += n

    return {
        "mes-add1": add1_cities,
        "mes-add1-exhaustive": mes(Cost_Sat, voter_budget_increment=1),
        "mes": mes(Cost_Sat),
        "mes-cardinality": mes(Cardinality_Sat),
        "greedy": greedy(Cost_Sat),
        "greedy-per-cost": greedy(Cardinality_Sat),
    }


PABUTOOLS_CALL = {
    "mes-add1": "method_of_equal_shares(Cost_Sat) at budget + k·n, k = 0, 1, 2… until over "
                "budget",
    "mes-add1-exhaustive": "method_of_equal_shares(Cost_Sat, voter_budget_increment=1)",
    "mes": "method_of_equal_shares(Cost_Sat)",
    "mes-cardinality": "method_of_equal_shares(Cardinality_Sat)",
    "greedy": "greedy_utilitarian_welfare(Cost_Sat)",
    "greedy-per-cost": "greedy_utilitarian_welfare(Cardinality_Sat)",
}


def _best(run: Callable[[], object], repeat: int) -> tuple[object, float]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return result, best


def bench_budget(path: Path, rule: str = "mes-add1", repeat: int = 3, cities: bool = False,
                 echo: Callable[[str], None] = print) -> bool:
    """Run the bench and print its lines; True when pabutools and our same rule agree.

    For `mes-add1`, pabutools' `voter_budget_increment=1` is run once and compared with both
    our `mes-add1` (the rule asked; `ratio`) and our `mes-add1-exhaustive` (the same rule as
    pabutools'; `ratio same rule`, and the agreement that decides the result); with `cities`,
    the cities' Add1 composed from pabutools' parts is run too and compared with our mes-add1."""
    if rule not in BENCH_RULES:
        raise ValueError(f"rule {rule!r} is not benched; rules: {', '.join(BENCH_RULES)}")
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    reference = _pabutools()
    from importlib.metadata import version

    from pabutools.election import parse_pabulib

    election = pabulib.election(pabulib.load(path))
    instance, profile = parse_pabulib(str(path))
    cost = {p.id: p.cost for p in election.projects}
    echo(f"{'file':<26} {path.name}: {len(election.projects)} projects, "
         f"{len(election.ballots):,} ballots, budget {election.budget:,}")
    echo(f"{'pabutools':<26} {version('pabutools')}; both sides tie-break by project id")

    def show(label: str, selected) -> None:
        echo(f"{label:<26} {len(selected)} projects, "
             f"cost {sum(cost[p] for p in selected):,}: {' '.join(selected)}")

    same_rule = "mes-add1-exhaustive" if rule == "mes-add1" else rule
    ours, seconds = _best(lambda: budget.tally(election, rule, tie_break="id"), repeat)
    show(f"ours {rule}", ours.selected)
    echo(f"{'':<26} {seconds:.3f} s (best of {repeat})")
    if same_rule != rule:
        matching, same_seconds = _best(
            lambda: budget.tally(election, same_rule, tie_break="id"), repeat)
        show(f"ours {same_rule}", matching.selected)
        echo(f"{'':<26} {same_seconds:.3f} s (best of {repeat})")
    else:
        matching, same_seconds = ours, seconds
    started = time.perf_counter()
    theirs = [p.name for p in reference[same_rule](instance, profile)]
    ref_seconds = time.perf_counter() - started
    show("pabutools", theirs)
    echo(f"{'':<26} {ref_seconds:.3f} s (one run): {PABUTOOLS_CALL[same_rule]}")
    agree = set(theirs) == set(matching.selected)
    echo(f"{'agree':<26} {'yes' if agree else 'NO'}: pabutools and our {same_rule} select "
         f"{'the same' if agree else 'different'} projects")
    if same_rule != rule:
        same = set(theirs) == set(ours.selected)
        echo(f"{'':<26} our {rule} selects {'the same projects' if same else 'other projects'}"
             ": pabutools' voter_budget_increment=1 stops at the first exhaustive outcome, "
             "the cities' Add1 goes on until the outcome would exceed the budget")
        echo(f"{'ratio':<26} {ref_seconds / seconds:.1f} (pabutools {ref_seconds:.3f} s / our "
             f"{rule} {seconds:.3f} s)")
        echo(f"{'ratio same rule':<26} {ref_seconds / same_seconds:.1f} "
             f"(pabutools / our {same_rule})")
    else:
        echo(f"{'ratio':<26} {ref_seconds / seconds:.1f} (pabutools time / ours)")
    if cities and rule == "mes-add1":
        started = time.perf_counter()
        composed = [p.name for p in reference["mes-add1"](instance, profile)]
        composed_seconds = time.perf_counter() - started
        show("pabutools", composed)
        echo(f"{'':<26} {composed_seconds:.3f} s (one run): {PABUTOOLS_CALL['mes-add1']}")
        composed_agree = set(composed) == set(ours.selected)
        agree &= composed_agree
        echo(f"{'agree':<26} {'yes' if composed_agree else 'NO'}: with our mes-add1")
        echo(f"{'ratio cities':<26} {composed_seconds / seconds:.1f} (pabutools composed / our "
             "mes-add1)")
    return agree
