"""Participatory-budget tally rules, exact (int and Fraction, never float), standard library only.

The service and the offline verifier (`registre audit verify`) apply these very functions, so a
guarantor recounts a participatory budget from an export alone. Every function is pure.

Input: an `Election` (a budget, projects with integer costs, ballots giving points to
projects; an approval ballot gives 1 point to each approved project). A voter *supports* a
project when they gave it positive points; a project's *votes* are its supporters, its *points*
the sum of the points it got (equal to its votes for approval ballots).

Rules (`RULES`):

- ``greedy``: projects by points, most first; each one that still fits the remaining budget is
  funded, one that does not is skipped and the next is tried. A project with no points is
  never funded.
- ``greedy-per-cost``: the same, by points per unit of cost (points/cost, exact), most first.
- ``mes``: the Method of Equal Shares (equalshares.net; Peters, Pierczyński & Skowron 2021)
  with cost utilities: a supporter's utility for project p is points × cost(p) (cost(p) for an
  approval ballot). Each voter starts with budget/n (n = number of ballots). In each round,
  for each project not yet funded whose supporters still hold at least its cost ("affordable",
  as pabutools: a project is dropped when their money is strictly below its cost), rho is the
  least price per unit of utility such that sum over supporters of min(b_i, rho·u_i(p)) =
  cost(p); the project with the least rho is funded (ties: the tie-break) and each supporter
  pays min(b_i, rho·u_i(p)). The run ends when no project is affordable.
  With cost utilities rho·u_i(p) = (rho·cost(p))·points: every supporter pays the same amount
  per point, π = rho·cost(p), or their whole remaining budget if that is less.
- ``mes-cardinality``: the same with cardinality utilities, u_i(p) = points (1 per approved
  project): the project with the least payment per point π is funded.
- ``mes-add1``: MES with cost utilities as the cities ran it (Pabulib ``equalshares/add1``;
  equalshares.net's "Add1" completion without its "exhaustive" option): MES is run with a
  per-voter budget of budget/n, then budget/n + 1, budget/n + 2… (one currency unit more per
  voter each time, i.e. a total of budget + k·n); the outcome kept is the one of the last run
  before the first run whose funded projects cost more than the budget. Stopping condition:
  the first k whose outcome costs more than the budget (the outcome of k−1 is kept), or the
  first k whose outcome funds every project someone supports (nothing could ever be added, and
  every larger k funds all of them too, so the kept set is the same). Without the second
  condition the equalshares.net loop never ends on an election where everything fits.
  No greedy completion (that is ``mes-add1-greedy``).
- ``mes-add1-exhaustive``: pabutools' iterated variant (`method_of_equal_shares(...,
  voter_budget_increment=1)`, `method_of_equal_shares_scheme`): same sequence of runs,
  stopping at the first outcome that is exhaustive (no supported project outside it fits the
  remaining budget; it is kept) or over budget (the previous outcome is kept). On Wieliczka
  2023 this is not the city's result: the add1 run the city used went on after an exhaustive
  outcome.
- ``mes-add1-greedy``: ``mes-add1``, then the remaining budget is completed greedily by points
  (equalshares.net "add1u": Add1 then utilitarian completion).
- ``mes-add1-comparison``: ``mes-add1``, then equalshares.net's comparison step
  (equalshares.net/implementation, the code generator's ``comparison: "satisfaction"``, which
  is the mode the Pabulib checker names for ``equalshares/add1-comparison``): the ``greedy``
  outcome of the whole budget is computed; a voter prefers an outcome when it gives them more
  satisfaction, the sum of their points over its funded projects (for approval: how many of
  the projects they approved it funds); the greedy outcome replaces the MES one only when
  strictly more voters prefer it than prefer the MES one (indifferent voters are not counted).

Ties (`TIE_BREAKS`), used by every rule whenever two projects compare equal:

- ``default``, equalshares.net's recommended order: lowest cost first, then most points (for
  approval: most votes), then a lot: ascending hexadecimal SHA-256 of
  f"{lot_seed}:{project_id}" (UTF-8), so that a published seed fixes the lot in advance;
- ``id``: the project id string, in Python's (code point) order, as pabutools'
  `lexico_tie_breaking` orders by the project's name, which its Pabulib parser sets to the id.

Exactness: budgets, prices and payments are `Fraction`s; every comparison is exact. The MES
computation here matches pabutools' (same affordability test, same price equation, same
charging), while being much faster than rerunning it naively:

- voters with identical ballots are merged into groups with a count, and voters with equal
  remaining budgets are merged into budget classes: a price is found by sorting the few
  distinct budgets of a project's supporters, not every supporter;
- as in pabutools, a project's price from an earlier round is a lower bound of its price now
  (budgets only go down), so projects are examined by that bound and the search stops when the
  bound exceeds the best price found;
- Add1 does not rerun MES for every +1: with the per-voter budget b0 + k, every budget, price
  and payment in a run is an affine function of k as long as every comparison the run made
  (who pays in full, who is affordable, which price is least) keeps its sign; the run
  computes the first integer k' > k at which some comparison could change sign, and every
  k in [k, k') yields the same funded projects, so those runs are skipped (the idea of
  Kraiczy, Robinson & Elkind's ADD-OPT). The result is exactly the one-unit-step result; the
  tests check it against `_add1_reference`, which steps by one with a plain MES.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from math import ceil

RULES: tuple[str, ...] = ("greedy", "greedy-per-cost", "mes", "mes-cardinality", "mes-add1",
                          "mes-add1-exhaustive", "mes-add1-greedy", "mes-add1-comparison")
TIE_BREAKS: tuple[str, ...] = ("default", "id")

PABULIB_RULES: dict[str, str] = {
    "greedy": "greedy",
    "equalshares": "mes",
    "equalshares/add1": "mes-add1",
    "equalshares/add1-comparison": "mes-add1-comparison",
}
"""Pabulib META `rule` values (pabulib.org/format) -> the rule here that reproduces them.

