"""Find a fair lottery over panels (issue #11) with HiGHS, the open MIP/LP solver.

`solve(people, quotas, size, method)` returns a `Selection`: an exact `Distribution` over panel
compositions (which `domain.rules.sortition.check_distribution` accepts and `draw` draws from)
and each person's probability of a seat.

It works on *types* (people with equal values, `types_of`), not on people: a panel composition
is an integer count per type, a type's members share one probability. This is what keeps the
MIPs small on large pools (2,000 people of the Flanigan example fall into 3 types).

Methods
- `leximin` (Flanigan et al., Nature 596, 2021): column generation on the dual LP of each
  stage — minimise ŷ − Σ_{fixed t} p_t·y_t subject to Σ_{free t} y_t = 1, y ≥ 0 and, for each
  composition c found so far, Σ_t y_t·x_{c,t}/n_t ≤ ŷ; the pricing MIP (HiGHS) looks for the
  composition maximising Σ_t y_t·x_t/n_t (a swap local search, `_Model.improve`, is tried
  first and the MIP only when it finds nothing); while it beats ŷ it becomes a new constraint. When
  none does, ŷ is the largest possible smallest probability of the free types; the free types
  with a positive dual cannot rise above it and are fixed at it. Repeat until all are fixed,
  then a primal LP over the compositions found gives the lottery meeting the fixed
  probabilities. Types no valid panel contains get probability 0 from the start.
- `maximin`: the first leximin stage only (the smallest probability as large as possible).
- `nash`: maximise Σ_i log p_i (= Σ_t n_t log π_t) by fully corrective Frank–Wolfe: the linear
  oracle is the same pricing MIP with weights 1/π_t; the master over the compositions found is
  an LP on HiGHS where each log is replaced by its tangents at the successive π (an outer
  approximation, tightened until its gap is below 1e-6 per type, at most 50 times). Stops when
  the Frank–Wolfe gap is below 1e-5 × pool size or after NASH_MAX_ROUNDS.
- `legacy`: LEGACY_DRAWS runs of `legacy_draw` with the seeds SHA-256("registre-legacy:" ‖ i as
  8 bytes big-endian), i < LEGACY_DRAWS; the distribution is their compositions' frequencies
  (denominator = LEGACY_DRAWS), marginals the people's seat frequencies.

Infeasible quotas raise `SortitionError("sortition.infeasible_quotas", relaxation=[…])`: the
relaxation is an integer MIP with slacks on every min and max, minimising their sum.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from domain.rules.sortition import (
    METHODS, Distribution, Person, Quota, SortitionError, check_pool, from_probabilities,
    legacy_draw, marginals as exact_marginals, type_key, types_of,
)

EPS = 1e-9            # pricing: a composition must beat ŷ by more than this
FIX_EPS = 1e-7        # a dual above this fixes its type
LEGACY_DRAWS = 1000
NASH_MAX_ROUNDS = 60
INF = highspy.kHighsInf


class SolveTimeout(RuntimeError):
    """The solve ran past its deadline (used by the benchmark's capped baseline)."""


@dataclass(frozen=True)
class Selection:
    method: str
    distribution: Distribution
    marginals: dict[str, float]
    panels: int
    seconds: float


_quiet = False


def _highs() -> highspy.Highs:
    """A silent HiGHS instance. The first one prints HiGHS' banner on the process' stdout
    (before any option can be set), which would spoil `--json` output: that one is created
    with file descriptor 1 pointed at /dev/null."""
    global _quiet
    if _quiet:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            ctypes.CDLL(None).fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _quiet = True
    h.setOptionValue("threads", 1)  # tiny MIPs: HiGHS' parallel threads only contend
    h.setOptionValue("output_flag", False)
    return h


class _Model:
    """The panels as integer counts per group (a type, or one person in the baseline)."""

    def __init__(self, groups: list[tuple[str, tuple[str, ...]]], people: Sequence[Person],
                 quotas: Sequence[Quota], size: int) -> None:
        by_id = {p.id: p for p in people}
        self.keys = [k for k, _ in groups]
        self.sizes = np.array([len(m) for _, m in groups], dtype=float)
        self.values = [set(by_id[m[0]].values) for _, m in groups]
        self.quotas = list(quotas)
        self.size = size
        self.n = len(groups)
        # quota q × group t: 1 when the group's members have the quota's value
        self.incidence = np.array([[1.0 if (q.feature, q.value) in self.values[t] else 0.0
                                    for t in range(self.n)] for q in self.quotas])
        self.low = np.array([q.min for q in self.quotas], dtype=float)
        self.high = np.array([q.max for q in self.quotas], dtype=float)

    def improve(self, start: tuple[int, ...], weights: np.ndarray) -> tuple[int, ...]:
        """Local search before the exact pricing MIP: from `start`, repeatedly make the best
        swap of one member of a group for one of another that keeps every quota and raises
        Σ weights·x. Cheap (no solver); the MIP still decides when no swap helps."""
        x = np.array(start, dtype=float)
        for _ in range(4 * self.size):
            present = np.flatnonzero(x > 0)
            counts = self.incidence @ x
            # new counts when a member of group a (present) leaves and one of group b joins
            moved = (counts[:, None, None] - self.incidence[:, present][:, :, None]
                     + self.incidence[:, None, :])
            ok = np.all((moved >= self.low[:, None, None] - 1e-9)
                        & (moved <= self.high[:, None, None] + 1e-9), axis=0)
            ok &= (x < self.sizes)[None, :]
            gain = np.where(ok, weights[None, :] - weights[present][:, None], -np.inf)
            a, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
            if gain[a, b] <= 1e-12:
                break
            x[present[a]] -= 1
            x[b] += 1
        return tuple(int(v) for v in x)

    def rows(self):
        """(lower, upper, indices, coefficients) of every constraint on the counts."""
        yield size_row(self.n, self.size)
        for q in self.quotas:
            idx = [t for t in range(self.n) if (q.feature, q.value) in self.values[t]]
            yield q.min, q.max, idx, [1.0] * len(idx)

    def pricing(self) -> highspy.Highs:
        h = _highs()
        h.setOptionValue("mip_rel_gap", 1e-7)
        h.setOptionValue("mip_abs_gap", 1e-9)
        h.addVars(self.n, np.zeros(self.n), self.sizes)
        h.changeColsIntegrality(self.n, np.arange(self.n, dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger] * self.n))
        for low, high, idx, coef in self.rows():
            h.addRow(low, high, len(idx), np.array(idx, dtype=np.int32), np.array(coef))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        return h


