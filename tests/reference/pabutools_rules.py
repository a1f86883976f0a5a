"""Our budget rules (domain/rules/budget.py RULES) computed by pabutools, the research reference.

pabutools (GPL-3.0, the `reference` dependency group, never imported by production code) is
used by the comparison tests and by `registre bench budget`. Each of our rules maps to pabutools
calls as follows, always with pabutools' lexicographic tie-breaking on the project id
(`lexico_tie_breaking`, our `tie_break="id"`), resolute:

    greedy               greedy_utilitarian_welfare(sat_class=Cost_Sat): the density
                         cost·approvals / cost is the approval count
    greedy-per-cost      greedy_utilitarian_welfare(sat_class=Cardinality_Sat): approvals / cost
    mes                  method_of_equal_shares(sat_class=Cost_Sat)
    mes-cardinality      method_of_equal_shares(sat_class=Cardinality_Sat)
    mes-add1-exhaustive  method_of_equal_shares(sat_class=Cost_Sat, voter_budget_increment=1):
                         pabutools' own iterated MES, which stops at the first exhaustive outcome
    mes-add1             method_of_equal_shares(sat_class=Cost_Sat) on the instance with its budget
                         raised by n (one unit per voter) at a time, keeping the last outcome within
                         the real budget, as the cities ran it; pabutools has no single call for
                         it: this is exhaustion_by_budget_increase(..., budget_step=n,
                         exhaustive_stop=False), with an end once every supported project is
                         selected (more budget can only give that outcome again).
    mes-add1-greedy      completion_by_rule_combination([mes-add1 above, greedy Cost_Sat])
    mes-add1-comparison  popularity_comparison(Cardinality_Sat, [mes-add1 above, greedy]):
                         pabutools counts, for each outcome, the voters it satisfies most (a voter
                         indifferent between the two counts for both, so the comparison is the
                         one of strict preferences) and returns every most popular outcome; the
                         greedy outcome is taken only when it alone is returned, i.e. strictly more
                         voters prefer it, as equalshares.net's comparison step ("satisfaction":
                         the number of one's approved projects funded). pabutools has no rule of
                         that name: this is our composition of its parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    Instance,
    Project,
    parse_pabulib,
)
from pabutools.rules import (
    BudgetAllocation,
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    popularity_comparison,
)
from pabutools.tiebreaking import lexico_tie_breaking

#: our rules that pabutools does not compute, with the reason (none: the comparison step is
#: composed from popularity_comparison, see above)
UNSUPPORTED: dict[str, str] = {}

Election = tuple[Instance, ApprovalProfile]


def pabutools_election(budget: int, projects: Iterable[tuple[str, int]],
                       ballots: Iterable[Iterable[str]]) -> Election:
    """A pabutools approval election built in memory: (id, cost) projects, ballots of ids."""
    by_id = {pid: Project(pid, cost) for pid, cost in projects}
    instance = Instance(by_id.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot(by_id[p] for p in ballot) for ballot in ballots],
                              instance=instance)
    return instance, profile


def load(path: str | Path) -> Election:
    """A Pabulib file parsed by pabutools itself (`parse_pabulib`)."""
    instance, profile = parse_pabulib(str(path))
    return instance, profile


def _greedy(sat: type) -> Any:
    def rule(instance, profile, initial_budget_allocation=None, resoluteness=True):
        return greedy_utilitarian_welfare(instance, profile, sat_class=sat,
                                          tie_breaking=lexico_tie_breaking,
                                          resoluteness=resoluteness,
                                          initial_budget_allocation=initial_budget_allocation)
    return rule


def _mes(sat: type, **params: Any) -> Any:
    def rule(instance, profile, initial_budget_allocation=None, resoluteness=True):
        return method_of_equal_shares(instance, profile, sat_class=sat,
                                      tie_breaking=lexico_tie_breaking,
                                      resoluteness=resoluteness,
                                      initial_budget_allocation=initial_budget_allocation,
                                      **params)
    return rule


_last_add1: list = []  # [(instance, profile, outcome)]: the composite rules reuse the last one


def _mes_add1(instance, profile, initial_budget_allocation=None, resoluteness=True):
    if not initial_budget_allocation and _last_add1 and _last_add1[0][0] is instance \
            and _last_add1[0][1] is profile and _last_add1[0][3] == instance.budget_limit:
        return BudgetAllocation(_last_add1[0][2])
    outcome = _mes_add1_run(instance, profile, initial_budget_allocation, resoluteness)
    if not initial_budget_allocation:
        _last_add1[:] = [(instance, profile, BudgetAllocation(outcome), instance.budget_limit)]
    return outcome


def _mes_add1_run(instance, profile, initial_budget_allocation=None, resoluteness=True):
    # exhaustion_by_budget_increase(method_of_equal_shares, budget_step=n, exhaustive_stop=False)
    # with an end: once every supported project is selected, more budget changes nothing.
    mes = _mes(Cost_Sat)
    n = profile.num_ballots()
    supported = {p.name for ballot in profile for p in ballot}
    raised = Instance(instance, budget_limit=instance.budget_limit)
    previous = BudgetAllocation(initial_budget_allocation or [])
    while True:
        outcome = mes(raised, profile, initial_budget_allocation, resoluteness)
        if not instance.is_feasible(outcome):
            return previous
        if n == 0 or supported <= {p.name for p in outcome}:
            return outcome
        previous = outcome
        raised.budget_limit += n


RULES: dict[str, Any] = {
    "greedy": _greedy(Cost_Sat),
    "greedy-per-cost": _greedy(Cardinality_Sat),
    "mes": _mes(Cost_Sat),
    "mes-cardinality": _mes(Cardinality_Sat),
    "mes-add1": _mes_add1,
    "mes-add1-exhaustive": _mes(Cost_Sat, voter_budget_increment=1),
}


def _mes_add1_greedy(instance, profile, initial_budget_allocation=None, resoluteness=True):
    return completion_by_rule_combination(
        instance, profile, [_mes_add1, _greedy(Cost_Sat)],
        initial_budget_allocation=initial_budget_allocation, resoluteness=resoluteness)


def _mes_add1_comparison(instance, profile, initial_budget_allocation=None, resoluteness=True):
    mes = _mes_add1(instance, profile, initial_budget_allocation)
    greedy = _greedy(Cost_Sat)(instance, profile, initial_budget_allocation)
    winners = popularity_comparison(instance, profile, Cardinality_Sat,
                                    [lambda *a, **k: mes, lambda *a, **k: greedy],
                                    initial_budget_allocation=initial_budget_allocation)
    return greedy if winners == [greedy] and greedy != mes else mes


RULES["mes-add1-greedy"] = _mes_add1_greedy
RULES["mes-add1-comparison"] = _mes_add1_comparison


def pabutools_allocation(source: str | Path | Election, rule: str) -> list[str]:
    """The project ids pabutools selects under our `rule`, in pabutools' selection order.

    `source` is a .pb path (parsed by pabutools) or an (Instance, Profile) pair."""
    if rule in UNSUPPORTED:
        raise NotImplementedError(f"{rule}: {UNSUPPORTED[rule]}")
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; pabutools computes: {', '.join(RULES)}")
    instance, profile = load(source) if isinstance(source, (str, Path)) else source
    return [p.name for p in RULES[rule](instance, profile)]


def pabutools_outcome(source: str | Path | Election, rule: str) -> set[str]:
    """The set of project ids pabutools selects under our `rule` (see the module docstring)."""
    return set(pabutools_allocation(source, rule))
