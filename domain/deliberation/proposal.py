"""A proposal (proposition) and its deliberation stages.

Stages: `submitted` → (when the charter asks for it) `admissibility`, a clerk's review
against the metropolis' competences → `admissible` or `inadmissible` (final; the author may
refer it to the guarantor) → `consultation` (public consultation, a charter-timed stage) → (when the charter asks for
it) `deliberation`, where councillors table amendments and vote on each → `vote`
(the council's roll-call ballot) → `counting` (closed, awaiting the count) → `decided`
(adopted or rejected). When the pinned charter grants mayors a veto and the proposal concerns
communes, an adoption opens a `veto_window`: a mayor of a concerned commune may file a reasoned
veto, the council may override it by the charter's override majority before the window ends,
else the veto is sustained; the window's close records the final outcome (stage `decided`).
After the final adoption, when the charter schedules evaluations: `implementation` (a clerk
records milestones) → `evaluation` steps at the charter's times after adoption (a citizens'
panel scores indicators; the guarantor may publish notices) → `closed`.
The author may withdraw the proposal before the vote opens (stage `withdrawn`).
Until the vote opens, the guarantor may require a public consultation: when the charter's has
already been held, another (stage `consultation` again) opens before the vote. A proposal may
declare a decision type of its charter (e.g. `budget`), decided by that type's majority. Only
the members of the evaluation panel the guarantor appointed score the evaluation steps.
Stage changes are driven by the proposal's workflow at the pinned charter's deadlines; each
carries its cause. Which stage may follow which is the one table `stages.TRANSITIONS`: the
aggregate refuses any other move.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.deliberation.stages import BEFORE_THE_VOTE, Stage, check_transition, preceding
from domain.errors import (
    AlreadyScored,
    AmendmentHasNoDecisionType,
    ConsultationAlreadyRequired,
    ConsultationRequiredTooLate,
    ConsultationStillRequired,
    InvalidPanel,
    NotOnEvaluationPanel,
    DeliberationNotOpen,
    UnknownAmendment,
    NotACompetence,
    NotInadmissible,
    ReasonRequired,
    CommuneNotConcerned,
    CommuneWithoutVetoRight,
    EvaluationNotOpen,
    InvalidScores,
    NotInImplementation,
    NotTheAuthor,
    ProposalWithdrawn,
    VetoAlreadyFiled,
    VetoOutsideWindow,
    VoteAfterClose,
    VoteNotOpen,
    WithdrawalTooLate,
    WrongStage,
)
from domain.ports import CLEAR


def override_ballot_id(proposal_id: UUID) -> UUID:
    """The id of the council's ballot on overriding a veto of the proposal."""
    return uuid5(proposal_id, "ballot:override")


def council_ballot_id(proposal_id: UUID) -> UUID:
    """The id of the council's roll-call ballot on the proposal."""
    return uuid5(proposal_id, "ballot:1")


def amendment_ballot_id(proposal_id: UUID, number: int) -> UUID:
    """The id of the ballot on the proposal's amendment `number`."""
    return uuid5(proposal_id, f"amendment:{number}")