def size_row(n: int, size: int):
    return size, size, list(range(n)), [1.0] * n


def _best(h: highspy.Highs, weights) -> tuple[tuple[int, ...], float] | None:
    """The composition maximising Σ weights·x, and its value; None if there is no panel."""
    n = len(weights)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(weights, dtype=float))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kTimeLimit:
        raise SolveTimeout("the pricing MIP ran out of time")
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    x = tuple(int(round(v)) for v in h.getSolution().col_value)
    return x, float(np.dot(weights, x))


def relaxation(people: Sequence[Person], quotas: Sequence[Quota], size: int) -> list[dict]:
    """The smallest total change of min/max bounds after which a panel exists (MIP with a slack
    on each bound, minimising their sum), as [{feature, value, bound, from, to}]."""
    groups = list(types_of(people).items())
    model = _Model(groups, people, quotas, size)
    n, m = model.n, len(model.quotas)
    h = _highs()
    h.addVars(n, np.zeros(n), model.sizes)
    h.addVars(2 * m, np.zeros(2 * m), np.full(2 * m, INF))
    h.changeColsIntegrality(n + 2 * m, np.arange(n + 2 * m, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * (n + 2 * m)))
    h.changeColsCost(2 * m, np.arange(n, n + 2 * m, dtype=np.int32), np.ones(2 * m))
    low, high, idx, coef = size_row(n, size)
    h.addRow(low, high, len(idx), np.array(idx, dtype=np.int32), np.array(coef))
    for j, q in enumerate(model.quotas):
        idx = [t for t in range(n) if (q.feature, q.value) in model.values[t]]
        # count + s_min ≥ min ; count − s_max ≤ max
        h.addRow(q.min, INF, len(idx) + 1, np.array(idx + [n + 2 * j], dtype=np.int32),
                 np.ones(len(idx) + 1))
        h.addRow(-INF, q.max, len(idx) + 1, np.array(idx + [n + 2 * j + 1], dtype=np.int32),
                 np.array([1.0] * len(idx) + [-1.0]))
    h.run()
    values = h.getSolution().col_value
    changes = []
    for j, q in enumerate(model.quotas):
        down, up = int(round(values[n + 2 * j])), int(round(values[n + 2 * j + 1]))
        if down:
            changes.append({"feature": q.feature, "value": q.value, "bound": "min",
                            "from": q.min, "to": q.min - down})
        if up:
            changes.append({"feature": q.feature, "value": q.value, "bound": "max",
                            "from": q.max, "to": q.max + up})
    return changes


