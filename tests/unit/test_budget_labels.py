"""Every participatory budget event has its French label (projections/labels.py), the one the
budget views' timeline shows."""

from __future__ import annotations

import inspect

from eventsourcing.domain import Aggregate

from domain.budget.ballot import BudgetBallot
from domain.budget.cycle import BudgetCycle
from domain.budget.project import BudgetProject
from projections.labels import BUDGET_LABELS


def test_every_budget_event_has_a_french_label_when_the_domain_defines_it() -> None:
    events = {f"{aggregate.__name__}.{name}"
              for aggregate in (BudgetCycle, BudgetProject, BudgetBallot)
              for name, cls in vars(aggregate).items()
              if inspect.isclass(cls) and issubclass(cls, Aggregate.Event)
              and name not in ("Event", "Created")}  # eventsourcing's base classes
    assert len(events) == 14 and events <= set(BUDGET_LABELS)
