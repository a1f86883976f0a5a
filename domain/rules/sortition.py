"""Selection by lot of a citizens' convention (issue #11): the rules a verifier re-applies offline.

Standard library only: the offline verifier imports this module. The solver that *finds* a fair
distribution (`api.sortition_solver`, HiGHS) lives outside the domain; everything needed to
*check* its output and to *draw* the panel from it is here.

Vocabulary
- A `Person` has one value per stratification feature (gender, age bracket, …).
- A `Quota` bounds how many panel members have a feature's value: min ≤ count ≤ max.
- People with equal values are interchangeable: they share a *type* (`type_key`). A panel
  *composition* is a count per type; members inside a type are drawn uniformly.
- A `Distribution` is a lottery over compositions with exact integer weights summing to its
  denominator. `marginals` gives each person's exact probability of sitting on the panel.

Randomness (`draw`, `replacement`, `legacy_draw`) comes from a public seed, through a documented
SHA-256 counter stream (`Stream`), so anyone can redo a draw from the seed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

ALGORITHM_VERSION = "registre-sortition/1"
METHODS = ("leximin", "maximin", "nash", "legacy")
LEGACY_MAX_ATTEMPTS = 100


class SortitionError(ValueError):
    """A pool, quotas or distribution the rules refuse; `rule` names the condition."""

    def __init__(self, rule: str, message: str, **details) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Quota:
    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class Person:
    id: str
    values: tuple[tuple[str, str], ...]  # (feature, value) pairs sorted by feature

    def value(self, feature: str) -> str | None:
        for f, v in self.values:
            if f == feature:
                return v
        return None


def person(id: str, values: Mapping[str, str]) -> Person:
    """A person with their values sorted by feature."""
    return Person(str(id), tuple(sorted((str(f), str(v)) for f, v in values.items())))


def type_key(p: Person) -> str:
    """The canonical key of a person's values: compact JSON of the sorted (feature, value) pairs,
    e.g. `[["gender","female"],["leaning","liberal"]]`. Equal keys = interchangeable people."""
    return json.dumps([list(pair) for pair in p.values], separators=(",", ":"),
                      ensure_ascii=False)


def type_values(key: str) -> dict[str, str]:
    """The feature → value mapping a type key stands for."""
    return {f: v for f, v in json.loads(key)}


def types_of(people: Iterable[Person]) -> dict[str, tuple[str, ...]]:
    """Type key → the ids of its members, sorted; keys in sorted order."""
    groups: dict[str, list[str]] = {}
    for p in people:
        groups.setdefault(type_key(p), []).append(p.id)
    return {k: tuple(sorted(groups[k])) for k in sorted(groups)}


def _quota_counts(counts_by_type: Mapping[str, int]) -> Counter:
    """(feature, value) → how many panel members have it, for a composition."""
    totals: Counter = Counter()
    for key, count in counts_by_type.items():
        for f, v in json.loads(key):
            totals[(f, v)] += count
    return totals


def violations(counts_by_type: Mapping[str, int], people: Iterable[Person],
               quotas: Iterable[Quota], size: int) -> list[str]:
    """Why a composition is not a valid panel (empty list: it is one). Checks: counts are
    non-negative integers of known types, no type gives more members than it has, the panel has
    `size` members, and each quota's min ≤ count ≤ max."""
    members = types_of(people)
    problems: list[str] = []
    total = 0
    for key, count in counts_by_type.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            problems.append(f"type {key}: count {count!r} is not a non-negative integer")
            continue
        if key not in members:
            if count:
                problems.append(f"type {key}: nobody in the pool has these values")
            continue
        if count > len(members[key]):
            problems.append(f"type {key}: {count} seats but only {len(members[key])} people")
        total += count
    if problems:
        return problems
    if total != size:
        problems.append(f"panel of {total} people, not {size}")
    totals = _quota_counts({k: c for k, c in counts_by_type.items() if c})
    for q in quotas:
        n = totals[(q.feature, q.value)]
        if not q.min <= n <= q.max:
            problems.append(f"quota {q.feature}={q.value}: {n} members, "
                            f"outside {q.min}..{q.max}")
    return problems


