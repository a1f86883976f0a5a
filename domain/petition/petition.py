"""A petition (right of interpellation) and its stages, from drafting to its closing.

`PetitionStage` is the one table of which stage may follow which. Every event of the petition
cites the charter version pinned at drafting (`charter_version`, with the kind's rules copied
into `Drafted.rules`), so an amendment adopted meanwhile never changes a petition running.

What each event records:
- `Drafted`: the metropolis, the kind and its rules, the commune (kinds of commune scope), the
  author's pseudonym, the title and text sealed under the author's data key (D10).
- `SponsorJoined` / `SponsorLeft`: a citizen's pseudonym sponsoring (or no longer) the
  petition while it gathers sponsors; `SponsorsGathered`: the kind's number was reached.
- `AdmissibilityOpened` (its deadline), `AdmissibilityRuled` (a clerk's reasoned ruling
  within the competences, or `cause: deadline` when silence made it admissible).
- `ReferredToGuarantor`: the author referred the petition (e.g. an inadmissibility) to the
  guarantor, the text sealed.
- `CollectionOpened`: the signature period, the threshold in signatures and the figure it was
  computed from (residents or electors of the scope, and where the figure comes from).
- `ThresholdReached`: the log position of the signature that brought the count to the
  threshold, the count then, and when it was recorded as reached (`at`: the obligation's
  deadline runs from it; None in events stored before it was recorded); `ObligationOpened`: the obligation and its deadline.
- `CollectionClosed`: the end of the signature period (its log position is the cut-off: a
  signature stored after it is never counted).
- `Answered`: the council's reasoned answer, recorded by a clerk (late when after the
  deadline); `AgendaProposalSubmitted`: the proposal put on the council's agenda in the
  signers' name; `ConsultationReported`: the guarantor's report of the public consultation.
- `ObligationBreached`: the deadline passed with no answer (notified to the guarantor).
- `Withdrawn`: the author withdrew it before the threshold; `Closed`: the outcome.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import WrongStage
from domain.rules.petition import PetitionKind


class PetitionStage(StrEnum):
    DRAFTED = "drafted"  # gathering sponsors
    ADMISSIBILITY = "admissibility"
    COLLECTING = "collecting"  # signatures are collected until the period ends
    OBLIGATION = "obligation"  # threshold reached: the council owes its obligation
    CLOSED = "closed"  # answered, failed, lapsed, inadmissible, withdrawn (see `outcome`)


TRANSITIONS: dict[PetitionStage, frozenset[PetitionStage]] = {
    PetitionStage.DRAFTED: frozenset({PetitionStage.ADMISSIBILITY, PetitionStage.CLOSED}),
    PetitionStage.ADMISSIBILITY: frozenset({PetitionStage.COLLECTING, PetitionStage.CLOSED}),
    PetitionStage.COLLECTING: frozenset({PetitionStage.OBLIGATION, PetitionStage.CLOSED}),
    PetitionStage.OBLIGATION: frozenset({PetitionStage.CLOSED}),
    PetitionStage.CLOSED: frozenset(),
}

OUTCOMES = ("answered", "failed", "lapsed", "inadmissible", "withdrawn")


class Petition(Aggregate):
    """One petition of a kind the pinned charter version offers."""

    class Drafted(Aggregate.Created):
        metropolis_id: UUID
        charter_version: int
        kind: str
        rules: dict[str, Any]
        commune: str | None
        author_ref: str
        title_sealed: str
        text_sealed: str

    class SponsorJoined(Aggregate.Event):
        sponsor_ref: str

    class SponsorLeft(Aggregate.Event):
        sponsor_ref: str

    class SponsorsGathered(Aggregate.Event):
        sponsors: int

    class AdmissibilityOpened(Aggregate.Event):
        at: datetime
        closes_at: datetime

    class AdmissibilityRuled(Aggregate.Event):
        admissible: bool
        clerk_ref: str | None
        competence: str | None
        reason: str
        cause: str  # clerk_ruling | deadline

    class ReferredToGuarantor(Aggregate.Event):
        citizen_ref: str
        text_sealed: str

    class CollectionOpened(Aggregate.Event):
        at: datetime
        closes_at: datetime
        threshold: int
        figure: int
        figure_source: str

    class ThresholdReached(Aggregate.Event):
        position: int
        count: int
        at: datetime

    class ObligationOpened(Aggregate.Event):
        obligation: str
        at: datetime
        due_at: datetime

    class CollectionClosed(Aggregate.Event):
        at: datetime

    class Answered(Aggregate.Event):
        clerk_ref: str
        text: str
        at: datetime
        late: bool

    class AgendaProposalSubmitted(Aggregate.Event):
        proposal_id: UUID
        at: datetime

    class ConsultationReported(Aggregate.Event):
        guarantor_ref: str
        text: str
        at: datetime
        late: bool

    class ObligationBreached(Aggregate.Event):
        due_at: datetime
        at: datetime

    class Withdrawn(Aggregate.Event):
        author_ref: str

    class Closed(Aggregate.Event):
        outcome: str
        count: int
        at: datetime

    @event(Drafted)
    def __init__(self, metropolis_id: UUID, charter_version: int, kind: str,
                 rules: dict[str, Any], commune: str | None, author_ref: str,
                 title_sealed: str, text_sealed: str) -> None:
        self.metropolis_id = metropolis_id
        self.charter_version = charter_version
        self.kind = kind
        self.rules = rules
        self.commune = commune
        self.author_ref = author_ref
        self.title_sealed = title_sealed
        self.text_sealed = text_sealed
        self.stage = PetitionStage.DRAFTED
        self.sponsors: list[str] = [author_ref]
        self.admissibility_closes_at: datetime | None = None
        self.opens_at: datetime | None = None
        self.closes_at: datetime | None = None
        self.threshold: int | None = None
        self.threshold_position: int | None = None
        self.collection_closed = False
        self.obligation: str | None = None
        self.due_at: datetime | None = None
        self.fulfilled = False
        self.breached = False
        self.outcome: str | None = None

    @property
    def kind_rules(self) -> PetitionKind:
        return PetitionKind.from_dict(self.rules)

    def _move(self, to: PetitionStage) -> None:
        if to not in TRANSITIONS[self.stage]:
            raise WrongStage(f"a petition in stage '{self.stage}' cannot move to '{to}'")
        self.stage = to

    def require(self, *stages: PetitionStage) -> None:
        if self.stage not in stages:
            raise WrongStage(f"petition {self.id} is in stage '{self.stage}', not "
                             f"{' or '.join(stages)}")

    def is_collecting(self, now: datetime) -> bool:
        """Signatures are taken: the collection is open and its period has not ended."""
        return (self.stage in (PetitionStage.COLLECTING, PetitionStage.OBLIGATION)
                and not self.collection_closed and self.closes_at is not None
                and self.opens_at is not None and self.opens_at <= now < self.closes_at)

    @event(SponsorJoined)
    def join(self, sponsor_ref: str) -> None:
        self.sponsors.append(sponsor_ref)

    @event(SponsorLeft)
    def leave(self, sponsor_ref: str) -> None:
        self.sponsors.remove(sponsor_ref)

    @event(SponsorsGathered)
    def sponsors_gathered(self, sponsors: int) -> None:
        self.gathered = True

    @event(AdmissibilityOpened)
    def open_admissibility(self, at: datetime, closes_at: datetime) -> None:
        self._move(PetitionStage.ADMISSIBILITY)
        self.admissibility_closes_at = closes_at

    @event(AdmissibilityRuled)
    def rule_admissibility(self, admissible: bool, clerk_ref: str | None,
                           competence: str | None, reason: str, cause: str) -> None:
        self.admissible = admissible
        self.admissibility_cause = cause
        if not admissible:
            self._move(PetitionStage.CLOSED)
            self.outcome = "inadmissible"

    @event(ReferredToGuarantor)
    def refer(self, citizen_ref: str, text_sealed: str) -> None:
        pass

    @event(CollectionOpened)
    def open_collection(self, at: datetime, closes_at: datetime, threshold: int,
                        figure: int, figure_source: str) -> None:
        self._move(PetitionStage.COLLECTING)
        self.opens_at = at
        self.closes_at = closes_at
        self.threshold = threshold

    @event(ThresholdReached)
    def reach_threshold(self, position: int, count: int, at: datetime | None = None) -> None:
        self.threshold_position = position

    @event(ObligationOpened)
    def open_obligation(self, obligation: str, at: datetime, due_at: datetime) -> None:
        self._move(PetitionStage.OBLIGATION)
        self.obligation = obligation
        self.due_at = due_at

    @event(CollectionClosed)
    def close_collection(self, at: datetime) -> None:
        self.collection_closed = True

    @event(Answered)
    def answer(self, clerk_ref: str, text: str, at: datetime, late: bool) -> None:
        self.fulfilled = True

    @event(AgendaProposalSubmitted)
    def put_on_agenda(self, proposal_id: UUID, at: datetime) -> None:
        self.fulfilled = True
        self.agenda_proposal_id = proposal_id

    @event(ConsultationReported)
    def report_consultation(self, guarantor_ref: str, text: str, at: datetime,
                            late: bool) -> None:
        self.fulfilled = True

    @event(ObligationBreached)
    def breach(self, due_at: datetime, at: datetime) -> None:
        self.breached = True

    @event(Withdrawn)
    def withdraw(self, author_ref: str) -> None:
        self._move(PetitionStage.CLOSED)
        self.outcome = "withdrawn"

    @event(Closed)
    def close(self, outcome: str, count: int, at: datetime) -> None:
        if self.stage != PetitionStage.CLOSED:
            self._move(PetitionStage.CLOSED)
        self.outcome = outcome
        self.closed = True
