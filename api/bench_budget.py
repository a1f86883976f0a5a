"""`registre bench budget FILE.pb`: our exact Add1 tally against pabutools', in the same run.

pabutools (GPL-3.0, the `reference` dependency group that `make install` syncs) is the research
reference; it is imported here lazily, inside `bench_budget`, and nowhere else in production
code. Both sides read the same file (each with its own parser, not timed) and tie-break by
project id (pabutools' `lexico_tie_breaking`, our `tie_break="id"`).

pabutools' Add1, `method_of_equal_shares(..., voter_budget_increment=1)`, stops at the first
exhaustive outcome: that is our `mes-add1-exhaustive`, not the cities' `mes-add1`, which goes on
raising the per-voter budget until the outcome would exceed the budget. So for `--rule mes-add1`
the bench times three things on the file:

- ours `mes-add1` (best of N) and ours `mes-add1-exhaustive` (best of N);
- pabutools' `method_of_equal_shares(Cost_Sat, voter_budget_increment=1)` (once), compared with
  our `mes-add1-exhaustive`: `ratio` = its time / ours;
- the cities' rule composed from pabutools' parts (once): `method_of_equal_shares(Cost_Sat)` on
  the instance with its budget raised by n (one unit per voter) at a time, the last outcome
  within the budget kept, i.e. `exhaustion_by_budget_increase(..., budget_step=n,
  exhaustive_stop=False)` with our end (every supported project funded), compared with our
  `mes-add1`: `ratio` = its time / ours.

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


def _calls(rule: str) -> list[tuple[str, str]]:
    """(our rule, the pabutools rule it is compared with) pairs benched for --rule."""
    if rule == "mes-add1":
        return [("mes-add1-exhaustive", "mes-add1-exhaustive"), ("mes-add1", "mes-add1")]
    return [(rule, rule)]


PABUTOOLS_CALL = {
    "mes-add1": "method_of_equal_shares(Cost_Sat) at budget + k·n, k = 0, 1, 2… until over "
                "budget",
    "mes-add1-exhaustive": "method_of_equal_shares(Cost_Sat, voter_budget_increment=1)",
    "mes": "method_of_equal_shares(Cost_Sat)",
    "mes-cardinality": "method_of_equal_shares(Cardinality_Sat)",
    "greedy": "greedy_utilitarian_welfare(Cost_Sat)",
    "greedy-per-cost": "greedy_utilitarian_welfare(Cardinality_Sat)",
}


def bench_budget(path: Path, rule: str = "mes-add1", repeat: int = 3,
                 echo: Callable[[str], None] = print) -> bool:
    """Run the bench, print its lines; True when every compared pair selects the same set."""
    if rule not in BENCH_RULES:
        raise ValueError(f"rule {rule!r} is not benched; rules: {', '.join(BENCH_RULES)}")
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    reference = _pabutools()
    from importlib.metadata import version

    from pabutools.election import parse_pabulib

    election = pabulib.election(pabulib.load(path))
    instance, profile = parse_pabulib(str(path))
    echo(f"file        {path.name}: {len(election.projects)} projects, "
         f"{len(election.ballots):,} ballots, budget {election.budget:,}")
    echo(f"pabutools   {version('pabutools')}; both tie-break by project id")
    agree_all = True
    ours: dict[str, set[str]] = {}
    for ours_rule, ref_rule in _calls(rule):
        best = float("inf")
        outcome = None
        for _ in range(repeat):
            started = time.perf_counter()
            outcome = budget.tally(election, ours_rule, tie_break="id")
            best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        theirs = [p.name for p in reference[ref_rule](instance, profile)]
        ref_seconds = time.perf_counter() - started
        cost = {p.id: p.cost for p in election.projects}
        agree = set(theirs) == set(outcome.selected)
        agree_all &= agree
        ours[ours_rule] = set(outcome.selected)
        echo("")
        echo(f"ours        {ours_rule}: {len(outcome.selected)} projects, cost "
             f"{outcome.cost:,}: {' '.join(outcome.selected)}")
        echo(f"pabutools   {PABUTOOLS_CALL[ref_rule]}: {len(theirs)} projects, cost "
             f"{sum(cost[p] for p in theirs):,}: {' '.join(theirs)}")
        echo(f"agree       {'yes' if agree else 'NO'} (same set of projects)")
        echo(f"time        ours {best:.3f} s (best of {repeat}), pabutools {ref_seconds:.3f} s "
             "(one run)")
        echo(f"ratio       {ref_seconds / best:.1f} (pabutools time / ours)")
    if rule == "mes-add1":
        add1, exhaustive = ours["mes-add1"], ours["mes-add1-exhaustive"]
        echo("")
        echo("note        pabutools' voter_budget_increment=1 stops at the first exhaustive "
             "outcome (our mes-add1-exhaustive); the cities' mes-add1 "
             + ("selects the same projects here" if add1 == exhaustive
                else "goes on and selects other projects here"))
    return agree_all
