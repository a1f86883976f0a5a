"""Notices (avis) of the independent guarantor authority, attached to a process."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

NOTICE_KINDS = ("avis", "consultation_requise")


class Notice(Aggregate):
    """A public notice by the guarantor on one process (today: a proposal)."""

    class Issued(Aggregate.Created):
        """The guarantor published a notice on a process: an opinion (`avis`) or a demand
        that a public consultation be held (`consultation_requise`), with its text."""

        process_id: UUID
        kind: str
        text: str
        guarantor_ref: str

    @event(Issued)
    def __init__(self, process_id: UUID, kind: str, text: str, guarantor_ref: str) -> None:
        self.process_id = process_id
        self.kind = kind
        self.text = text
        self.guarantor_ref = guarantor_ref
