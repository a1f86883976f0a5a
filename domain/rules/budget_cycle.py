"""The participatory budget's cycle rules: the ballot kind and its limits, the tally rule and
its tie-break, who may vote, the stages' durations, and whether a ballot is valid.

Standard library only: the commands, the views and `registre audit verify` apply these very
functions (the tally rules themselves are in `domain/rules/budget.py`), so a guarantor checks
every ballot and recomputes every outcome from an export alone.

A cycle's rules are the charter's `budget` rules (defaults below) with the overrides the
clerk who opens the cycle gives; they are fixed and published in the cycle's first event,
before any project is submitted, with the budget of each district (`metropolis` for the
whole metropolis, or a member commune's INSEE code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from datetime import date

from domain.errors import InvalidCharter
from domain.rules.petition import SignerClaims, age_on

BALLOTS = ("approval", "knapsack", "cumulative")
# The tally rules a cycle may name (domain/rules/budget.py RULES).
TALLY_RULES = ("greedy", "greedy-per-cost", "mes", "mes-cardinality", "mes-add1",
               "mes-add1-exhaustive", "mes-add1-greedy", "mes-add1-comparison")
TIE_BREAKS = ("default", "id")
METROPOLIS = "metropolis"  # the district of projects and ballots for the whole metropolis
MAX_SECONDS = 10 * 366 * 86400
MAX_BUDGET = 10**12  # currency units
MAX_DISTRICTS = 200
MAX_PROJECTS_ON_BALLOT = 500


@dataclass(frozen=True)
class BudgetRules:
    """The rules of one budget cycle (rule ids `budget.<name>`).

    - `ballot`: `approval` (tick between `min_approvals` and `max_approvals` projects; 0: no
      maximum), `knapsack` (tick projects whose total cost stays within the district's
      budget, rule `budget.ballot.over_budget`) or `cumulative` (give at most `points`
      points in all, at most `max_points_per_project` to one project; 0: no such cap).
    - `rule`: the tally (domain/rules/budget.py), `tie_break`: `default` (lowest cost, then
      most votes, then the documented lot seeded by the cycle's id) or `id`.
    - `replace_ballot`: a voter may cast a new ballot until the close, the last one counts
      (rule `budget.one_ballot` otherwise).
    - `min_age` of voters and of project authors (residents of a member commune), years.
    - `submission_seconds`, `review_seconds`, `voting_seconds`: the stages' durations, from
      the cycle's opening, the end of submission and the end of review. Silence of the
      clerks at the review's end makes a project eligible (rule `budget.review`).
    - `max_projects_per_author`: 0 for no limit (rule `budget.projects_per_author`).
    """

    ballot: str = "approval"
    min_approvals: int = 1
    max_approvals: int = 0
    points: int = 10
    max_points_per_project: int = 0
    rule: str = "mes-add1"
    tie_break: str = "default"
    replace_ballot: bool = True
    min_age: int = 16
    submission_seconds: int = 30 * 86400
    review_seconds: int = 30 * 86400
    voting_seconds: int = 21 * 86400
    max_projects_per_author: int = 0

    def __post_init__(self) -> None:
        if self.ballot not in BALLOTS:
            raise InvalidCharter(f"a budget ballot is one of {', '.join(BALLOTS)}")
        if self.rule not in TALLY_RULES:
            raise InvalidCharter(f"a budget tally rule is one of {', '.join(TALLY_RULES)}")
        if self.tie_break not in TIE_BREAKS:
            raise InvalidCharter(f"a budget tie-break is one of {', '.join(TIE_BREAKS)}")
        if not isinstance(self.replace_ballot, bool):
            raise InvalidCharter("replace_ballot is true or false")
        for name in ("submission_seconds", "review_seconds", "voting_seconds"):
            if not _whole(getattr(self, name), MAX_SECONDS) or getattr(self, name) < 1:
                raise InvalidCharter(f"{name} is a whole number of seconds, at least one, "
                                     "within ten years")
        for name, most in (("min_approvals", MAX_PROJECTS_ON_BALLOT),
                           ("max_approvals", MAX_PROJECTS_ON_BALLOT), ("points", 10_000),
                           ("max_points_per_project", 10_000), ("min_age", 120),
                           ("max_projects_per_author", 1000)):
            if not _whole(getattr(self, name), most):
                raise InvalidCharter(f"{name} is a whole number between 0 and {most}")
        if self.max_approvals and self.max_approvals < self.min_approvals:
            raise InvalidCharter("max_approvals is at least min_approvals")
        if self.ballot == "cumulative" and self.points < 1:
            raise InvalidCharter("a cumulative ballot has at least one point to give")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BudgetRules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidCharter(f"unknown budget rule(s): {', '.join(unknown)}")
        return cls(**dict(data))

    def with_overrides(self, overrides: Mapping[str, Any]) -> BudgetRules:
        return BudgetRules.from_dict({**self.as_dict(), **overrides})


def checked_districts(districts: Mapping[str, int], communes: Sequence[str]) -> dict[str, int]:
    """The districts of a cycle and their budgets: `metropolis` or member communes, each
    budget a positive whole number of currency units (rule `budget.districts`)."""
    if not districts or len(districts) > MAX_DISTRICTS:
        raise InvalidCharter(f"a cycle has between 1 and {MAX_DISTRICTS} districts")
    unknown = sorted(d for d in districts if d != METROPOLIS and d not in communes)
    if unknown:
        raise InvalidCharter(f"not a district of this metropolis: {', '.join(unknown)} "
                             f"(districts are '{METROPOLIS}' or member communes)")
    for name, budget in districts.items():
        if not _whole(budget, MAX_BUDGET) or budget < 1:
            raise InvalidCharter(f"the budget of district {name} is a positive whole number "
                                 "of currency units")
    return dict(districts)


def voter_districts(districts: Sequence[str], commune: str) -> tuple[str, ...]:
    """Where a resident of `commune` votes (and submits projects): the whole metropolis'
    district if the cycle has one, and the commune's own if it is a district."""
    return tuple(d for d in districts if d == METROPOLIS or d == commune)


def refusal_to_take_part(rules: BudgetRules, claims: SignerClaims, communes: Sequence[str],
                         district: str, day: date) -> tuple[str, str] | None:
    """Why this person may not vote (or submit a project) in `district` — `(rule id,
    message)` — or None: a resident of a member commune, of age, voting in the whole
    metropolis' district or in the commune's own (rule `budget.district`)."""
    if claims.commune is None:
        return "budget.residence", "the identity token carries no commune of residence"
    if claims.commune not in set(communes):
        return ("budget.residence",
                f"residents of {claims.commune} are not residents of this metropolis")
    if district != METROPOLIS and district != claims.commune:
        return ("budget.district",
                f"district {district} is voted on by its own residents only")
    if rules.min_age:
        if claims.birthdate is None:
            return "budget.min_age", "the identity token carries no date of birth"
        if age_on(claims.birthdate, day) < rules.min_age:
            return "budget.min_age", f"participants must be at least {rules.min_age} years old"
    return None


def ballot_refusal(rules: BudgetRules, budget: int, costs: Mapping[str, int],
                   choices: Sequence[tuple[str, int]]) -> tuple[str, str] | None:
    """Why a ballot is invalid under the cycle's rules — `(rule id, message)` — or None.

    `costs`: the projects on the district's ballot (id → cost); `choices`: (project id,
    points) pairs, points 1 for approval and knapsack ballots."""
    seen: set[str] = set()
    for project, points in choices:
        if project not in costs:
            return ("budget.ballot.unknown_project",
                    f"project {project} is not on this district's ballot")
        if project in seen:
            return "budget.ballot.duplicate", f"project {project} appears twice on the ballot"
        seen.add(project)
        if not _whole(points, 10_000) or points < 1:
            return "budget.ballot.points", "each chosen project gets a positive whole number"
        if rules.ballot != "cumulative" and points != 1:
            return ("budget.ballot.points",
                    f"an {rules.ballot} ballot ticks projects: one point each")
    n = len(choices)
    if rules.ballot == "cumulative":
        given = sum(p for _, p in choices)
        if n < 1:
            return "budget.ballot.points", "a cumulative ballot gives at least one point"
        if given > rules.points:
            return ("budget.ballot.points",
                    f"a ballot gives at most {rules.points} points in all ({given} given)")
        cap = rules.max_points_per_project
        if cap and any(p > cap for _, p in choices):
            return ("budget.ballot.points",
                    f"a ballot gives at most {cap} points to one project")
        return None
    if n < max(rules.min_approvals, 1):
        return ("budget.ballot.approvals",
                f"a ballot chooses at least {max(rules.min_approvals, 1)} project(s)")
    if rules.max_approvals and n > rules.max_approvals:
        return ("budget.ballot.approvals",
                f"a ballot chooses at most {rules.max_approvals} project(s) ({n} chosen)")
    if rules.ballot == "knapsack":
        total = sum(costs[p] for p, _ in choices)
        if total > budget:
            return ("budget.ballot.over_budget",
                    f"the projects chosen cost {total}, more than the budget of {budget}")
    return None


def _whole(value: object, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


def last_ballots(cycle_id: str, ballots: Iterable[tuple[str, str, str, Sequence[Sequence[Any]]]]
                 ) -> dict[str, dict[str, list[list]]]:
    """The ballots a tally counts: of the (cycle, district, voter, choices) ballot events in
    log order, the last of each voter in each district of `cycle_id`."""
    counted: dict[str, dict[str, list[list]]] = {}
    for cycle, district, voter, choices in ballots:
        if cycle == cycle_id:
            counted.setdefault(district, {})[voter] = [[str(p), int(n)] for p, n in choices]
    return counted


def cycle_results(rules: BudgetRules, districts: Mapping[str, int],
                  on_ballot: Mapping[str, Mapping[str, int]],
                  ballots: Mapping[str, Mapping[str, Sequence[Sequence[Any]]]],
                  lot_seed: str) -> dict[str, dict[str, Any]]:
    """Each district's outcome: the cycle's rule and tie-break applied to the projects on its
    ballot (id → cost) and the ballots counted (voter → choices); the lot of the default
    tie-break is seeded by `lot_seed:district` (the cycle's id). The rounds are recorded
    with their exact fractions written `p/q`, for the results page and the verifier."""
    from domain.rules import budget as tallies

    results: dict[str, dict[str, Any]] = {}
    for district, budget in districts.items():
        costs = on_ballot.get(district, {})
        projects = tuple(tallies.Project(id=p, cost=c) for p, c in sorted(costs.items()))
        cast = tuple(tallies.Ballot(points=tuple(sorted((str(p), int(n)) for p, n in choices)))
                     for _, choices in sorted(ballots.get(district, {}).items()))
        election = tallies.Election(budget=budget, projects=projects, ballots=cast)
        outcome = tallies.tally(election, rules.rule, rules.tie_break,
                                lot_seed=f"{lot_seed}:{district}")
        results[district] = {
            "rule": outcome.rule, "tie_break": outcome.tie_break, "budget": budget,
            "ballots": len(cast), "selected": list(outcome.selected), "cost": outcome.cost,
            "voter_budget": _fraction(outcome.voter_budget),
            "rounds": [{"project": r.project, "phase": r.phase, "votes": r.votes,
                        "cost": r.cost, "price": _fraction(r.price),
                        "effective_votes": _fraction(r.effective_votes),
                        "paid": _fraction(r.paid), "payers": r.payers}
                       for r in outcome.rounds],
            "notes": list(outcome.notes),
        }
    return results


def _fraction(value: Any) -> str | None:
    return None if value is None else str(value)
