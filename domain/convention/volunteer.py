"""Volunteers of a citizens' convention (D3: each its own aggregate, written straight to the
store, never through Temporal).

`Volunteer`'s id is `uuid5(convention id, "volunteer:<ref>")`, so the store itself refuses a
second registration by the same person. `ref` is the person's pseudonym for this convention
(the API derives it from the identity token with the convention's id mixed in, so a
volunteer's pool entry does not link to what they sign or vote elsewhere).
- `Registered`: the convention, the volunteer's pseudonym, their category values and their
  contact details, both sealed under the person's data key (D10): erased, the person is left
  out of a pool not yet committed; once committed, the pool publishes pseudonym + category
  values only, never a contact.
- `Withdrawn`: the volunteer withdrew before the pool closed. Each repeats the convention and
  the pseudonym, so the pool is read from these events alone.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


def volunteer_id(convention_id: UUID, ref: str) -> UUID:
    return uuid5(convention_id, f"volunteer:{ref}")


class Volunteer(Aggregate):
    """One person's registration in one convention's pool."""

    class Registered(Aggregate.Created):
        convention_id: UUID
        ref: str
        values_sealed: str
        contact_sealed: str
        at: datetime

    class Withdrawn(Aggregate.Event):
        convention_id: UUID
        ref: str
        at: datetime

    @staticmethod
    def create_id(convention_id: UUID, ref: str) -> UUID:
        return volunteer_id(convention_id, ref)

    @event(Registered)
    def __init__(self, convention_id: UUID, ref: str, values_sealed: str, contact_sealed: str,
                 at: datetime) -> None:
        self.convention_id = convention_id
        self.ref = ref
        self.values_sealed = values_sealed
        self.contact_sealed = contact_sealed
        self.registered_at = at
        self.withdrawn = False

    def withdraw(self, at: datetime) -> None:
        self._withdraw(convention_id=self.convention_id, ref=self.ref, at=at)

    @event(Withdrawn)
    def _withdraw(self, convention_id: UUID, ref: str, at: datetime) -> None:
        self.withdrawn = True
