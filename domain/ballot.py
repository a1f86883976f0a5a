"""Roll-call ballots: each member's vote is its own aggregate, and the decision rule.

A vote's id is `uuid5(ballot id, voter ref)` (D3), so the event store itself refuses a second
vote by the same member on the same ballot (an optimistic-concurrency conflict, not a race).
A ballot's cut-off is the global log position of its close event: the tally counts only the
votes recorded before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.charter import CharterRules

CHOICES = ("for", "against", "abstain")


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


@dataclass
class Tally:
    """Votes counted on a ballot."""

    yes: int = 0
    no: int = 0
    abstain: int = 0
    voters: set[str] = field(default_factory=set)

    def add(self, voter_ref: str, choice: str) -> None:
        if voter_ref in self.voters:  # the store forbids it; a recount must not double-count
            return
        self.voters.add(voter_ref)
        if choice == "for":
            self.yes += 1
        elif choice == "against":
            self.no += 1
        else:
            self.abstain += 1

    @property
    def participants(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Outcome:
    """What the council decided and why, with the rules cited."""

    adopted: bool
    cause: str
    quorum_met: bool
    rules_cited: tuple[str, ...]


def decide(tally: Tally, members: int, rules: CharterRules) -> Outcome:
    """Apply the pinned charter's quorum and majority to a closed ballot's tally.

    Causes: `quorum_not_met`, `tie` (simple majority, as many for as against),
    `majority_carried`, `majority_not_reached`.
    """
    majority_rule = f"majority.{rules.majority}"
    quorum_met = tally.participants * 100 >= rules.quorum_percent * members and members > 0
    if not quorum_met:
        return Outcome(False, "quorum_not_met", False, ("quorum",))
    if rules.majority == "simple":
        if tally.yes == tally.no:
            return Outcome(False, "tie", True, ("quorum", majority_rule))
        carried = tally.yes > tally.no
    elif rules.majority == "absolute":
        carried = tally.yes * 2 > tally.participants
    else:  # two_thirds_of_members
        carried = tally.yes * 3 >= members * 2
    cause = "majority_carried" if carried else "majority_not_reached"
    return Outcome(carried, cause, True, ("quorum", majority_rule))
