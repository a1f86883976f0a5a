"""The panel solver the convention's worker passes to `commit_convention_pool`: the HiGHS
adapter (api/sortition_solver.py `solve`), reduced to the `PanelSolver` the domain expects
(domain/convention/commands.py: people, quotas, size, method → `Distribution`).

The domain commits the distribution only after `sortition.check_distribution` accepts it; a
pool too small or quotas no panel meets raise `sortition.SortitionError` from the solver, and
the pool fails with its rule and relaxation.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.rules import sortition


def panel_solver(people: Sequence[sortition.Person], quotas: Sequence[sortition.Quota],
                 size: int, method: str) -> sortition.Distribution:
    """The panel distribution over the pool by the convention's method (HiGHS)."""
    # Imported when a pool closes, not when the worker starts: the solver pulls in HiGHS,
    # which only the worker committing a pool needs.
    from api.sortition_solver import solve

    return solve(people, quotas, size, method).distribution
