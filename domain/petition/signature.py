"""Signatures (D3: each its own aggregate, written straight to the store, never through
Temporal), the per-signer allowance of a period, paper batches and the electorate figures.

- `Signature` (id `uuid5(petition id, "signature:" + signer ref)`, so the store itself refuses
  a second signature by the same person): `Signed` records the petition, the signer's
  pseudonym (D10), the commune of residence and capacity (`resident` or `elector`) vouched for
  by the identity provider, the channel (`online` or `paper`) and, on paper, the batch;
  `Withdrawn` (before the threshold) and `Renewed` (signed again after a withdrawal), each
  repeating the petition, the signer and the commune, so a count needs no other event.
- `SigningAllowance` (id from the metropolis, kind, authority, period and signer): which
  petitions of a limited kind the signer signed in one calendar period (`Used`, `Released`).
- `PaperBatch`: a clerk entered paper signatures (`Entered`: the petition, how many sheets,
  where they come from and the SHA-256 of the scanned sheets; the signatures follow, each a
  `Signature` naming the batch).
- `Electorate`: a clerk recorded the registered electors per commune, from a registry
  extract (`Recorded`: the figures and the extract's reference).
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


def signature_id(petition_id: UUID, signer_ref: str) -> UUID:
    return uuid5(petition_id, f"signature:{signer_ref}")


class Signature(Aggregate):
    """One person's signature of one petition."""

    class Signed(Aggregate.Created):
        petition_id: UUID
        signer_ref: str
        commune: str
        capacity: str
        channel: str
        batch_id: UUID | None

    class Withdrawn(Aggregate.Event):
        petition_id: UUID
        signer_ref: str
        commune: str

    class Renewed(Aggregate.Event):
        petition_id: UUID
        signer_ref: str
        commune: str
        capacity: str
        channel: str
        batch_id: UUID | None

    @staticmethod
    def create_id(petition_id: UUID, signer_ref: str) -> UUID:
        return signature_id(petition_id, signer_ref)

    @event(Signed)
    def __init__(self, petition_id: UUID, signer_ref: str, commune: str, capacity: str,
                 channel: str, batch_id: UUID | None) -> None:
        self.petition_id = petition_id
        self.signer_ref = signer_ref
        self.commune = commune
        self.capacity = capacity
        self.channel = channel
        self.batch_id = batch_id
        self.standing = True

    def withdraw(self) -> None:
        self._withdraw(petition_id=self.petition_id, signer_ref=self.signer_ref,
                       commune=self.commune)

    @event(Withdrawn)
    def _withdraw(self, petition_id: UUID, signer_ref: str, commune: str) -> None:
        self.standing = False

    def renew(self, commune: str, capacity: str, channel: str, batch_id: UUID | None) -> None:
        self._renew(petition_id=self.petition_id, signer_ref=self.signer_ref, commune=commune,
                    capacity=capacity, channel=channel, batch_id=batch_id)

    @event(Renewed)
    def _renew(self, petition_id: UUID, signer_ref: str, commune: str, capacity: str,
               channel: str, batch_id: UUID | None) -> None:
        self.commune = commune
        self.capacity = capacity
        self.channel = channel
        self.batch_id = batch_id
        self.standing = True


class SigningAllowance(Aggregate):
    """The petitions of one limited kind a signer signed in one period and authority."""

    class Used(Aggregate.Created):
        metropolis_id: UUID
        kind: str
        authority: str
        period: str
        signer_ref: str
        petition_id: UUID

    class UsedAgain(Aggregate.Event):
        petition_id: UUID

    class Released(Aggregate.Event):
        petition_id: UUID

    @staticmethod
    def create_id(metropolis_id: UUID, kind: str, authority: str, period: str,
                  signer_ref: str) -> UUID:
        return uuid5(metropolis_id, f"allowance:{kind}:{authority}:{period}:{signer_ref}")

    @event(Used)
    def __init__(self, metropolis_id: UUID, kind: str, authority: str, period: str,
                 signer_ref: str, petition_id: UUID) -> None:
        self.petitions = [petition_id]

    @event(UsedAgain)
    def use(self, petition_id: UUID) -> None:
        self.petitions.append(petition_id)

    @event(Released)
    def release(self, petition_id: UUID) -> None:
        self.petitions.remove(petition_id)


class PaperBatch(Aggregate):
    """A batch of paper signatures a clerk entered."""

    class Entered(Aggregate.Created):
        petition_id: UUID
        clerk_ref: str
        sheets: int
        provenance: str
        digest: str

    @event(Entered)
    def __init__(self, petition_id: UUID, clerk_ref: str, sheets: int, provenance: str,
                 digest: str) -> None:
        self.petition_id = petition_id


class Electorate(Aggregate):
    """The registered electors per commune of a metropolis, as last recorded."""

    class Recorded(Aggregate.Created):
        metropolis_id: UUID
        figures: dict[str, int]
        source: str
        clerk_ref: str

    class Updated(Aggregate.Event):
        figures: dict[str, int]
        source: str
        clerk_ref: str

    @staticmethod
    def create_id(metropolis_id: UUID) -> UUID:
        return uuid5(metropolis_id, "electorate")

    @event(Recorded)
    def __init__(self, metropolis_id: UUID, figures: dict[str, int], source: str,
                 clerk_ref: str) -> None:
        self.figures = dict(figures)
        self.source = source

    @event(Updated)
    def update(self, figures: dict[str, int], source: str, clerk_ref: str) -> None:
        self.figures = dict(figures)
        self.source = source
