"""Deliberation commands: drafts, proposals and every stage of their lifecycle (admissibility,
consultation, deliberation, vote, veto window, implementation, evaluation), supports, comments,
notices and roll-call votes.

A mixin of `Registre` (domain/application.py), which provides the event store and the clock.
Commands run by workflow activities are idempotent: they state the stage they expect and, when
the aggregate has already moved past it, return what was recorded instead of recording twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.deliberation.ballot import Vote
from domain.deliberation.draft import Draft
from domain.deliberation.notice import NOTICE_KINDS, Notice
from domain.deliberation.participation import Comment, Support
from domain.deliberation.proposal import Proposal
from domain.deliberation.stages import Stage
from domain.errors import (
    ConsultationNotOpen,
    InvalidCharter,
    NotACouncilMember,
    NotMayorOfCommune,
    ProposalWithdrawn,
    SupportAlreadyGiven,
    UnknownDecisionType,
    UnknownDraft,
    UnknownProposal,
    VoteAlreadyCast,
    WrongStage,
)
from domain.rules.charter import CHOICES, ORDINARY, CharterRules
from domain.rules.council import Tally, carried_irrevocably, decide, decide_proposal
from domain.ports import Clock
from domain.topics import stored_topics


VOTE_TOPICS = list(stored_topics(Vote.Cast))


@dataclass(frozen=True)
class StageOpened:
    """What an activity needs to tell the workflow after opening a stage."""

    stage: Stage
    closes_at: datetime
    position: int
    rules: CharterRules


class DeliberationCommands:
    """The commands of the deliberation process."""

    # -- proposals ---------------------------------------------------------------------

    def submit_proposal(
        self, metropolis_id: UUID, author_ref: str, title: str, summary: str,
        communes: Iterable[str] = (), charter_amendment: CharterRules | None = None,
        decision_type: str = ORDINARY,
    ) -> tuple[UUID, int]:
        """A citizen (`author_ref`: a pseudonym) submits a proposal concerning some communes
        (their mayors may veto it if the charter says so), of a decision type of the charter
        (`ordinary` by default); the charter version in force is pinned; title and summary are
        sealed under the author's data key. Returns the proposal id and the log position of
        its submission."""
        proposal = self._new_proposal(
            metropolis_id, author_ref,
            lambda: (self._seal(metropolis_id, author_ref, "title", title),
                     self._seal(metropolis_id, author_ref, "summary", summary)),
            communes, charter_amendment, decision_type)
        recordings = self.save(proposal)
        return proposal.id, recordings[-1].notification.id

    def _seal(self, metropolis_id: UUID, person: str, field: str, text: str) -> str:
        """What a private person writes, as the log will hold it: sealed (D10)."""
        return self.personal_data.seal(metropolis_id, person, field, text)

    def _new_proposal(
        self, metropolis_id: UUID, author_ref: str, sealed: Callable[[], tuple[str, str]],
        communes: Iterable[str], charter_amendment: CharterRules | None, decision_type: str,
    ) -> Proposal:
        """A proposal checked against the metropolis and its charter in force, not saved.
        `sealed` gives its sealed title and summary once the checks pass (a refused
        submission makes no data key)."""
        metropolis = self.get_metropolis(metropolis_id)
        communes = self._communes_of(metropolis, communes)
        known = {c["code"] for c in metropolis.communes}
        charter = self.get_charter(metropolis_id)
        rules = charter.rules()
        if decision_type not in rules.decision_types:
            raise UnknownDecisionType(
                f"charter v{charter.current_version} knows no decision type '{decision_type}': "
                f"{', '.join(rules.decision_types)}")
        for code in charter_amendment.veto_territories if charter_amendment else ():
            if code not in known:
                raise InvalidCharter(f"the amended charter's veto territories name {code}, "
                                     f"not a commune of {metropolis.name}")
        title_sealed, summary_sealed = sealed()
        proposal = Proposal(
            metropolis_id=metropolis_id,
            charter_id=charter.id,
            charter_version=charter.current_version,
            author_ref=author_ref,
            title_sealed=title_sealed,
            summary_sealed=summary_sealed,
            communes=communes,
        )
        if charter_amendment is not None:
            proposal.propose_charter_amendment(charter_amendment.as_dict())
        if decision_type != ORDINARY:
            proposal.declare_decision_type(decision_type,
                                           rules.decision_majorities[decision_type], author_ref)
        return proposal

    # -- drafts (the `drafted` stage) --------------------------------------------------

    def start_draft(self, metropolis_id: UUID, author_ref: str, title: str, summary: str,
                    communes: Iterable[str] = (), decision_type: str = ORDINARY,
                    charter_amendment: dict[str, Any] | None = None) -> tuple[UUID, int]:
        """A citizen begins drafting a proposal (`charter_amendment`: the rules it would
        change); returns the draft id and log position."""
        communes = self._communes_of(self.get_metropolis(metropolis_id), communes)
        if charter_amendment is not None:
            self.amended_rules(metropolis_id, charter_amendment)  # refused now if invalid
        draft = Draft(metropolis_id=metropolis_id, author_ref=author_ref,
                      title_sealed=self._seal(metropolis_id, author_ref, "title", title),
                      summary_sealed=self._seal(metropolis_id, author_ref, "summary", summary),
                      communes=communes, decision_type=decision_type,
                      charter_amendment=charter_amendment)
        return draft.id, self.save(draft)[-1].notification.id

    def get_draft(self, draft_id: UUID) -> Draft:
        try:
            draft = self.repository.get(draft_id)
        except AggregateNotFoundError:
            raise UnknownDraft(f"no draft {draft_id}") from None
        if not isinstance(draft, Draft):
            raise UnknownDraft(f"no draft {draft_id}")
        return draft

    def revise_draft(self, draft_id: UUID, author_ref: str, **text: Any) -> int:
        """The author revises the draft (title, summary, communes, decision_type,
        charter_amendment); returns the log position."""
        draft = self.get_draft(draft_id)
        if text.get("communes") is not None:
            text["communes"] = self._communes_of(self.get_metropolis(draft.metropolis_id),
                                                 text["communes"])
        if text.get("charter_amendment") is not None:
            self.amended_rules(draft.metropolis_id, text["charter_amendment"])
        for name in ("title", "summary"):
            clear = text.pop(name, None)
            if clear is not None:
                text[f"{name}_sealed"] = self._seal(draft.metropolis_id, author_ref, name, clear)
        draft.revise(author_ref, **text)
        return self.save(draft)[-1].notification.id

    def submit_draft(self, draft_id: UUID, author_ref: str) -> tuple[UUID, int]:
        """The author submits the draft: the proposal is created (charter pinned now) in the
        same transaction; returns the proposal id and the log position of its submission."""
        draft = self.get_draft(draft_id)
        draft._check(author_ref)
        # The rules it changes, over the charter in force now.
        amendment = (self.amended_rules(draft.metropolis_id, draft.charter_amendment)
                     if draft.charter_amendment else None)
        proposal = self._new_proposal(draft.metropolis_id, author_ref,
                                      lambda: (draft.title_sealed, draft.summary_sealed),
                                      draft.communes, amendment, draft.decision_type)
        draft.submit(author_ref, proposal.id)
        recordings = self.save(proposal, draft)
        submitted = [r for r in recordings if r.domain_event.originator_id == proposal.id]
        return proposal.id, submitted[-1].notification.id

    def abandon_draft(self, draft_id: UUID, author_ref: str) -> int:
        draft = self.get_draft(draft_id)
        draft.abandon(author_ref)
        return self.save(draft)[-1].notification.id

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        """The proposal; UnknownProposal also when the id is another aggregate's."""
        try:
            proposal = self.repository.get(proposal_id)
        except AggregateNotFoundError:
            proposal = None
        if not isinstance(proposal, Proposal):
            raise UnknownProposal(f"no proposal {proposal_id}")
        return proposal

    def pinned_rules(self, proposal: Proposal) -> CharterRules:
        return self.repository.get(proposal.charter_id).rules(proposal.charter_version)

    def requalify_decision(self, proposal_id: UUID, clerk_ref: str, decision_type: str,
                           reason: str) -> int:
        """A clerk requalifies the proposal's decision type (e.g. a budget decision submitted
        as ordinary) until the vote opens, stating why; returns the log position."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if decision_type not in rules.decision_types:
            raise UnknownDecisionType(
                f"charter v{proposal.charter_version} knows no decision type '{decision_type}': "
                f"{', '.join(rules.decision_types)}")
        majority = rules.decision_majorities.get(decision_type, rules.majority)
        proposal.declare_decision_type(decision_type, majority, clerk_ref, reason)
        return self.save(proposal)[-1].notification.id

    def open_admissibility(self, proposal_id: UUID, at: datetime) -> StageOpened | None:
        """Open the clerk's admissibility review if the pinned charter asks for one; None
        otherwise (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if rules.admissibility_seconds == 0:
            return None
        if proposal.stage == Stage.SUBMITTED:
            proposal.open_admissibility(at, at + timedelta(seconds=rules.admissibility_seconds))
            self.save(proposal)
        return self._recorded_stage(proposal, Proposal.AdmissibilityOpened, Stage.ADMISSIBILITY,
                                    rules)

    def rule_admissibility(self, proposal_id: UUID, clerk_ref: str, admissible: bool,
                           competence: str = "", reason: str = "") -> int:
        """A clerk rules on admissibility during the review; returns the log position."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        proposal.decide_admissibility(clerk_ref, admissible, competence, reason,
                                      rules.competences, "clerk_ruling")
        return self.save(proposal)[-1].notification.id

    def conclude_admissibility(self, proposal_id: UUID, at: datetime) -> Stage:
        """At the review's deadline (or after the clerk's ruling): `admissible` or
        `inadmissible`; without a ruling the proposal is admissible by default (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage == Stage.WITHDRAWN:
            raise ProposalWithdrawn(f"proposal {proposal_id} was withdrawn by its author")
        if proposal.stage == Stage.ADMISSIBILITY:
            proposal.decide_admissibility("registre", True, "", "", (), "deadline_reached")
            self.save(proposal)
        return Stage.INADMISSIBLE if proposal.stage == Stage.INADMISSIBLE else Stage.ADMISSIBLE

    def refer_to_guarantor(self, proposal_id: UUID, author_ref: str, text: str) -> int:
        """The author refers an inadmissibility ruling to the guarantor (the text sealed)."""
        proposal = self.get_proposal(proposal_id)
        proposal.refer_to_guarantor(
            author_ref, self._seal(proposal.metropolis_id, author_ref, "referral", text))
        return self.save(proposal)[-1].notification.id

    def open_consultation(self, proposal_id: UUID, at: datetime) -> StageOpened:
        """Open the public consultation (idempotent: a retry returns what was recorded)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if proposal.stage in (Stage.SUBMITTED, Stage.ADMISSIBLE):
            seconds = max(rules.consultation_seconds, proposal.required_consultation_seconds or 0)
            proposal.open_consultation(at, at + timedelta(seconds=seconds))
            self.save(proposal)
        return self._stage_opened(proposal, Proposal.ConsultationOpened, rules)

    def open_required_consultation(self, proposal_id: UUID, at: datetime) -> StageOpened | None:
        """Before the vote: open the consultation the guarantor required, if one is pending;
        returns the consultation still open at `at` (so a retry finds the one it opened), or
        None when the vote may open."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if (proposal.stage in (Stage.CONSULTATION, Stage.DELIBERATED)
                and proposal.required_consultation_seconds is not None):
            seconds = max(rules.consultation_seconds, proposal.required_consultation_seconds)
            proposal.open_required_consultation(at, at + timedelta(seconds=seconds))
            self.save(proposal)
        if proposal.stage == Stage.CONSULTATION and proposal.stage_closes_at is not None and (
                proposal.stage_closes_at > at):
            return self._stage_opened(proposal, Proposal.ConsultationOpened, rules)
        return None

    def require_consultation(self, proposal_id: UUID, guarantor_ref: str, reason: str,
                             seconds: int | None = None) -> int:
        """The guarantor requires a public consultation before the vote, of at least the
        charter's length (longer when `seconds` says so); returns the log position."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        proposal.require_consultation(guarantor_ref, reason,
                                      max(rules.consultation_seconds, seconds or 0))
        return self.save(proposal)[-1].notification.id

    def open_deliberation(self, proposal_id: UUID, at: datetime) -> StageOpened | None:
        """At the consultation's deadline, open the deliberation if the pinned charter has
        one; None otherwise (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if rules.deliberation_seconds == 0:
            return None
        if proposal.stage == Stage.CONSULTATION:
            proposal.open_deliberation(at, at + timedelta(seconds=rules.deliberation_seconds))
            self.save(proposal)
        return self._recorded_stage(proposal, Proposal.DeliberationOpened, Stage.DELIBERATION,
                                    rules)

    def table_amendment(self, proposal_id: UUID, councillor_ref: str,
                        text: str) -> tuple[int, int]:
        """A seated council member tables an amendment during the deliberation; returns its
        number and log position."""
        proposal = self.get_proposal(proposal_id)
        metropolis = self.get_metropolis(proposal.metropolis_id)
        if not metropolis.is_council_member(councillor_ref):
            raise NotACouncilMember(
                f"'{councillor_ref}' holds no seat on the council of {metropolis.name}")
        number = proposal.table_amendment(councillor_ref, text, self.clock())
        return number, self.save(proposal)[-1].notification.id

    def close_deliberation(self, proposal_id: UUID, at: datetime) -> int:
        """Close the deliberation and decide every amendment from its votes before the close
        position (idempotent); returns how many amendments were decided."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage == Stage.WITHDRAWN:
            raise ProposalWithdrawn(f"proposal {proposal_id} was withdrawn by its author")
        if proposal.stage == Stage.DELIBERATION:
            proposal.close_deliberation(at)
            self.save(proposal)
        cutoff = self._position_of_last(proposal, Proposal.DeliberationClosed)
        rules = self.pinned_rules(proposal).for_amendment()
        members = self.get_metropolis(proposal.metropolis_id).council_size
        tabled = {e.number: e for e in self.events.get(proposal_id)
                  if isinstance(e, Proposal.AmendmentTabled)}
        for number, amendment in sorted(proposal.amendments.items()):
            if amendment["decided"]:
                continue
            start = self.position_of(proposal.id, tabled[number].originator_version)
            tally = self.count_votes(amendment["ballot_id"], start, cutoff)
            outcome = decide(tally, members, rules)
            proposal.record_amendment_decision(
                number=number, outcome="adopted" if outcome.adopted else "rejected",
                cause=outcome.cause, yes=tally.yes, no=tally.no, abstain=tally.abstain,
                members=members, cutoff_position=cutoff,
                rules_cited=["amendment.majority", *outcome.rules_cited])
        self.save(proposal)
        return len(proposal.amendments)

    def open_vote(self, proposal_id: UUID, at: datetime) -> StageOpened:
        """Open the council's ballot at the consultation's (or deliberation's) deadline
        (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if proposal.stage in (Stage.CONSULTATION, Stage.DELIBERATED):
            proposal.open_vote(at, at + timedelta(seconds=rules.vote_seconds))
            self.save(proposal)
        return self._stage_opened(proposal, Proposal.VoteOpened, rules)

    def close_ballot(self, proposal_id: UUID, at: datetime) -> int:
        """Close the ballot at its deadline; returns the close event's log position, the
        tally's cut-off (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage == Stage.VOTE:
            proposal.close_ballot(at)
            self.save(proposal)
        return self._position_of_last(proposal, Proposal.BallotClosed)

    def decide(self, proposal_id: UUID, opened_position: int, cutoff_position: int) -> str:
        """Count the votes recorded between the ballot's opening and its close position,
        apply the pinned charter's quorum and majority, and record the decision
        (idempotent). Returns the outcome, `adopted` or `rejected`."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage == Stage.DECIDED:
            assert proposal.outcome is not None
            return proposal.outcome
        proposal.require_stage(Stage.COUNTING)
        assert proposal.ballot_id is not None
        rules = self.pinned_rules(proposal)
        metropolis = self.get_metropolis(proposal.metropolis_id)
        tally = self.count_votes(proposal.ballot_id, opened_position, cutoff_position)
        outcome = decide_proposal(tally, metropolis.council_size, rules,
                                  proposal.amends_charter_with is not None,
                                  proposal.decision_type)
        proposal.record_decision(
            outcome="adopted" if outcome.adopted else "rejected",
            cause=outcome.cause,
            yes=tally.yes,
            no=tally.no,
            abstain=tally.abstain,
            members=metropolis.council_size,
            quorum_met=outcome.quorum_met,
            cutoff_position=cutoff_position,
            rules_cited=list(outcome.rules_cited),
        )
        if outcome.adopted and not self._veto_applies(proposal, rules):
            self._final_adoption(proposal)  # no veto window: the adoption is final
        else:
            self.save(proposal)
        assert proposal.outcome is not None
        return proposal.outcome

    @staticmethod
    def _veto_applies(proposal: Proposal, rules: CharterRules) -> bool:
        """Whether an adoption of `proposal` opens a veto window under `rules`."""
        return any(rules.grants_veto_to(c) for c in proposal.communes)

    def _final_adoption(self, proposal: Proposal) -> None:
        """Save the proposal's final adoption; a charter amendment comes into force with it,
        in the same transaction (processes already running keep their version)."""
        if proposal.amends_charter_with is None:
            self.save(proposal)
            return
        charter = self.get_charter(proposal.metropolis_id)
        if (charter.current_version > proposal.charter_version
                and charter.versions[charter.current_version] == proposal.amends_charter_with):
            # Already in force: adopted before amendments waited for the veto window.
            self.save(proposal)
            return
        charter.amend(proposal.amends_charter_with, proposal.id)
        self.save(proposal, charter, self._bureau_under(charter))

    def withdraw(self, proposal_id: UUID, author_ref: str) -> int:
        """The author withdraws the proposal before the vote; returns the log position."""
        proposal = self.get_proposal(proposal_id)
        proposal.withdraw(author_ref)
        return self.save(proposal)[-1].notification.id

    # -- the veto window (governance pact) ---------------------------------------------

    def open_veto_window(self, proposal_id: UUID, at: datetime) -> StageOpened | None:
        """After an adoption, open the mayors' veto window if the pinned charter grants a
        veto and the proposal concerns communes; None when no window applies (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if proposal.stage == Stage.DECIDED and not any(
            isinstance(e, Proposal.VetoWindowOpened) for e in self.events.get(proposal_id)
        ):
            if proposal.outcome != "adopted" or not self._veto_applies(proposal, rules):
                return None
            proposal.open_veto_window(at, at + timedelta(seconds=rules.veto_window_seconds))
            self.save(proposal)
        return self._recorded_stage(proposal, Proposal.VetoWindowOpened, Stage.VETO_WINDOW,
                                    rules)

    def file_veto(self, proposal_id: UUID, mayor_ref: str, commune: str, reason: str) -> int:
        """A mayor seated for a concerned commune files a reasoned veto within the window;
        returns the log position (the override ballot opens after it)."""
        proposal = self.get_proposal(proposal_id)
        metropolis = self.get_metropolis(proposal.metropolis_id)
        rules = self.pinned_rules(proposal)
        seat = metropolis.members.get(mayor_ref)
        if seat is None or seat["role"] != rules.veto_role or seat["commune"] != commune:
            raise NotMayorOfCommune(
                f"'{mayor_ref}' does not hold the veto right ({rules.veto_role}) for commune "
                f"{commune}")
        proposal.file_veto(mayor_ref, commune, reason, self.clock(), rules.veto_territories)
        return self.save(proposal)[-1].notification.id

    def override_carried(self, proposal_id: UUID) -> bool:
        """Whether the council's override of the veto is already carried by the charter's
        override majority whatever the votes still to come (e.g. two thirds of the members
        have voted for it): the window may then close before its term."""
        proposal = self.get_proposal(proposal_id)
        if (proposal.stage != Stage.VETO_WINDOW or proposal.override_ballot_id is None
                or proposal.override_closed):
            return False
        filed = self._position_of_last(proposal, Proposal.VetoFiled)
        tally = self.count_votes(proposal.override_ballot_id, filed,
                                 self.recorder.max_notification_id() + 1)
        members = self.get_metropolis(proposal.metropolis_id).council_size
        return carried_irrevocably(tally, members, self.pinned_rules(proposal).for_override())

    def close_veto_window(self, proposal_id: UUID, at: datetime) -> str:
        """At the window's deadline: without a veto the adoption stands; with one, count the
        override ballot (votes after the veto, before the close position) against the
        charter's override majority. Before the deadline, only when the override is already
        carried (`override_carried`). Records and returns the final outcome (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage == Stage.DECIDED:
            assert proposal.outcome is not None
            return proposal.outcome
        proposal.require_stage(Stage.VETO_WINDOW)
        rules = self.pinned_rules(proposal)
        members = self.get_metropolis(proposal.metropolis_id).council_size
        early = proposal.stage_closes_at is not None and at < proposal.stage_closes_at
        if early and not proposal.override_closed and not self.override_carried(proposal_id):
            raise WrongStage(f"the veto window of proposal {proposal_id} is open until "
                             f"{proposal.stage_closes_at.isoformat()}: the override is not "
                             "carried yet")
        if proposal.veto is None:
            proposal.close_veto_window(outcome="adopted", cause="no_veto", yes=0, no=0,
                                       abstain=0, members=members, cutoff_position=0,
                                       rules_cited=["veto.window"])
        else:
            if not proposal.override_closed:
                proposal.close_override_ballot(
                    at, "override_carried" if early else "deadline_reached")
                self.save(proposal)
            assert proposal.override_ballot_id is not None
            cutoff = self._position_of_last(proposal, Proposal.BallotClosed)
            filed = self._position_of_last(proposal, Proposal.VetoFiled)
            tally = self.count_votes(proposal.override_ballot_id, filed, cutoff)
            override = decide(tally, members, rules.for_override())
            proposal.close_veto_window(
                outcome="adopted" if override.adopted else "rejected",
                cause="override_carried" if override.adopted else "veto_sustained",
                yes=tally.yes, no=tally.no, abstain=tally.abstain, members=members,
                cutoff_position=cutoff,
                rules_cited=["veto.right", "veto.override", *override.rules_cited])
        if proposal.outcome == "adopted":
            self._final_adoption(proposal)
        else:
            self.save(proposal)
        assert proposal.outcome is not None
        return proposal.outcome

    # -- implementation and evaluation -------------------------------------------------

    def open_implementation(self, proposal_id: UUID, at: datetime) -> list[datetime] | None:
        """After the final adoption, enter implementation with the evaluation steps the pinned
        charter schedules; returns [step times..., close time], or None when the charter
        schedules no evaluation (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        rules = self.pinned_rules(proposal)
        if proposal.stage == Stage.DECIDED:
            if proposal.outcome != "adopted" or not rules.evaluation_after_seconds:
                return None
            steps = [at + timedelta(seconds=s) for s in rules.evaluation_after_seconds]
            proposal.open_implementation(
                at, steps, steps[-1] + timedelta(seconds=rules.evaluation_window_seconds))
            self.save(proposal)
        opened = self._last(proposal, Proposal.ImplementationOpened)
        return [*opened.evaluations_at, opened.closes_at]

    def open_evaluation(self, proposal_id: UUID, step: int, at: datetime) -> None:
        """Open evaluation step `step` at its scheduled time (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        if (proposal.stage in (Stage.IMPLEMENTATION, Stage.EVALUATION)
                and proposal.evaluation_step < step):
            proposal.open_evaluation(step, at)
            self.save(proposal)

    def record_milestone(self, proposal_id: UUID, clerk_ref: str, text: str) -> int:
        proposal = self.get_proposal(proposal_id)
        proposal.record_milestone(clerk_ref, text)
        return self.save(proposal)[-1].notification.id

    def appoint_evaluation_panel(self, proposal_id: UUID, guarantor_ref: str,
                                 members: list[str]) -> int:
        """The guarantor appoints the citizens' evaluation panel of an adopted proposal;
        returns the log position."""
        proposal = self.get_proposal(proposal_id)
        proposal.appoint_evaluation_panel(guarantor_ref, members)
        return self.save(proposal)[-1].notification.id

    def score_evaluation(self, proposal_id: UUID, panel_ref: str, indicators: dict[str, int],
                         comment: str = "") -> int:
        proposal = self.get_proposal(proposal_id)
        proposal.score(panel_ref, indicators, self._seal(
            proposal.metropolis_id, panel_ref, "evaluation", comment) if comment else "")
        return self.save(proposal)[-1].notification.id

    def close_process(self, proposal_id: UUID, at: datetime) -> str:
        """Close the process after its last evaluation step (idempotent)."""
        proposal = self.get_proposal(proposal_id)
        if proposal.stage != Stage.CLOSED:
            proposal.close(at)
            self.save(proposal)
        return proposal.stage

    # -- the public consultation: supports and comments ---------------------------------

    def _in_consultation(self, proposal_id: UUID) -> Proposal:
        proposal = self.get_proposal(proposal_id)
        if proposal.stage != Stage.CONSULTATION or (
                proposal.stage_closes_at and self.clock() >= proposal.stage_closes_at):
            raise ConsultationNotOpen(f"proposal {proposal_id} is not under public consultation")
        return proposal

    def support(self, proposal_id: UUID, citizen_ref: str) -> int:
        """A citizen supports a proposal under consultation, once; returns the log position."""
        self._in_consultation(proposal_id)
        try:
            recordings = self.save(Support(proposal_id=proposal_id, citizen_ref=citizen_ref))
        except IntegrityError:
            raise SupportAlreadyGiven(
                f"'{citizen_ref}' already supports proposal {proposal_id}") from None
        return recordings[-1].notification.id

    def comment(self, proposal_id: UUID, citizen_ref: str, text: str) -> int:
        """A citizen comments publicly on a proposal under consultation (the text sealed)."""
        proposal = self._in_consultation(proposal_id)
        comment = Comment(proposal_id=proposal_id, citizen_ref=citizen_ref,
                          text_sealed=self._seal(proposal.metropolis_id, citizen_ref,
                                                 "comment", text))
        return self.save(comment)[-1].notification.id

    # -- the guarantor -----------------------------------------------------------------

    def issue_notice(self, proposal_id: UUID, guarantor_ref: str, kind: str, text: str) -> int:
        """The guarantor attaches a public notice to a proposal; returns the log position."""
        if kind not in NOTICE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(NOTICE_KINDS)}")
        self.get_proposal(proposal_id)
        notice = Notice(process_id=proposal_id, kind=kind, text=text, guarantor_ref=guarantor_ref)
        return self.save(notice)[-1].notification.id

    # -- votes -------------------------------------------------------------------------

    def cast_vote(self, proposal_id: UUID, voter_ref: str, choice: str,
                  amendment: int | None = None) -> tuple[UUID, int]:
        """A seated council member casts a roll-call vote while the ballot is open (or on an
        amendment during the deliberation). Returns the vote id and its log position."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}")
        proposal = self.get_proposal(proposal_id)
        metropolis = self.get_metropolis(proposal.metropolis_id)
        if not metropolis.is_council_member(voter_ref):
            raise NotACouncilMember(
                f"'{voter_ref}' holds no seat on the council of {metropolis.name}"
            )
        ballot_id = proposal.check_ballot_open(self.clock(), amendment)
        vote = Vote(
            ballot_id=ballot_id, proposal_id=proposal_id, voter_ref=voter_ref, choice=choice
        )
        try:
            recordings = self.save(vote)
        except IntegrityError:
            # The vote id is uuid5(ballot, voter): the store refused a second version 1.
            raise VoteAlreadyCast(
                f"'{voter_ref}' has already voted on the ballot of proposal {proposal_id}"
            ) from None
        return vote.id, recordings[-1].notification.id

    def count_votes(self, ballot_id: UUID, after: int, cutoff: int) -> Tally:
        """Tally the votes on `ballot_id` recorded after position `after` and before `cutoff`."""
        tally = Tally()
        start = after + 1
        while start < cutoff:
            page = self.recorder.select_notifications(
                start=start, limit=500, stop=cutoff - 1, topics=VOTE_TOPICS
            )
            if not page:
                break
            for notification in page:
                cast = self.mapper.to_domain_event(notification)
                if cast.ballot_id == ballot_id:
                    tally.add(cast.voter_ref, cast.choice)
            start = page[-1].id + 1
        return tally

    # -- log positions -----------------------------------------------------------------

    def _stage_opened(
        self, proposal: Proposal, event_class: type, rules: CharterRules
    ) -> StageOpened:
        if proposal.stage == Stage.WITHDRAWN:
            raise ProposalWithdrawn(f"proposal {proposal.id} was withdrawn by its author")
        if proposal.stage_closes_at is None:
            raise WrongStage(f"proposal {proposal.id} has moved past that stage")
        return StageOpened(
            stage=proposal.stage,
            closes_at=proposal.stage_closes_at,
            position=self._position_of_last(proposal, event_class),
            rules=rules,
        )

    def _recorded_stage(self, proposal: Proposal, event_class: type, stage: Stage,
                        rules: CharterRules) -> StageOpened:
        """What the workflow needs of a stage already opened: its deadline and position."""
        if proposal.stage == Stage.WITHDRAWN:  # the workflow ends on it, at whatever stage
            raise ProposalWithdrawn(f"proposal {proposal.id} was withdrawn by its author")
        opened = self._last(proposal, event_class)
        return StageOpened(stage, opened.closes_at,
                           self.position_of(proposal.id, opened.originator_version), rules)

    def _last(self, proposal: Proposal, event_class: type) -> Any:
        """The proposal's latest event of `event_class`."""
        for stored in reversed(list(self.events.get(proposal.id))):
            if isinstance(stored, event_class):
                return stored
        raise WrongStage(f"proposal {proposal.id} has no {event_class.__name__} event")

    def _position_of_last(self, proposal: Proposal, event_class: type) -> int:
        """The log position of the proposal's latest event of `event_class`."""
        stored = self._last(proposal, event_class)
        return self.position_of(proposal.id, stored.originator_version)

    def position_of(self, originator_id: UUID, version: int) -> int:
        """The global notification id of one stored event (through the `LogPositions` port)."""
        return self.positions.position_of(originator_id, version)

