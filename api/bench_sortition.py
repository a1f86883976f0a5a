"""`registre bench sortition`: the leximin solve on the reference pools, against a baseline
measured in the same run.

Baseline: the same leximin (same code, same HiGHS) without exploiting interchangeability — each
person is a group of their own, so the pricing MIP has one integer variable per person instead
of one per type — capped by `--timeout` seconds (printed "> T s" when capped). `ratio` =
baseline seconds / ours (a lower bound when capped). Goals: the fixture (150 people, 22 seats)
under 5 s, Flanigan's example_large_200 (2,000 people, 200 seats) under 60 s.
"""

from __future__ import annotations

from pathlib import Path

from api.sortition_files import load

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "sortition"
CASES = (
    ("sortition-algorithms fixture", DATA / "sortition-algorithms-fixture" / "candidates.csv",
     DATA / "sortition-algorithms-fixture" / "features.csv", 22, 5.0),
    ("Flanigan example_large_200", DATA / "flanigan-2021" / "example_large_200" /
     "respondents.csv", DATA / "flanigan-2021" / "example_large_200" / "categories.csv",
     200, 60.0),
)


def bench_sortition(timeout: float = 120.0, echo=print) -> list[dict]:
    """Time leximin by types and by persons on each case; print and return the figures."""
    from api.sortition_solver import SolveTimeout, solve
    from domain.rules.sortition import types_of

    results = []
    for name, people_file, features_file, size, goal in CASES:
        people, quotas = load(people_file, features_file)
        ours = solve(people, quotas, size, "leximin")
        try:
            base = solve(people, quotas, size, "leximin", interchangeable=False,
                         timeout=timeout)
            base_s, capped = base.seconds, False
        except SolveTimeout:
            base_s, capped = timeout, True
        ratio = base_s / ours.seconds
        row = {"case": name, "people": len(people), "types": len(types_of(people)),
               "seats": size, "seconds": ours.seconds, "goal": goal,
               "min_probability": min(ours.marginals.values()), "panels": ours.panels,
               "baseline_seconds": base_s, "baseline_capped": capped, "ratio": ratio}
        results.append(row)
        echo(f"{name}: {len(people)} people, {row['types']} types, {size} seats")
        echo(f"  leximin by types       {ours.seconds:8.2f} s   goal < {goal:.0f} s "
             f"({'met' if ours.seconds < goal else 'NOT met'}), min probability "
             f"{row['min_probability']:.6f}, {ours.panels} panels")
        shown = f"> {timeout:.0f} s" if capped else f"{base_s:.2f} s"
        echo(f"  baseline by persons    {shown:>10}")
        echo(f"  ratio                  {'> ' if capped else ''}{ratio:.1f}")
    return results
