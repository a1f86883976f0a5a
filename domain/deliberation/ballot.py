"""Roll-call ballots: each member's vote is its own aggregate (the decision rule is in
`domain.rules`).

A vote's id is `uuid5(ballot id, voter ref)` (D3), so the event store itself refuses a second
vote by the same member on the same ballot (an optimistic-concurrency conflict, not a race).
A ballot's cut-off is the global log position of its close event: the tally counts only the
votes recorded before it.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event



class Vote(Aggregate):
    """One council member's roll-call vote on one ballot."""

    class Cast(Aggregate.Created):
        """A council member cast a public roll-call vote (`for`, `against` or `abstain`)
        on the ballot of a proposal."""

        ballot_id: UUID
        proposal_id: UUID
        voter_ref: str
        choice: str

    @staticmethod
    def create_id(ballot_id: UUID, voter_ref: str) -> UUID:
        return uuid5(ballot_id, voter_ref)

    @event(Cast)
    def __init__(self, ballot_id: UUID, proposal_id: UUID, voter_ref: str, choice: str) -> None:
        self.ballot_id = ballot_id
        self.proposal_id = proposal_id
        self.voter_ref = voter_ref
        self.choice = choice
