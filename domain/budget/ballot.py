"""Ballots of a participatory budget (D3: each its own aggregate, written straight to the
store through the group-commit writer, never through Temporal).

`BudgetBallot`'s id is `uuid5(cycle id, "ballot:<district>:<voter ref>")`, so the store
itself refuses a second ballot by the same voter in the same cycle and district.
- `Cast`: the cycle, the district, the voter's pseudonym (D10) and the choices: (project id,
  points) pairs, one point per project on approval and knapsack ballots.
- `Replaced`: a new ballot by the same voter (where the cycle's rules allow it, until the
  close): the last one stored before the close is the one counted. Each repeats the cycle,
  district and voter, so a count needs no other event.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


def ballot_id(cycle_id: UUID, district: str, voter_ref: str) -> UUID:
    return uuid5(cycle_id, f"ballot:{district}:{voter_ref}")


class BudgetBallot(Aggregate):
    """One voter's ballot in one district of one cycle."""

    class Cast(Aggregate.Created):
        cycle_id: UUID
        district: str
        voter_ref: str
        choices: list[list]  # [[project id, points], ...]

    class Replaced(Aggregate.Event):
        cycle_id: UUID
        district: str
        voter_ref: str
        choices: list[list]

    @staticmethod
    def create_id(cycle_id: UUID, district: str, voter_ref: str) -> UUID:
        return ballot_id(cycle_id, district, voter_ref)

    @event(Cast)
    def __init__(self, cycle_id: UUID, district: str, voter_ref: str,
                 choices: list[list]) -> None:
        self.cycle_id = cycle_id
        self.district = district
        self.voter_ref = voter_ref
        self.choices = choices

    def replace(self, choices: list[list]) -> None:
        self._replace(cycle_id=self.cycle_id, district=self.district,
                      voter_ref=self.voter_ref, choices=choices)

    @event(Replaced)
    def _replace(self, cycle_id: UUID, district: str, voter_ref: str,
                 choices: list[list]) -> None:
        self.choices = choices
