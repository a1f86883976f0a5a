"""A participatory budget cycle and its stages, from its rules' publication to its closing.

`CycleStage` is the one table of which stage may follow which. The cycle's rules (ballot kind,
tally rule, tie-break, durations; `domain/rules/budget_cycle.py` BudgetRules) and the budget
of each district are fixed in its first event, before any project exists, citing the charter
version they come from; no later event may change them.

What each event records:
- `Opened`: the metropolis, the charter version, the title (an official's, in clear), the
  rules, the districts and their budgets, the clerk who opened it, when, and when project
  submission ends. `source` names where the cycle comes from: `registre` for a cycle run
  here, or `pabulib:<sha256>` for a `.pb` file imported for replays and research.
- `ProjectAdded`: a project was submitted to the cycle (its id, district and author's
  pseudonym; stored with the project's own `Submitted`), so the cycle lists its projects.
- `ReviewOpened`: the end of submission; the clerks' eligibility review and its deadline.
- `VotingOpened`: the projects on each district's ballot (id → cost: the eligible ones),
  when voting ends. A ballot is valid against this list only.
- `VotingClosed`: the end of voting; its log position is the cut-off (a ballot stored after
  it is never counted).
- `ResultsPublished`: for each district, the rule and tie-break applied, the ballots counted
  (the last of each voter), the projects selected in their order and their total cost, all
  computed from the log up to `close_position` (the verifier recomputes them).
- `Closed`: the cycle's course is run (`completed`, or `cancelled` with the reason).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import WrongStage
from domain.rules.budget_cycle import BudgetRules


class CycleStage(StrEnum):
    SUBMISSION = "submission"  # citizens submit projects
    REVIEW = "review"  # clerks rule on each project's eligibility
    VOTING = "voting"
    RESULTS = "results"  # the outcome is published; the winners are implemented
    CLOSED = "closed"


TRANSITIONS: dict[CycleStage, frozenset[CycleStage]] = {
    CycleStage.SUBMISSION: frozenset({CycleStage.REVIEW, CycleStage.CLOSED}),
    CycleStage.REVIEW: frozenset({CycleStage.VOTING, CycleStage.CLOSED}),
    CycleStage.VOTING: frozenset({CycleStage.RESULTS, CycleStage.CLOSED}),
    CycleStage.RESULTS: frozenset({CycleStage.CLOSED}),
    CycleStage.CLOSED: frozenset(),
}


class BudgetCycle(Aggregate):
    """One participatory budget cycle of a metropolis."""

    class Opened(Aggregate.Created):
        metropolis_id: UUID
        charter_version: int
        title: str
        rules: dict[str, Any]
        districts: dict[str, int]
        clerk_ref: str
        at: datetime
        submission_closes_at: datetime
        source: str

    class ProjectAdded(Aggregate.Event):
        project_id: UUID
        district: str
        author_ref: str

    class ReviewOpened(Aggregate.Event):
        at: datetime
        closes_at: datetime

    class VotingOpened(Aggregate.Event):
        at: datetime
        closes_at: datetime
        ballots: dict[str, dict[str, int]]  # district -> project id -> cost

    class VotingClosed(Aggregate.Event):
        at: datetime

    class ResultsPublished(Aggregate.Event):
        close_position: int
        results: dict[str, dict[str, Any]]  # district -> rule, tie_break, ballots, selected, cost
        at: datetime

    class Closed(Aggregate.Event):
        outcome: str
        reason: str
        at: datetime

    @event(Opened)
    def __init__(self, metropolis_id: UUID, charter_version: int, title: str,
                 rules: dict[str, Any], districts: dict[str, int], clerk_ref: str,
                 at: datetime, submission_closes_at: datetime, source: str) -> None:
        self.metropolis_id = metropolis_id
        self.charter_version = charter_version
        self.title = title
        self.rules = rules
        self.districts = districts
        self.source = source
        self.stage = CycleStage.SUBMISSION
        self.submission_closes_at = submission_closes_at
        self.review_closes_at: datetime | None = None
        self.voting_opens_at: datetime | None = None
        self.voting_closes_at: datetime | None = None
        self.ballots: dict[str, dict[str, int]] = {}
        self.voting_closed = False
        self.results: dict[str, dict[str, Any]] | None = None
        self.outcome: str | None = None
        self.projects: list[UUID] = []
        self.authors: list[str] = []

    @property
    def cycle_rules(self) -> BudgetRules:
        return BudgetRules.from_dict(self.rules)

    def _move(self, to: CycleStage) -> None:
        if to not in TRANSITIONS[self.stage]:
            raise WrongStage(f"a budget cycle in stage '{self.stage}' cannot move to '{to}'")
        self.stage = to

    def require(self, *stages: CycleStage) -> None:
        if self.stage not in stages:
            raise WrongStage(f"budget cycle {self.id} is in stage '{self.stage}', not "
                             f"{' or '.join(stages)}")

    def is_submitting(self, now: datetime) -> bool:
        return self.stage == CycleStage.SUBMISSION and now < self.submission_closes_at

    def is_voting(self, now: datetime) -> bool:
        """Ballots are taken: voting is open and its period has not ended."""
        return (self.stage == CycleStage.VOTING and not self.voting_closed
                and self.voting_opens_at is not None and self.voting_closes_at is not None
                and self.voting_opens_at <= now < self.voting_closes_at)

    @event(ProjectAdded)
    def add_project(self, project_id: UUID, district: str, author_ref: str) -> None:
        self.projects.append(project_id)
        self.authors.append(author_ref)

    @event(ReviewOpened)
    def open_review(self, at: datetime, closes_at: datetime) -> None:
        self._move(CycleStage.REVIEW)
        self.review_closes_at = closes_at

    @event(VotingOpened)
    def open_voting(self, at: datetime, closes_at: datetime,
                    ballots: dict[str, dict[str, int]]) -> None:
        self._move(CycleStage.VOTING)
        self.voting_opens_at = at
        self.voting_closes_at = closes_at
        self.ballots = ballots

    @event(VotingClosed)
    def close_voting(self, at: datetime) -> None:
        self.voting_closed = True

    @event(ResultsPublished)
    def publish_results(self, close_position: int, results: dict[str, dict[str, Any]],
                        at: datetime) -> None:
        self._move(CycleStage.RESULTS)
        self.results = results
        self.close_position = close_position

    @event(Closed)
    def close(self, outcome: str, reason: str, at: datetime) -> None:
        self._move(CycleStage.CLOSED)
        self.outcome = outcome
