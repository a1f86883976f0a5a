"""A project submitted to a participatory budget cycle, its eligibility and, once selected,
its implementation.

What each event records:
- `Submitted`: the cycle, the district, the author's pseudonym (D10), the title and summary
  sealed under the author's data key, the cost (whole currency units) and the competence of
  the metropolis it falls within.
- `Ruled`: a clerk's eligibility ruling, reasoned (`cause: clerk_ruling`), or eligibility by
  the clerks' silence at the review's end (`cause: deadline`).
- `Appealed`: the author appealed an ineligibility to the guarantor (the text sealed);
  `AppealDecided`: the guarantor's decision, reasoned (`upheld`: the project is eligible).
- `MilestoneRecorded`: a clerk's milestone in a selected project's implementation (status
  and the official's note, in clear).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

MILESTONE_STATUSES = ("planned", "started", "delivered", "abandoned")


class BudgetProject(Aggregate):
    """One project of a budget cycle."""

    class Submitted(Aggregate.Created):
        cycle_id: UUID
        district: str
        author_ref: str
        title_sealed: str
        summary_sealed: str
        cost: int
        competence: str | None
        at: datetime

    class Ruled(Aggregate.Event):
        eligible: bool
        clerk_ref: str | None
        reason: str
        cause: str  # clerk_ruling | deadline

    class Appealed(Aggregate.Event):
        author_ref: str
        text_sealed: str
        at: datetime

    class AppealDecided(Aggregate.Event):
        guarantor_ref: str
        upheld: bool
        reason: str
        at: datetime

    class MilestoneRecorded(Aggregate.Event):
        clerk_ref: str
        status: str
        note: str
        at: datetime

    @event(Submitted)
    def __init__(self, cycle_id: UUID, district: str, author_ref: str, title_sealed: str,
                 summary_sealed: str, cost: int, competence: str | None,
                 at: datetime) -> None:
        self.cycle_id = cycle_id
        self.district = district
        self.author_ref = author_ref
        self.title_sealed = title_sealed
        self.summary_sealed = summary_sealed
        self.cost = cost
        self.competence = competence
        self.eligible: bool | None = None
        self.appeal_pending = False
        self.milestones: list[str] = []

    @event(Ruled)
    def rule(self, eligible: bool, clerk_ref: str | None, reason: str, cause: str) -> None:
        self.eligible = eligible

    @event(Appealed)
    def appeal(self, author_ref: str, text_sealed: str, at: datetime) -> None:
        self.appeal_pending = True

    @event(AppealDecided)
    def decide_appeal(self, guarantor_ref: str, upheld: bool, reason: str,
                      at: datetime) -> None:
        self.appeal_pending = False
        if upheld:
            self.eligible = True

    @event(MilestoneRecorded)
    def record_milestone(self, clerk_ref: str, status: str, note: str, at: datetime) -> None:
        self.milestones.append(status)
