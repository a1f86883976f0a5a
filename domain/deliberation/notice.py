"""Notices (avis) of the independent guarantor authority, attached to a process."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

# Notices are opinions. A demand for a public consultation is an act with effect on the process
# (`Proposal.ConsultationRequired`); `consultation_requise` notices recorded before it existed
# still load and read as such, but are no longer issued.
NOTICE_KINDS = ("avis",)


class Notice(Aggregate):
    """A public notice by the guarantor on one process (today: a proposal)."""

    class Issued(Aggregate.Created):
        """The guarantor published a notice on a process: an opinion (`avis`), with its text
        (older notices may be of kind `consultation_requise`, which had no effect)."""

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