Pabulib also names ``greedy-threshold``, ``greedy-exclusive``, ``greedy-custom`` (city-specific
constraints these rules do not model), ``equalshares-comparison`` (MES, no Add1, then the
comparison step) and ``unknown``; they are absent on purpose. ``greedy-no-skip`` (stop at the
first project that does not fit) is likewise not ``greedy``.
"""


class BudgetRuleError(ValueError):
    """An election the rules cannot tally (unknown project, non-positive cost, …)."""


@dataclass(frozen=True)
class Project:
    """A project put to the vote: its id, integer cost and, optionally, its name."""

    id: str
    cost: int
    name: str = ""


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot: (project id, points) pairs; points 0 mean no support."""

    points: tuple[tuple[str, int], ...]

    @classmethod
    def approval(cls, ids) -> Ballot:
        """An approval ballot: 1 point for each approved project id."""
        return cls(points=tuple((str(pid), 1) for pid in ids))


@dataclass(frozen=True)
class Election:
    """A participatory budget to tally: the budget, the projects, the ballots."""

    budget: int
    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]


@dataclass(frozen=True)
class Round:
    """One funded project, in order.

    - `phase`: "greedy" (a greedy rule or the greedy outcome of a comparison), "mes" (an MES
      round), "completion" (the greedy completion after MES);
    - `votes`: its supporters (voters who gave it positive points);
    - `price`: MES only, rho, the price per unit of utility its supporters paid (a supporter
      with utility u paid min(remaining budget, rho·u));
    - `effective_votes`: MES only, equalshares.net's "effective vote count": cost / π, where π
      is the payment per point asked of the supporters who could pay it in full (π = rho·cost
      with cost utilities, π = rho with cardinality utilities). For approval ballots it is the
      number of supporters who, each paying what the ones who paid in full paid, would cover
      the cost; it equals the votes while no supporter runs short;
    - `paid`: the money taken from voters' budgets for it (MES: exactly the cost); for greedy
      and completion rounds no voter budget is charged and `paid` is the cost;
    - `payers`: the voters whose budget paid something for it (0 for greedy and completion).
    """

    project: str
    phase: str
    votes: int
    cost: int
    price: Fraction | None
    effective_votes: Fraction | None
    paid: Fraction
    payers: int


