"""Domain errors: each names the rule that was broken.

Three families tell the outer layers how to answer without the domain knowing about HTTP:
`NotFound` (the thing does not exist), `NotPermitted` (the actor lacks the right),
`RuleBroken` (the act conflicts with the state or the charter). Every error carries a
stable `rule` identifier, quoted in API answers and logs.
"""


class DomainError(Exception):
    """A domain rule refused a command; nothing was recorded."""

    rule = "domain"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    rule = "not_found"


class NotPermitted(DomainError):
    rule = "not_permitted"


class RuleBroken(DomainError):
    rule = "rule_broken"


class UnknownProposal(NotFound):
    rule = "unknown_proposal"


class UnknownMetropolis(NotFound):
    rule = "unknown_metropolis"


class NoCharterInForce(RuleBroken):
    rule = "no_charter_in_force"


class NotACouncilMember(NotPermitted):
    rule = "not_a_council_member"


class VoteNotOpen(RuleBroken):
    rule = "vote_not_open"


class VoteAfterClose(RuleBroken):
    rule = "vote_after_close"


class VoteAlreadyCast(RuleBroken):
    rule = "one_vote_per_member"


class WrongStage(RuleBroken):
    rule = "wrong_stage"


class InvalidCharter(RuleBroken):
    rule = "invalid_charter"


class MetropolisAlreadyFounded(RuleBroken):
    rule = "metropolis_already_founded"


class ProposalWithdrawn(RuleBroken):
    rule = "proposal_withdrawn"


class WithdrawalTooLate(RuleBroken):
    rule = "withdrawal_too_late"


class NotTheAuthor(NotPermitted):
    rule = "not_the_author"


class UnknownCommune(NotFound):
    rule = "unknown_commune"


class VetoOutsideWindow(RuleBroken):
    rule = "veto_outside_window"


class VetoAlreadyFiled(RuleBroken):
    rule = "veto_already_filed"


class NotMayorOfCommune(NotPermitted):
    rule = "not_mayor_of_commune"


class CommuneNotConcerned(NotPermitted):
    rule = "commune_not_concerned"


class NotInImplementation(RuleBroken):
    rule = "not_in_implementation"


class EvaluationNotOpen(RuleBroken):
    rule = "evaluation_not_open"


class AlreadyScored(RuleBroken):
    rule = "already_scored"


class InvalidScores(RuleBroken):
    rule = "invalid_scores"


class VetoWindowOwed(WrongStage):
    """An adoption the mayors of concerned communes may still veto is not final: the veto
    window is held before implementation."""

    rule = "veto.window_owed"


class VetoWindowAlreadyHeld(WrongStage):
    """The veto window opens once per adoption."""

    rule = "veto.window_held"


class NoVetoWindowOwed(WrongStage):
    """The decision owes no veto window (no concerned commune holds a veto right)."""

    rule = "veto.window_not_owed"


class EvaluationStepOutOfOrder(WrongStage):
    """Evaluation steps open one after the other, as the schedule lists them."""

    rule = "evaluation.step_order"


class EvaluationsStillDue(WrongStage):
    """The process closes only after every scheduled evaluation step was held."""

    rule = "evaluation.steps_due"


class DeliberationAlreadyHeld(WrongStage):
    """The council's deliberation is held once."""

    rule = "deliberation.held"


class DeliberationRequired(WrongStage):
    """The pinned charter has a deliberation: the vote follows it."""

    rule = "deliberation.required"


class AdmissibilityReviewRequired(WrongStage):
    """The pinned charter asks for an admissibility review before the consultation."""

    rule = "admissibility.review_required"


class NotACompetence(RuleBroken):
    rule = "not_a_competence"


class ReasonRequired(RuleBroken):
    rule = "reason_required"


class NotInadmissible(RuleBroken):
    rule = "not_inadmissible"


class ConsultationNotOpen(RuleBroken):
    rule = "consultation_not_open"


class SupportAlreadyGiven(RuleBroken):
    rule = "one_support_per_citizen"


class DeliberationNotOpen(RuleBroken):
    rule = "deliberation_not_open"


class UnknownAmendment(NotFound):
    rule = "unknown_amendment"


class UnknownSeatKind(NotFound):
    rule = "unknown_seat_kind"


class NoFreeSeat(RuleBroken):
    rule = "no_free_seat"


class NoBureau(NotFound):
    rule = "no_bureau"


class CommuneWithoutVetoRight(NotPermitted):
    """The charter's veto territories do not include the commune (rule `veto.territory`)."""

    rule = "veto.territory"


class UnknownDecisionType(RuleBroken):
    rule = "decision_type.unknown"


class AmendmentHasNoDecisionType(RuleBroken):
    rule = "decision_type.charter_amendment"


class ConsultationRequiredTooLate(RuleBroken):
    """The guarantor may require a public consultation only before the vote opens."""

    rule = "guarantor.consultation_before_vote"


class ConsultationAlreadyRequired(RuleBroken):
    rule = "guarantor.consultation_already_required"


class ConsultationStillRequired(RuleBroken):
    """The vote cannot open while a consultation the guarantor required has not been held."""

    rule = "guarantor.consultation"


class NotOnEvaluationPanel(NotPermitted):
    rule = "evaluation.panel"


class InvalidPanel(RuleBroken):
    rule = "evaluation.panel_invalid"


class UnknownDraft(NotFound):
    rule = "unknown_draft"


