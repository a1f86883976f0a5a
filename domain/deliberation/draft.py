"""A draft (brouillon): the `drafted` stage of a proposal, before its submission.

The author writes and revises it; nothing of the deliberation runs yet and no charter version is
pinned. Submitting it creates the `Proposal` (stage `submitted`, charter pinned then) in the same
transaction; an abandoned draft stays in the log as abandoned. Only its author (a pseudonym,
D10) acts on it; its title and summary are stored only sealed under the author's data key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DraftClosed, NotTheAuthor
from domain.ports import CLEAR


def _seal_old_text(state: dict[str, Any]) -> None:
    """Drafts written before sealing kept their title and summary in clear."""
    for name in ("title", "summary"):
        state[f"{name}_sealed"] = CLEAR + state.pop(name)


class Draft(Aggregate):
    """A proposal being drafted by its author."""

    class Started(Aggregate.Created):
        """A citizen began drafting a proposal to a metropolis (`charter_amendment`: the
        charter rules it would change, if it amends the charter)."""

        metropolis_id: UUID
        author_ref: str
        title_sealed: str
        summary_sealed: str
        communes: list[str]
        decision_type: str
        charter_amendment: dict[str, Any] | None

        class_version = 2
        upcast_v1_v2 = staticmethod(_seal_old_text)

    class Revised(Aggregate.Event):
        """The author revised the draft (its whole text, as it now reads; title and summary
        sealed)."""

        title_sealed: str
        summary_sealed: str
        communes: list[str]
        decision_type: str
        charter_amendment: dict[str, Any] | None

        class_version = 2
        upcast_v1_v2 = staticmethod(_seal_old_text)

    class Submitted(Aggregate.Event):
        """The author submitted the draft: it became proposal `proposal_id`, after
        `revisions` revisions since it was begun at `drafted_at`."""

        proposal_id: UUID
        drafted_at: datetime
        revisions: int

    class Abandoned(Aggregate.Event):
        """The author abandoned the draft without submitting it."""

    @event(Started)
    def __init__(self, metropolis_id: UUID, author_ref: str, title_sealed: str,
                 summary_sealed: str, communes: list[str], decision_type: str,
                 charter_amendment: dict[str, Any] | None) -> None:
        self.metropolis_id = metropolis_id
        self.author_ref = author_ref
        self.title_sealed = title_sealed
        self.summary_sealed = summary_sealed
        self.communes = communes
        self.decision_type = decision_type
        self.charter_amendment = charter_amendment
        self.stage = "drafted"
        self.revisions = 0
        self.proposal_id: UUID | None = None

    def _check(self, author_ref: str) -> None:
        if author_ref != self.author_ref:
            raise NotTheAuthor(f"only the author of draft {self.id} may act on it")
        if self.stage != "drafted":
            raise DraftClosed(f"draft {self.id} was {self.stage}: it can no longer change")

    def revise(self, author_ref: str, **text: Any) -> None:
        """Revise some of the text (title and summary given sealed); the rest stays as it
        was."""
        self._check(author_ref)
        current = {"title_sealed": self.title_sealed, "summary_sealed": self.summary_sealed,
                   "communes": self.communes,
                   "decision_type": self.decision_type,
                   "charter_amendment": self.charter_amendment}
        self._revise(**{**current, **{k: v for k, v in text.items() if v is not None}})

    @event(Revised)
    def _revise(self, title_sealed: str, summary_sealed: str, communes: list[str],
                decision_type: str, charter_amendment: dict[str, Any] | None) -> None:
        self.title_sealed, self.summary_sealed = title_sealed, summary_sealed
        self.communes = communes
        self.decision_type, self.charter_amendment = decision_type, charter_amendment
        self.revisions += 1

    def submit(self, author_ref: str, proposal_id: UUID) -> None:
        self._check(author_ref)
        self._submit(proposal_id, self.created_on, self.revisions)

    @event(Submitted)
    def _submit(self, proposal_id: UUID, drafted_at: datetime, revisions: int) -> None:
        self.stage = "submitted"
        self.proposal_id = proposal_id

    def abandon(self, author_ref: str) -> None:
        self._check(author_ref)
        self._abandon()

    @event(Abandoned)
    def _abandon(self) -> None:
        self.stage = "abandoned"