def check_pool(people: Sequence[Person], quotas: Sequence[Quota], size: int) -> None:
    """Refuse a pool no panel can come from, before any solving. Raises SortitionError:
    - `sortition.bad_size`: size < 1; `sortition.bad_quota`: min < 0 or min > max;
    - `sortition.duplicate_id`: two people share an id;
    - `sortition.pool_too_small`: fewer people than seats;
    - `sortition.unknown_feature`: a person's features differ from the quotas' features
      (one missing or one no quota names);
    - `sortition.unknown_value`: a person's value that no quota of that feature names;
    - `sortition.infeasible_quotas`: a quota with min > 0 on a value nobody (or too few) has;
      its `relaxation` lowers that one min to what the pool holds (further changes may still
      be needed: the solver names the smallest whole relaxation)."""
    if size < 1:
        raise SortitionError("sortition.bad_size", f"panel size {size} is not positive",
                             size=size)
    for q in quotas:
        if q.min < 0 or q.min > q.max:
            raise SortitionError("sortition.bad_quota",
                                 f"quota {q.feature}={q.value}: bounds {q.min}..{q.max}",
                                 feature=q.feature, value=q.value)
    seen: set[str] = set()
    for p in people:
        if p.id in seen:
            raise SortitionError("sortition.duplicate_id", f"id {p.id!r} appears twice",
                                 id=p.id)
        seen.add(p.id)
    if len(people) < size:
        raise SortitionError("sortition.pool_too_small",
                             f"{len(people)} people for a panel of {size}",
                             people=len(people), size=size)
    features = {q.feature for q in quotas}
    named = {(q.feature, q.value) for q in quotas}
    for p in people:
        mine = {f for f, _ in p.values}
        if mine != features:
            odd = sorted(mine ^ features)
            raise SortitionError("sortition.unknown_feature",
                                 f"person {p.id}: features {odd} differ from the quotas'",
                                 id=p.id, features=odd)
        for pair in p.values:
            if pair not in named:
                raise SortitionError("sortition.unknown_value",
                                     f"person {p.id}: {pair[0]}={pair[1]} has no quota",
                                     id=p.id, feature=pair[0], value=pair[1])
    held = Counter(pair for p in people for pair in p.values)
    for q in quotas:
        if q.min > held[(q.feature, q.value)]:
            have = held[(q.feature, q.value)]
            raise SortitionError(
                "sortition.infeasible_quotas",
                f"quota {q.feature}={q.value}: min {q.min} but only {have} people have it",
                relaxation=[{"feature": q.feature, "value": q.value, "bound": "min",
                             "from": q.min, "to": have}])


# -- distributions ---------------------------------------------------------------------------

Composition = tuple[tuple[str, int], ...]


def canonical_composition(counts: Mapping[str, int]) -> Composition:
    """A composition as sorted (type key, count) pairs, zero counts dropped."""
    return tuple(sorted((k, int(c)) for k, c in counts.items() if c))


@dataclass(frozen=True)
class Distribution:
    """A lottery over compositions: (composition, weight) pairs in canonical (sorted) order,
    integer weights > 0 summing to `denominator`; P(composition) = weight / denominator."""

    denominator: int
    panels: tuple[tuple[Composition, int], ...]

    def to_json(self) -> dict:
        return {"denominator": self.denominator,
                "panels": [{"composition": [[k, c] for k, c in comp], "weight": w}
                           for comp, w in self.panels]}

    @classmethod
    def from_json(cls, d) -> Distribution:
        try:
            denominator = d["denominator"]
            panels = tuple(
                (tuple((str(k), c) for k, c in item["composition"]), item["weight"])
                for item in d["panels"])
        except (KeyError, TypeError, ValueError) as e:
            raise SortitionError("sortition.bad_distribution",
                                 f"not a distribution: {e!r}") from None
        return cls(denominator, panels)