class DraftClosed(RuleBroken):
    """A submitted or abandoned draft no longer changes."""

    rule = "draft_closed"


# -- petitions (right of interpellation) ---------------------------------------------------


class UnknownPetition(NotFound):
    rule = "unknown_petition"


class UnknownPetitionKind(RuleBroken):
    rule = "petition.kind"


class PetitionCommuneRequired(RuleBroken):
    """A petition of commune scope names one member commune; one of metropolis scope none."""

    rule = "petition.scope"


class NotEligibleToSign(NotPermitted):
    """The identity provider's claims do not make this person a signer of the kind (the rule
    id names which: residence, signers, min_age)."""

    rule = "petition.signers"

    def __init__(self, message: str, rule: str = "petition.signers") -> None:
        super().__init__(message)
        self.rule = rule


class AlreadySponsored(RuleBroken):
    rule = "petition.one_sponsorship"


class NotASponsor(RuleBroken):
    rule = "petition.not_a_sponsor"


class CollectionNotOpen(RuleBroken):
    """Signatures are taken only while the collection is open (rule `petition.period`)."""

    rule = "petition.period"


class SignatureAlreadyGiven(RuleBroken):
    rule = "petition.one_signature"


class NoSignature(RuleBroken):
    rule = "petition.no_signature"


class ThresholdAlreadyReached(RuleBroken):
    """Signatures and the petition itself are withdrawn only before the threshold."""

    rule = "petition.threshold_reached"


class SignerLimitReached(RuleBroken):
    rule = "petition.signer_limit"


class NoObligationOpen(RuleBroken):
    rule = "petition.obligation"


class WrongObligation(RuleBroken):
    """The act does not fulfil the obligation the kind prescribes (answer, agenda,
    consultation)."""

    rule = "petition.obligation_kind"


class NoElectorate(RuleBroken):
    """A threshold on electors needs the electors recorded by a clerk first."""

    rule = "petition.electorate"


# -- participatory budget ------------------------------------------------------------------


class UnknownBudgetCycle(NotFound):
    rule = "unknown_budget_cycle"


class UnknownBudgetProject(NotFound):
    rule = "unknown_budget_project"


class InvalidBudgetCycle(RuleBroken):
    """The cycle's rules or districts are not valid (the message says which)."""

    rule = "budget.rules"


class NotEligibleToTakePart(NotPermitted):
    """The identity provider's claims do not let this person vote or submit a project in
    the district (the rule id names which: residence, district, min_age)."""

    rule = "budget.residence"

    def __init__(self, message: str, rule: str = "budget.residence") -> None:
        super().__init__(message)
        self.rule = rule


class SubmissionNotOpen(RuleBroken):
    rule = "budget.submission"


class ProjectNotAdmissible(RuleBroken):
    """A submitted project must lie within a competence and cost no more than its district's
    budget (the rule id names which)."""

    rule = "budget.project"

    def __init__(self, message: str, rule: str = "budget.project") -> None:
        super().__init__(message)
        self.rule = rule


class ProjectLimitReached(RuleBroken):
    rule = "budget.projects_per_author"


class VotingNotOpen(RuleBroken):
    rule = "budget.voting"


class InvalidBallot(RuleBroken):
    """The ballot breaks the cycle's ballot rules (the rule id names which: unknown project,
    duplicate, approvals, points, over budget)."""

    rule = "budget.ballot"

    def __init__(self, message: str, rule: str = "budget.ballot") -> None:
        super().__init__(message)
        self.rule = rule


class BallotAlreadyCast(RuleBroken):
    rule = "budget.one_ballot"


class NotSelected(RuleBroken):
    """Milestones are recorded only for the projects the cycle selected."""

    rule = "budget.not_selected"


class NoAppealPending(RuleBroken):
    rule = "budget.appeal"


# -- citizens' conventions drawn by lot ---------------------------------------------------


class UnknownConvention(NotFound):
    rule = "unknown_convention"


class UnknownConventionKind(RuleBroken):
    rule = "convention.kind"


class InvalidConvention(RuleBroken):
    """The convention's rules, registry or pool are not valid (the rule id names which:
    `convention.rules`, `convention.quotas`, `convention.pool_too_small`,
    `convention.infeasible_quotas`, `convention.invitations`)."""

    rule = "convention.rules"

    def __init__(self, message: str, rule: str = "convention.rules",
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.details = details or {}


class NotEligibleToVolunteer(NotPermitted):
    """The identity provider's claims or the values given do not let this person volunteer
    (the rule id names which: residence, min_age, category, category_value)."""

    rule = "convention.residence"

    def __init__(self, message: str, rule: str = "convention.residence") -> None:
        super().__init__(message)
        self.rule = rule


class RegistrationNotOpen(RuleBroken):
    rule = "convention.registration"


class AlreadyVolunteered(RuleBroken):
    rule = "convention.one_registration"


class SeedBeforeCommitment(RuleBroken):
    """The seed may be revealed only after the pool, the quotas and the distribution are
    committed in the log."""

    rule = "convention.seed_before_commitment"


class SeedRefused(RuleBroken):
    """The seed does not match the randomness source fixed in advance (the guarantor's
    committed secret, public dice, a beacon value)."""

    rule = "convention.seed"


class SeedAlreadyCommitted(RuleBroken):
    rule = "convention.seed_commitment"


class NotOnPanel(NotPermitted):
    rule = "convention.not_a_member"
