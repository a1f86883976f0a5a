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
  never funded (pabutools' greedy funds one that still fits once every voted project is
  through; nobody voted for it, so no city's result should depend on it: the one place where
  these rules and pabutools differ, tested in tests/unit/test_budget_vs_pabutools.py).
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
- Add1 runs MES for k = 0, 1, 2… but stops a run as soon as it is proved that its outcome
  cannot make Add1 stop (the projects funded so far plus those still in the race cost at most
  the budget, and one project was dropped as unaffordable, so not every supported project can
  be funded; for the exhaustive variant, at most the budget minus a dropped project's cost,
  which then fits beside the outcome): only the kept run is computed in full. It also skips
  runs it proves would give the same outcome, or be cut short too: along a fixed sequence of
  funded projects, budgets are non-decreasing in k and prices non-increasing, so if the runs
  at k and k + h fund the same first projects and in each of these rounds every rival's
  price at k + h stays above the winner's price at k, every run in between funds them too
  (see `_add1`). This is a cheap, exact cousin of ADD-OPT (Kraiczy, Robinson & Elkind), not
  ADD-OPT itself. On Wieliczka 2023 (mes-add1), Add1 goes from k = 0 to 165 with 126 MES
  runs (169 without cutting runs short), 105 of them cut short; the funded sequence of the
  full runs changes at 73 of the 165 steps (the funded set at only 20), so the jumps there
  mostly skip runs that would have been cut short. The tests check the result against
  `_add1_reference`, which steps by one with a plain MES.