def _infeasible(people, quotas, size) -> SortitionError:
    changes = relaxation(people, quotas, size)
    said = "; ".join(f"{c['feature']}={c['value']} {c['bound']} {c['from']} → {c['to']}"
                     for c in changes)
    return SortitionError("sortition.infeasible_quotas",
                          f"no panel meets the quotas; smallest relaxation: {said}",
                          relaxation=changes)


class _Columns:
    """Compositions found so far (as count tuples over the groups), without repeats."""

    def __init__(self) -> None:
        self.list: list[tuple[int, ...]] = []
        self._seen: set[tuple[int, ...]] = set()

    def add(self, x: tuple[int, ...]) -> bool:
        if x in self._seen:
            return False
        self._seen.add(x)
        self.list.append(x)
        self._matrix = None
        return True

    def best(self, weights: np.ndarray) -> tuple[int, ...]:
        """The column found so far with the largest Σ weights·x."""
        if getattr(self, "_matrix", None) is None:
            self._matrix = np.array(self.list, dtype=float)
        return self.list[int(np.argmax(self._matrix @ weights))]


def _initial(model: _Model, pricing: highspy.Highs, deadline: float | None):
    """A first set of compositions covering every group some panel can contain, and the
    groups none can (probability 0)."""
    columns = _Columns()
    covered = np.zeros(model.n, dtype=bool)
    never: set[int] = set()
    for t in range(model.n):
        _check(deadline)
        if covered[t]:
            continue
        w = np.zeros(model.n)
        w[t] = 1.0
        w[~covered] += 1e-3  # also favour the groups not covered yet
        found = _best(pricing, w)
        if found is None:
            return None, None
        x, _ = found
        if x[t] == 0:
            never.add(t)
        columns.add(x)
        covered |= np.array(x) > 0
    return columns, never


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise SolveTimeout("deadline passed")


def _leximin(model: _Model, pricing: highspy.Highs, columns: _Columns, never: set[int],
             stages: int | None, progress, deadline) -> dict[int, float]:
    """Fixed probability per group, stage by stage (only the first stage if stages == 1)."""
    n = model.n
    fixed: dict[int, float] = {t: 0.0 for t in never}
    live = [t for t in range(n) if t not in never]
    stage = 0
    while len(fixed) < n:
        stage += 1
        free = [t for t in live if t not in fixed]
        dual = _highs()
        # columns 0..n-1: y_t (only the live ones matter), column n: ŷ
        cost = np.zeros(n + 1)
        for t, p in fixed.items():
            if t not in never:
                cost[t] = -p
        cost[n] = 1.0
        upper = np.full(n + 1, INF)
        for t in never:
            upper[t] = 0.0
        lower = np.zeros(n + 1)
        lower[n] = -INF
        dual.addVars(n + 1, lower, upper)
        dual.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), cost)
        dual.addRow(1.0, 1.0, len(free), np.array(free, dtype=np.int32), np.ones(len(free)))

        def add_row(x):
            idx = [t for t in range(n) if x[t]]
            dual.addRow(-INF, 0.0, len(idx) + 1, np.array(idx + [n], dtype=np.int32),
                        np.array([x[t] / model.sizes[t] for t in idx] + [-1.0]))

        for x in columns.list:
            add_row(x)
        while True:
            _check(deadline)
            dual.run()
            sol = dual.getSolution().col_value
            y, y_hat = np.array(sol[:n]), sol[n]
            weights = y / model.sizes
            start = columns.best(weights)
            x = model.improve(start, weights)
            value = float(np.dot(weights, x))
            if value > y_hat + EPS and columns.add(x):
                add_row(x)  # found by local search: no MIP needed this round
                continue
            found = _best(pricing, weights)
            if found is None:
                raise RuntimeError("the pricing MIP found no panel")
            x, value = found
            if value <= y_hat + EPS or not columns.add(x):
                break
            add_row(x)
        level = dual.getInfo().objective_function_value
        newly = [t for t in free if y[t] > FIX_EPS] or free
        for t in newly:
            fixed[t] = max(0.0, level)
        if progress:
            progress(f"leximin: étape {stage}, {len(fixed)}/{n} types fixés, "
                     f"{len(columns.list)} panels, niveau {level:.6f}")
        if stages is not None and stage >= stages:
            for t in live:
                fixed.setdefault(t, level)
            break
    return fixed