@dataclass(frozen=True)
class Outcome:
    """A tally's result: the funded projects in the order they were funded, and why.

    `voter_budget` is, for the MES family, each voter's starting budget in the MES run kept
    (for Add1 the raised one); None for greedy rules and when a comparison step kept the
    greedy outcome. `notes` are plain sentences for a results page.
    """

    rule: str
    tie_break: str
    selected: tuple[str, ...]
    cost: int
    rounds: tuple[Round, ...]
    voter_budget: Fraction | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ProjectExplanation:
    """Why a project was or was not funded, for a results page.

    `round` is the index in `Outcome.rounds` (None if not funded); `reason` is empty for a
    funded project; `supporters_money` is, when an MES phase ran, what its supporters still
    held at the end of it (None otherwise).
    """

    id: str
    cost: int
    votes: int
    selected: bool
    round: int | None
    phase: str | None
    reason: str
    supporters_money: Fraction | None


def validate(election: Election) -> None:
    """Raise `BudgetRuleError` unless the election can be tallied."""
    if not isinstance(election.budget, int) or isinstance(election.budget, bool) \
            or election.budget < 0:
        raise BudgetRuleError(f"budget {election.budget!r} is not a non-negative integer")
    ids: set[str] = set()
    for project in election.projects:
        if not isinstance(project.id, str) or not project.id:
            raise BudgetRuleError(f"project id {project.id!r} is not a non-empty string")
        if project.id in ids:
            raise BudgetRuleError(f"duplicate project id {project.id!r}")
        ids.add(project.id)
        if not isinstance(project.cost, int) or isinstance(project.cost, bool) \
                or project.cost <= 0:
            raise BudgetRuleError(f"project {project.id!r}: cost {project.cost!r} "
                                  "is not a positive integer")
    for number, ballot in enumerate(election.ballots, 1):
        seen: set[str] = set()
        for pid, points in ballot.points:
            if pid not in ids:
                raise BudgetRuleError(f"ballot {number} names unknown project {pid!r}")
            if pid in seen:
                raise BudgetRuleError(f"ballot {number} names project {pid!r} twice")
            seen.add(pid)
            if not isinstance(points, int) or isinstance(points, bool) or points < 0:
                raise BudgetRuleError(f"ballot {number}: points {points!r} for {pid!r} "
                                      "are not a non-negative integer")


def lot_key(lot_seed: str, project_id: str) -> str:
    """The default tie-break's lot: hexadecimal SHA-256 of f"{lot_seed}:{project_id}"."""
    return hashlib.sha256(f"{lot_seed}:{project_id}".encode()).hexdigest()


class _Ctx:
    """The election indexed for the rules: projects by position, ballots grouped."""

    def __init__(self, election: Election, tie_break: str, lot_seed: str) -> None:
        self.election = election
        self.budget = election.budget
        self.ids = [p.id for p in election.projects]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.cost = [p.cost for p in election.projects]
        self.n = len(election.ballots)
        m = len(self.ids)
        counts: Counter[tuple[tuple[int, int], ...]] = Counter()
        for ballot in election.ballots:
            counts[tuple(sorted((self.index[pid], x) for pid, x in ballot.points if x > 0))] += 1
        # Sorted so that the computation does not depend on ballot order.
        self.groups: list[tuple[int, tuple[tuple[int, int], ...]]] = sorted(
            ((c, items) for items, c in counts.items()), key=lambda g: g[1])
        self.supp: list[list[tuple[int, int]]] = [[] for _ in range(m)]
        self.votes = [0] * m
        self.points = [0] * m
        for g, (c, items) in enumerate(self.groups):
            for p, x in items:
                self.supp[p].append((g, x))
                self.votes[p] += c
                self.points[p] += c * x
        if tie_break == "default":
            self.tie = [(self.cost[p], -self.points[p], lot_key(lot_seed, self.ids[p]))
                        for p in range(m)]
        else:
            self.tie = [(self.ids[p],) for p in range(m)]
        self.supported = [p for p in range(m) if self.votes[p] > 0]


# ---------------------------------------------------------------------------------------------
# Greedy


