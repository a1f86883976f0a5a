"""The selection engine on HiGHS against the published reference pools (Flanigan et al. 2021,
sortition-algorithms' fixture)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from api.sortition_files import SortitionFileError, load
from api.sortition_solver import relaxation, solve
from domain.rules import sortition as s

DATA = Path(__file__).resolve().parents[1] / "data" / "sortition"


def small():
    d = DATA / "flanigan-2021" / "example_small_20"
    return load(d / "respondents.csv", d / "categories.csv")


def fixture():
    d = DATA / "sortition-algorithms-fixture"
    return load(d / "candidates.csv", d / "features.csv")


@cache
def solved(pool: str, method: str) -> s.Distribution:
    people, quotas = small() if pool == "small" else fixture()
    return solve(people, quotas, 20 if pool == "small" else 22, method)


def leximin_order(marginals: dict[str, float]) -> list[float]:
    return sorted(round(p, 6) for p in marginals.values())


def test_files_are_read_when_in_either_format() -> None:
    people, quotas = small()
    assert len(people) == 200 and people[0].id == "0"
    assert dict(people[0].values) == {"gender": "female", "leaning": "conservative"}
    people, quotas = fixture()
    assert len(people) == 150 and len(quotas) == 20
    assert {f for f, _ in people[0].values} == {"Gender", "age_bracket", "geo_bucket",
                                                 "edu_level"}


def test_files_error_names_file_and_line_when_a_bound_is_not_a_number(tmp_path) -> None:
    (tmp_path / "f.csv").write_text("feature,value,min,max\ng,f,1,2\ng,m,x,3\n")
    (tmp_path / "p.csv").write_text("nationbuilder_id,g\n1,f\n")
    with pytest.raises(SortitionFileError, match=r"f\.csv:3"):
        load(tmp_path / "p.csv", tmp_path / "f.csv")


def test_files_error_names_the_id_column_when_it_is_missing(tmp_path) -> None:
    (tmp_path / "f.csv").write_text("feature,value,min,max\ng,f,1,2\n")
    (tmp_path / "p.csv").write_text("id,g\n1,f\n")
    with pytest.raises(SortitionFileError, match="nationbuilder_id"):
        load(tmp_path / "p.csv", tmp_path / "f.csv")
    assert load(tmp_path / "p.csv", tmp_path / "f.csv", id_column="id")[0][0].id == "1"


def test_leximin_gives_everyone_a_tenth_when_on_flanigan_small() -> None:
    sel = solved("small", "leximin")
    assert len(sel.marginals) == 200
    assert all(abs(p - 0.1) < 1e-6 for p in sel.marginals.values())


def test_legacy_gives_the_lone_female_conservative_little_when_on_flanigan_small() -> None:
    people, _ = small()
    lone = [p.id for p in people if dict(p.values) == {"gender": "female",
                                                        "leaning": "conservative"}]
    assert lone == ["0"]
    sel = solved("small", "legacy")
    # 1,000 seeded draws: the published figure is about 1-3 %, leximin gives 10 %
    assert 0.005 <= sel.marginals["0"] <= 0.05


def test_leximin_minimum_is_one_eleventh_when_on_the_sortition_algorithms_fixture() -> None:
    sel = solved("fixture", "leximin")
    assert abs(min(sel.marginals.values()) - 1 / 11) < 1e-6
    assert abs(sum(sel.marginals.values()) - 22) < 1e-6


@pytest.mark.parametrize("pool, method", [(p, m) for p in ("small", "fixture")
                                          for m in ("leximin", "maximin", "nash")]
                         + [("small", "legacy")])
def test_check_distribution_accepts_when_given_a_solver_output(pool, method) -> None:
    people, quotas = small() if pool == "small" else fixture()
    sel = solved(pool, method)
    assert s.check_distribution(people, quotas, 20 if pool == "small" else 22,
                                sel.distribution) == []
    assert sel.panels == len(sel.distribution.panels)
    if method != "legacy":
        exact = s.marginals(people, sel.distribution)
        assert all(abs(float(exact[i]) - p) < 1e-12 for i, p in sel.marginals.items())


def test_check_distribution_rejects_when_a_solver_weight_is_tampered() -> None:
    people, quotas = fixture()
    d = solved("fixture", "leximin").distribution
    (c0, w0), (c1, w1) = d.panels[0], d.panels[1]
    moved = s.Distribution(d.denominator, ((c0, w0 + 1), (c1, w1 - 1)) + d.panels[2:])
    assert s.check_distribution(people, quotas, 22, moved) == []  # still a lottery
    tampered = s.Distribution(d.denominator, ((c0, w0 + 1),) + d.panels[1:])
    assert s.check_distribution(people, quotas, 22, tampered)


def test_drawn_panels_meet_the_quotas_when_drawn_from_the_leximin_lottery() -> None:
    people, quotas = fixture()
    by_id = {p.id: p for p in people}
    d = solved("fixture", "leximin").distribution
    for i in range(50):
        panel = s.draw(people, d, bytes([i]) * 32)
        assert len(panel) == 22
        assert s.violations(Counter(s.type_key(by_id[j]) for j in panel), people, quotas,
                            22) == []


def test_replacement_keeps_the_quotas_when_on_the_fixture() -> None:
    people, quotas = fixture()
    by_id = {p.id: p for p in people}
    panel = list(s.draw(people, solved("fixture", "leximin").distribution, b"\x01" * 32))
    found = 0
    for index, declined in enumerate(panel):
        alternate = s.replacement(people, quotas, 22, panel, declined, b"\x02" * 32, index)
        if alternate is None:  # a lone type whose every single swap breaks a quota
            continue
        found += 1
        assert alternate not in panel
        new = [j for j in panel if j != declined] + [alternate]
        assert s.violations(Counter(s.type_key(by_id[j]) for j in new), people, quotas,
                            22) == []
    assert found >= 11


def test_maximin_is_not_above_leximin_when_compared_in_the_leximin_order() -> None:
    lex = leximin_order(solved("fixture", "leximin").marginals)
    maxi = leximin_order(solved("fixture", "maximin").marginals)
    assert abs(maxi[0] - lex[0]) < 1e-6
    assert maxi <= lex


def test_nash_marginals_are_sane_when_on_both_pools() -> None:
    for pool, size in (("small", 20), ("fixture", 22)):
        m = solved(pool, "nash").marginals
        assert abs(sum(m.values()) - size) < 1e-6
        assert all(0 < p <= 1 for p in m.values())
    assert all(abs(p - 0.1) < 1e-3 for p in solved("small", "nash").marginals.values())


def test_infeasible_quotas_give_the_smallest_relaxation_when_no_panel_exists() -> None:
    people, quotas = small()
    tight = [s.Quota(q.feature, q.value, 12 if q.value == "female" else q.min,
                     q.max if q.value != "male" else 10) for q in quotas]
    # 12 women of whom at most 1 conservative, at least 9 conservatives: 12 + 8 > 20 seats
    with pytest.raises(s.SortitionError) as e:
        solve(people, tight, 20, "leximin")
    assert e.value.rule == "sortition.infeasible_quotas"
    changes = e.value.details["relaxation"]
    assert changes == relaxation(people, tight, 20)
    assert sum(abs(c["to"] - c["from"]) for c in changes) == 1
    relaxed = [s.Quota(q.feature, q.value,
                       next((c["to"] for c in changes if (c["feature"], c["value"], c["bound"])
                             == (q.feature, q.value, "min")), q.min),
                       next((c["to"] for c in changes if (c["feature"], c["value"], c["bound"])
                             == (q.feature, q.value, "max")), q.max)) for q in tight]
    assert solve(people, relaxed, 20, "maximin").panels >= 1


def test_solve_refuses_when_the_pool_is_too_small() -> None:
    people, quotas = small()
    with pytest.raises(s.SortitionError) as e:
        solve(people[:10], quotas, 20, "leximin")
    assert e.value.rule == "sortition.pool_too_small"


def test_solve_reports_progress_when_asked() -> None:
    people, quotas = small()
    lines: list[str] = []
    solve(people, quotas, 20, "leximin", progress=lines.append)
    assert lines and "leximin" in lines[0]


def test_leximin_matches_when_interchangeability_is_not_exploited() -> None:
    people, quotas = small()
    people = people[:1] + people[1::5]
    quotas = [s.Quota(q.feature, q.value, 3, 10) for q in quotas]
    by_type = solve(people, quotas, 10, "leximin")
    by_person = solve(people, quotas, 10, "leximin", interchangeable=False)
    assert leximin_order(by_type.marginals) == leximin_order(by_person.marginals)