- Budgets are kept as integers over one common denominator (multiplied, each round, by the
  integer that the round's price is divided by), so the hot loops use integers, not Fractions:
  a budget class is stored over the denominator of the round that created it and rescaled on
  use by one of a few per-round multipliers, so a round does not rescale every class; prices
  are compared by cross-multiplication, and the heap of lower bounds is ordered by their
  correctly rounded floats (monotone in the exact values), an exact comparison deciding when
  two floats are equal. Fractions are only built for the run that is kept (and for the runs a
  skip is proved from). For approval ballots a project's supporters are counted per budget
  class with the C loop of `collections.Counter`.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, deque
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, inf
from operator import mul

try:  # Counter's counting loop, in C in CPython; the same loop in Python otherwise
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    def _count_elements(mapping, iterable):
        for item in iterable:
            mapping[item] = mapping.get(item, 0) + 1

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
        self.supp_counts = [[(g, x, self.groups[g][0]) for g, x in self.supp[p]]
                            for p in range(m)]
        self.unit = all(x == 1 for _, items in self.groups for _, x in items)
        # For approval ballots: each project's supporter groups of one voter, those of more
        # (counted at C speed with Counter), and all of them.
        self.supp_ones = [[g for g, _, c in s if c == 1] for s in self.supp_counts]
        self.supp_many = [[(g, c) for g, _, c in s if c > 1] for s in self.supp_counts]
        self.supp_groups = [[g for g, _ in s] for s in self.supp]
        self._others: list[list[int]] | None = None

    def others(self) -> list[list[int]]:
        """others[p][q]: the points given to p by voters who do not support q (computed once,
        on first use): what p's price can take, at most, from voters outside q's supporters
        is that times the payment per point."""
        if self._others is None:
            m = len(self.ids)
            self._others = []
            for p in range(m):
                common = [0] * m
                for g, x in self.supp[p]:
                    w = x * self.groups[g][0]
                    for q, _ in self.groups[g][1]:
                        common[q] += w
                self._others.append([self.points[p] - c for c in common])
        return self._others


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


class _MesRun:
    """One MES run: the funded projects in order, with exact prices kept as integers.

    `seq` lists the funded projects; `raw` holds, per round, (p, N, R, D, paid, payers) with
    π = N / (R·D) the payment per point, rho = π / u (u = 1 or cost(p)) and paid/(R·D) the
    money taken. `chosen` and `keys` turn them into Fractions on demand (only the kept run and
    the runs a jump is proved from need them)."""

    __slots__ = ("seq", "raw", "cardinal", "cost", "tie", "certified", "cut", "_chosen",
                 "_keys")

    def __init__(self, seq, raw, cardinal, cost, tie, certified, cut=False) -> None:
        self.seq = seq
        self.raw = raw
        self.cardinal = cardinal
        self.cost = cost
        self.tie = tie
        self.certified = certified  # every round's winner beat every rival's key and threshold
        self.cut = cut              # cut short (`_mes_run`'s cap): `seq` is the first rounds only
        self._chosen = None
        self._keys = None

    @property
    def chosen(self) -> list[tuple[int, Fraction, Fraction, Fraction, int]]:
        """Per round: (p, rho, π, paid, payers)."""
        if self._chosen is None:
            out = []
            for p, n_, r_, d_, paid, payers in self.raw:
                den = r_ * d_
                pi = Fraction(n_, den)
                out.append((p, pi if self.cardinal else pi / self.cost[p], pi,
                            Fraction(paid, den), payers))
            self._chosen = out
        return self._chosen

    @property
    def keys(self) -> list[tuple]:
        """Per round, the winner's (rho, tie key)."""
        if self._keys is None:
            self._keys = [(rho, self.tie[p]) for p, rho, *_ in self.chosen]
        return self._keys


def _mes_run(ctx: _Ctx, b0: Fraction, cardinal: bool,
             thresholds: list[tuple] | None = None, cap: int | None = None,
             fit: bool = False) -> _MesRun | None:
    """One MES run with per-voter budget b0, in integers.

    Budget classes (voters with equal remaining budget) are (v, e): value v / D[e], where D[e]
    is the common denominator after e rounds (D[e+1] = D[e]·R, R the integer the round's
    price is divided by); `mult[e]` = D[now] / D[e] rescales a class to the current
    denominator, so a round rescales only these few multipliers, not every class. Prices are
    compared exactly by cross-multiplication; the heap of lazy lower bounds is ordered by their
    correctly rounded float (monotone in the exact value), and an exact comparison decides
    whenever two floats are equal.

    With `thresholds` (the winners' keys of the first rounds of a run at a smaller per-voter
    budget), the run is also a proof that, in each round, every rival's price is above that
    run's winner's (`certified`), see `_add1` for what it proves; it is abandoned (None) as
    soon as the proof fails, as when the run funds more rounds than there are thresholds, or
    ends (not cut short) with fewer.

    With `cap`, the run is cut short (returned with `cut` set, `seq` its rounds so far) as
    soon as the projects funded so far plus the projects still in the race (neither funded
    nor dropped) cost at most `cap` and a supported project was dropped: its outcome then
    costs at most `cap` and does not fund every supported project (see `_add1`); with `fit`
    too, only once they cost at most `cap` minus the cost of a dropped project: that project
    then fits beside the outcome. A project is dropped once
    its supporters hold less than its cost (it can then never be funded: their money only goes
    down): at the start they hold votes·b0, so those projects never enter the race; later,
    with a cap, an upper bound of their money is kept per project: exact whenever its price is
    computed, and lowered after each round by what the winner p surely took from them,
    cost(p) minus what p's other supporters could have paid (at most π per point,
    `_Ctx.others`). Dropping a project earlier than a plain run would changes nothing but the
    work done: an unaffordable project never wins a round."""
    cost = ctx.cost
    tie = ctx.tie
    unit = ctx.unit
    supp = ctx.supp_counts
    ones, many, sgroups = ctx.supp_ones, ctx.supp_many, ctx.supp_groups
    b0 = Fraction(b0)
    den = b0.denominator                      # the current common denominator D[t]
    cls_v = [0, b0.numerator]                 # class id -> numerator over D[cls_e[id]];
    cls_e = [0, 0]                            # class 0 holds the groups whose budget is 0
    mult = [1]                                # mult[e] = D[t] / D[e]
    gcls = [1] * len(ctx.groups)              # the class of each group
    util = [1 if cardinal else c for c in cost]
    points = ctx.points
    version = [0] * len(cost)                 # -1: funded or unaffordable
    lbn = {}                                  # exact lower bound of rho: lbn[p] / lbd[p]
    lbd = {}
    heap = []
    votes = ctx.votes
    left = 0                                  # the cost of the projects still in the race
    # With a cap: the least room a dropped project needs beside the outcome (its cost with
    # `fit`, else 0); inf while none was dropped.
    room: float | int = inf
    for p in ctx.supported:
        if votes[p] * b0.numerator < cost[p] * den:
            version[p] = -1                   # its supporters hold votes·b0 < cost: dropped
            room = min(room, cost[p] if fit else 0)
            continue
        left += cost[p]
        lbn[p] = cost[p]
        lbd[p] = points[p] * util[p]
        heap.append((cost[p] / lbd[p], tie[p], p, 0))
    heapq.heapify(heap)
    alive = len(heap)
    seq: list[int] = []
    raw: list[tuple[int, int, int, int, int, int]] = []
    certified = thresholds is not None

    def price(p: int):
        """(N, R, agg): π = N / (R·den), the payment per point with sum of min(b, π·x) equal
        to cost(p), and the supporters' live classes with their voter counts; None if the
        supporters hold less than the cost."""
        target = cost[p] * den
        agg: dict = {}
        get = agg.get
        if unit:
            agg = {}
            _count_elements(agg, map(gcls.__getitem__, ones[p]))
            get = agg.get
            for g, c in many[p]:
                cid = gcls[g]
                agg[cid] = get(cid, 0) + c
            agg.pop(0, None)
            cids = list(agg)
            counts = list(agg.values())
            values = list(map(mul, map(cls_v.__getitem__, cids),
                              map(mult.__getitem__, map(cls_e.__getitem__, cids))))
            total = sum(map(mul, values, counts))
            if money is not None:
                money[p] = total
            if total < target:
                return None
            rest = sum(counts)
            if not values or min(values) * rest >= target:
                return target, rest, agg  # nobody runs short
            poor = 0
            for b, c in sorted(zip(values, counts)):
                if target - poor <= b * rest:
                    break
                poor += b * c
                rest -= c
            return target - poor, rest, agg
        for g, x, c in supp[p]:
            cid = gcls[g]
            if cid:
                key = (cid, x)
                agg[key] = get(key, 0) + c
        entries = []
        total = 0
        rest = 0
        for (cid, x), c in agg.items():
            b = cls_v[cid] * mult[cls_e[cid]]
            total += b * c
            rest += x * c
            entries.append((b if x == 1 else Fraction(b, x), b, x, c))
        if money is not None:
            money[p] = total
        if total < target:
            return None
        entries.sort(key=lambda e: e[0])
        poor = 0
        for _, b, x, c in entries:
            # pi = (target - poor) / rest; rich when pi·x <= b
            if (target - poor) * x <= b * rest:
                break
            poor += b * c
            rest -= x * c
        return target - poor, rest, agg

    t = 0
    spent = 0
    # With a cap: money[q] >= what q's supporters hold (over den), exact when q's price was
    # last computed, lowered each round by what the winner surely took from them.
    money = [votes[p] * b0.numerator for p in range(len(cost))] if cap is not None else None
    others = ctx.others() if cap is not None else None
    racing = [p for p in ctx.supported if version[p] >= 0]
    while alive:
        if cap is not None and spent + left + room <= cap:
            return _MesRun(seq, raw, cardinal, cost, tie, certified, cut=True)
        limit = thresholds[t] if certified and t < len(thresholds) else None
        best = -1
        best_n = best_d = 0       # the best rho so far is best_n / (best_d·den)
        best_f = 0.0
        best_found = None
        rivals: list[tuple[int, int, int]] = []   # (q, n, d) of the others computed
        visited: list[int] = []
        while heap:
            f, tq, q, ver = heap[0]
            if ver != version[q]:
                heapq.heappop(heap)
                continue
            if limit is not None:
                # certifying: the exact, Fraction comparison with the threshold too
                bound = (Fraction(lbn[q], lbd[q]), tq)
                bar = limit if best < 0 else max(limit, (Fraction(best_n, best_d * den),
                                                         tie[best]))
                if bound > bar:
                    break
            elif best >= 0:
                if f > best_f:
                    break  # q and every project behind it in the heap cannot win this round
                if f == best_f:
                    a, b_ = lbn[q] * best_d * den, best_n * lbd[q]
                    if a > b_ or (a == b_ and tq > tie[best]):
                        break
            heapq.heappop(heap)
            found = price(q)
            if found is None:
                version[q] = -1
                alive -= 1
                left -= cost[q]
                room = min(room, cost[q] if fit else 0)
                continue
            n_, r_, _ = found
            d_ = r_ * util[q]
            lbn[q] = n_
            lbd[q] = d_ * den
            visited.append(q)
            if best < 0:
                better = True
            else:
                a, b_ = n_ * best_d, best_n * d_
                better = a < b_ or (a == b_ and tq < tie[best])
            if better:
                if best >= 0:
                    rivals.append((best, best_n, best_d))
                best, best_n, best_d, best_found = q, n_, d_, found
                best_f = n_ / lbd[q]
            else:
                rivals.append((q, n_, d_))
        if best < 0:
            break
        for q in visited:
            if q != best:
                version[q] += 1
                heapq.heappush(heap, (lbn[q] / lbd[q], tie[q], q, version[q]))
        p = best
        version[p] = -1
        alive -= 1
        left -= cost[p]
        spent += cost[p]
        if certified:
            win = (Fraction(best_n, best_d * den), tie[p])
            if limit is None or win > limit or any(
                    (Fraction(n_, d_ * den), tie[q]) <= limit for q, n_, d_ in rivals):
                return None  # no proof: the rest of the run would be of no use
        n_, r_, agg = best_found
        # New common denominator den·r_: a charged class (v, e) becomes (b·r_ - n_·x) over
        # it, b = v·mult[e], or is emptied (class 0).
        t += 1
        newmap = {0: 0}
        paid = 0
        payers = 0
        for key, c in agg.items():
            cid, x = (key, 1) if unit else key
            b = cls_v[cid] * mult[cls_e[cid]] * r_
            pay = n_ * x
            if pay >= b:
                nid, pay = 0, b
            else:
                nid = len(cls_v)
                cls_v.append(b - pay)
                cls_e.append(t)
            newmap[key] = nid
            paid += pay * c
            payers += c
        if unit:
            gs = sgroups[p]
            deque(map(gcls.__setitem__, gs, map(newmap.__getitem__, map(gcls.__getitem__, gs))),
                  maxlen=0)
        else:
            for g, x, _ in supp[p]:
                cid = gcls[g]
                if cid:
                    gcls[g] = newmap[(cid, x)]
        raw.append((p, n_, r_, den, paid, payers))
        seq.append(p)
        if money is not None:
            # p took cost(p) from its supporters, of which at most π·others[p][q] from voters
            # who do not support q (π = n_ / (den·r_)): the rest came out of q's supporters.
            newden = den * r_
            whole = cost[p] * newden
            out = others[p]
            still = []
            for q in racing:
                if version[q] < 0:
                    continue
                v = money[q] * r_
                taken = whole - n_ * out[q]
                if taken > 0:
                    v -= taken
                money[q] = v
                if v < cost[q] * newden:
                    version[q] = -1
                    alive -= 1
                    left -= cost[q]
                    room = min(room, cost[q] if fit else 0)
                else:
                    still.append(q)
            racing = still
        den *= r_
        mult = [m * r_ for m in mult]
        mult.append(1)
    if certified and t != len(thresholds):
        return None
    return _MesRun(seq, raw, cardinal, cost, tie, certified)


def _mes_rounds(ctx: _Ctx, run: _MesRun) -> list[Round]:
    return [Round(project=ctx.ids[p], phase="mes", votes=ctx.votes[p], cost=ctx.cost[p],
                  price=rho, effective_votes=Fraction(ctx.cost[p]) / pi, paid=paid,
                  payers=payers)
            for p, rho, pi, paid, payers in run.chosen]


def _add1(ctx: _Ctx, exhaustive: bool) -> tuple[int, _MesRun, str, int, int]:
    """The Add1 iteration: (k kept, its run, why it stopped, MES runs computed, how many of
    them were cut short).

    Equal to stepping k by one (`_add1_reference`), with two shortcuts, each exact:

    - Cut short: a run at k only matters if its outcome costs more than the budget, funds
      every supported project or (exhaustive variant) is exhaustive. The outcome costs at
      most the projects funded so far plus every project still in the race (not funded, not
      dropped as unaffordable): later rounds fund only projects still in the race, and a
      dropped project is never funded (its supporters' money only goes down). So once that
      sum is at most the budget and a project was dropped, the outcome is neither over the
      budget nor funds every supported project; once it is at most the budget minus a
      dropped project's cost, that project fits beside the outcome, which is therefore not
      exhaustive either. Such a run is stopped there (`_mes_run` with `cap`, and `fit` for
      the exhaustive variant): k is known not to be where Add1 stops. Only the run kept is
      then computed in full.
    - Jumps: along a fixed sequence of funded projects, every voter's budget after each
      round is non-decreasing in k and every price non-increasing (more money, lower prices,
      smaller payments). So if, in the first j rounds, the runs at k and k + h fund the same
      projects in the same order and, in each of these rounds, every rival's price (or its
      lower bound) at k + h is above the winner's price at k (ties: the tie-break), then, by
      induction on the rounds, every run in between funds those projects in its first j
      rounds (`_mes_run` with `thresholds`; the proof is abandoned as soon as it fails). Then
      no run in between needs computing, in three cases. Both runs end after these j rounds:
      all the runs in between have their outcome. The run at k is cut short after these j
      rounds and the one at k + h ends there: nothing is affordable at k + h after them, so
      nothing is at k or in between (less money): all have one outcome, the one at k, which
      is not where Add1 stops. The run at k + h is cut short after its j rounds: so
      is every run in between, since after the same j rounds it has spent the same and holds
      less money, so every project dropped at k + h is unaffordable there too and fewer
      projects are still in the race. Jumps are tried after consecutive one-unit steps agreed
      on their first rounds (one step at first, twice as many after each failed proof); h
      doubles after each proof and falls back to plain one-unit steps, which need no proof,
      when one fails."""
    base = Fraction(ctx.budget, ctx.n)
    supported = len(ctx.supported)
    cap = ctx.budget

    def stop(k: int, run: _MesRun) -> str | None:
        chosen = set(run.seq)
        spent = sum(ctx.cost[p] for p in chosen)
        if spent > ctx.budget:
            return f"at +{k:,} per voter the outcome would cost {spent:,}, over the budget"
        if len(chosen) == supported:
            return f"at +{k:,} per voter every supported project is funded"
        if exhaustive and all(spent + ctx.cost[p] > ctx.budget
                              for p in ctx.supported if p not in chosen):
            return f"at +{k:,} per voter the outcome is exhaustive"
        return None

    def full(k: int) -> _MesRun:
        return _mes_run(ctx, base + k, cardinal=False)

    k = 0
    run = _mes_run(ctx, base, cardinal=False, cap=cap, fit=exhaustive)
    runs = 1
    short = int(run.cut)  # how many runs were cut short
    # a run at budget/n never spends more than the budget
    why = None if run.cut else stop(k, run)
    h = 1
    steady = 0    # consecutive one-unit steps that agreed on their first rounds
    patience = 1  # steady steps required before trying a jump; doubles after a failed proof
    while why is None:
        if h == 1:
            ahead = _mes_run(ctx, base + k + 1, cardinal=False, cap=cap, fit=exhaustive)
            runs += 1
            if ahead.cut:
                short += 1
            else:
                why = stop(k + 1, ahead)
                if why is not None and why.endswith("over the budget"):
                    break  # keep the run at k
            n = min(len(run.seq), len(ahead.seq))
            same = run.seq[:n] == ahead.seq[:n] and (run.cut or ahead.cut
                                                     or run.seq == ahead.seq)
            steady = steady + 1 if same else 0
            k, run = k + 1, ahead
            if steady >= patience:
                h = 2
            continue
        ahead = _mes_run(ctx, base + k + h, cardinal=False, thresholds=run.keys, cap=cap,
                         fit=exhaustive)
        runs += 1
        if ahead is not None and ahead.seq == run.seq[:len(ahead.seq)]:
            short += ahead.cut
            k, run, h, patience = k + h, ahead, h * 2, 1
        else:
            h, steady, patience = 1, 0, patience * 2
    if run.cut:  # the run kept was cut short: compute it in full
        run = full(k)
        runs += 1
    return k, run, why, runs, short


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
        if ctx.n == 0:  # no ballot: nothing is funded (as greedy funds no unvoted project)
            return Outcome(rule=rule, tie_break=tie_break, selected=(), cost=0, rounds=(),
                           voter_budget=None, notes=("no ballot was cast: nothing funded",))
        base = Fraction(ctx.budget, ctx.n)
        if rule in ("mes", "mes-cardinality"):
            voter_budget = base
            rounds = _mes_rounds(ctx, _mes_run(ctx, base, rule == "mes-cardinality"))
        else:
            k, run, why, runs, short = _add1(ctx, rule == "mes-add1-exhaustive")
            voter_budget = base + k
            rounds = _mes_rounds(ctx, run)
            notes.append(f"add1: each voter's budget raised from {_show(base)} by {k:,} to "
                         f"{_show(voter_budget)}; stopped because {why} "
                         f"({runs:,} MES runs computed"
                         + (f", {short:,} of them cut short" if short else "") + ")")
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
