"""The sortition rules alone (standard library): pools, compositions, distributions, draws."""

from __future__ import annotations

import csv
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from domain.rules import sortition as s

DATA = Path(__file__).resolve().parents[1] / "data" / "sortition"


def small_pool() -> tuple[list[s.Person], list[s.Quota]]:
    """Flanigan et al.'s example_small_20 (200 respondents, ids = row numbers)."""
    with open(DATA / "flanigan-2021" / "example_small_20" / "respondents.csv") as f:
        people = [s.person(str(i), row) for i, row in enumerate(csv.DictReader(f))]
    with open(DATA / "flanigan-2021" / "example_small_20" / "categories.csv") as f:
        quotas = [s.Quota(r["category"], r["feature"], int(r["min"]), int(r["max"]))
                  for r in csv.DictReader(f)]
    return people, quotas


def tiny() -> tuple[list[s.Person], list[s.Quota]]:
    people = [s.person(f"a{i}", {"g": "f", "age": "young"}) for i in range(3)]
    people += [s.person(f"b{i}", {"g": "m", "age": "young"}) for i in range(3)]
    people += [s.person(f"c{i}", {"g": "m", "age": "old"}) for i in range(2)]
    quotas = [s.Quota("g", "f", 1, 2), s.Quota("g", "m", 1, 3),
              s.Quota("age", "young", 1, 3), s.Quota("age", "old", 0, 1)]
    return people, quotas


def key(**values: str) -> str:
    return s.type_key(s.person("x", values))


def tiny_distribution() -> s.Distribution:
    return s.from_probabilities(
        [{key(g="f", age="young"): 2, key(g="m", age="young"): 1},
         {key(g="f", age="young"): 1, key(g="m", age="old"): 1, key(g="m", age="young"): 1}],
        [0.25, 0.75], denominator=1000)


def test_type_key_is_compact_sorted_json_when_values_given_in_any_order() -> None:
    assert s.type_key(s.person("1", {"z": "b", "a": "c"})) == '[["a","c"],["z","b"]]'


def test_types_group_interchangeable_people_when_values_are_equal() -> None:
    people, _ = tiny()
    groups = s.types_of(people)
    assert groups[key(g="f", age="young")] == ("a0", "a1", "a2")
    assert len(groups) == 3


def test_violations_name_the_quota_when_a_composition_breaks_it() -> None:
    people, quotas = tiny()
    assert s.violations({key(g="f", age="young"): 2, key(g="m", age="young"): 1}, people,
                        quotas, 3) == []
    problems = s.violations({key(g="f", age="young"): 3}, people, quotas, 3)
    assert any("g=f" in p for p in problems) and any("g=m" in p for p in problems)
    assert s.violations({key(g="m", age="old"): 3}, people, quotas, 3)  # only 2 people
    assert s.violations({key(g="f", age="young"): 2}, people, quotas, 3)  # wrong size


def test_check_pool_refuses_when_the_pool_is_smaller_than_the_panel() -> None:
    people, quotas = tiny()
    with pytest.raises(s.SortitionError) as e:
        s.check_pool(people, quotas, 9)
    assert e.value.rule == "sortition.pool_too_small"


@pytest.mark.parametrize("change, rule", [
    (lambda p, q: (p + [s.person("a0", {"g": "f", "age": "old"})], q), "sortition.duplicate_id"),
    (lambda p, q: (p + [s.person("z", {"g": "f"})], q), "sortition.unknown_feature"),
    (lambda p, q: (p + [s.person("z", {"g": "x", "age": "old"})], q), "sortition.unknown_value"),
    (lambda p, q: (p, q + [s.Quota("g", "x", 1, 2)]), "sortition.infeasible_quotas"),
    (lambda p, q: (p, q + [s.Quota("g", "x", 2, 1)]), "sortition.bad_quota"),
])
def test_check_pool_names_the_rule_when_the_pool_is_wrong(change, rule) -> None:
    people, quotas = change(*tiny())
    with pytest.raises(s.SortitionError) as e:
        s.check_pool(people, quotas, 3)
    assert e.value.rule == rule


def test_check_pool_accepts_a_quota_nobody_meets_when_its_min_is_zero() -> None:
    people, quotas = tiny()
    s.check_pool(people, quotas + [s.Quota("g", "x", 0, 2)], 3)


def test_from_probabilities_gives_exact_integers_when_floats_do_not_add_up() -> None:
    d = s.from_probabilities([{"a": 1}, {"b": 1}, {"c": 1}, {"a": 1}], [0.1, 0.2, 0.3, 0.0],
                             denominator=10**12)
    assert sum(w for _, w in d.panels) == 10**12
    assert [c for c, _ in d.panels] == sorted(c for c, _ in d.panels)
    assert dict(d.panels)[(("c", 1),)] == max(w for _, w in d.panels)
    assert s.from_probabilities([{"a": 1}, {"b": 1}], [1.0, 0.0]).panels == (((("a", 1),),
                                                                              10**12),)


def test_distribution_round_trips_when_written_as_json() -> None:
    d = tiny_distribution()
    assert s.Distribution.from_json(d.to_json()) == d
    with pytest.raises(s.SortitionError) as e:
        s.Distribution.from_json({"panels": []})
    assert e.value.rule == "sortition.bad_distribution"