def _primal(model: _Model, columns: _Columns, targets: dict[int, float]) -> np.ndarray:
    """Weights over the columns meeting the target probabilities (minimising the largest
    shortfall d: π_t + d ≥ p_t); for maximin the targets are one common floor."""
    n, c = model.n, len(columns.list)
    h = _highs()
    h.addVars(c + 1, np.zeros(c + 1), np.full(c + 1, INF))
    h.changeColsCost(1, np.array([c], dtype=np.int32), np.array([1.0]))
    h.addRow(1.0, 1.0, c, np.arange(c, dtype=np.int32), np.ones(c))
    matrix = np.array(columns.list, dtype=float) / model.sizes  # c × n
    for t in range(n):
        p = targets[t]
        if p <= 0:
            continue
        idx = [j for j in range(c) if matrix[j, t]]
        h.addRow(p, INF, len(idx) + 1, np.array(idx + [c], dtype=np.int32),
                 np.array([matrix[j, t] for j in idx] + [1.0]))
    h.run()
    lam = np.clip(np.array(h.getSolution().col_value[:c]), 0.0, None)
    return lam


def _nash(model: _Model, pricing: highspy.Highs, columns: _Columns, never: set[int],
          progress, deadline) -> np.ndarray:
    n = model.n
    live = [t for t in range(n) if t not in never]
    lam = np.full(len(columns.list), 1.0 / len(columns.list))
    total = float(sum(model.sizes[t] for t in live))
    for round_ in range(NASH_MAX_ROUNDS):
        _check(deadline)
        lam = _nash_master(model, columns, live, lam)
        pi = (lam @ (np.array(columns.list, dtype=float) / model.sizes))
        w = np.zeros(n)
        for t in live:
            w[t] = 1.0 / max(pi[t], 1e-12)
        x, value = _best(pricing, w)
        gap = value - float(np.dot(w, lam @ np.array(columns.list, dtype=float)))
        if progress:
            progress(f"nash: tour {round_ + 1}, {len(columns.list)} panels, écart {gap:.2e}")
        if gap <= 1e-5 * total or not columns.add(x):
            break
        lam = np.append(lam, 0.0)
    return lam


