"""Random approval elections for comparing our budget rules with pabutools (no pabutools here).

`random_case(seed)` draws, with `random.Random(seed)`, 3–10 projects with integer costs taken
from few values (so equal costs, and so ties, are common), 5–40 voters approving random subsets
(identical ballots are common too; a ballot may be empty) and a budget between the dearest
project's cost and a little more than the total (so that sometimes everything fits). Project
ids are "p1", "p2"… so that the id order ("p10" < "p2") is not the numeric one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One random election, as plain data both sides build their own objects from."""

    seed: int
    budget: int
    projects: tuple[tuple[str, int], ...]   # (id, cost)
    ballots: tuple[tuple[str, ...], ...]    # approved ids

    def __str__(self) -> str:
        return (f"seed {self.seed}: budget {self.budget}, projects {dict(self.projects)}, "
                f"ballots {[list(b) for b in self.ballots]}")


def random_case(seed: int) -> Case:
    """The random election of `seed` (see the module docstring)."""
    rng = random.Random(seed)
    m = rng.randint(3, 10)
    n = rng.randint(5, 40)
    unit = rng.choice([1, 5, 10])
    projects = tuple((f"p{i}", unit * rng.randint(1, 12)) for i in range(1, m + 1))
    costs = [c for _, c in projects]
    budget = rng.randint(max(costs), sum(costs) + unit)
    density = rng.uniform(0.15, 0.6)
    ballots = tuple(tuple(pid for pid, _ in projects if rng.random() < density)
                    for _ in range(n))
    return Case(seed, budget, projects, ballots)


def without_unsupported(case: Case) -> Case:
    """The case less the projects no ballot approves."""
    supported = {pid for ballot in case.ballots for pid in ballot}
    return Case(case.seed, case.budget,
                tuple(p for p in case.projects if p[0] in supported), case.ballots)


def our_election(case: Case):
    """The case as our `domain.rules.budget.Election`."""
    from domain.rules.budget import Ballot, Election, Project
    return Election(budget=case.budget,
                    projects=tuple(Project(pid, cost) for pid, cost in case.projects),
                    ballots=tuple(Ballot.approval(b) for b in case.ballots))


def pabutools_case(case: Case):
    """The case as a pabutools (Instance, ApprovalProfile)."""
    from tests.reference.pabutools_rules import pabutools_election
    return pabutools_election(case.budget, case.projects, case.ballots)