def test_check_distribution_rejects_when_a_weight_is_tampered() -> None:
    people, quotas = tiny()
    d = tiny_distribution()
    assert s.check_distribution(people, quotas, 3, d) == []
    (c0, w0), rest = d.panels[0], d.panels[1:]
    tampered = s.Distribution(d.denominator, ((c0, w0 + 1),) + rest)
    assert any("sum" in p for p in s.check_distribution(people, quotas, 3, tampered))


def test_check_distribution_rejects_when_a_composition_is_invalid() -> None:
    people, quotas = tiny()
    bad = s.Distribution(1, ((((key(g="f", age="young"), 3),), 1),))
    assert s.check_distribution(people, quotas, 3, bad)


def test_marginals_are_exact_fractions_when_computed_from_a_distribution() -> None:
    people, _ = tiny()
    m = s.marginals(people, tiny_distribution())
    assert m["a0"] == Fraction(2, 3) * Fraction(1, 4) + Fraction(1, 3) * Fraction(3, 4)
    assert m["c0"] == Fraction(3, 4) / 2
    assert sum(m.values()) == 3


def test_commitment_changes_when_any_input_changes() -> None:
    people, quotas = tiny()
    d = tiny_distribution()
    base = s.commitment(people, quotas, 3, "leximin", s.ALGORITHM_VERSION, d, "drand:123")
    assert len(base) == 64
    assert base == s.commitment(list(reversed(people)), quotas, 3, "leximin",
                                s.ALGORITHM_VERSION, d, "drand:123")
    assert base != s.commitment(people, quotas, 3, "leximin", s.ALGORITHM_VERSION, d,
                                "drand:124")
    assert base != s.commitment(people, quotas, 3, "nash", s.ALGORITHM_VERSION, d, "drand:123")


def test_draw_is_deterministic_when_the_seed_is_the_same() -> None:
    people, quotas = tiny()
    d = tiny_distribution()
    assert s.draw(people, d, b"seed") == s.draw(people, d, b"seed")


def test_draw_uses_every_byte_of_the_seed_when_the_last_byte_changes() -> None:
    people, _ = small_pool()
    d = s.from_probabilities([{key(gender="female", leaning="liberal"): 10,
                               key(gender="male", leaning="conservative"): 10}], [1.0])
    seeds = [bytes(range(i, i + 32)) for i in range(20)]
    assert any(s.draw(people, d, seed) != s.draw(people, d, seed[:-1] + bytes([seed[-1] ^ 1]))
               for seed in seeds)


def test_every_drawn_panel_meets_the_quotas_when_drawn_from_a_valid_distribution() -> None:
    people, quotas = tiny()
    by_id = {p.id: p for p in people}
    d = tiny_distribution()
    seen = Counter()
    for i in range(300):
        panel = s.draw(people, d, i.to_bytes(4, "big"))
        assert list(panel) == sorted(panel) and len(set(panel)) == 3
        assert s.violations(Counter(s.type_key(by_id[j]) for j in panel), people, quotas, 3) == []
        seen.update(panel)
    assert abs(seen["c0"] / 300 - 0.375) < 0.1  # marginal 3/8


def test_stream_below_is_uniform_when_n_is_not_a_power_of_two() -> None:
    stream = s.Stream(b"x", "test")
    counts = Counter(stream.below(3) for _ in range(3000))
    assert set(counts) == {0, 1, 2} and all(900 < c < 1100 for c in counts.values())


def test_replacement_has_the_same_values_when_someone_alike_is_free() -> None:
    people, quotas = tiny()
    panel = ["a0", "a1", "b0"]
    alternate = s.replacement(people, quotas, 3, panel, "a0", b"seed", 0)
    assert alternate == "a2"
    assert s.replacement(people, quotas, 3, panel, "b0", b"seed", 1) in {"b1", "b2"}


def test_replacement_keeps_the_quotas_when_nobody_alike_is_free() -> None:
    people, quotas = tiny()
    panel = ["a0", "a1", "b0"]
    alternate = s.replacement(people, quotas, 3, panel, "a1", b"seed", 0, excluded=["a2"])
    assert alternate in {"b1", "b2", "c0", "c1"}
    by_id = {p.id: p for p in people}
    new = ["a0", "b0", alternate]
    assert s.violations(Counter(s.type_key(by_id[j]) for j in new), people, quotas, 3) == []


def test_replacement_is_none_when_nobody_fits() -> None:
    people, quotas = tiny()
    quotas = [s.Quota("g", "f", 2, 2), s.Quota("g", "m", 1, 1),
              s.Quota("age", "young", 0, 3), s.Quota("age", "old", 0, 1)]
    panel = ["a0", "a1", "b0"]
    assert s.replacement(people, quotas, 3, panel, "a1", b"seed", 0, excluded=["a2"]) is None


def test_legacy_draw_meets_the_quotas_when_the_pool_allows_it() -> None:
    people, quotas = small_pool()
    by_id = {p.id: p for p in people}
    for i in range(30):
        panel = s.legacy_draw(people, quotas, 20, i.to_bytes(2, "big"))
        assert panel == s.legacy_draw(people, quotas, 20, i.to_bytes(2, "big"))
        assert s.violations(Counter(s.type_key(by_id[j]) for j in panel), people, quotas,
                            20) == []


def test_check_distribution_reports_instead_of_crashing_when_panels_are_malformed() -> None:
    people, quotas = tiny()
    assert s.check_distribution(people, quotas, 3, s.Distribution(1, ((("x",), 1),)))
    assert s.check_distribution(people, quotas, 3, s.Distribution(0, ()))