def _nash_master(model: _Model, columns: _Columns, live: list[int],
                 start: np.ndarray) -> np.ndarray:
    """max Σ n_t log π_t over the columns' simplex, by tangent cuts on HiGHS: u_t ≤
    log a + (π_t − a)/a for the tangent points a met so far."""
    n, c = model.n, len(columns.list)
    matrix = np.array(columns.list, dtype=float) / model.sizes  # c × n
    h = _highs()
    # variables: λ (c), π_t for live (len(live)), u_t for live
    L = len(live)
    h.addVars(c, np.zeros(c), np.full(c, INF))
    h.addVars(L, np.full(L, 1e-9), np.ones(L))
    h.addVars(L, np.full(L, -INF), np.full(L, INF))
    h.changeColsCost(L, np.arange(c + L, c + 2 * L, dtype=np.int32),
                     np.array([model.sizes[t] for t in live]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRow(1.0, 1.0, c, np.arange(c, dtype=np.int32), np.ones(c))
    for i, t in enumerate(live):  # π_t = Σ_j λ_j x_jt / n_t
        idx = [j for j in range(c) if matrix[j, t]]
        h.addRow(0.0, 0.0, len(idx) + 1, np.array(idx + [c + i], dtype=np.int32),
                 np.array([matrix[j, t] for j in idx] + [-1.0]))

    def cut(i: int, a: float) -> None:
        # u − π/a ≤ log a − 1
        h.addRow(-INF, math.log(a) - 1.0, 2, np.array([c + L + i, c + i], dtype=np.int32),
                 np.array([1.0, -1.0 / a]))

    pi0 = start @ matrix
    for i, t in enumerate(live):
        for a in (max(pi0[t], 1e-6), 0.5, 0.05, 0.005):
            cut(i, a)
    lam = start
    for _ in range(50):
        h.run()
        sol = np.array(h.getSolution().col_value)
        lam, pi, u = sol[:c], sol[c:c + L], sol[c + L:]
        worst = 0.0
        for i in range(L):
            a = max(pi[i], 1e-9)
            excess = u[i] - math.log(a)
            if excess > 1e-6:
                cut(i, a)
                worst = max(worst, excess)
        if worst == 0.0:
            break
    return np.clip(lam, 0.0, None)


def _groups(people: Sequence[Person], interchangeable: bool):
    if interchangeable:
        return list(types_of(people).items())
    return [(type_key(p), (p.id,)) for p in sorted(people, key=lambda p: p.id)]


def _distribution(model: _Model, columns: _Columns, lam: np.ndarray) -> Distribution:
    """The exact distribution over type compositions (groups of one type summed)."""
    comps = []
    for x in columns.list:
        counts: Counter = Counter()
        for t, count in enumerate(x):
            if count:
                counts[model.keys[t]] += count
        comps.append(dict(counts))
    return from_probabilities(comps, list(lam))


def solve(people: Sequence[Person], quotas: Sequence[Quota], size: int, method: str, *,
          progress: Callable[[str], None] | None = None, interchangeable: bool = True,
          timeout: float | None = None) -> Selection:
    """The lottery `method` (one of METHODS) chooses for this pool. `interchangeable=False`
    (the benchmark's baseline) gives each person a group of their own; `timeout` (seconds)
    raises SolveTimeout when passed."""
    started = time.monotonic()
    deadline = started + timeout if timeout is not None else None
    if method not in METHODS:
        raise SortitionError("sortition.unknown_method",
                             f"unknown method {method!r}; methods: {', '.join(METHODS)}",
                             method=method)
    people = list(people)
    check_pool(people, quotas, size)
    model = _Model(_groups(people, interchangeable), people, quotas, size)
    pricing = model.pricing()
    if timeout is not None:
        pricing.setOptionValue("time_limit", float(timeout))
    if method == "legacy":
        if _best(pricing, np.zeros(model.n)) is None:
            raise _infeasible(people, quotas, size)
        return _legacy(people, quotas, size, progress, started)
    columns, never = _initial(model, pricing, deadline)
    if columns is None:
        raise _infeasible(people, quotas, size)
    if method == "nash":
        lam = _nash(model, pricing, columns, never, progress, deadline)
    else:
        targets = _leximin(model, pricing, columns, never, 1 if method == "maximin" else None,
                           progress, deadline)
        lam = _primal(model, columns, targets)
    dist = _distribution(model, columns, lam)
    probabilities = {pid: float(p) for pid, p in exact_marginals(people, dist).items()}
    return Selection(method, dist, probabilities, len(dist.panels),
                     time.monotonic() - started)


def legacy_seed(i: int) -> bytes:
    return hashlib.sha256(b"registre-legacy:" + i.to_bytes(8, "big")).digest()


def _legacy(people, quotas, size, progress, started, draws: int = LEGACY_DRAWS) -> Selection:
    by_id = {p.id: p for p in people}
    seats: Counter = Counter()
    comps: Counter = Counter()
    for i in range(draws):
        panel = legacy_draw(people, quotas, size, legacy_seed(i))  # may be legacy_failed
        seats.update(panel)
        comps[tuple(sorted(Counter(type_key(by_id[j]) for j in panel).items()))] += 1
        if progress and (i + 1) % 100 == 0:
            progress(f"legacy: {i + 1}/{draws} tirages")
    dist = Distribution(draws, tuple(sorted(comps.items())))
    return Selection("legacy", dist, {p.id: seats[p.id] / draws for p in
                                      sorted(people, key=lambda p: p.id)},
                     len(dist.panels), time.monotonic() - started)
