"""A proposal (proposition) and its deliberation stages.

Stages: `submitted` → `consultation` (public consultation, a charter-timed stage) → `vote`
(the council's roll-call ballot) → `counting` (closed, awaiting the count) → `decided`
(adopted or rejected). Stage changes are driven by the proposal's workflow at the pinned
charter's deadlines; each carries its cause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import VoteAfterClose, VoteNotOpen, WrongStage

STAGES = ("submitted", "consultation", "vote", "counting", "decided")


class Proposal(Aggregate):
    """A citizen's proposal put to the metropolitan council under a pinned charter version."""

    class Submitted(Aggregate.Created):
        """A citizen submitted a proposal to a metropolis; the charter version in force
        was pinned for its whole deliberation."""

        metropolis_id: UUID
        charter_id: UUID
        charter_version: int
        author_ref: str
        title: str
        summary: str

    class ConsultationOpened(Aggregate.Event):
        """The public consultation opened, until `closes_at` (rule `stage.consultation`
        of the pinned charter version)."""

        opened_at: datetime
        closes_at: datetime
        charter_version: int
        rule: str

    class VoteOpened(Aggregate.Event):
        """The consultation's deadline was reached and the council's roll-call ballot
        opened, until `closes_at` (rule `stage.vote`)."""

        ballot_id: UUID
        opened_at: datetime
        closes_at: datetime
        cause: str
        charter_version: int
        rule: str

    class BallotClosed(Aggregate.Event):
        """The ballot closed; this event's log position is the cut-off of the tally."""

        ballot_id: UUID
        closed_at: datetime
        cause: str

    class Decided(Aggregate.Event):
        """The council's decision on the proposal: the tally of the votes recorded before
        the close position, the quorum check and the majority applied, citing the pinned
        charter version and its rule ids."""

        outcome: str
        cause: str
        yes: int
        no: int
        abstain: int
        members: int
        quorum_met: bool
        cutoff_position: int
        charter_version: int
        rules_cited: list[str]

    @event(Submitted)
    def __init__(
        self,
        metropolis_id: UUID,
        charter_id: UUID,
        charter_version: int,
        author_ref: str,
        title: str,
        summary: str,
    ) -> None:
        self.metropolis_id = metropolis_id
        self.charter_id = charter_id
        self.charter_version = charter_version
        self.author_ref = author_ref
        self.title = title
        self.summary = summary
        self.stage = "submitted"
        self.stage_closes_at: datetime | None = None
        self.ballot_id: UUID | None = None
        self.outcome: str | None = None

    # -- stage transitions (run by the workflow's activities) ---------------------------

    def require_stage(self, *stages: str) -> None:
        if self.stage not in stages:
            raise WrongStage(
                f"proposal {self.id} is in stage '{self.stage}', expected {' or '.join(stages)}"
            )

    @event(ConsultationOpened)
    def _open_consultation(
        self, opened_at: datetime, closes_at: datetime, charter_version: int, rule: str
    ) -> None:
        self.stage = "consultation"
        self.stage_closes_at = closes_at

    def open_consultation(self, at: datetime, closes_at: datetime) -> None:
        self.require_stage("submitted")
        self._open_consultation(at, closes_at, self.charter_version, "stage.consultation")

    @event(VoteOpened)
    def _open_vote(
        self,
        ballot_id: UUID,
        opened_at: datetime,
        closes_at: datetime,
        cause: str,
        charter_version: int,
        rule: str,
    ) -> None:
        self.stage = "vote"
        self.ballot_id = ballot_id
        self.stage_closes_at = closes_at

    def open_vote(self, at: datetime, closes_at: datetime) -> None:
        self.require_stage("consultation")
        ballot_id = uuid5(self.id, "ballot:1")
        self._open_vote(
            ballot_id, at, closes_at, "deadline_reached", self.charter_version, "stage.vote"
        )

    @event(BallotClosed)
    def _close_ballot(self, ballot_id: UUID, closed_at: datetime, cause: str) -> None:
        self.stage = "counting"
        self.stage_closes_at = None

    def close_ballot(self, at: datetime) -> None:
        self.require_stage("vote")
        assert self.ballot_id is not None
        self._close_ballot(self.ballot_id, at, "deadline_reached")

    @event(Decided)
    def _decide(  # noqa: PLR0913 - the event's fields
        self,
        outcome: str,
        cause: str,
        yes: int,
        no: int,
        abstain: int,
        members: int,
        quorum_met: bool,
        cutoff_position: int,
        charter_version: int,
        rules_cited: list[str],
    ) -> None:
        self.stage = "decided"
        self.outcome = outcome

    def record_decision(self, **decision: Any) -> None:
        self.require_stage("counting")
        self._decide(charter_version=self.charter_version, **decision)

    # -- rules for acts by council members ---------------------------------------------

    def check_ballot_open(self, now: datetime) -> UUID:
        """The ballot id if a vote may be cast at `now`, else the broken rule."""
        if self.stage in ("submitted", "consultation"):
            raise VoteNotOpen(f"the ballot on proposal {self.id} is not open yet")
        if self.stage != "vote" or (self.stage_closes_at and now >= self.stage_closes_at):
            raise VoteAfterClose(f"the ballot on proposal {self.id} is closed")
        assert self.ballot_id is not None
        return self.ballot_id