class Proposal(Aggregate):
    """A citizen's proposal put to the metropolitan council under a pinned charter version."""

    class Submitted(Aggregate.Created):
        """A citizen submitted a proposal to a metropolis, naming the communes it concerns;
        the charter version in force was pinned for its whole deliberation. Its title and
        summary are sealed under the author's data key (D10)."""

        metropolis_id: UUID
        charter_id: UUID
        charter_version: int
        author_ref: str
        title_sealed: str
        summary_sealed: str
        communes: list[str]

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Proposals submitted before communes were named concern none."""
            state["communes"] = []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Proposals submitted before sealing kept their title and summary in clear."""
            for name in ("title", "summary"):
                state[f"{name}_sealed"] = CLEAR + state.pop(name)

    class CharterAmendmentProposed(Aggregate.Event):
        """The proposal amends the charter: if adopted by the charter's amendment majority,
        these rules become the next charter version (processes already running keep theirs)."""

        rules: dict[str, Any]

    class Withdrawn(Aggregate.Event):
        """The author withdrew the proposal before the vote opened."""

        cause: str

    class VetoWindowOpened(Aggregate.Event):
        """The council adopted the proposal; mayors of the concerned communes may veto it
        until `closes_at` (rule `veto.window` of the pinned charter)."""

        opened_at: datetime
        closes_at: datetime
        charter_version: int
        rule: str
        cause: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before transitions named their cause: the one they always had."""
            state["cause"] = "adopted"

    class VetoFiled(Aggregate.Event):
        """A mayor of a concerned commune filed a reasoned veto within the window; the
        council's override ballot opened until the window closes (rule `veto.right`)."""

        mayor_ref: str
        commune: str
        reason: str
        override_ballot_id: UUID
        charter_version: int
        rule: str

    class VetoWindowClosed(Aggregate.Event):
        """The veto window closed with the final outcome: `no_veto`, `veto_sustained`, or
        `override_carried` (the override ballot's tally before `cutoff_position`, applying
        the charter's override majority)."""

        outcome: str
        cause: str
        yes: int
        no: int
        abstain: int
        members: int
        cutoff_position: int
        charter_version: int
        rules_cited: list[str]

    class ConsultationOpened(Aggregate.Event):
        """The public consultation opened, until `closes_at` (rule `stage.consultation`
        of the pinned charter version)."""

        opened_at: datetime
        closes_at: datetime
        charter_version: int
        rule: str
        cause: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before transitions named their cause: told by the rule it cited
            (whether it followed an admissibility review is not in the event)."""
            state["cause"] = ("guarantor_required" if state.get("rule") ==
                              "guarantor.consultation" else "submitted")

    class VoteOpened(Aggregate.Event):
        """The consultation's deadline was reached and the council's roll-call ballot
        opened, until `closes_at` (rule `stage.vote`)."""

        ballot_id: UUID
        opened_at: datetime
        closes_at: datetime
        cause: str
        charter_version: int
        rule: str

    class BallotClosed(Aggregate.Event):
        """The ballot closed; this event's log position is the cut-off of the tally."""

        ballot_id: UUID
        closed_at: datetime
        cause: str

    class Decided(Aggregate.Event):
        """The council's decision on the proposal: the tally of the votes recorded before
        the close position, the quorum check and the majority applied, citing the pinned
        charter version and its rule ids."""

        outcome: str
        cause: str
        yes: int
        no: int
        abstain: int
        members: int
        quorum_met: bool
        cutoff_position: int
        charter_version: int
        rules_cited: list[str]

    @event(Submitted)
    def __init__(
        self,
        metropolis_id: UUID,
        charter_id: UUID,
        charter_version: int,
        author_ref: str,
        title_sealed: str,
        summary_sealed: str,
        communes: list[str],
    ) -> None:
        self.metropolis_id = metropolis_id
        self.communes = communes
        self.veto: dict[str, str] | None = None
        self.override_ballot_id: UUID | None = None
        self.override_closed = False
        self.amends_charter_with: dict[str, Any] | None = None
        self.amendments: dict[int, dict[str, Any]] = {}
        self.decision_type = "ordinary"
        self.required_consultation_seconds: int | None = None
        self.evaluation_panel: frozenset[str] = frozenset()
        self.charter_id = charter_id
        self.charter_version = charter_version
        self.author_ref = author_ref
        self.title_sealed = title_sealed
        self.summary_sealed = summary_sealed
        self.stage = Stage.SUBMITTED
        self.stage_closes_at: datetime | None = None
        self.ballot_id: UUID | None = None
        self.outcome: str | None = None

    # -- stage transitions (run by the workflow's activities) ---------------------------

    def require_stage(self, *stages: Stage) -> None:
        if self.stage == Stage.WITHDRAWN and Stage.WITHDRAWN not in stages:
            raise ProposalWithdrawn(f"proposal {self.id} was withdrawn by its author")
        if self.stage not in stages:
            raise WrongStage(
                f"proposal {self.id} is in stage '{self.stage}', expected {' or '.join(stages)}"
            )

    def _advance(self, to: Stage, *among: Stage) -> None:
        """Refuse the move to `to` unless the transition table lists it from the current
        stage (and, for a command narrower than the table, the current stage is `among`)."""
        self.require_stage(*(among or preceding(to)))
        check_transition(self.stage, to)

    @event(ConsultationOpened)
    def _open_consultation(
        self, opened_at: datetime, closes_at: datetime, charter_version: int, rule: str, cause: str
    ) -> None:
        self.stage = Stage.CONSULTATION
        self.stage_closes_at = closes_at
        self.required_consultation_seconds = None  # any consultation opened meets it

    def open_consultation(self, at: datetime, closes_at: datetime) -> None:
        """The charter's consultation (rule `guarantor.consultation` when the guarantor
        required one beforehand: the caller then gives it at least the required length)."""
        self._advance(Stage.CONSULTATION, Stage.SUBMITTED, Stage.ADMISSIBLE)
        rule = ("guarantor.consultation" if self.required_consultation_seconds is not None
                else "stage.consultation")
        cause = ("guarantor_required" if self.required_consultation_seconds is not None
                 else "admissible" if self.stage == Stage.ADMISSIBLE else "submitted")
        self._open_consultation(at, closes_at, self.charter_version, rule, cause)

    def open_required_consultation(self, at: datetime, closes_at: datetime) -> None:
        """The consultation the guarantor required, held before the vote."""
        self._advance(Stage.CONSULTATION, Stage.CONSULTATION, Stage.DELIBERATED)
        if self.required_consultation_seconds is None:
            raise WrongStage(f"no consultation on proposal {self.id} is required")
        self._open_consultation(at, closes_at, self.charter_version, "guarantor.consultation",
                                "guarantor_required")

    @event(VoteOpened)
    def _open_vote(
        self,
        ballot_id: UUID,
        opened_at: datetime,
        closes_at: datetime,
        cause: str,
        charter_version: int,
        rule: str,
    ) -> None:
        self.stage = Stage.VOTE
        self.ballot_id = ballot_id
        self.stage_closes_at = closes_at

    def open_vote(self, at: datetime, closes_at: datetime) -> None:
        self._advance(Stage.VOTE)
        if self.required_consultation_seconds is not None:
            raise ConsultationStillRequired(
                f"the guarantor required a public consultation on proposal {self.id}: the vote "
                "opens after it")
        ballot_id = council_ballot_id(self.id)
        self._open_vote(
            ballot_id, at, closes_at, "deadline_reached", self.charter_version, "stage.vote"
        )

    @event(BallotClosed)
    def _close_ballot(self, ballot_id: UUID, closed_at: datetime, cause: str) -> None:
        if ballot_id == self.override_ballot_id:
            self.override_closed = True  # the window's close records the outcome next
            return
        self.stage = Stage.COUNTING
        self.stage_closes_at = None

    def close_override_ballot(self, at: datetime, cause: str = "deadline_reached") -> None:
        """Close the override ballot at the window's end, or earlier when the override is
        already carried whatever the votes to come (cause `override_carried`)."""
        self.require_stage(Stage.VETO_WINDOW)
        assert self.override_ballot_id is not None
        self._close_ballot(self.override_ballot_id, at, cause)

    def close_ballot(self, at: datetime) -> None:
        self._advance(Stage.COUNTING)
        assert self.ballot_id is not None
        self._close_ballot(self.ballot_id, at, "deadline_reached")

    @event(Decided)
    def _decide(  # noqa: PLR0913 - the event's fields
        self,
        outcome: str,
        cause: str,
        yes: int,
        no: int,
        abstain: int,
        members: int,
        quorum_met: bool,
        cutoff_position: int,
        charter_version: int,
        rules_cited: list[str],
    ) -> None:
        self.stage = Stage.DECIDED
        self.outcome = outcome

    def record_decision(self, **decision: Any) -> None:
        self._advance(Stage.DECIDED, Stage.COUNTING)
        self._decide(charter_version=self.charter_version, **decision)

    @event(CharterAmendmentProposed)
    def propose_charter_amendment(self, rules: dict[str, Any]) -> None:
        self.amends_charter_with = rules

    @event(Withdrawn)
    def _withdraw(self, cause: str) -> None:
        self.stage = Stage.WITHDRAWN
        self.stage_closes_at = None

    def withdraw(self, author_ref: str) -> None:
        """The author withdraws the proposal, at any stage before the vote opens."""
        if author_ref != self.author_ref:
            raise NotTheAuthor(f"only the author of proposal {self.id} may withdraw it")
        if self.stage not in BEFORE_THE_VOTE:
            raise WithdrawalTooLate(
                f"proposal {self.id} is at stage '{self.stage}': withdrawal ends when the "
                "vote opens")
        self._withdraw("author_withdrew")

    @event(VetoWindowOpened)
    def _open_veto_window(self, opened_at: datetime, closes_at: datetime,
                          charter_version: int, rule: str, cause: str) -> None:
        self.stage = Stage.VETO_WINDOW
        self.stage_closes_at = closes_at

    def open_veto_window(self, at: datetime, closes_at: datetime) -> None:
        self._advance(Stage.VETO_WINDOW)
        if self.outcome != "adopted":
            raise WrongStage(f"proposal {self.id} was not adopted: no veto window")
        self._open_veto_window(at, closes_at, self.charter_version, "veto.window", "adopted")

    @event(VetoFiled)
    def _file_veto(self, mayor_ref: str, commune: str, reason: str, override_ballot_id: UUID,
                   charter_version: int, rule: str) -> None:
        self.veto = {"mayor_ref": mayor_ref, "commune": commune, "reason": reason}
        self.override_ballot_id = override_ballot_id

    def file_veto(self, mayor_ref: str, commune: str, reason: str, now: datetime,
                  territories: tuple[str, ...] = ()) -> UUID:
        """A mayor (whose seat the caller checked) vetoes for `commune`, which must be among
        the charter's veto `territories` (all communes when empty); returns the id of the
        council's override ballot."""
        if self.stage != Stage.VETO_WINDOW or (self.stage_closes_at and now >= self.stage_closes_at):
            raise VetoOutsideWindow(f"proposal {self.id} is not within a veto window")
        if commune not in self.communes:
            raise CommuneNotConcerned(
                f"proposal {self.id} does not concern commune {commune}; its mayor has no veto")
        if territories and commune not in territories:
            raise CommuneWithoutVetoRight(
                f"charter v{self.charter_version} grants no veto to commune {commune} "
                f"(veto territories: {', '.join(territories)})")
        if self.veto is not None:
            raise VetoAlreadyFiled(f"a veto on proposal {self.id} is already filed")
        ballot_id = override_ballot_id(self.id)
        self._file_veto(mayor_ref, commune, reason, ballot_id, self.charter_version,
                        "veto.right")
        return ballot_id

    @event(VetoWindowClosed)
    def _close_veto_window(  # noqa: PLR0913 - the event's fields
        self, outcome: str, cause: str, yes: int, no: int, abstain: int, members: int,
        cutoff_position: int, charter_version: int, rules_cited: list[str],
    ) -> None:
        self.stage = Stage.DECIDED
        self.outcome = outcome
        self.stage_closes_at = None

    def close_veto_window(self, **result: Any) -> None:
        self._advance(Stage.DECIDED, Stage.VETO_WINDOW)
        self._close_veto_window(charter_version=self.charter_version, **result)

    # -- admissibility -----------------------------------------------------------------

    class AdmissibilityOpened(Aggregate.Event):
        """The clerk's admissibility review opened, until `closes_at` (rule
        `admissibility.competences` of the pinned charter)."""

        opened_at: datetime
        closes_at: datetime
        charter_version: int
        rule: str
        cause: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before transitions named their cause: the one they always had."""
            state["cause"] = "submitted"

    class AdmissibilityDecided(Aggregate.Event):
        """The proposal was ruled admissible (within `competence`) or inadmissible (with the
        reason), by a clerk or, at the deadline without a ruling, admissible by default."""

        admissible: bool
        competence: str
        reason: str
        clerk_ref: str
        cause: str
        charter_version: int
        rule: str

    class ReferredToGuarantor(Aggregate.Event):
        """The author referred the inadmissibility ruling to the guarantor (the text sealed
        under the author's data key)."""

        author_ref: str
        text_sealed: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Referrals made before sealing kept their text in clear."""
            state["text_sealed"] = CLEAR + state.pop("text")

    @event(AdmissibilityOpened)
    def _open_admissibility(self, opened_at: datetime, closes_at: datetime,
                            charter_version: int, rule: str, cause: str) -> None:
        self.stage = Stage.ADMISSIBILITY
        self.stage_closes_at = closes_at

    def open_admissibility(self, at: datetime, closes_at: datetime) -> None:
        self._advance(Stage.ADMISSIBILITY)
        self._open_admissibility(at, closes_at, self.charter_version,
                                 "admissibility.competences", "submitted")

    @event(AdmissibilityDecided)
    def _decide_admissibility(self, admissible: bool, competence: str, reason: str,
                              clerk_ref: str, cause: str, charter_version: int,
                              rule: str) -> None:
        self.stage = Stage.ADMISSIBLE if admissible else Stage.INADMISSIBLE
        self.stage_closes_at = None
        if not admissible:
            self.outcome = "inadmissible"

    def decide_admissibility(self, clerk_ref: str, admissible: bool, competence: str,
                             reason: str, competences: tuple[str, ...], cause: str) -> None:
        self._advance(Stage.ADMISSIBLE if admissible else Stage.INADMISSIBLE)
        if admissible and competences and competence not in competences:
            raise NotACompetence(f"'{competence}' is not a competence of the metropolis: "
                                 f"{', '.join(competences)}")
        if not admissible and not reason.strip():
            raise ReasonRequired("an inadmissibility ruling states its reason")
        self._decide_admissibility(admissible, competence, reason, clerk_ref, cause,
                                   self.charter_version, "admissibility.competences")

    @event(ReferredToGuarantor)
    def _refer(self, author_ref: str, text_sealed: str) -> None:
        pass

    def refer_to_guarantor(self, author_ref: str, text_sealed: str) -> None:
        if author_ref != self.author_ref:
            raise NotTheAuthor(f"only the author of proposal {self.id} may refer it")
        if self.stage != Stage.INADMISSIBLE:
            raise NotInadmissible(f"proposal {self.id} was not ruled inadmissible")
        self._refer(author_ref, text_sealed)

    # -- deliberation and amendments ---------------------------------------------------

    class DeliberationOpened(Aggregate.Event):
        """The consultation ended and the council's deliberation opened, until `closes_at`
        (rule `stage.deliberation`): councillors may table amendments and vote on each."""

        opened_at: datetime
        closes_at: datetime
        charter_version: int
        rule: str
        cause: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before transitions named their cause: the one they always had."""
            state["cause"] = "deadline_reached"

    class AmendmentTabled(Aggregate.Event):
        """A council member tabled amendment `number`; its roll-call ballot opened."""

        number: int
        councillor_ref: str
        text: str
        ballot_id: UUID

    class DeliberationClosed(Aggregate.Event):
        """The deliberation closed; this event's log position is the cut-off of every
        amendment ballot."""

        closed_at: datetime
        cause: str

    class AmendmentDecided(Aggregate.Event):
        """Amendment `number` was adopted or rejected: its tally before the cut-off, by the
        quorum and a simple majority (rule `amendment.majority`)."""

        number: int
        outcome: str
        cause: str
        yes: int
        no: int
        abstain: int
        members: int
        cutoff_position: int
        charter_version: int
        rules_cited: list[str]

    @event(DeliberationOpened)
    def _open_deliberation(self, opened_at: datetime, closes_at: datetime,
                           charter_version: int, rule: str, cause: str) -> None:
        self.stage = Stage.DELIBERATION
        self.stage_closes_at = closes_at

    def open_deliberation(self, at: datetime, closes_at: datetime) -> None:
        self._advance(Stage.DELIBERATION)
        self._open_deliberation(at, closes_at, self.charter_version, "stage.deliberation",
                                "deadline_reached")

    @event(AmendmentTabled)
    def _table(self, number: int, councillor_ref: str, text: str, ballot_id: UUID) -> None:
        self.amendments[number] = {"ballot_id": ballot_id, "text": text, "decided": False}

    def table_amendment(self, councillor_ref: str, text: str, now: datetime) -> int:
        self._check_deliberation_open(now)
        number = len(self.amendments) + 1
        self._table(number, councillor_ref, text, amendment_ballot_id(self.id, number))
        return number

    def _check_deliberation_open(self, now: datetime) -> None:
        if self.stage != Stage.DELIBERATION or (self.stage_closes_at and now >= self.stage_closes_at):
            raise DeliberationNotOpen(f"proposal {self.id} is not in deliberation")

    @event(DeliberationClosed)
    def _close_deliberation(self, closed_at: datetime, cause: str) -> None:
        self.stage = Stage.DELIBERATED
        self.stage_closes_at = None

    def close_deliberation(self, at: datetime) -> None:
        self._advance(Stage.DELIBERATED)
        self._close_deliberation(at, "deadline_reached")

    @event(AmendmentDecided)
    def _decide_amendment(  # noqa: PLR0913 - the event's fields
        self, number: int, outcome: str, cause: str, yes: int, no: int, abstain: int,
        members: int, cutoff_position: int, charter_version: int, rules_cited: list[str],
    ) -> None:
        self.amendments[number]["decided"] = True

    def record_amendment_decision(self, **decision: Any) -> None:
        self._decide_amendment(charter_version=self.charter_version, **decision)

    # -- implementation and evaluation -------------------------------------------------

    class ImplementationOpened(Aggregate.Event):
        """The adopted proposal entered implementation; its evaluation steps will open at
        `evaluations_at` and the process closes at `closes_at` (rule `evaluation.schedule`)."""

        opened_at: datetime
        evaluations_at: list[datetime]
        closes_at: datetime
        charter_version: int
        rule: str
        cause: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Recorded before transitions named their cause: the one they always had."""
            state["cause"] = "final_adoption"

    class MilestoneRecorded(Aggregate.Event):
        """A clerk recorded an implementation milestone."""

        clerk_ref: str
        text: str

    class EvaluationOpened(Aggregate.Event):
        """Evaluation step `step` opened at its scheduled time after adoption."""

        step: int
        opened_at: datetime
        cause: str

    class EvaluationScored(Aggregate.Event):
        """A member of the citizens' evaluation panel scored the policy's indicators (0–10)
        for the open step (a comment, if any, sealed under the member's data key; "" if none)."""

        step: int
        panel_ref: str
        indicators: dict[str, int]
        comment_sealed: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Scores given before sealing kept their comment in clear."""
            comment = state.pop("comment")
            state["comment_sealed"] = CLEAR + comment if comment else ""

    class Closed(Aggregate.Event):
        """The process closed after its last evaluation step."""

        closed_at: datetime
        cause: str

    @event(ImplementationOpened)
    def _open_implementation(self, opened_at: datetime, evaluations_at: list[datetime],
                             closes_at: datetime, charter_version: int, rule: str, cause: str) -> None:
        self.stage = Stage.IMPLEMENTATION
        self.stage_closes_at = closes_at
        self.evaluation_step = 0
        self.scored: set[tuple[int, str]] = set()

    def open_implementation(self, at: datetime, evaluations_at: list[datetime],
                            closes_at: datetime) -> None:
        self._advance(Stage.IMPLEMENTATION)
        if self.outcome != "adopted":
            raise WrongStage(f"proposal {self.id} was not adopted: nothing to implement")
        self._open_implementation(at, evaluations_at, closes_at, self.charter_version,
                                  "evaluation.schedule", "final_adoption")

    @event(MilestoneRecorded)
    def _record_milestone(self, clerk_ref: str, text: str) -> None:
        pass

    def record_milestone(self, clerk_ref: str, text: str) -> None:
        if self.stage not in (Stage.IMPLEMENTATION, Stage.EVALUATION):
            raise NotInImplementation(f"proposal {self.id} is not being implemented")
        self._record_milestone(clerk_ref, text)

    @event(EvaluationOpened)
    def _open_evaluation(self, step: int, opened_at: datetime, cause: str) -> None:
        self.stage = Stage.EVALUATION
        self.evaluation_step = step

    def open_evaluation(self, step: int, at: datetime) -> None:
        self._advance(Stage.EVALUATION)
        self._open_evaluation(step, at, "schedule_reached")

    @event(EvaluationScored)
    def _score(self, step: int, panel_ref: str, indicators: dict[str, int],
               comment_sealed: str) -> None:
        self.scored.add((step, panel_ref))

    def score(self, panel_ref: str, indicators: dict[str, int], comment_sealed: str) -> None:
        if self.stage != Stage.EVALUATION:
            raise EvaluationNotOpen(f"no evaluation step of proposal {self.id} is open")
        if panel_ref not in self.evaluation_panel:
            raise NotOnEvaluationPanel(
                f"'{panel_ref}' is not on the evaluation panel of proposal {self.id}")
        if (self.evaluation_step, panel_ref) in self.scored:
            raise AlreadyScored(f"'{panel_ref}' has already scored step {self.evaluation_step}")
        if not indicators or any(not 0 <= v <= 10 for v in indicators.values()):
            raise InvalidScores("score at least one indicator, each from 0 to 10")
        self._score(self.evaluation_step, panel_ref, indicators, comment_sealed)

    @event(Closed)
    def _close(self, closed_at: datetime, cause: str) -> None:
        self.stage = Stage.CLOSED
        self.stage_closes_at = None

    def close(self, at: datetime) -> None:
        self._advance(Stage.CLOSED)
        self._close(at, "evaluation_complete")

    # -- decision type, the guarantor's required consultation, the evaluation panel -----

    class DecisionTypeDeclared(Aggregate.Event):
        """The proposal's decision type under the pinned charter (e.g. `budget`), declared by
        its author at submission or requalified by a clerk before the vote (with the reason):
        the council decides it by the majority the charter sets for that type (rule
        `decision.<type>`; `ordinary` uses the charter's majority)."""

        decision_type: str
        majority: str
        declared_by: str
        reason: str
        charter_version: int
        rule: str

    class ConsultationRequired(Aggregate.Event):
        """The guarantor required a public consultation of at least `seconds` before the vote
        (rule `guarantor.consultation`): if the charter's consultation has already been held,
        another opens before the vote; the vote cannot open until one has."""

        guarantor_ref: str
        reason: str
        seconds: int
        charter_version: int
        rule: str

    class EvaluationPanelAppointed(Aggregate.Event):
        """The guarantor appointed the citizens' evaluation panel (`method`: `designation`
        today, a draw by lot later); only its members score the evaluation steps (rule
        `evaluation.panel`). A new appointment replaces the panel for the steps to come."""

        members: list[str]
        guarantor_ref: str
        method: str

    @event(DecisionTypeDeclared)
    def _declare_decision_type(self, decision_type: str, majority: str, declared_by: str,
                               reason: str, charter_version: int, rule: str) -> None:
        self.decision_type = decision_type

    def declare_decision_type(self, decision_type: str, majority: str, declared_by: str,
                              reason: str = "") -> None:
        """Declared at submission, or requalified (with its reason) until the vote opens."""
        if self.stage == Stage.WITHDRAWN:
            raise ProposalWithdrawn(f"proposal {self.id} was withdrawn by its author")
        if self.stage not in BEFORE_THE_VOTE:
            raise WrongStage(f"proposal {self.id} is at stage '{self.stage}': its decision "
                             "type is fixed once the vote opens")
        if self.amends_charter_with is not None:
            raise AmendmentHasNoDecisionType(
                f"proposal {self.id} amends the charter: the charter amendment majority applies")
        if self.stage != Stage.SUBMITTED and not reason.strip():
            raise ReasonRequired("a requalification states its reason")
        self._declare_decision_type(decision_type, majority, declared_by, reason,
                                    self.charter_version, f"decision.{decision_type}")

    @event(ConsultationRequired)
    def _require_consultation(self, guarantor_ref: str, reason: str, seconds: int,
                              charter_version: int, rule: str) -> None:
        self.required_consultation_seconds = seconds

    def require_consultation(self, guarantor_ref: str, reason: str, seconds: int) -> None:
        """The guarantor requires a public consultation before the vote."""
        if self.stage == Stage.WITHDRAWN:
            raise ProposalWithdrawn(f"proposal {self.id} was withdrawn by its author")
        if self.stage == Stage.INADMISSIBLE:
            raise WrongStage(f"proposal {self.id} was ruled inadmissible: no vote will follow")
        if self.stage not in BEFORE_THE_VOTE:
            raise ConsultationRequiredTooLate(
                f"proposal {self.id} is at stage '{self.stage}': a consultation can be required "
                "only before the vote opens")
        if self.required_consultation_seconds is not None:
            raise ConsultationAlreadyRequired(
                f"a consultation on proposal {self.id} is already required and not yet held")
        if not reason.strip():
            raise ReasonRequired("the guarantor states why a consultation is required")
        self._require_consultation(guarantor_ref, reason, seconds, self.charter_version,
                                   "guarantor.consultation")

    @event(EvaluationPanelAppointed)
    def _appoint_panel(self, members: list[str], guarantor_ref: str, method: str) -> None:
        self.evaluation_panel = frozenset(members)

    def appoint_evaluation_panel(self, guarantor_ref: str, members: list[str],
                                 method: str = "designation") -> None:
        if self.stage not in (Stage.DECIDED, Stage.VETO_WINDOW, Stage.IMPLEMENTATION,
                              Stage.EVALUATION) or (
                self.stage == Stage.DECIDED and self.outcome != "adopted"):
            raise NotInImplementation(
                f"proposal {self.id} is not adopted: it has no evaluation panel")
        members = list(dict.fromkeys(m for m in members if m.strip()))
        if not members:
            raise InvalidPanel("an evaluation panel has at least one member")
        self._appoint_panel(members, guarantor_ref, method)

    # -- rules for acts by council members ---------------------------------------------

    def check_ballot_open(self, now: datetime, amendment: int | None = None) -> UUID:
        """The ballot id if a vote may be cast at `now`, else the broken rule: an amendment's
        ballot during the deliberation, the council's ballot while it is open, or the override
        ballot once a veto is filed."""
        if amendment is not None:
            if amendment not in self.amendments:
                raise UnknownAmendment(f"proposal {self.id} has no amendment {amendment}")
            self._check_deliberation_open(now)
            return self.amendments[amendment]["ballot_id"]
        if self.stage == Stage.VETO_WINDOW and self.override_ballot_id is not None:
            if self.override_closed or (self.stage_closes_at and now >= self.stage_closes_at):
                raise VoteAfterClose(f"the override ballot on proposal {self.id} is closed")
            return self.override_ballot_id
        if self.stage in BEFORE_THE_VOTE:
            raise VoteNotOpen(f"the ballot on proposal {self.id} is not open yet")
        if self.stage != Stage.VOTE or (self.stage_closes_at and now >= self.stage_closes_at):
            raise VoteAfterClose(f"the ballot on proposal {self.id} is closed")
        assert self.ballot_id is not None
        return self.ballot_id