def _greedy(ctx: _Ctx, per_cost: bool, already: list[int], phase: str) -> list[Round]:
    if per_cost:
        def key(p: int):
            return (-Fraction(ctx.points[p], ctx.cost[p]), ctx.tie[p])
    else:
        def key(p: int):
            return (-ctx.points[p], ctx.tie[p])
    spent = sum(ctx.cost[p] for p in already)
    rounds = []
    for p in sorted((p for p in ctx.supported if p not in already), key=key):
        if spent + ctx.cost[p] <= ctx.budget:
            spent += ctx.cost[p]
            rounds.append(Round(project=ctx.ids[p], phase=phase, votes=ctx.votes[p],
                                cost=ctx.cost[p], price=None, effective_votes=None,
                                paid=Fraction(ctx.cost[p]), payers=0))
    return rounds


# ---------------------------------------------------------------------------------------------
# Method of Equal Shares


def _until(value: Fraction, slope: Fraction) -> int | None:
    """The least integer d >= 1 at which value + slope·d may have another sign than value
    (reaching 0 counts as a change); None if never."""
    if value > 0:
        return None if slope >= 0 else max(1, ceil(value / -slope))
    if value < 0:
        return None if slope <= 0 else max(1, ceil(-value / slope))
    return None if slope == 0 else 1


@dataclass
class _MesRun:
    chosen: list[tuple[int, Fraction, Fraction, Fraction, int]]  # p, rho, pi, paid, payers
    horizon: int | None  # runs at k .. k+horizon-1 fund the same projects (None: all k' >= k)


def _mes_run(ctx: _Ctx, b0: Fraction, cardinal: bool, track: bool) -> _MesRun:
    """One MES run with per-voter budget b0; with `track`, also how far b0 can grow by whole
    units before any comparison of the run can change (see the module docstring)."""
    cost = ctx.cost
    groups = ctx.groups
    val: list[Fraction] = [Fraction(b0)]       # budget of each class
    slo: list[Fraction] = [Fraction(1)]        # its derivative in k
    gcls = [0] * len(groups)                   # class of each group, -1 once its budget is 0
    weights: list[dict[tuple[int, int], int]] = [{} for _ in ctx.ids]
    for c, items in groups:
        for p, x in items:
            w = weights[p]
            w[(0, x)] = w.get((0, x), 0) + c
    remaining = set(ctx.supported)
    # A lower bound of each project's rho, as (value, slope): rho >= cost / total utility.
    lbv: dict[int, Fraction] = {}
    lbs: dict[int, Fraction] = {}
    for p in remaining:
        util = ctx.points[p] * (1 if cardinal else cost[p])
        lbv[p], lbs[p] = Fraction(cost[p], util), Fraction(0)
    horizon: int | None = None
    chosen: list[tuple[int, Fraction, Fraction, Fraction, int]] = []

    def bound(value, slope) -> None:
        nonlocal horizon
        d = _until(value, slope)
        if d is not None and (horizon is None or d < horizon):
            horizon = d

    def price(p: int):
        """(pi, pi slope) such that the supporters' min(b, pi·x) sum to cost(p); None if they
        hold less than the cost."""
        c_p = cost[p]
        w = weights[p]
        total = 0
        total_s = 0
        entries = []
        for (cid, x), c in w.items():
            b = val[cid]
            total += b * c
            if track:
                total_s += slo[cid] * c
            entries.append((b if x == 1 else b / x, cid, x, c))
        if track:
            bound(total - c_p, total_s)
        if total < c_p:
            return None
        entries.sort(key=lambda e: e[0])
        rest = sum(x * c for _, _, x, c in entries)
        poor = Fraction(0)
        poor_s = Fraction(0)
        for _, cid, x, c in entries:
            pi = (c_p - poor) / rest
            if pi * x <= val[cid]:
                break
            poor += val[cid] * c
            if track:
                poor_s += slo[cid] * c
            rest -= x * c
        pi = (c_p - poor) / rest
        pi_s = Fraction(-poor_s, rest) if track else Fraction(0)
        if track:
            for _, cid, x, _c in entries:
                bound(val[cid] - pi * x, slo[cid] - pi_s * x)
        return pi, pi_s

    while remaining:
        order = sorted(remaining, key=lambda q: (lbv[q], ctx.tie[q]))
        best: int | None = None
        best_rho = best_s = None
        computed: list[tuple[int, Fraction, Fraction]] = []
        unvisited: list[int] = []
        for i, q in enumerate(order):
            if best_rho is not None and lbv[q] > best_rho:
                unvisited = order[i:]
                break
            found = price(q)
            if found is None:
                remaining.discard(q)
                continue
            pi, pi_s = found
            rho, rho_s = (pi, pi_s) if cardinal else (pi / cost[q], pi_s / cost[q])
            lbv[q], lbs[q] = rho, rho_s
            computed.append((q, rho, rho_s))
            if best_rho is None or rho < best_rho or (rho == best_rho
                                                      and ctx.tie[q] < ctx.tie[best]):
                best, best_rho, best_s = q, rho, rho_s
        if best is None:
            break
        if track:
            for q, rho, rho_s in computed:
                if q != best:
                    bound(rho - best_rho, rho_s - best_s)
            for q in unvisited:
                bound(lbv[q] - best_rho, lbs[q] - best_s)
        p = best
        pi = best_rho if cardinal else best_rho * cost[p]
        pi_s = best_s if cardinal else best_s * cost[p]
        remaining.discard(p)
        split: dict[tuple[int, int], tuple[int, Fraction]] = {}
        paid = Fraction(0)
        payers = 0
        for g, x in ctx.supp[p]:
            cid = gcls[g]
            if cid < 0:
                continue
            c, items = groups[g]
            key = (cid, x)
            if key not in split:
                b = val[cid]
                pay = pi * x
                if pay >= b:
                    split[key] = (-1, b)
                else:
                    val.append(b - pay)
                    slo.append(slo[cid] - pi_s * x if track else Fraction(0))
                    split[key] = (len(val) - 1, pay)
            nid, pay = split[key]
            paid += pay * c
            payers += c
            gcls[g] = nid
            for q, xq in items:
                if q in remaining:
                    w = weights[q]
                    old = (cid, xq)
                    left = w[old] - c
                    if left:
                        w[old] = left
                    else:
                        del w[old]
                    if nid >= 0:
                        new = (nid, xq)
                        w[new] = w.get(new, 0) + c
        chosen.append((p, best_rho, pi, paid, payers))
    return _MesRun(chosen=chosen, horizon=horizon)