def from_probabilities(compositions: Sequence[Mapping[str, int]],
                       probabilities: Sequence[float],
                       denominator: int = 10**12) -> Distribution:
    """Exact integer weights for float probabilities: equal compositions merged, negative
    probabilities read as 0, probabilities normalised, weight = floor(p × denominator), the
    remainder added to the largest weight (first in canonical order on ties), zeros dropped."""
    if len(compositions) != len(probabilities):
        raise SortitionError("sortition.bad_distribution",
                             "as many probabilities as compositions are needed")
    merged: dict[Composition, float] = {}
    for comp, p in zip(compositions, probabilities):
        key = canonical_composition(comp)
        merged[key] = merged.get(key, 0.0) + max(float(p), 0.0)
    total = sum(merged.values())
    if not total > 0:
        raise SortitionError("sortition.bad_distribution", "probabilities sum to zero")
    order = sorted(merged)
    weights = {c: int(Fraction(merged[c]) / Fraction(total) * denominator) for c in order}
    largest = max(order, key=lambda c: weights[c])  # max keeps the first on ties
    weights[largest] += denominator - sum(weights.values())
    return Distribution(denominator, tuple((c, weights[c]) for c in order if weights[c] > 0))


def check_distribution(people: Sequence[Person], quotas: Sequence[Quota], size: int,
                       dist: Distribution) -> list[str]:
    """Why `dist` is not a lottery over valid panels (empty: it is one): denominator a positive
    integer, weights positive integers summing to it, compositions canonical and distinct, each
    a valid panel (`violations`)."""
    problems: list[str] = []
    if not isinstance(dist.denominator, int) or dist.denominator <= 0:
        return [f"denominator {dist.denominator!r} is not a positive integer"]
    try:
        panels = [(tuple((str(k), c) for k, c in comp), weight) for comp, weight in dist.panels]
    except (TypeError, ValueError):
        return ["panels are not (composition, weight) pairs"]
    total = 0
    seen: set = set()
    for i, (comp, weight) in enumerate(panels):
        if not isinstance(weight, int) or isinstance(weight, bool) or weight <= 0:
            problems.append(f"panel {i}: weight {weight!r} is not a positive integer")
        else:
            total += weight
        if tuple(comp) in seen:
            problems.append(f"panel {i}: composition repeated")
        seen.add(tuple(comp))
        if list(comp) != sorted(comp) or any(not c for _, c in comp):
            problems.append(f"panel {i}: composition not in canonical order")
        problems += [f"panel {i}: {m}" for m in violations(dict(comp), people, quotas, size)]
    if [c for c, _ in panels] != sorted(c for c, _ in panels):
        problems.append("panels not in canonical order")
    if total != dist.denominator:
        problems.append(f"weights sum to {total}, not {dist.denominator}")
    return problems


def marginals(people: Sequence[Person], dist: Distribution) -> dict[str, Fraction]:
    """Each person's exact probability of a seat: Σ weight × count_t / n_t / denominator over
    the panels, t the person's type and n_t its size."""
    members = types_of(people)
    by_type: dict[str, Fraction] = {k: Fraction(0) for k in members}
    for comp, weight in dist.panels:
        for key, count in comp:
            if key not in members:
                raise SortitionError("sortition.bad_distribution",
                                     f"type {key}: nobody in the pool has these values")
            by_type[key] += Fraction(weight * count, len(members[key]))
    return {p.id: by_type[type_key(p)] / dist.denominator
            for p in sorted(people, key=lambda p: p.id)}


