"""Citizens' participation in a public consultation: supports and comments.

High-volume acts (D3): each is its own aggregate written straight to the event store, never a
workflow signal. A support's id is `uuid5(proposal id, "support:" + citizen ref)`, so the store
itself refuses a second support by the same citizen. The citizen ref is the citizen's pseudonym
in the metropolis (D10), and a comment's text is stored only sealed under the citizen's key.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ports import CLEAR


class Support(Aggregate):
    """One citizen's support for a proposal under consultation."""

    class Given(Aggregate.Created):
        """A citizen supported the proposal during its public consultation."""

        proposal_id: UUID
        citizen_ref: str

    @staticmethod
    def create_id(proposal_id: UUID, citizen_ref: str) -> UUID:
        return uuid5(proposal_id, f"support:{citizen_ref}")

    @event(Given)
    def __init__(self, proposal_id: UUID, citizen_ref: str) -> None:
        self.proposal_id = proposal_id
        self.citizen_ref = citizen_ref


class Comment(Aggregate):
    """A citizen's public comment on a proposal under consultation."""

    class Posted(Aggregate.Created):
        """A citizen posted a public comment during the consultation (its text sealed under
        the citizen's data key)."""

        proposal_id: UUID
        citizen_ref: str
        text_sealed: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Comments posted before sealing kept their text in clear."""
            state["text_sealed"] = CLEAR + state.pop("text")

    @event(Posted)
    def __init__(self, proposal_id: UUID, citizen_ref: str, text_sealed: str) -> None:
        self.proposal_id = proposal_id
        self.citizen_ref = citizen_ref
        self.text_sealed = text_sealed