def _mes_rounds(ctx: _Ctx, run: _MesRun) -> list[Round]:
    return [Round(project=ctx.ids[p], phase="mes", votes=ctx.votes[p], cost=ctx.cost[p],
                  price=rho, effective_votes=Fraction(ctx.cost[p]) / pi, paid=paid,
                  payers=payers)
            for p, rho, pi, paid, payers in run.chosen]


def _add1(ctx: _Ctx, exhaustive: bool) -> tuple[int, _MesRun, str, int]:
    """The Add1 iteration: (k kept, its run, why it stopped, MES runs computed)."""
    base = Fraction(ctx.budget, ctx.n)
    k = 0
    runs = 0
    supported = len(ctx.supported)
    while True:
        run = _mes_run(ctx, base + k, cardinal=False, track=True)
        runs += 1
        spent = sum(ctx.cost[p] for p, *_ in run.chosen)
        if spent > ctx.budget:
            # k > 0 here: a run at budget/n never spends more than the budget.
            return k - 1, _mes_run(ctx, base + k - 1, False, False), \
                f"at +{k} per voter the outcome would cost {spent:,}, over the budget", runs + 1
        chosen = {p for p, *_ in run.chosen}
        if len(chosen) == supported:
            return k, run, f"at +{k} per voter every supported project is funded", runs
        if exhaustive and all(spent + ctx.cost[p] > ctx.budget
                              for p in ctx.supported if p not in chosen):
            return k, run, f"at +{k} per voter the outcome is exhaustive", runs
        if run.horizon is None:  # never changes again: the limit is this outcome
            return k, run, f"from +{k} per voter the outcome no longer changes", runs
        k += run.horizon


# ---------------------------------------------------------------------------------------------
# The tally


