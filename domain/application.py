"""The domain application: one eventsourcing Application over one global log, composed from
each process' command module (governance, deliberation, petition, budget, convention).

Each command loads aggregates, applies a rule and saves the resulting events in one
transaction. Time comes from the `clock` given at construction (the wiring gives the system
clock; the default is only for read-only uses such as eventsourcing's ProjectionRunner, which
builds the application from its environment alone). Log positions of stored events come from
a `LogPositions` port: the wiring gives the PostgreSQL adapter; by default the log is scanned
(the in-memory store of unit tests). What private persons write is sealed through a
`PersonalData` port (D10), a factory of the recorder like `positions`; without one, sealing
is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from uuid import UUID

from eventsourcing.application import Application

from domain.budget.commands import BudgetCommands
from domain.convention.commands import ConventionCommands
from domain.deliberation.commands import DeliberationCommands
from domain.governance.commands import GovernanceCommands
from domain.petition.commands import PetitionCommands
from domain.ports import Clock, LogPositions, NoPersonalData, PersonalData, ScannedLogPositions

import domain.topics  # noqa: F401  (old stored topics resolve to the moved event classes)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Registre(GovernanceCommands, DeliberationCommands, PetitionCommands, BudgetCommands,
               ConventionCommands, Application[UUID]):
    """Registre's command side, on the event store configured by the environment."""

    name = "Registre"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = utc_now,
                 positions: Callable[[object], LogPositions] = ScannedLogPositions,
                 personal_data: Callable[[object], PersonalData] | None = None) -> None:
        super().__init__(env)
        self.clock = clock
        self.positions = positions(self.recorder)
        # What private persons write is sealed through this port (D10); none wired: refused.
        self.personal_data = (personal_data or (lambda _: NoPersonalData()))(self.recorder)