def commitment(people: Sequence[Person], quotas: Sequence[Quota], size: int, method: str,
               version: str, dist: Distribution, randomness_source: str) -> str:
    """Hex SHA-256 of the UTF-8 canonical JSON (keys sorted, separators `,` and `:`, no ASCII
    escaping) of the object:
    - `algorithm`: `version` (e.g. ALGORITHM_VERSION);
    - `method`: the method that found the distribution (one of METHODS);
    - `size`: the panel size;
    - `quotas`: `[feature, value, min, max]` lists sorted;
    - `people`: `[id, [[feature, value], …]]` lists sorted by id (values sorted by feature);
    - `distribution`: `dist.to_json()`;
    - `randomness_source`: where the seed will come from (e.g. a future public beacon round).
    Published before the seed is known, it fixes everything the draw depends on."""
    doc = {
        "algorithm": version,
        "method": method,
        "size": size,
        "quotas": sorted([q.feature, q.value, q.min, q.max] for q in quotas),
        "people": [[p.id, [list(v) for v in p.values]]
                   for p in sorted(people, key=lambda p: p.id)],
        "distribution": dist.to_json(),
        "randomness_source": randomness_source,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- randomness ------------------------------------------------------------------------------

class Stream:
    """A deterministic byte stream from a seed: block i (i = 0, 1, …) is
    SHA-256(b"registre-sortition/1" ‖ 0x00 ‖ label (UTF-8) ‖ 0x00 ‖ i as 8 bytes big-endian ‖
    seed), the blocks concatenated. The whole seed enters every block.

    `below(n)`: an unbiased integer in [0, n): with k = bit length of n − 1, take the next
    ⌈k/8⌉ bytes as a big-endian integer, keep its low k bits, reject and retry while ≥ n;
    n = 1 gives 0 without reading any byte."""

    def __init__(self, seed: bytes, label: str) -> None:
        self._prefix = ALGORITHM_VERSION.encode() + b"\x00" + label.encode("utf-8") + b"\x00"
        self._seed = bytes(seed)
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")
                                   + self._seed).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        if n < 1:
            raise ValueError("below(n) needs n ≥ 1")
        if n == 1:
            return 0
        k = (n - 1).bit_length()
        mask = (1 << k) - 1
        while True:
            x = int.from_bytes(self.read((k + 7) // 8), "big") & mask
            if x < n:
                return x


def _pick(stream: Stream, ids: Sequence[str], count: int) -> list[str]:
    """`count` ids uniformly from `ids` (sorted first): partial Fisher–Yates, for i < count swap
    position i with i + below(len − i)."""
    pool = sorted(ids)
    for i in range(count):
        j = i + stream.below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]


def draw(people: Sequence[Person], dist: Distribution, seed: bytes) -> tuple[str, ...]:
    """The panel drawn from `dist` with `seed`, one stream labelled `draw`:
    1. r = below(denominator); the composition is the first, in canonical order, whose
       cumulative weight exceeds r;
    2. for each type of the composition in sorted key order, its members (ids sorted) are
       drawn by partial Fisher–Yates (`_pick`) from the same stream.
    Returns the panel's ids sorted."""
    members = types_of(people)
    total = sum(w for _, w in dist.panels)
    if total != dist.denominator or dist.denominator <= 0:
        raise SortitionError("sortition.bad_distribution",
                             f"weights sum to {total}, not {dist.denominator}")
    stream = Stream(seed, "draw")
    r = stream.below(dist.denominator)
    cumulative = 0
    for comp, weight in dist.panels:
        cumulative += weight
        if r < cumulative:
            break
    chosen: list[str] = []
    for key, count in sorted(comp):
        if key not in members or count > len(members[key]):
            raise SortitionError("sortition.bad_distribution",
                                 f"type {key}: {count} seats, pool does not hold them")
        chosen += _pick(stream, members[key], count)
    return tuple(sorted(chosen))


def _composition_of(people_by_id: Mapping[str, Person], ids: Iterable[str]) -> dict[str, int]:
    return dict(Counter(type_key(people_by_id[i]) for i in ids))


def replacement(people: Sequence[Person], quotas: Sequence[Quota], size: int,
                panel: Sequence[str], declined: str, seed: bytes, index: int,
                *, excluded: Iterable[str] = ()) -> str | None:
    """Who replaces `declined` (stream labelled `replacement:<index>`): uniformly among the
    people of the same type who are neither on `panel` nor `declined` nor in `excluded`
    (earlier decliners); if there is none, uniformly among those others whose substitution
    keeps every quota (`violations` empty). Candidates are taken with ids sorted, chosen by one
    `below(n)`. None when nobody fits."""
    by_id = {p.id: p for p in people}
    if declined not in by_id:
        raise SortitionError("sortition.unknown_person", f"{declined!r} is not in the pool",
                             id=declined)
    out = set(panel) | {declined} | set(excluded)
    stream = Stream(seed, f"replacement:{index}")
    wanted = type_key(by_id[declined])
    same = sorted(i for i, p in by_id.items() if i not in out and type_key(p) == wanted)
    if same:
        return same[stream.below(len(same))]
    rest = [i for i in panel if i != declined]
    fitting = sorted(
        i for i in by_id if i not in out
        and not violations(_composition_of(by_id, rest + [i]), people, quotas, size))
    if fitting:
        return fitting[stream.below(len(fitting))]
    return None


def _legacy_attempt(people: Sequence[Person], quotas: Sequence[Quota], size: int,
                    stream: Stream) -> list[str] | None:
    """One pass of the legacy greedy draw; None when it runs into a dead end."""
    bounds = {(q.feature, q.value): (q.min, q.max) for q in quotas}
    order = sorted(bounds)
    values = {p.id: p.values for p in people}
    holders: dict[tuple[str, str], set[str]] = {pair: set() for pair in bounds}
    for p in people:
        for pair in p.values:
            holders[pair].add(p.id)
    selected: Counter = Counter()
    chosen: list[str] = []

    def remove(pid: str) -> None:
        for pair in values[pid]:
            holders[pair].discard(pid)

    for pair in order:  # max 0: nobody with it may sit
        if bounds[pair][1] == 0:
            for pid in list(holders[pair]):
                remove(pid)
    for _ in range(size):
        best, best_ratio = None, -100.0
        for pair in order:
            low, high = bounds[pair]
            need, left = low - selected[pair], len(holders[pair])
            if need > 0 and left < need:
                return None
            if left and high:
                ratio = need / left
                if ratio > best_ratio:
                    best, best_ratio = pair, ratio
        if best is None:
            return None
        candidates = sorted(holders[best])
        pid = candidates[stream.below(len(candidates))]
        remove(pid)
        chosen.append(pid)
        for pair in values[pid]:
            selected[pair] += 1
            if selected[pair] >= bounds[pair][1]:
                for other in list(holders[pair]):
                    remove(other)
    return chosen


def legacy_draw(people: Sequence[Person], quotas: Sequence[Quota], size: int,
                seed: bytes) -> tuple[str, ...]:
    """The Sortition Foundation's legacy greedy draw, deterministic from `seed`. Each seat:
    among the (feature, value) pairs (sorted) that still have people left and a max > 0, take
    the one with the highest ratio (min − selected) / people left (first on ties); seat a person
    with it chosen uniformly (ids sorted, `below`); then remove everyone left who has a value
    that reached its max. A pass fails when a min can no longer be met or the panel breaks a
    quota; attempt a (0, 1, …) uses the stream labelled `legacy:<a>`, up to LEGACY_MAX_ATTEMPTS
    (then `sortition.legacy_failed`). Returns the ids sorted."""
    by_id = {p.id: p for p in people}
    for attempt in range(LEGACY_MAX_ATTEMPTS):
        chosen = _legacy_attempt(people, quotas, size, Stream(seed, f"legacy:{attempt}"))
        if chosen is None or len(set(chosen)) != size:
            continue
        held = Counter(pair for i in chosen for pair in by_id[i].values)
        if all(q.min <= held[(q.feature, q.value)] <= q.max for q in quotas):
            return tuple(sorted(chosen))
    raise SortitionError("sortition.legacy_failed",
                         f"the legacy draw failed {LEGACY_MAX_ATTEMPTS} times")