def tally(election: Election, rule: str, tie_break: str = "default",
          lot_seed: str = "") -> Outcome:
    """Tally `election` under `rule` (one of `RULES`), ties broken by `tie_break` (one of
    `TIE_BREAKS`; `lot_seed` seeds the default tie-break's lot). See the module docstring."""
    if rule not in RULES:
        raise BudgetRuleError(f"unknown rule {rule!r} (expected one of {', '.join(RULES)})")
    if tie_break not in TIE_BREAKS:
        raise BudgetRuleError(f"unknown tie-break {tie_break!r} "
                              f"(expected one of {', '.join(TIE_BREAKS)})")
    validate(election)
    ctx = _Ctx(election, tie_break, lot_seed)
    notes: list[str] = []
    voter_budget: Fraction | None = None
    if rule in ("greedy", "greedy-per-cost"):
        rounds = _greedy(ctx, rule == "greedy-per-cost", [], "greedy")
    else:
        if ctx.n == 0:
            raise BudgetRuleError("the Method of Equal Shares needs at least one ballot")
        base = Fraction(ctx.budget, ctx.n)
        if rule in ("mes", "mes-cardinality"):
            voter_budget = base
            rounds = _mes_rounds(ctx, _mes_run(ctx, base, rule == "mes-cardinality", False))
        else:
            k, run, why, runs = _add1(ctx, rule == "mes-add1-exhaustive")
            voter_budget = base + k
            rounds = _mes_rounds(ctx, run)
            notes.append(f"add1: each voter's budget raised from {_show(base)} by {k:,} to "
                         f"{_show(voter_budget)}; stopped because {why} "
                         f"({runs:,} MES runs computed)")
            if rule == "mes-add1-greedy":
                done = [ctx.index[r.project] for r in rounds]
                extra = _greedy(ctx, False, done, "completion")
                if extra:
                    notes.append(f"greedy completion funded {len(extra):,} more project(s)")
                rounds += extra
            elif rule == "mes-add1-comparison":
                rounds, voter_budget, note = _comparison(ctx, rounds, voter_budget)
                notes.append(note)
    return Outcome(rule=rule, tie_break=tie_break, selected=tuple(r.project for r in rounds),
                   cost=sum(r.cost for r in rounds), rounds=tuple(rounds),
                   voter_budget=voter_budget, notes=tuple(notes))


def _show(value: Fraction) -> str:
    return f"{int(value):,}" if value.denominator == 1 else f"{value} (about {_money(value)})"


def _comparison(ctx: _Ctx, mes_rounds: list[Round], voter_budget: Fraction):
    greedy = _greedy(ctx, False, [], "greedy")
    mes_set = {ctx.index[r.project] for r in mes_rounds}
    greedy_set = {ctx.index[r.project] for r in greedy}
    prefer_mes = prefer_greedy = 0
    for c, items in ctx.groups:
        sat_mes = sum(x for p, x in items if p in mes_set)
        sat_greedy = sum(x for p, x in items if p in greedy_set)
        if sat_mes > sat_greedy:
            prefer_mes += c
        elif sat_greedy > sat_mes:
            prefer_greedy += c
    head = (f"comparison step: greedy outcome preferred by {prefer_greedy:,} of {ctx.n:,} "
            f"voters, the MES outcome by {prefer_mes:,}")
    if prefer_greedy > prefer_mes:
        return greedy, None, head + "; switched to greedy"
    return mes_rounds, voter_budget, head + "; kept MES"


# ---------------------------------------------------------------------------------------------
# Explanations


def explain(election: Election, outcome: Outcome) -> tuple[ProjectExplanation, ...]:
    """For every project, in election order: funded or not, in which round, and why not."""
    validate(election)
    ctx = _Ctx(election, "id", "")
    where = {r.project: i for i, r in enumerate(outcome.rounds)}
    mes = [r for r in outcome.rounds if r.phase == "mes"]
    money: list[Fraction] | None = None
    if mes and outcome.voter_budget is not None:
        cardinal = outcome.rule == "mes-cardinality"
        budgets = [Fraction(outcome.voter_budget)] * len(ctx.groups)
        for r in mes:
            p = ctx.index[r.project]
            for g, x in ctx.supp[p]:
                u = x if cardinal else x * ctx.cost[p]
                budgets[g] -= min(budgets[g], r.price * u)
        money = [sum((budgets[g] * ctx.groups[g][0] for g, _ in ctx.supp[p]), Fraction(0))
                 for p in range(len(ctx.ids))]
    completion = any(r.phase == "completion" for r in outcome.rounds)
    left = election.budget - outcome.cost
    out = []
    for p, pid in enumerate(ctx.ids):
        i = where.get(pid)
        reason = ""
        if i is None:
            if ctx.votes[p] == 0:
                reason = "nobody voted for it"
            elif ctx.cost[p] > election.budget:
                reason = "it costs more than the whole budget"
            elif money is not None and money[p] < ctx.cost[p]:
                reason = (f"its supporters' remaining money ({_money(money[p])}) could not "
                          f"pay for it")
                if completion:
                    reason += f", and it did not fit the remaining budget ({left:,} left)"
            else:
                reason = f"did not fit the remaining budget ({left:,} left)"
        out.append(ProjectExplanation(
            id=pid, cost=ctx.cost[p], votes=ctx.votes[p], selected=i is not None, round=i,
            phase=None if i is None else outcome.rounds[i].phase, reason=reason,
            supporters_money=None if money is None else money[p]))
    return tuple(out)


def _money(value: Fraction) -> str:
    whole = value.numerator // value.denominator
    return f"{whole:,}" if value.denominator == 1 else f"{whole:,}.{_cents(value)}"


def _cents(value: Fraction) -> str:
    frac = value - value.numerator // value.denominator
    return f"{int(frac * 100):02d}"


# ---------------------------------------------------------------------------------------------
# Slow, obviously correct references (for the tests and the benchmark)


def _mes_reference(election: Election, cardinal: bool, voter_budget: Fraction,
                   tie_break: str = "default", lot_seed: str = "") -> list[str]:
    """MES voter by voter, every price recomputed every round (pabutools' poor/rich fixed
    point), no grouping and no bound: the ids funded, in order."""
    ctx = _Ctx(election, tie_break, lot_seed)
    ballots = [{ctx.index[pid]: x for pid, x in b.points if x > 0} for b in election.ballots]
    budget = [Fraction(voter_budget)] * len(ballots)
    left = set(ctx.supported)
    chosen: list[str] = []

    def util(i: int, p: int) -> int:
        return ballots[i][p] * (1 if cardinal else ctx.cost[p])

    while True:
        prices = {}
        for p in sorted(left):
            supporters = [i for i in range(len(ballots)) if p in ballots[i]]
            if sum(budget[i] for i in supporters) < ctx.cost[p]:
                continue
            rich = set(supporters)
            poor: set[int] = set()
            while True:
                rho = Fraction(ctx.cost[p] - sum(budget[i] for i in poor),
                               sum(util(i, p) for i in rich))
                broke = {i for i in rich if budget[i] < rho * util(i, p)}
                if not broke:
                    break
                rich -= broke
                poor |= broke
            prices[p] = rho
        left &= set(prices)
        if not prices:
            return chosen
        low = min(prices.values())
        p = min((q for q in prices if prices[q] == low), key=lambda q: ctx.tie[q])
        for i in range(len(ballots)):
            if p in ballots[i]:
                budget[i] -= min(budget[i], low * util(i, p))
        left.discard(p)
        chosen.append(ctx.ids[p])


def _add1_reference(election: Election, exhaustive: bool, tie_break: str = "default",
                    lot_seed: str = "", mes=None) -> tuple[int, list[str]]:
    """Add1 stepping by one unit per voter, as pabutools and equalshares.net loop: (k kept,
    the ids funded). `mes(election, voter_budget)` defaults to `_mes_reference`."""
    if mes is None:
        def mes(e: Election, b: Fraction) -> list[str]:
            return _mes_reference(e, False, b, tie_break, lot_seed)
    cost = {p.id: p.cost for p in election.projects}
    supported = {pid for b in election.ballots for pid, x in b.points if x > 0}
    base = Fraction(election.budget, len(election.ballots))
    k = 0
    previous: list[str] = []
    while True:
        outcome = mes(election, base + k)
        spent = sum(cost[p] for p in outcome)
        if spent > election.budget:
            return k - 1, previous
        if set(outcome) == supported:
            return k, outcome
        if exhaustive and all(spent + cost[p] > election.budget
                              for p in supported - set(outcome)):
            return k, outcome
        previous = outcome
        k += 1
